import "server-only";
import { z } from "zod";
import { ErrorBody } from "../contracts";
import type { Audience, RouteSpec } from "../contracts/routes";
import { describeJsonError, parseJsonStrict } from "../kernel/json";
import { authenticate, checkCsrf, type HumanPrincipal, type Principal } from "./auth";
import { config } from "./config";
import { ApiError, httpStatus } from "./errors";
import { log } from "./log";

/**
 * The one wrapper every route handler is built with (design §8, STYLE "dub"). It takes the
 * route's entry in the route table (lib/contracts/routes.ts) and from it: authenticates, checks
 * the caller's kind against the entry's audience (and types the handler's principal by it),
 * enforces CSRF on cookie sessions, reads the body with the entry's size limit, parses body and
 * query with the entry's strict zod schemas, runs the handler, and maps every error to
 * `{ error: { code, message } }` without leaking internals (agents: also `permitted: false`).
 * Handlers still check object ownership themselves (lib/server services take the principal).
 *
 * With FK_CHECK_RESPONSES=1 (the test harnesses set it) every answer is also parsed against the
 * entry's response schema (errors against ErrorBody); a mismatch is logged and answered as
 * 500 INTERNAL_ERROR, so every test that talks to a server checks every response it gets.
 */
export type { Audience };

export type AgentPrincipal = Extract<Principal, { kind: "agent" }>;
export type OperatorPrincipal = Extract<Principal, { kind: "operator" }>;

/** The principal a handler sees once route() has admitted the caller for `A`. */
export type PrincipalFor<A extends Audience> = A extends "agent"
  ? AgentPrincipal
  : A extends "human"
    ? HumanPrincipal
    : A extends "operator"
      ? OperatorPrincipal
      : Principal | null;

type ParamNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}` ? N | ParamNames<Rest> : never;
type BodyOf<S> = S extends { body: infer B extends z.ZodType } ? z.infer<B> : undefined;
type QueryOf<S> = S extends { query: infer Q extends z.ZodType } ? z.infer<Q> : undefined;
/**
 * What a handler returns: a JSON value or a Response it built. Not typed by the response schema:
 * the services return kernel types (read-only arrays, interfaces, string codes) that serialise to
 * what the schema accepts without being its zod type; the schema is checked on the wire instead
 * (FK_CHECK_RESPONSES), where it matters.
 */
type ResultOf<_S extends RouteSpec> = unknown;

export interface HandlerArgs<S extends RouteSpec> {
  req: Request;
  body: BodyOf<S>;
  query: QueryOf<S>;
  params: { readonly [K in ParamNames<S["path"]>]: string };
  principal: PrincipalFor<S["audience"]>;
}

export interface RouteOptions<S extends RouteSpec> {
  /**
   * The agent decision routes: a body JSON.parse would read but the strict parser refuses (a
   * duplicated member name, a lone surrogate, too deep) is not a 400 there but a signed, audited
   * MALFORMED_ACTION decision, like any other malformed action.
   * Called after authentication, the audience check and CSRF, with the parser's reason and the raw
   * text; its answer is the response.
   */
  onMalformedBody?: (reason: string, raw: string, principal: PrincipalFor<S["audience"]>) => Promise<ResultOf<S>>;
}

const DEFAULT_MAX_BYTES = 64 * 1024;

/** The most bytes route() reads of a body for `spec` (its entry's `maxBytes`, default 64 KiB). */
export function bodyLimit(spec: RouteSpec): number {
  return spec.maxBytes ?? DEFAULT_MAX_BYTES;
}
const NO_STORE = { "cache-control": "no-store" } as const;

/**
 * A body `JSON.parse` would read but the strict parser refuses — a duplicated member name, a lone
 * surrogate, nesting beyond 64 — the cases `onMalformedBody` sees. Text that is not JSON at all
 * stays a 400.
 */
const REFUSED_JSON = new Set(["DUPLICATE_MEMBER", "NOT_UNICODE", "TOO_DEEP"]);
class RefusedJsonBody {
  constructor(
    readonly reason: string,
    readonly raw: string,
  ) {}
}

/**
 * Reads the body as UTF-8 (within `maxBytes`) and parses it with the kernel's strict JSON parser:
 * duplicate member names at any depth, trailing commas, lone surrogates and nesting deeper than 64
 * are refused (`JSON.parse` would keep the last duplicate, so a proxy reading the first would see
 * another request than the kernel decided).
 */
async function readBody(req: Request, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new ApiError("PAYLOAD_TOO_LARGE", `the body is limited to ${maxBytes} bytes`);
  const type = req.headers.get("content-type") ?? "";
  // A POST without any body (e.g. a halt with no reason) is an empty object; the schema decides.
  if (!type && (req.headers.get("content-length") === "0" || !req.body)) return {};
  if (!/^application\/json\b/i.test(type)) throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json");
  if (!req.body) throw new ApiError("BAD_REQUEST", "a JSON body is required");
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ApiError("PAYLOAD_TOO_LARGE", `the body is limited to ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new ApiError("BAD_REQUEST", "the body is not valid UTF-8");
  }
  const parsed = parseJsonStrict(text);
  if (parsed.ok) return parsed.value;
  if (REFUSED_JSON.has(parsed.code)) {
    const what = describeJsonError(parsed);
    return new RefusedJsonBody(parsed.code === "DUPLICATE_MEMBER" ? `the body has a ${what}` : `the body is refused: ${what}`, text);
  }
  throw new ApiError("BAD_REQUEST", `the body is not valid JSON: ${describeJsonError(parsed)}`);
}

function parseWith(schema: z.ZodType, value: unknown, where: string): unknown {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ApiError(
      "VALIDATION_FAILED",
      `the ${where} does not match the contract`,
      result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message, code: i.code })),
    );
  }
  return result.data;
}

/** Errors raised by Prisma or a driver adapter: the database is unreachable or refused the work. */
function isDatabaseError(error: unknown): boolean {
  const name = error instanceof Error ? error.constructor.name : "";
  return name.startsWith("PrismaClient") || name === "DriverAdapterError";
}

export function errorResponse(error: unknown, audience: Audience): Response {
  const apiError =
    error instanceof ApiError
      ? error
      : isDatabaseError(error)
        ? new ApiError("SERVICE_UNAVAILABLE", "the database is unavailable; nothing was changed or permitted")
        : new ApiError("INTERNAL_ERROR", "the request failed; nothing was changed or permitted");
  if (!(error instanceof ApiError)) log("error", "unhandled error in a route", { error });
  const body: Record<string, unknown> = {
    error: { code: apiError.code, message: apiError.message, ...(apiError.details !== undefined ? { details: apiError.details } : {}) },
  };
  if (audience === "agent") body.permitted = false;
  const headers: Record<string, string> = { ...NO_STORE };
  if (apiError.code === "UNAUTHENTICATED") headers["www-authenticate"] = "Bearer";
  return Response.json(body, { status: httpStatus(apiError.code), headers });
}

/**
 * The caller's principal, admitted for `audience`, or an ApiError. The one place the audience is
 * checked at run time; the return type is what the handler's `principal` is typed as.
 */
function admit<A extends Audience>(audience: A, principal: Principal | null): PrincipalFor<A> {
  const ok = (p: Principal | null) => p as PrincipalFor<A>;
  if (audience === "public") return ok(principal);
  if (!principal) throw new ApiError("UNAUTHENTICATED", "sign in, or send a bearer token");
  switch (audience as Exclude<Audience, "public">) {
    case "agent":
      if (principal.kind !== "agent") throw new ApiError("FORBIDDEN", "this route is for agents with a machine token");
      return ok(principal);
    case "human":
      if (principal.kind === "agent") throw new ApiError("FORBIDDEN", "machine tokens reach no console or admin route");
      return ok(principal);
    case "operator":
      if (principal.kind !== "operator") throw new ApiError("FORBIDDEN", "this route is for the operator");
      return ok(principal);
    default: {
      const unreachable: never = audience as never;
      return unreachable;
    }
  }
}

/** The path's `{name}` parameters, from Next's params; a missing one is a 404, never undefined. */
function pathParams(path: string, raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const params = Object.create(null) as Record<string, string>;
  for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
    const v = Object.hasOwn(raw, name!) ? raw[name!] : undefined;
    if (typeof v !== "string") throw new ApiError("NOT_FOUND", "no such route");
    params[name!] = v;
  }
  return params;
}

type Ctx = { params: Promise<Record<string, string | string[] | undefined>> };

export function route<const S extends RouteSpec>(
  spec: S,
  handler: (args: HandlerArgs<S>) => Promise<ResultOf<S>>,
  options: RouteOptions<S> = {},
): (req: Request, ctx: Ctx) => Promise<Response> {
  const answer = async (req: Request, ctx: Ctx): Promise<Response> => {
    try {
      const principal = spec.credentials === "ignored" ? null : await authenticate(req);
      const admitted = admit(spec.audience, principal) as PrincipalFor<S["audience"]>;
      const mutating = req.method !== "GET" && req.method !== "HEAD";
      if (mutating && principal) checkCsrf(req, principal);
      const params = pathParams(spec.path, (await ctx.params) ?? {});
      let raw: unknown = undefined;
      if (spec.body) {
        raw = await readBody(req, bodyLimit(spec));
        if (raw instanceof RefusedJsonBody) {
          if (!options.onMalformedBody) throw new ApiError("BAD_REQUEST", raw.reason);
          return toResponse(spec, await options.onMalformedBody(raw.reason, raw.raw, admitted));
        }
      }
      const body = (spec.body ? parseWith(spec.body, raw, "body") : undefined) as BodyOf<S>;
      const query = (spec.query ? parseWith(spec.query, Object.fromEntries(new URL(req.url).searchParams), "query") : undefined) as QueryOf<S>;
      return toResponse(spec, await handler({ req, body, query, params: params as HandlerArgs<S>["params"], principal: admitted }));
    } catch (error) {
      return errorResponse(error, spec.audience);
    }
  };
  return async (req, ctx) => {
    const res = await answer(req, ctx);
    return checkResponses() ? checkResponse(spec, res) : res;
  };
}

/** A handler's value as JSON with the entry's status (a Response it built is sent as it is). */
function toResponse(spec: RouteSpec, result: unknown): Response {
  return result instanceof Response ? result : Response.json(result, { status: spec.status ?? 200, headers: NO_STORE });
}

function checkResponses(): boolean {
  try {
    return config().checkResponses;
  } catch {
    return false; // an invalid configuration stops the server before it serves anything
  }
}

/**
 * Test-only (FK_CHECK_RESPONSES=1): parses what is about to be sent against the route's entry —
 * the response schema for its success statuses (JSON, or the text for other content types),
 * ErrorBody for every error — and answers 500 INTERNAL_ERROR instead when it does not match.
 */
async function checkResponse(spec: RouteSpec, res: Response): Promise<Response> {
  const problems = await responseProblems(spec, res.clone());
  let out = res;
  if (problems !== null) {
    log("error", "a response does not match its contract", { route: `${spec.method} ${spec.base ?? "/api/v1"}${spec.path}`, status: res.status, problems });
    out = errorResponse(new ApiError("INTERNAL_ERROR", `the response does not match the contract of ${spec.method} ${spec.path}: ${problems.slice(0, 5).join("; ")}`), spec.audience);
  }
  // Says that the check ran, so a test can tell a checked answer from one that skipped it.
  const headers = new Headers(out.headers);
  headers.set(CHECKED_HEADER, "1");
  return new Response(out.body, { status: out.status, statusText: out.statusText, headers });
}

/** Set on every answer route() checked against its entry (only with FK_CHECK_RESPONSES=1). */
export const CHECKED_HEADER = "x-fk-response-checked";

async function responseProblems(spec: RouteSpec, res: Response): Promise<string[] | null> {
  const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const text = await res.text();
  const success = res.status === (spec.status ?? 200) || (spec.alsoStatus ?? []).includes(res.status);
  if (!success) {
    if (res.status < 400) return [`status ${res.status} is not in the route table`];
    if (type !== "application/json") return [`an error answered as ${type || "no content type"}`];
    return issues(ErrorBody, parseJsonStrict(text));
  }
  const expected = spec.contentType ?? "application/json";
  if (type !== expected) return [`answered as ${type || "no content type"}, the table says ${expected}`];
  if (expected !== "application/json") return issues(spec.response, { ok: true, value: text });
  if (res.headers.get("cache-control") !== "no-store" && spec.credentials !== "ignored") return ["no cache-control: no-store"];
  return issues(spec.response, parseJsonStrict(text));
}

function issues(schema: z.ZodType, parsed: ReturnType<typeof parseJsonStrict>): string[] | null {
  if (!parsed.ok) return [`the body is not JSON: ${describeJsonError(parsed)}`];
  const result = schema.safeParse(parsed.value);
  return result.success ? null : result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
}
