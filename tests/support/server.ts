/**
 * A real server for integration tests: `scripts/start.ts` (migrate, seed, then scripts/server.ts:
 * the lean agent path and Next.js) on a free port, with its own data directory and database, from
 * the build `npm test` made beforehand (FK_SKIP_BUILD=1: a test never builds). Stop it with
 * stop(), or kill it hard with kill("SIGKILL").
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { DatabaseConfig } from "@/lib/server/config";
import { applyPendingMigrations } from "@/lib/server/db/migrations";

export const OPERATOR_TOKEN = "operator-token-for-integration-tests-0123456789";
const ROOT = path.resolve(import.meta.dirname, "../..");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestServer {
  readonly url: string;
  readonly api: string;
  readonly dataDir: string;
  readonly process: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  database?: DatabaseConfig;
  dataDir?: string;
  env?: Record<string, string>;
  port?: number;
}

/**
 * Spawns `scripts/start.ts` (what `npm start` runs) on a free port with a data directory, the
 * test operator token and no build; PostgreSQL is migrated first, as an operator would.
 */
async function spawnStart(options: StartOptions) {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "fk-srv-"));
  const db = options.database;
  // `npm start` migrates the embedded SQLite itself but, by design, not PostgreSQL: do what an
  // operator does (npm run db:migrate) first.
  if (db?.provider === "postgresql") await applyPendingMigrations(db);
  const env = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    HOSTNAME: "127.0.0.1",
    FK_DATA_DIR: dataDir,
    DATABASE_URL: db ? (db.provider === "sqlite" ? `file:${db.url}` : db.url) : "",
    FK_OPERATOR_TOKEN: OPERATOR_TOKEN,
    FK_SKIP_BUILD: "1",
    FK_LOG_LEVEL: process.env.FK_LOG_LEVEL ?? "info",
    NEXT_TELEMETRY_DISABLED: "1",
    // Every answer is checked against its entry in the route table (lib/contracts/routes.ts): a
    // response that drifted from its schema is a 500, so every test talking to a server checks it.
    FK_CHECK_RESPONSES: "1",
    ...options.env,
  } as unknown as NodeJS.ProcessEnv;
  let out = "";
  const child = spawn(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "--conditions=react-server", "scripts/start.ts"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return { child, port, dataDir, output: () => out };
}

/** Starts the product and waits until /api/health answers. */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const { child, port, dataDir, output } = await spawnStart(options);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      process.kill(-child.pid!, "SIGKILL");
      throw new Error(`server did not become healthy:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const kill = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    try {
      process.kill(-child.pid!, signal); // the whole group: tsx, start.ts and the server
    } catch {
      return;
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  };
  return { url, api: `${url}/api/v1`, dataDir, process: child, output, stop: () => kill("SIGTERM"), kill };
}

/** JSON over HTTP with an optional bearer token. */
export async function call(
  server: { api: string },
  method: string,
  p: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${server.api}${p}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (e.g. the JSON Lines export)
  }
  return { status: res.status, body, headers: res.headers };
}

/**
 * Runs `scripts/start.ts` as startServer would, for a start that must FAIL: resolves with its exit
 * code and output once it exits; throws if it becomes healthy (or hangs) instead.
 */
export async function startServerExpectingFailure(options: StartOptions = {}): Promise<{ code: number | null; output: string }> {
  const { child, output } = await spawnStart(options);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 60_000).unref());
  const outcome = await Promise.race([exited, deadline]);
  if (outcome === "timeout") {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone already
    }
    throw new Error(`the server was expected to refuse to start but is still running:\n${output()}`);
  }
  return { code: outcome, output: output() };
}

/** Signs a human in through the session route: the cookie and the CSRF token the console sends. */
export async function signIn(server: { api: string }, email: string, password: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${server.api}/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }) });
  if (res.status !== 200) throw new Error(`sign-in as ${email} -> ${res.status}`);
  const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0]!);
  const body = (await res.json()) as { csrfToken: string };
  return { cookie: cookies.join("; "), csrf: body.csrfToken };
}
