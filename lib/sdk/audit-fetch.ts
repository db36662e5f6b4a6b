/**
 * `freedom-kernel audit fetch`: downloads an audit export (JSON Lines) and the kernel's public keys,
 * for `freedom-kernel audit verify EXPORT --keys KEYS` to check offline.
 *
 *   freedom-kernel audit fetch --url http://kernel:3000 [--token T | FK_AUDIT_TOKEN] \
 *       [--out audit.jsonl] [--keys-out keys.json] [--timeout-ms 60000]
 *
 * The export is the operator's (GET /api/v1/audit/export with a bearer token). The keys are fetched
 * from the same server for convenience, and that proves integrity, not origin: an auditor who does not
 * trust the server should compare keys.json with a key obtained on another path (the console's audit
 * page, the operator's records) before relying on a verification. Nothing here verifies anything;
 * fetching and verifying stay separate so that the verifier never depends on the network.
 *
 * Not imported by the SDK's index (it uses node:fs); the kernel's CLI dispatches to runAuditFetchCli.
 */
import fs from "node:fs";
import { ROUTES } from "../contracts/routes";
import { parseAuditExport } from "../kernel/audit-export";
import { apiBase } from "./gate";
import { exchange, parseJson, type FetchLike } from "./http";

export interface AuditFetchOptions {
  /** The kernel: http://host:port or http://host:port/api/v1. */
  readonly url: string;
  /** A bearer token allowed to export (the operator token). */
  readonly token: string;
  /** Where to write the export. */
  readonly out: string;
  /** Where to write the keys; default `<out>.keys.json`. */
  readonly keysOut?: string | undefined;
  /** Whole download; default 60 s. */
  readonly timeoutMs?: number | undefined;
  /** Largest export accepted; default 1 GiB. */
  readonly maxBytes?: number | undefined;
  readonly fetch?: FetchLike | undefined;
}

export interface AuditFetchResult {
  readonly exportPath: string;
  readonly keysPath: string;
  readonly lines: number;
  readonly bytes: number;
  readonly keyIds: readonly string[];
}

export class AuditFetchError extends Error {
  constructor(
    readonly code: "UNREACHABLE" | "REFUSED" | "NOT_AN_EXPORT" | "WRITE_FAILED",
    message: string,
  ) {
    super(message);
    this.name = "AuditFetchError";
  }
}

/** Downloads the export and the keys and writes both files (mode 0600). Throws AuditFetchError. */
export async function auditFetch(options: AuditFetchOptions): Promise<AuditFetchResult> {
  const api = apiBase(options.url);
  const doFetch: FetchLike = options.fetch ?? ((i, init) => globalThis.fetch(i, init));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const exportUrl = `${api}${ROUTES.exportAudit.path}`;
  const keysUrl = `${api}${ROUTES.keys.path}`;
  const exp = await exchange(exportUrl, {
    method: "GET",
    token: options.token,
    timeoutMs,
    fetch: doFetch,
    accept: "application/x-ndjson",
    maxBytes: options.maxBytes ?? 1024 * 1024 * 1024,
  });
  if (exp.kind !== "response") throw new AuditFetchError("UNREACHABLE", `cannot download ${exportUrl} (${exp.kind})`);
  if (exp.status !== 200) {
    const body = parseJson(exp.text) as { error?: { code?: string; message?: string } } | undefined;
    throw new AuditFetchError("REFUSED", `${exportUrl} answered ${exp.status}${body?.error ? ` ${body.error.code ?? ""}: ${body.error.message ?? ""}` : ""}`);
  }
  // Shape only (every line canonical JSON of a known type); verification is `audit verify`'s job.
  const parsed = parseAuditExport(exp.text);
  if (!parsed.ok || parsed.lines[0]?.type !== "header") {
    throw new AuditFetchError("NOT_AN_EXPORT", `the download is not an audit export${parsed.errors[0] ? ` (line ${parsed.errors[0].line}: ${parsed.errors[0].message})` : ""}`);
  }
  const keys = await exchange(keysUrl, { method: "GET", timeoutMs, fetch: doFetch });
  if (keys.kind !== "response" || keys.status !== 200) throw new AuditFetchError("UNREACHABLE", `cannot download ${keysUrl}`);
  const keyList = ROUTES.keys.response.safeParse(parseJson(keys.text));
  if (!keyList.success) throw new AuditFetchError("NOT_AN_EXPORT", `${keysUrl} is not a key list`);

  const keysPath = options.keysOut ?? `${options.out}.keys.json`;
  try {
    fs.writeFileSync(options.out, exp.text, { mode: 0o600 });
    fs.writeFileSync(keysPath, JSON.stringify(keyList.data, null, 2) + "\n", { mode: 0o600 });
  } catch (e) {
    throw new AuditFetchError("WRITE_FAILED", `cannot write the files: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    exportPath: options.out,
    keysPath,
    lines: parsed.lines.length,
    bytes: new TextEncoder().encode(exp.text).byteLength,
    keyIds: keyList.data.keys.map((k) => k.keyId),
  };
}

export const AUDIT_FETCH_USAGE = `usage: freedom-kernel audit fetch --url URL [--token T] [--out audit.jsonl] [--keys-out keys.json] [--timeout-ms N]
  --token may come from FK_AUDIT_TOKEN (preferred: --token shows in the process list).
  Then: freedom-kernel audit verify audit.jsonl --keys keys.json
`;

/**
 * The CLI form, in the shape of the kernel CLI's runCli: arguments after "audit fetch", the
 * environment, and { stdout, stderr, exitCode } back (0 written, 1 download failed, 2 usage).
 */
export async function runAuditFetchCli(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
  fetchImpl?: FetchLike,
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const usage = (message: string) => ({ stdout: "", stderr: `freedom-kernel: ${message}\n${AUDIT_FETCH_USAGE}`, exitCode: 2 });
  const values = new Map<string, string>();
  const flags = new Set(["--url", "--token", "--out", "--keys-out", "--timeout-ms"]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--help" || arg === "-h") return { stdout: AUDIT_FETCH_USAGE, stderr: "", exitCode: 0 };
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!flags.has(name)) return usage(`unknown argument ${arg}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) return usage(`${name} needs a value`);
    if (values.has(name)) return usage(`${name} given twice`);
    values.set(name, value);
  }
  const url = values.get("--url");
  const token = values.get("--token") ?? env.FK_AUDIT_TOKEN;
  if (!url) return usage("--url is required");
  if (!token) return usage("--token (or FK_AUDIT_TOKEN) is required");
  const timeoutText = values.get("--timeout-ms");
  const timeoutMs = timeoutText === undefined ? undefined : Number(timeoutText);
  if (timeoutMs !== undefined && !(timeoutMs > 0)) return usage("--timeout-ms takes a positive number");
  const out = values.get("--out") ?? "audit.jsonl";
  try {
    const r = await auditFetch({ url, token, out, keysOut: values.get("--keys-out"), timeoutMs, fetch: fetchImpl });
    return {
      stdout: `wrote ${r.exportPath} (${r.lines} lines, ${r.bytes} bytes) and ${r.keysPath} (${r.keyIds.join(", ")})\nverify offline: freedom-kernel audit verify ${r.exportPath} --keys ${r.keysPath}\n`,
      stderr: "note: the keys come from the same server as the export: compare them with a key obtained on another path before trusting a verification\n",
      exitCode: 0,
    };
  } catch (e) {
    if (e instanceof AuditFetchError) return { stdout: "", stderr: `freedom-kernel: audit fetch failed (${e.code}): ${e.message}\n`, exitCode: 1 };
    if (e instanceof Error && "code" in e && (e as { code?: unknown }).code === "INVALID_CONFIG") return usage(e.message);
    throw e;
  }
}
