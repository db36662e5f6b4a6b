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
  /** OpenTelemetry traces (OTEL_*, see TracingConfig); null when no OTLP endpoint is set. */
  readonly tracing: TracingConfig | null;
  /** The audit stream's sinks (FK_STREAM_*); every sink null/false: no stream worker. */
  readonly stream: StreamConfig;
}

/** Where the audit stream ships the log (lib/server/stream), and how. */
export interface StreamConfig {
  /** FK_STREAM_NATS_URL (+ _STREAM, _SUBJECT): JetStream, one subject per entry kind. */
  readonly nats: { readonly servers: readonly string[]; readonly stream: string; readonly subject: string } | null;
  /** FK_STREAM_WEBHOOK_URL (+ _SECRET): signed JSON batches over HTTP POST. */
  readonly webhook: { readonly url: string; readonly secret: string | null } | null;
  /** FK_STREAM_STDOUT=1: export entry lines on standard output. */
  readonly stdout: boolean;
  /** FK_STREAM_BATCH_SIZE: most entries per batch. */
  readonly batchSize: number;
  /** FK_STREAM_LEASE_MS: how long a replica's hold on a sink lasts without renewal. */
  readonly leaseMs: number;
  /** FK_STREAM_RETRY_MAX_MS: the longest pause between attempts at a failing sink. */
  readonly retryMaxMs: number;
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

// ------------------------------------------------------------------------------------------------
// OpenTelemetry traces (issue 14): the standard OTEL_* variables this server honours. Exporting is
// OTLP over HTTP with JSON bodies (@opentelemetry/exporter-trace-otlp-http), so only that protocol
// is accepted; a protocol or exporter we would not honour is refused rather than ignored.
// ------------------------------------------------------------------------------------------------

export interface TracingConfig {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  readonly url: string;
  /** OTEL_EXPORTER_OTLP_HEADERS, then OTEL_EXPORTER_OTLP_TRACES_HEADERS (values may be secrets: never printed). */
  readonly headers: Readonly<Record<string, string>>;
  /** OTEL_SERVICE_NAME, default freedom-kernel. */
  readonly serviceName: string;
  /** OTEL_EXPORTER_OTLP_TIMEOUT, default 10000 ms per export. */
  readonly timeoutMs: number;
}

/** An OTLP/HTTP endpoint: an absolute http(s) URL without credentials (those go in the headers). */
function otlpEndpoint(suffix: string) {
  return z
    .string()
    .optional()
    .transform((v, ctx): string | null => {
      if (v === undefined || v.trim() === "") return null;
      const expected = `expected the OTLP/HTTP collector's URL, e.g. http://localhost:4318${suffix}`;
      // Text with an "@" may hold credentials: such a value is never shown.
      const shown = v.includes("@") ? "(value not shown)" : show(v.trim());
      let u: URL;
      try {
        u = new URL(v.trim());
      } catch {
        ctx.addIssue({ code: "custom", message: `${shown} is not a URL; ${expected}` });
        return z.NEVER;
      }
      if (u.username || u.password) {
        ctx.addIssue({ code: "custom", message: `has credentials in the URL (not shown); put them in OTEL_EXPORTER_OTLP_HEADERS instead; ${expected}` });
        return z.NEVER;
      }
      if ((u.protocol !== "http:" && u.protocol !== "https:") || !u.hostname) {
        ctx.addIssue({ code: "custom", message: `${shown} is not an http:// or https:// URL with a host; ${expected}` });
        return z.NEVER;
      }
      return u.href;
    });
}

/** `key=value,key2=value2` (values percent-decoded), as the OTel specification writes headers. */
const otlpHeaders = z
  .string()
  .optional()
  .transform((v, ctx): Record<string, string> => {
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    if (v === undefined || v.trim() === "") return out;
    const entries = v.split(",");
    for (const [i, entry] of entries.entries()) {
      if (entry.trim() === "") continue;
      const eq = entry.indexOf("=");
      const name = eq > 0 ? entry.slice(0, eq).trim() : "";
      let value: string | null = null;
      try {
        value = eq > 0 ? decodeURIComponent(entry.slice(eq + 1).trim()) : null;
      } catch {
        value = null;
      }
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || value === null || /[\r\n\0]/.test(value)) {
        // Values are often API keys: say which entry, never what it holds.
        ctx.addIssue({ code: "custom", message: `entry ${i + 1} is not a header name=value (values are not shown); expected e.g. authorization=Bearer%20…,x-team=fk` });
        return z.NEVER;
      }
      out[name.toLowerCase()] = value;
    }
    return out;
  });

const otlpProtocol = z
  .string()
  .optional()
  .refine((v) => v === undefined || v.trim() === "" || v.trim() === "http/json", {
    message: "is not supported; this server exports OTLP over HTTP with JSON bodies only: set http/json or leave it unset",
  });

const TRACING_SCHEMA = {
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint(""),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpEndpoint("/v1/traces"),
  OTEL_EXPORTER_OTLP_HEADERS: otlpHeaders,
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: otlpHeaders,
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol,
  OTEL_EXPORTER_OTLP_TIMEOUT: integer(1, 600_000, 10_000, "milliseconds"),
  OTEL_SERVICE_NAME: optionalText,
  OTEL_SDK_DISABLED: z
    .string()
    .optional()
    .refine((v) => v === undefined || ["", "true", "false"].includes(v.trim().toLowerCase()), { message: "is not true or false (default false)" }),
  OTEL_TRACES_EXPORTER: z
    .string()
    .optional()
    .refine((v) => v === undefined || ["", "otlp", "none"].includes(v.trim().toLowerCase()), {
      message: "is not supported; expected otlp (the default when an endpoint is set) or none",
    }),
};

type TracingEnv = z.output<z.ZodObject<typeof TRACING_SCHEMA>>;

/** Tracing is on when an endpoint is set, unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. */
function tracingConfig(e: TracingEnv): TracingConfig | null {
  const base = e.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base === null ? null : `${base.replace(/\/+$/, "")}/v1/traces`);
  if (url === null) return null;
  if (e.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true" || e.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === "none") return null;
  return {
    url,
    headers: { ...e.OTEL_EXPORTER_OTLP_HEADERS, ...e.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
    serviceName: e.OTEL_SERVICE_NAME ?? "freedom-kernel",
    timeoutMs: e.OTEL_EXPORTER_OTLP_TIMEOUT,
  };
}

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
  ...TRACING_SCHEMA,
  ...streamSchema(),
});

/** Parses an environment. Pure. Throws ConfigError listing every problem, one a line. */
export function parseConfig(env: Env): Config {
  const picked: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
  for (const k of Object.keys(Schema.shape)) if (Object.hasOwn(env, k)) picked[k] = env[k];
  const parsed = Schema.safeParse(picked);
  const problems = [...(parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0] ?? "environment")} ${i.message}`)), ...streamDependencyProblems(picked)];
  if (!parsed.success || problems.length > 0) {
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
    tracing: tracingConfig(e),
    stream: {
      nats: e.FK_STREAM_NATS_URL ? { servers: e.FK_STREAM_NATS_URL, stream: e.FK_STREAM_NATS_STREAM, subject: e.FK_STREAM_NATS_SUBJECT } : null,
      webhook: e.FK_STREAM_WEBHOOK_URL ? { url: e.FK_STREAM_WEBHOOK_URL, secret: e.FK_STREAM_WEBHOOK_SECRET ?? null } : null,
      stdout: e.FK_STREAM_STDOUT === "1",
      batchSize: e.FK_STREAM_BATCH_SIZE,
      leaseMs: e.FK_STREAM_LEASE_MS,
      retryMaxMs: e.FK_STREAM_RETRY_MAX_MS,
    },
  };
}

// ------------------------------------------------------------------------------------------------
// The audit stream (FK_STREAM_*)
// ------------------------------------------------------------------------------------------------

const NATS_TOKEN = /^[A-Za-z0-9_-]+$/;

/** The FK_STREAM_* variables. URLs may carry credentials: messages name their scheme at most. */
function streamSchema() {
  return {
    FK_STREAM_NATS_URL: z
      .string()
      .optional()
      .transform((v, ctx): string[] | null => {
        if (v === undefined || v.trim() === "") return null;
        const servers = v.split(",").map((s) => s.trim());
        for (const s of servers) {
          let ok = false;
          try {
            const u = new URL(s);
            ok = (u.protocol === "nats:" || u.protocol === "tls:") && u.hostname !== "" && u.pathname.replace(/^\/$/, "") === "" && !u.search && !u.hash;
          } catch {
            ok = false;
          }
          if (!ok) {
            ctx.addIssue({ code: "custom", message: "is not a NATS server URL (its value is not shown); expected nats://host:port or tls://host:port, several separated by commas" });
            return z.NEVER;
          }
        }
        return servers;
      }),
    FK_STREAM_NATS_STREAM: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v.trim() === "") return "FREEDOM_KERNEL_AUDIT";
        if (!NATS_TOKEN.test(v.trim()) || v.trim().length > 64) {
          ctx.addIssue({ code: "custom", message: `${show(v)} is not a JetStream stream name; expected 1-64 characters of A-Z, a-z, 0-9, _ and - (default FREEDOM_KERNEL_AUDIT)` });
          return z.NEVER;
        }
        return v.trim();
      }),
    FK_STREAM_NATS_SUBJECT: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v.trim() === "") return "freedom-kernel.audit";
        const t = v.trim();
        if (t.length > 200 || !t.split(".").every((token) => NATS_TOKEN.test(token))) {
          ctx.addIssue({ code: "custom", message: `${show(v)} is not a subject prefix; expected dot-separated tokens of A-Z, a-z, 0-9, _ and -, no wildcards (default freedom-kernel.audit)` });
          return z.NEVER;
        }
        return t;
      }),
    FK_STREAM_WEBHOOK_URL: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v.trim() === "") return null;
        try {
          const u = new URL(v.trim());
          if ((u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "" && !u.hash) return u.toString();
        } catch {
          // reported below
        }
        ctx.addIssue({ code: "custom", message: "is not an http:// or https:// URL (its value is not shown)" });
        return z.NEVER;
      }),
    FK_STREAM_WEBHOOK_SECRET: z
      .string()
      .optional()
      .refine((v) => v === undefined || v === "" || v.length >= 16, {
        message: "is too short (its value is secret and not shown); expected at least 16 characters, or leave it unset to send batches without an HMAC header",
      })
      .transform((v) => (v ? v : null)),
    FK_STREAM_STDOUT: oneOf(["0", "1"], "0"),
    FK_STREAM_BATCH_SIZE: integer(1, 10_000, 500, "entries"),
    FK_STREAM_LEASE_MS: integer(1_000, 600_000, 15_000, "milliseconds"),
    FK_STREAM_RETRY_MAX_MS: integer(100, 3_600_000, 30_000, "milliseconds"),
  };
}

/** Settings that mean nothing without their sink's URL: a typo in the URL's name must not pass silently. */
function streamDependencyProblems(env: Env): string[] {
  const set = (k: string) => (env[k] ?? "").trim() !== "";
  const problems: string[] = [];
  for (const k of ["FK_STREAM_NATS_STREAM", "FK_STREAM_NATS_SUBJECT"]) {
    if (set(k) && !set("FK_STREAM_NATS_URL")) problems.push(`${k} is set but FK_STREAM_NATS_URL is not; set the NATS server URL or unset ${k}`);
  }
  if (set("FK_STREAM_WEBHOOK_SECRET") && !set("FK_STREAM_WEBHOOK_URL")) {
    problems.push("FK_STREAM_WEBHOOK_SECRET is set but FK_STREAM_WEBHOOK_URL is not; set the webhook URL or unset the secret");
  }
  return problems;
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
