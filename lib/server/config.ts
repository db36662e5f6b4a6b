// No `import "server-only"`: scripts/build-if-stale.ts runs under plain tsx (without the
// react-server condition) and reads FK_NEXT_DIST_DIR here. Nothing in this module is more secret
// than process.env itself, and client code cannot import lib/server (lint).
import os from "node:os";
import path from "node:path";
import { z } from "zod";

/**
 * The environment, parsed once with zod. Every other module under lib/server, app/ and scripts/
 * asks here instead of touching process.env (a lint rule says so). `parseConfig(env)` is pure and
 * reports every problem at once; `config()` parses process.env once per process and throws
 * ConfigError, whose message names each bad variable, what is wrong with it (never a secret's
 * value) and what is expected. `npm start` calls it first and stops with that message.
 */
export type Provider = "sqlite" | "postgresql";

export interface DatabaseConfig {
  readonly provider: Provider;
  /** For SQLite: an absolute file path; for PostgreSQL: the connection string. */
  readonly url: string;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface Config {
  /** Absolute; FK_DATA_DIR, default ./data. */
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  readonly signingKey: {
    /** The RFC 8032 seed from FK_SIGNING_KEY, or null to use the key file. */
    readonly seed: Uint8Array | null;
    /** Absolute path of the key file (FK_SIGNING_KEY_FILE, default <dataDir>/signing-key). */
    readonly file: string;
    /** FK_SIGNING_KEY_CREATE=0 forbids creating a key even for a store that never signed. */
    readonly create: boolean;
  };
  /** FK_OPERATOR_TOKEN (16+ characters), or null when unset. */
  readonly operatorToken: string | null;
  readonly permitTtlMs: number;
  readonly checkpointEvery: number;
  readonly checkpointSeconds: number;
  readonly logLevel: LogLevel;
  readonly sqliteBusyMs: number;
  readonly port: number;
  readonly hostname: string;
  readonly skipBuild: boolean;
  /** Node flags for the `next start` process only (FK_NEXT_NODE_OPTIONS, split on spaces). */
  readonly nextNodeOptions: readonly string[];
  /** Next's build directory relative to the project root (FK_NEXT_DIST_DIR, default .next). */
  readonly nextDistDir: string;
  readonly bootstrap: { readonly operatorPassword: string | null; readonly ownerPassword: string | null };
  /** Test harnesses only (FK_CHECK_RESPONSES=1): route() checks every answer against the route table. */
  readonly checkResponses: boolean;
}

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(
    message: string,
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Shows a non-secret value in a message, shortened. */
const show = (v: string) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);

/** An integer variable; unset or empty means the default. */
function integer(min: number, max: number, def: number, unit: string) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return def;
      const expected = `expected an integer number of ${unit} from ${min} to ${max} (default ${def})`;
      if (!/^\s*-?\d+\s*$/.test(v)) {
        ctx.addIssue({ code: "custom", message: `${show(v)} is not an integer; ${expected}` });
        return z.NEVER;
      }
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `${show(v)} is out of range; ${expected}` });
        return z.NEVER;
      }
      return n;
    });
}

function oneOf<const T extends readonly string[]>(values: T, def: T[number]) {
  return z
    .string()
    .optional()
    .transform((v, ctx): T[number] => {
      if (v === undefined || v.trim() === "") return def;
      const t = v.trim();
      if ((values as readonly string[]).includes(t)) return t as T[number];
      ctx.addIssue({ code: "custom", message: `${show(v)} is not one of ${values.join(", ")} (default ${def})` });
      return z.NEVER;
    });
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === "" ? null : v));

const Schema = z.object({
  FK_DATA_DIR: optionalText,
  DATABASE_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v.trim() === "" || /^(postgresql:\/\/|postgres:\/\/|file:)/.test(v.trim()), {
      // The URL may hold a password: name its scheme only.
      message: "has an unknown scheme; expected postgresql://…, postgres://… or file:… (unset: the embedded SQLite file under FK_DATA_DIR)",
    }),
  PGUSER: optionalText,
  FK_SIGNING_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === "" || /^[0-9a-fA-F]{64}$/.test(v.trim()), {
      message: "is malformed (its value is secret and not shown); expected 64 hex characters, the Ed25519 seed (or leave it unset to use the key file)",
    }),
  FK_SIGNING_KEY_FILE: optionalText,
  FK_SIGNING_KEY_CREATE: oneOf(["0", "1"], "1"),
  FK_OPERATOR_TOKEN: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === "" || v.length >= 16, {
      // Length only: the token is a secret.
      message: "is too short (its value is secret and not shown); expected at least 16 characters, or leave it unset to disable the operator bearer token",
    }),
  FK_PERMIT_TTL_MS: integer(1_000, 3_600_000, 60_000, "milliseconds"),
  FK_CHECKPOINT_EVERY: integer(1, 1_000_000, 1_000, "entries"),
  FK_CHECKPOINT_SECONDS: integer(0, 86_400, 30, "seconds (0: no timer)"),
  FK_LOG_LEVEL: oneOf(["debug", "info", "warn", "error", "silent"], "info"),
  FK_SQLITE_BUSY_MS: integer(0, 600_000, 5_000, "milliseconds"),
  PORT: integer(1, 65_535, 3_000, "a TCP port"),
  HOSTNAME: optionalText,
  FK_SKIP_BUILD: oneOf(["0", "1"], "0"),
  FK_NEXT_NODE_OPTIONS: optionalText,
  FK_NEXT_DIST_DIR: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === "" || !path.isAbsolute(v), { message: "must be a path relative to the project root (default .next)" }),
  FK_OPERATOR_PASSWORD: optionalText,
  FK_OWNER_PASSWORD: optionalText,
  FK_CHECK_RESPONSES: oneOf(["0", "1"], "0"),
});

/** Parses an environment. Pure. Throws ConfigError listing every problem, one a line. */
export function parseConfig(env: Env): Config {
  const picked: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
  for (const k of Object.keys(Schema.shape)) if (Object.hasOwn(env, k)) picked[k] = env[k];
  const parsed = Schema.safeParse(picked);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0] ?? "environment")} ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`, problems);
  }
  const e = parsed.data;
  const dataDir = path.resolve(/*turbopackIgnore: true*/ e.FK_DATA_DIR ?? "data");
  const seedText = e.FK_SIGNING_KEY?.trim();
  return {
    dataDir,
    database: database(e.DATABASE_URL?.trim() ?? "", dataDir, e.PGUSER),
    signingKey: {
      seed: seedText ? new Uint8Array(Buffer.from(seedText, "hex")) : null,
      file: e.FK_SIGNING_KEY_FILE ? path.resolve(/*turbopackIgnore: true*/ e.FK_SIGNING_KEY_FILE) : path.join(/*turbopackIgnore: true*/ dataDir, "signing-key"),
      create: e.FK_SIGNING_KEY_CREATE === "1",
    },
    operatorToken: e.FK_OPERATOR_TOKEN ? e.FK_OPERATOR_TOKEN : null,
    permitTtlMs: e.FK_PERMIT_TTL_MS,
    checkpointEvery: e.FK_CHECKPOINT_EVERY,
    checkpointSeconds: e.FK_CHECKPOINT_SECONDS,
    logLevel: e.FK_LOG_LEVEL,
    sqliteBusyMs: e.FK_SQLITE_BUSY_MS,
    port: e.PORT,
    hostname: e.HOSTNAME ?? "0.0.0.0",
    skipBuild: e.FK_SKIP_BUILD === "1",
    nextNodeOptions: (e.FK_NEXT_NODE_OPTIONS ?? "").split(" ").filter(Boolean),
    nextDistDir: e.FK_NEXT_DIST_DIR || ".next",
    bootstrap: { operatorPassword: e.FK_OPERATOR_PASSWORD, ownerPassword: e.FK_OWNER_PASSWORD },
    checkResponses: e.FK_CHECK_RESPONSES === "1",
  };
}

function database(url: string, dataDir: string, pgUser: string | null): DatabaseConfig {
  if (!url) return { provider: "sqlite", url: path.join(/*turbopackIgnore: true*/ dataDir, "freedom-kernel.db") };
  if (url.startsWith("file:")) return { provider: "sqlite", url: path.resolve(/*turbopackIgnore: true*/ url.slice("file:".length)) };
  return { provider: "postgresql", url: withDefaultUser(url, pgUser) };
}

let memo: Config | null = null;

/** The process's configuration, parsed from process.env on first use. Throws ConfigError. */
export function config(): Config {
  memo ??= parseConfig(process.env);
  return memo;
}

/** The environment for a child process (next build, next start): this one's, plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

/** How long a permit is valid (FK_PERMIT_TTL_MS). */
export function permitTtlMs(): number {
  return config().permitTtlMs;
}

export function dataDir(env?: Env): string {
  return (env ? parseConfig(env) : config()).dataDir;
}

export function databaseConfig(env?: Env): DatabaseConfig {
  return (env ? parseConfig(env) : config()).database;
}

/**
 * libpq (psql) connects as the operating-system user when a URL names none; node-postgres reads
 * $USER instead, which is often unset in services and containers. Fill in the libpq default so
 * `DATABASE_URL=postgresql://127.0.0.1:5432/db` means the same to us as to psql.
 */
function withDefaultUser(url: string, pgUser: string | null): string {
  try {
    const u = new URL(url);
    if (u.username) return url;
    u.username = pgUser || os.userInfo().username;
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
