/**
 * The console's one way to talk to the API: same-origin fetch with the session cookie, the CSRF
 * header on every state change, strict parsing of the answer with the route's zod contract, and
 * one error class carrying the API's stable error code.
 */
import { z } from "zod";
import { ErrorBody, type ErrorCode } from "@/lib/contracts";

export const API_BASE = "/api/v1";
const CSRF_COOKIE = "fk_csrf";
const CSRF_HEADER = "x-csrf-token";

/** Fired on a 401 so the console can send the user back to the sign-in page. */
export const UNAUTHENTICATED_EVENT = "fk:unauthenticated";

// While signing out, the 401s of queries still in flight are expected, not a lost session.
let signingOut = false;
export function beginSignOut(): void {
  signingOut = true;
}

export type ClientErrorCode = ErrorCode | "NETWORK_ERROR" | "BAD_RESPONSE";

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: ClientErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiRequestError";
  }
}

export function readCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return null;
}

export function csrfToken(): string | null {
  return readCookie(CSRF_COOKIE);
}

type Method = "GET" | "POST" | "DELETE";
type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  method?: Method;
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
}

export function apiUrl(path: string, query?: Query): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== "") qs.set(k, String(v));
  const s = qs.toString();
  return `${API_BASE}${path}${s ? `?${s}` : ""}`;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") {
    const token = csrfToken();
    if (token) headers[CSRF_HEADER] = token;
  }
  if (options.body !== undefined) headers["content-type"] = "application/json";
  try {
    return await fetch(apiUrl(path, options.query), {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiRequestError(0, "NETWORK_ERROR", "the server could not be reached");
  }
}

async function failure(res: Response): Promise<ApiRequestError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: fall through to a generic message
  }
  const parsed = ErrorBody.safeParse(body);
  if (res.status === 401 && !signingOut && typeof window !== "undefined") window.dispatchEvent(new Event(UNAUTHENTICATED_EVENT));
  if (parsed.success) return new ApiRequestError(res.status, parsed.data.error.code, parsed.data.error.message, parsed.data.error.details);
  return new ApiRequestError(res.status, res.status >= 500 ? "INTERNAL_ERROR" : "BAD_RESPONSE", `the server answered ${res.status}`);
}

/** Calls the API and parses the answer with `schema`. Throws ApiRequestError. */
export async function apiRequest<S extends z.ZodType>(path: string, schema: S, options: RequestOptions = {}): Promise<z.infer<S>> {
  const res = await send(path, options);
  if (!res.ok) throw await failure(res);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new ApiRequestError(res.status, "BAD_RESPONSE", "the server's answer is not JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ApiRequestError(res.status, "BAD_RESPONSE", `the server's answer does not match the contract (${parsed.error.issues[0]?.path.join(".") ?? "?"})`);
  }
  return parsed.data;
}

/** Like apiRequest for a text body (the audit export). */
export async function apiText(path: string, options: RequestOptions = {}): Promise<string> {
  const res = await send(path, options);
  if (!res.ok) throw await failure(res);
  return res.text();
}

/** A message for people: the API's own message, or a plain fallback. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiRequestError) return error.message;
  if (error instanceof Error) return error.message;
  return "something went wrong";
}
