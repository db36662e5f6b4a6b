import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RouteSpec } from "../contracts/routes";
import { config } from "./config";
import { bodyLimit, errorResponse } from "./http";
import { log } from "./log";

/**
 * The lean agent path (issue 11): the server process (scripts/server.ts) answers the agent routes
 * itself, without Next.js's route machinery, by calling the very functions the route files
 * export — `route(ROUTES.x, handler)` from lib/server/http.ts, which does authentication, the
 * audience, CSRF, the body limit, strict JSON, onMalformedBody and the error mapping. This module
 * only converts: a node request into a web `Request`, the `Response` back onto the node response.
 * Nothing here decides, refuses or shapes an answer; every answer is route()'s.
 */

/** What route() returns (lib/server/http.ts): a web Request in, a Response out. */
export type RouteHandler = (req: Request, ctx: { params: Promise<Record<string, string | string[] | undefined>> }) => Promise<Response>;

/** A route table entry and the function its route file exports for its method. */
export interface LeanRoute {
  readonly spec: RouteSpec;
  readonly handler: RouteHandler;
}

export interface LeanPath {
  /**
   * Answers `req` when it is one of the lean routes (exact method and path; any query string is
   * the handler's) and returns true; returns false, touching nothing, for every other request,
   * which the caller hands to Next.
   */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
}

const NO_PARAMS = { params: Promise.resolve({}) } as const;

/**
 * Next's router sets this on every answer it sends (app routes included); the lean path sends it
 * too, so a client or a cache in front sees the same headers from either path.
 */
const NEXT_VARY = "rsc, next-router-state-tree, next-router-prefetch, next-router-segment-prefetch";

/**
 * The lean path over `routes`. Only routes without path parameters: the lean path matches paths
 * exactly and has no params to hand over (route() would answer 404 for a missing one).
 */
export function leanPath(routes: readonly LeanRoute[]): LeanPath {
  const table = new Map<string, LeanRoute>();
  for (const r of routes) {
    const path = `${r.spec.base ?? "/api/v1"}${r.spec.path}`;
    if (path.includes("{")) throw new Error(`the lean path takes no routes with path parameters: ${path}`);
    const key = `${r.spec.method} ${path}`;
    if (table.has(key)) throw new Error(`the lean path has ${key} twice`);
    table.set(key, r);
  }
  // Read once: a debug line per answer shows which path served it (tests/integration/lean-path.test.ts).
  const debug = config().logLevel === "debug";
  return {
    serve(req, res) {
      const url = req.url ?? "";
      const q = url.indexOf("?");
      const route = table.get(`${req.method} ${q < 0 ? url : url.slice(0, q)}`);
      if (route === undefined) return false;
      void answer(route, req, res, debug);
      return true;
    },
  };
}

async function answer(route: LeanRoute, req: IncomingMessage, res: ServerResponse, debug: boolean): Promise<void> {
  let response: Response;
  let drop = () => dropRest(req);
  try {
    const made = await toRequest(req, route.spec);
    drop = made.drop;
    response = await route.handler(made.request, NO_PARAMS);
  } catch (error) {
    if (req.destroyed && !req.complete) {
      // The client went away before its body arrived: nothing was decided, nobody to answer.
      res.destroy();
      return;
    }
    // route() answers every error itself; this is a failure to read the request: the same
    // error body as any other (agents: permitted false), never a permit.
    response = errorResponse(error, route.spec.audience);
  }
  if (debug) log("debug", "answered on the lean path", { path: "lean", method: req.method, route: `${route.spec.base ?? "/api/v1"}${route.spec.path}`, status: response.status });
  try {
    await send(res, response);
  } catch (error) {
    log("warn", "an answer could not be written", { error });
    res.destroy();
  }
  // A body route() did not read to its end (refused before, or over the limit) is read and
  // dropped, as Node does for a request nobody read, so the connection stays usable.
  drop();
}

function dropRest(req: IncomingMessage): void {
  if (!req.complete) req.resume();
}

/**
 * The node request as the web Request route() reads, with what Next would give it: the headers as
 * node joined them (`cookie` joined with "; ", others with ", "), the URL from the Host header,
 * and, for a body-carrying method, the body. A body that has arrived within its first 16 KiB (an
 * agent's usual request) is handed over as one buffer; a longer one as a stream that reads the
 * rest only as route() asks for it, so nothing past 16 KiB is read before route() authenticated
 * the caller, and route()'s own limit answers 413 as it does under Next. A body declared larger
 * than the limit is not read at all (route() refuses it from `content-length`, after
 * authentication, as before).
 */
async function toRequest(req: IncomingMessage, spec: RouteSpec): Promise<{ request: Request; drop: () => void }> {
  const headers = new Headers();
  const raw = req.headers;
  for (const name in raw) {
    const v = raw[name];
    if (typeof v === "string") headers.append(name, v);
    else if (v !== undefined) for (const one of v) headers.append(name, one);
  }
  const host = raw.host;
  const url = `http://${host !== undefined && SAFE_HOST.test(host) ? host : "localhost"}${req.url ?? "/"}`;
  const method = req.method ?? "GET";
  const drop = () => dropRest(req);
  if (method === "GET" || method === "HEAD") return { request: new Request(url, { method, headers }), drop };
  if (Number(raw["content-length"] ?? "0") > bodyLimit(spec)) return { request: new Request(url, { method, headers, body: EMPTY }), drop };
  const head = await readUpTo(req, EAGER_BYTES);
  if (head.ended) {
    const body = (head.chunks.length === 1 ? head.chunks[0]! : Buffer.concat(head.chunks)) as Uint8Array<ArrayBuffer>;
    return { request: new Request(url, { method, headers, body }), drop };
  }
  const rest = restOf(req, head.chunks);
  const request = new Request(url, { method, headers, body: rest.stream, duplex: "half" } as RequestInit);
  return {
    request,
    drop: () => {
      rest.stop();
      dropRest(req);
    },
  };
}

/** A Host header that makes a URL of exactly that host (a name or address, maybe a port). */
const SAFE_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const EMPTY = new Uint8Array(0);
/** Read before route() runs; no more (Node's own stream would buffer about as much). */
const EAGER_BYTES = 16 * 1024;

/** Reads the body until it ends or `limit` bytes arrived; then leaves the request paused. */
function readUpTo(req: IncomingMessage, limit: number): Promise<{ chunks: Buffer[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) {
        req.pause();
        done();
        resolve({ chunks, ended: false });
      }
    };
    const onEnd = () => {
      done();
      resolve({ chunks, ended: true });
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const onClose = () => {
      if (req.complete) return;
      done();
      reject(new Error("the client closed the connection before its body arrived"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/**
 * The body from `head` on, read from the (paused) request only as the reader pulls. `stop`
 * detaches it (the answer is out); what route() did not read is then dropped by the caller.
 */
function restOf(req: IncomingMessage, head: Buffer[]): { stream: ReadableStream<Uint8Array>; stop: () => void } {
  let open = true;
  const stop = () => {
    open = false;
    req.off("data", onData);
    req.off("end", onEnd);
    req.off("error", onError);
    req.off("close", onClose);
  };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const onData = (chunk: Buffer) => {
    if (!open) return;
    controller.enqueue(chunk);
    if ((controller.desiredSize ?? 0) <= 0) req.pause();
  };
  const onEnd = () => {
    if (!open) return;
    stop();
    controller.close();
  };
  const onError = (error: Error) => {
    if (!open) return;
    stop();
    controller.error(error);
  };
  const onClose = () => {
    if (req.complete || !open) return;
    stop();
    controller.error(new Error("the client closed the connection before its body arrived"));
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        for (const chunk of head) c.enqueue(chunk);
        // The request is paused (readUpTo), so listening does not make it flow.
        req.on("data", onData);
        req.on("end", onEnd);
        req.on("error", onError);
        req.on("close", onClose);
      },
      pull() {
        if (open) req.resume();
      },
      cancel() {
        stop();
      },
    },
    { highWaterMark: 1 },
  );
  return { stream, stop };
}

/** Writes the Response: status, every header (set-cookie one by one), Next's `vary`, and the body with its content-length in one write. */
async function send(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  if (!response.headers.has("vary")) res.setHeader("vary", NEXT_VARY); // first, where Next puts it
  for (const [name, value] of response.headers) if (name !== "set-cookie") res.setHeader(name, value);
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  const body = response.body === null ? null : Buffer.from(await response.arrayBuffer());
  if (body !== null) res.setHeader("content-length", body.length);
  res.end(body);
}
