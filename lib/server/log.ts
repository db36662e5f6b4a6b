import "server-only";

/** Structured JSON logs, one object a line on stdout (errors on stderr). */
type Level = "debug" | "info" | "warn" | "error";

const quiet = process.env.FK_LOG_LEVEL === "silent";
const debugOn = process.env.FK_LOG_LEVEL === "debug";

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (quiet || (level === "debug" && !debugOn)) return;
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, (_k, v: unknown) =>
    v instanceof Error ? { name: v.name, message: v.message } : typeof v === "bigint" ? String(v) : v,
  );
  if (level === "error" || level === "warn") process.stderr.write(line + "\n");
  else process.stdout.write(line + "\n");
}
