import "server-only";
import { config } from "./config";

/** Structured JSON logs, one object a line on stdout (errors on stderr). */
type Level = "debug" | "info" | "warn" | "error";

const RANK: Record<Level | "silent", number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

function threshold(): number {
  try {
    return RANK[config().logLevel];
  } catch {
    // An invalid configuration stops `npm start` before the server runs; a log line about it
    // must not throw a second time.
    return RANK.info;
  }
}

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (RANK[level] < threshold()) return;
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, (_k, v: unknown) =>
    v instanceof Error ? { name: v.name, message: v.message } : typeof v === "bigint" ? String(v) : v,
  );
  if (level === "error" || level === "warn") process.stderr.write(line + "\n");
  else process.stdout.write(line + "\n");
}
