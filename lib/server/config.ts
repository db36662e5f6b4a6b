import "server-only";
import os from "node:os";
import path from "node:path";

/**
 * Validated environment. Read once; every other module asks here instead of touching process.env.
 *  - FK_DATA_DIR: where the embedded SQLite database and the signing key live (default ./data).
 *  - DATABASE_URL: unset or file:… = embedded SQLite; postgresql://… = PostgreSQL.
 */
export type Provider = "sqlite" | "postgresql";

export interface DatabaseConfig {
  readonly provider: Provider;
  /** For SQLite: an absolute file path; for PostgreSQL: the connection string. */
  readonly url: string;
}

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(/*turbopackIgnore: true*/ env.FK_DATA_DIR ?? "data");
}

export function databaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const url = env.DATABASE_URL?.trim();
  if (!url) return { provider: "sqlite", url: path.join(/*turbopackIgnore: true*/ dataDir(env), "freedom-kernel.db") };
  if (url.startsWith("postgresql://") || url.startsWith("postgres://")) return { provider: "postgresql", url: withDefaultUser(url, env) };
  if (url.startsWith("file:")) {
    const file = url.slice("file:".length);
    return { provider: "sqlite", url: path.resolve(/*turbopackIgnore: true*/ file) };
  }
  throw new ConfigError("DATABASE_URL must start with postgresql://, postgres:// or file:");
}

/**
 * libpq (psql) connects as the operating-system user when a URL names none; node-postgres reads
 * $USER instead, which is often unset in services and containers. Fill in the libpq default so
 * `DATABASE_URL=postgresql://127.0.0.1:5432/db` means the same to us as to psql.
 */
function withDefaultUser(url: string, env: NodeJS.ProcessEnv): string {
  try {
    const u = new URL(url);
    if (u.username) return url;
    u.username = env.PGUSER || os.userInfo().username;
    return u.toString();
  } catch {
    return url; // let the driver report the malformed URL
  }
}

/** Redacts credentials so a URL can be shown in /api/health and logs. */
export function describeDatabase(config: DatabaseConfig): string {
  if (config.provider === "sqlite") return config.url;
  try {
    const u = new URL(config.url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgresql://(unparseable)";
  }
}
