/**
 * The server process of `npm start` (scripts/start.ts spawns it once the database, the key and
 * the build are ready; run with `--conditions=react-server --import tsx`). One node:http server on
 * PORT/HOSTNAME:
 *  - the agent routes (POST /api/v1/verify, /verify-plan, /permits/redeem, GET /api/v1/keys) are
 *    answered here, on the lean path (lib/server/lean-path.ts), by the very functions their route
 *    files export — no second copy of auth, limits, parsing or error mapping;
 *  - every other request goes to Next.js's request handler (`next({ dev: false })`), exactly as
 *    under `next start`: the console, the other routes, their redirects, 404s and 405s.
 * Tracing and the audit stream's worker are started here, before the first request: Next's
 * instrumentation.ts runs only once Next handles a request, which an agent-only workload never
 * makes it do. Both are once per process (their state is on globalThis), so its later call is a
 * no-op. See README, Architecture, "Two paths, one process".
 */
import http from "node:http";
import next from "next";
import { ROUTES } from "../lib/contracts/routes";
import { config } from "../lib/server/config";
import { leanPath } from "../lib/server/lean-path";
import { log } from "../lib/server/log";
import { startAuditStream } from "../lib/server/stream/worker";
import { startTracing } from "../lib/server/tracing";
import * as keysRoute from "../app/api/v1/keys/route";
import * as redeemRoute from "../app/api/v1/permits/redeem/route";
import * as verifyRoute from "../app/api/v1/verify/route";
import * as verifyPlanRoute from "../app/api/v1/verify-plan/route";

/** The lean routes: each table entry with the export of its own route file for its method. */
const LEAN_ROUTES = [
  { spec: ROUTES.verify, handler: verifyRoute.POST },
  { spec: ROUTES.verifyPlan, handler: verifyPlanRoute.POST },
  { spec: ROUTES.redeemPermit, handler: redeemRoute.POST },
  { spec: ROUTES.keys, handler: keysRoute.GET },
] as const;

/**
 * Timeouts `next start` leaves at Node's defaults (keep-alive 5 s). Agents ask before every tool
 * call, often seconds apart, and a load balancer keeps idle connections for about 60 s: the
 * server must not close a kept-alive connection before the balancer does (a request racing the
 * close fails), so 65 s; headers must arrive within 66 s of a request's start (at least the
 * keep-alive, as Node advises), the whole request (at most a 1 MiB body) within 60 s.
 */
const KEEP_ALIVE_MS = 65_000;
const HEADERS_TIMEOUT_MS = 66_000;
const REQUEST_TIMEOUT_MS = 60_000;
/** How long a shutdown waits for answers in flight (a decision batch commits within 10 s). */
const SHUTDOWN_GRACE_MS = 15_000;

async function main(): Promise<void> {
  const settings = config();
  await startTracing();
  startAuditStream();
  const app = next({ dev: false, dir: process.cwd(), hostname: settings.hostname, port: settings.port });
  await app.prepare();
  const handleNext = app.getRequestHandler();
  const lean = leanPath(LEAN_ROUTES);
  const server = http.createServer((req, res) => {
    if (lean.serve(req, res)) return;
    handleNext(req, res).catch((error: unknown) => {
      // What `next start` does when its handler throws.
      log("error", "Next.js failed to handle a request", { url: req.url, error });
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end("Internal Server Error");
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.on("error", (error) => {
    console.error(`[start] the server failed: ${error.message}`);
    process.exit(1);
  });

  let closing = false;
  const shutdown = (signal: "SIGINT" | "SIGTERM") => {
    if (closing) return; // the whole process group gets the signal, and start.ts forwards it too
    closing = true;
    // The exit status of `next start`: 128 + the signal's number.
    const code = signal === "SIGINT" ? 130 : 143;
    setTimeout(() => process.exit(code), SHUTDOWN_GRACE_MS).unref();
    // Stops accepting, closes idle kept-alive connections, lets answers in flight finish.
    server.close(() => void app.close().finally(() => process.exit(code)));
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));

  server.listen(settings.port, settings.hostname, () => {
    console.log(`[start] listening on ${settings.hostname}:${settings.port} (agent routes on the lean path, the rest through Next.js)`);
  });
}

main().catch((e: unknown) => {
  console.error(`[start] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
