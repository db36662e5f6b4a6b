/**
 * One HTTP exchange with the kernel: a timeout covering the whole exchange (headers and body), a
 * cap on the body size, and a result instead of an exception. Uses only the fetch API, so the SDK
 * runs in Node, Deno, Bun, edge runtimes and browsers alike.
 */
import { parseJsonStrict } from "../kernel/json";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Largest body the SDK reads from the kernel; a decision is a few kilobytes. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export type Exchange =
  | { readonly kind: "response"; readonly status: number; readonly text: string }
  | { readonly kind: "timeout" }
  | { readonly kind: "aborted" }
  | { readonly kind: "network"; readonly message: string }
  | { readonly kind: "too-large" };

export interface ExchangeOptions {
  readonly method: "GET" | "POST";
  readonly token?: string | undefined;
  readonly body?: unknown;
  readonly timeoutMs: number;
  readonly fetch: FetchLike;
  readonly signal?: AbortSignal | undefined;
  readonly accept?: string | undefined;
  readonly maxBytes?: number | undefined;
}

/** Sends one request; never throws. */
export async function exchange(url: string, options: ExchangeOptions): Promise<Exchange> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const headers: Record<string, string> = { accept: options.accept ?? "application/json" };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const res = await options.fetch(url, {
      method: options.method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      signal: controller.signal,
      redirect: "error",
    });
    const text = await readLimited(res, options.maxBytes ?? MAX_RESPONSE_BYTES);
    if (text === undefined) return { kind: "too-large" };
    return { kind: "response", status: res.status, text };
  } catch (error) {
    if (timedOut) return { kind: "timeout" };
    if (options.signal?.aborted) return { kind: "aborted" };
    return { kind: "network", message: describeNetworkError(error) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

async function readLimited(res: Response, maxBytes: number): Promise<string | undefined> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  // Not fatal on bad UTF-8: the JSON parse (and then the signature) decides.
  return new TextDecoder().decode(all);
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return "the request failed";
  const cause = (error as { cause?: unknown }).cause;
  const code = typeof cause === "object" && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === "string" ? `${error.message} (${code})` : error.message;
}

/**
 * The kernel's strict JSON parser; undefined instead of throwing. An answer with a duplicated
 * member name is undefined like any other non-JSON answer (so BAD_RESPONSE): JSON.parse would keep
 * the last duplicate, and what the gate checks must be the one reading of the bytes it received.
 */
export function parseJson(text: string): unknown {
  const parsed = parseJsonStrict(text);
  return parsed.ok ? parsed.value : undefined;
}
