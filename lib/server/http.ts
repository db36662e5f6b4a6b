import "server-only";
import { z } from "zod";
import { describeJsonError, parseJsonStrict } from "../kernel/json";
import { authenticate, checkCsrf, type HumanPrincipal, type Principal } from "./auth";
import { ApiError, httpStatus } from "./errors";
import { log } from "./log";

/**
 * The one wrapper every route handler is built with (design §8, STYLE "dub"): it authenticates,
 * checks the caller's kind against the route's, enforces CSRF on cookie sessions, reads the body
 * with a size limit, parses it with the route's strict zod schema, runs the handler, and maps every
 * error to `{ error: { code, message } }` without leaking internals. Handlers still check object
 * ownership themselves (lib/server services take the principal).
 */
export type Audience = "public" | "agent" | "human" | "operator";

type Ctx = { params: Promise<Record<string, string | string[] | undefined>> };

export interface HandlerArgs<B, Q> {
  req: Request;
  body: B;
  query: Q;
  params: Record<string, string>;
  principal: Principal | null;
}

interface RouteOptions<BS extends z.ZodType | undefined, QS extends z.ZodType | undefined> {
  audience: Audience;
  body?: BS;
  query?: QS;
  /** Body limit in bytes; default 64 KiB. */
  maxBytes?: number;
  /**
   * The agent decision routes: a body JSON.parse would read but the strict parser refuses (a
   * duplicated member name, a lone surrogate, too deep) is not a 400 there but a signed, audited
   * MALFORMED_ACTION decision, like any other malformed action.
   * Called after authentication, the audience check and CSRF, with the parser's reason and the raw
   * text; its answer is the response.
   */
  onMalformedBody?: (reason: string, raw: string, principal: Principal | null) => Promise<unknown>;
}

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

const DEFAULT_MAX_BYTES = 64 * 1024;

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

function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
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
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (apiError.code === "UNAUTHENTICATED") headers["www-authenticate"] = "Bearer";
  return Response.json(body, { status: httpStatus(apiError.code), headers });
}

function checkAudience(audience: Audience, principal: Principal | null): void {
  if (audience === "public") return;
  if (!principal) throw new ApiError("UNAUTHENTICATED", "sign in, or send a bearer token");
  switch (audience) {
    case "agent":
      if (principal.kind !== "agent") throw new ApiError("FORBIDDEN", "this route is for agents with a machine token");
      return;
    case "human":
      if (principal.kind === "agent") throw new ApiError("FORBIDDEN", "machine tokens reach no console or admin route");
      return;
    case "operator":
      if (principal.kind !== "operator") throw new ApiError("FORBIDDEN", "this route is for the operator");
      return;
    default: {
      const unreachable: never = audience;
      return unreachable;
    }
  }
}

export function route<BS extends z.ZodType | undefined = undefined, QS extends z.ZodType | undefined = undefined>(
  options: RouteOptions<BS, QS>,
  handler: (args: HandlerArgs<Infer<BS>, Infer<QS>>) => Promise<unknown>,
): (req: Request, ctx: Ctx) => Promise<Response> {
  return async (req, ctx) => {
    try {
      const principal = await authenticate(req);
      checkAudience(options.audience, principal);
      const mutating = req.method !== "GET" && req.method !== "HEAD";
      if (mutating && principal) checkCsrf(req, principal);
      const rawParams = (await ctx.params) ?? {};
      const params: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [k, v] of Object.entries(rawParams)) if (typeof v === "string") params[k] = v;
      let raw: unknown = undefined;
      if (options.body) {
        raw = await readBody(req, options.maxBytes ?? DEFAULT_MAX_BYTES);
        if (raw instanceof RefusedJsonBody) {
          if (!options.onMalformedBody) throw new ApiError("BAD_REQUEST", raw.reason);
          const answer = await options.onMalformedBody(raw.reason, raw.raw, principal);
          if (answer instanceof Response) return answer;
          return Response.json(answer, { headers: { "cache-control": "no-store" } });
        }
      }
      const body = (options.body ? parseWith(options.body, raw, "body") : undefined) as Infer<BS>;
      const query = (options.query
        ? parseWith(options.query, Object.fromEntries(new URL(req.url).searchParams), "query")
        : undefined) as Infer<QS>;
      const result = await handler({ req, body, query, params, principal });
      if (result instanceof Response) return result;
      return Response.json(result, { headers: { "cache-control": "no-store" } });
    } catch (error) {
      return errorResponse(error, options.audience);
    }
  };
}

export function requireHuman(principal: Principal | null): HumanPrincipal {
  if (!principal || principal.kind === "agent") throw new ApiError("FORBIDDEN", "machine tokens reach no console or admin route");
  return principal;
}
