import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, databaseConfig, describeDatabase, parseConfig } from "../config";

const env = (e: Record<string, string>) => e;

/** The ConfigError's problems for an environment (fails the test when it parses). */
function problems(e: Record<string, string>): readonly string[] {
  try {
    parseConfig(e);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("databaseConfig", () => {
  it("defaults to the embedded SQLite file under the data directory", () => {
    expect(databaseConfig(env({ FK_DATA_DIR: "/srv/fk" }))).toEqual({ provider: "sqlite", url: path.join("/srv/fk", "freedom-kernel.db") });
    expect(databaseConfig(env({ DATABASE_URL: "file:/tmp/x.db" }))).toEqual({ provider: "sqlite", url: "/tmp/x.db" });
  });

  it("connects to PostgreSQL as psql would when the URL names no user", () => {
    const user = os.userInfo().username;
    expect(databaseConfig(env({ DATABASE_URL: "postgresql://127.0.0.1:5432/db" })).url).toBe(`postgresql://${user}@127.0.0.1:5432/db`);
    expect(databaseConfig(env({ DATABASE_URL: "postgresql://127.0.0.1:5432/db", PGUSER: "svc" })).url).toBe("postgresql://svc@127.0.0.1:5432/db");
    expect(databaseConfig(env({ DATABASE_URL: "postgres://app:pw@db:5432/x" })).url).toBe("postgres://app:pw@db:5432/x");
  });

  it("refuses other URLs without printing them and redacts passwords when describing one", () => {
    expect(() => databaseConfig(env({ DATABASE_URL: "mysql://root:hunter2@x" }))).toThrow(ConfigError);
    const [p] = problems({ DATABASE_URL: "mysql://root:hunter2@x" });
    expect(p).toMatch(/^DATABASE_URL has an unknown scheme; expected postgresql:\/\//);
    expect(p).not.toContain("hunter2");
    expect(describeDatabase({ provider: "postgresql", url: "postgresql://app:secret@db:5432/x" })).not.toContain("secret");
  });
});

describe("parseConfig", () => {
  it("gives the documented defaults for an empty environment", () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      dataDir: path.resolve("data"),
      database: { provider: "sqlite", url: path.resolve("data", "freedom-kernel.db") },
      signingKey: { seed: null, file: path.resolve("data", "signing-key"), create: true },
      operatorToken: null,
      permitTtlMs: 60_000,
      checkpointEvery: 1000,
      checkpointSeconds: 30,
      logLevel: "info",
      sqliteBusyMs: 5000,
      port: 3000,
      hostname: "0.0.0.0",
      skipBuild: false,
      nextNodeOptions: [],
      nextDistDir: ".next",
      bootstrap: { operatorPassword: null, ownerPassword: null },
    });
  });

  it("reads good values", () => {
    const seed = "ab".repeat(32);
    const c = parseConfig({
      FK_DATA_DIR: "/srv/fk",
      FK_SIGNING_KEY: seed,
      FK_SIGNING_KEY_FILE: "/keys/k",
      FK_SIGNING_KEY_CREATE: "0",
      FK_OPERATOR_TOKEN: "x".repeat(16),
      FK_PERMIT_TTL_MS: "1500",
      FK_CHECKPOINT_EVERY: "10",
      FK_CHECKPOINT_SECONDS: "0",
      FK_LOG_LEVEL: "silent",
      FK_SQLITE_BUSY_MS: "1000",
      PORT: "8080",
      HOSTNAME: "127.0.0.1",
      FK_SKIP_BUILD: "1",
      FK_NEXT_NODE_OPTIONS: "--cpu-prof  --inspect",
      FK_NEXT_DIST_DIR: ".next-me",
      FK_OPERATOR_PASSWORD: "p".repeat(12),
      UNRELATED: "ignored",
    });
    expect(Buffer.from(c.signingKey.seed!).toString("hex")).toBe(seed);
    expect(c).toMatchObject({
      dataDir: "/srv/fk",
      signingKey: { file: "/keys/k", create: false },
      operatorToken: "x".repeat(16),
      permitTtlMs: 1500,
      checkpointEvery: 10,
      checkpointSeconds: 0,
      logLevel: "silent",
      sqliteBusyMs: 1000,
      port: 8080,
      hostname: "127.0.0.1",
      skipBuild: true,
      nextNodeOptions: ["--cpu-prof", "--inspect"],
      nextDistDir: ".next-me",
      bootstrap: { operatorPassword: "p".repeat(12), ownerPassword: null },
    });
  });

  it("treats empty variables as unset", () => {
    expect(parseConfig({ DATABASE_URL: "", FK_OPERATOR_TOKEN: "", FK_SIGNING_KEY: "", FK_PERMIT_TTL_MS: "" })).toMatchObject({ operatorToken: null, permitTtlMs: 60_000, signingKey: { seed: null } });
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ["a too-short operator token", { FK_OPERATOR_TOKEN: "short-secret" }, /^FK_OPERATOR_TOKEN is too short .*at least 16 characters/],
    ["a non-numeric TTL", { FK_PERMIT_TTL_MS: "abc" }, /^FK_PERMIT_TTL_MS "abc" is not an integer; expected an integer number of milliseconds from 1000 to 3600000 \(default 60000\)/],
    ["a fractional TTL", { FK_PERMIT_TTL_MS: "1500.5" }, /^FK_PERMIT_TTL_MS "1500.5" is not an integer/],
    ["a TTL out of range", { FK_PERMIT_TTL_MS: "10" }, /^FK_PERMIT_TTL_MS "10" is out of range/],
    ["a malformed signing key", { FK_SIGNING_KEY: "zz" }, /^FK_SIGNING_KEY is malformed .*64 hex characters/],
    ["checkpoints every 0 entries", { FK_CHECKPOINT_EVERY: "0" }, /^FK_CHECKPOINT_EVERY "0" is out of range; expected an integer number of entries from 1/],
    ["a negative checkpoint interval", { FK_CHECKPOINT_SECONDS: "-5" }, /^FK_CHECKPOINT_SECONDS "-5" is out of range/],
    ["an unknown log level", { FK_LOG_LEVEL: "verbose" }, /^FK_LOG_LEVEL "verbose" is not one of debug, info, warn, error, silent/],
    ["a busy timeout that is not a number", { FK_SQLITE_BUSY_MS: "5s" }, /^FK_SQLITE_BUSY_MS "5s" is not an integer/],
    ["a port out of range", { PORT: "70000" }, /^PORT "70000" is out of range/],
    ["FK_SKIP_BUILD other than 0/1", { FK_SKIP_BUILD: "yes" }, /^FK_SKIP_BUILD "yes" is not one of 0, 1/],
    ["FK_SIGNING_KEY_CREATE other than 0/1", { FK_SIGNING_KEY_CREATE: "no" }, /^FK_SIGNING_KEY_CREATE "no" is not one of 0, 1/],
    ["an absolute dist dir", { FK_NEXT_DIST_DIR: "/tmp/x" }, /^FK_NEXT_DIST_DIR must be a path relative/],
  ];
  it.each(bad)("refuses %s with a message naming the variable and what is expected", (_name, e, message) => {
    const found = problems(e);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it("lists every problem at once and never prints a secret", () => {
    const token = "tiny-secret";
    const key = "secret-key-material";
    let error: ConfigError | null = null;
    try {
      parseConfig({ FK_OPERATOR_TOKEN: token, FK_SIGNING_KEY: key, FK_PERMIT_TTL_MS: "abc", FK_LOG_LEVEL: "loud" });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.problems.map((p) => p.split(" ")[0]).sort()).toEqual(["FK_LOG_LEVEL", "FK_OPERATOR_TOKEN", "FK_PERMIT_TTL_MS", "FK_SIGNING_KEY"]);
    expect(error?.message).toMatch(/^invalid configuration:\n {2}- /);
    expect(error?.message).not.toContain(token);
    expect(error?.message).not.toContain(key);
  });

  it("ignores inherited properties of the environment object", () => {
    const e = Object.create({ FK_PERMIT_TTL_MS: "abc" }) as Record<string, string>;
    expect(parseConfig(e).permitTtlMs).toBe(60_000);
  });
});

describe("the audit stream's configuration (FK_STREAM_*)", () => {
  it("is off by default, with the documented defaults", () => {
    expect(parseConfig({}).stream).toEqual({ nats: null, webhook: null, stdout: false, batchSize: 500, leaseMs: 15_000, retryMaxMs: 30_000 });
  });

  it("reads every sink", () => {
    const c = parseConfig({
      FK_STREAM_NATS_URL: "nats://127.0.0.1:4222, tls://nats.internal:4443",
      FK_STREAM_NATS_STREAM: "AUDIT_1",
      FK_STREAM_NATS_SUBJECT: "acme.fk-audit",
      FK_STREAM_WEBHOOK_URL: "https://siem.example/ingest?src=fk",
      FK_STREAM_WEBHOOK_SECRET: "a-shared-secret-of-32-characters",
      FK_STREAM_STDOUT: "1",
      FK_STREAM_BATCH_SIZE: "100",
      FK_STREAM_LEASE_MS: "2000",
      FK_STREAM_RETRY_MAX_MS: "500",
    });
    expect(c.stream).toEqual({
      nats: { servers: ["nats://127.0.0.1:4222", "tls://nats.internal:4443"], stream: "AUDIT_1", subject: "acme.fk-audit" },
      webhook: { url: "https://siem.example/ingest?src=fk", secret: "a-shared-secret-of-32-characters" },
      stdout: true,
      batchSize: 100,
      leaseMs: 2000,
      retryMaxMs: 500,
    });
    expect(parseConfig({ FK_STREAM_NATS_URL: "nats://127.0.0.1:4222" }).stream.nats).toEqual({
      servers: ["nats://127.0.0.1:4222"],
      stream: "FREEDOM_KERNEL_AUDIT",
      subject: "freedom-kernel.audit",
    });
    expect(parseConfig({ FK_STREAM_WEBHOOK_URL: "http://127.0.0.1:9000/hook" }).stream.webhook).toEqual({ url: "http://127.0.0.1:9000/hook", secret: null });
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ["a NATS URL of another scheme", { FK_STREAM_NATS_URL: "http://127.0.0.1:4222" }, /^FK_STREAM_NATS_URL is not a NATS server URL/],
    ["one bad server in a list", { FK_STREAM_NATS_URL: "nats://a:4222,b c" }, /^FK_STREAM_NATS_URL is not a NATS server URL/],
    ["a stream name with a dot", { FK_STREAM_NATS_URL: "nats://a:4222", FK_STREAM_NATS_STREAM: "AUDIT.X" }, /^FK_STREAM_NATS_STREAM "AUDIT.X" is not a JetStream stream name/],
    ["a wildcard subject", { FK_STREAM_NATS_URL: "nats://a:4222", FK_STREAM_NATS_SUBJECT: "audit.>" }, /^FK_STREAM_NATS_SUBJECT "audit.>" is not a subject prefix/],
    ["an empty subject token", { FK_STREAM_NATS_URL: "nats://a:4222", FK_STREAM_NATS_SUBJECT: "audit..x" }, /^FK_STREAM_NATS_SUBJECT .* no wildcards/],
    ["a webhook that is not http", { FK_STREAM_WEBHOOK_URL: "ftp://siem.example/x" }, /^FK_STREAM_WEBHOOK_URL is not an http:\/\/ or https:\/\/ URL/],
    ["a short webhook secret", { FK_STREAM_WEBHOOK_URL: "https://siem.example/x", FK_STREAM_WEBHOOK_SECRET: "short" }, /^FK_STREAM_WEBHOOK_SECRET is too short/],
    ["FK_STREAM_STDOUT=yes", { FK_STREAM_STDOUT: "yes" }, /^FK_STREAM_STDOUT "yes" is not one of 0, 1/],
    ["a batch of 0", { FK_STREAM_BATCH_SIZE: "0" }, /^FK_STREAM_BATCH_SIZE "0" is out of range; expected an integer number of entries from 1 to 10000/],
    ["a lease under a second", { FK_STREAM_LEASE_MS: "500" }, /^FK_STREAM_LEASE_MS "500" is out of range/],
    ["a stream name without a NATS URL", { FK_STREAM_NATS_STREAM: "AUDIT" }, /^FK_STREAM_NATS_STREAM is set but FK_STREAM_NATS_URL is not/],
    ["a secret without a webhook", { FK_STREAM_WEBHOOK_SECRET: "a-shared-secret-of-32-characters" }, /^FK_STREAM_WEBHOOK_SECRET is set but FK_STREAM_WEBHOOK_URL is not/],
  ];
  it.each(bad)("refuses %s", (_name, e, message) => {
    const p = problems(e);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(message);
  });

  it("never prints a URL's credentials or the webhook secret, and lists stream problems with the others", () => {
    const p = problems({
      FK_STREAM_NATS_URL: "nats://user:natspass@host:4222/path",
      FK_STREAM_WEBHOOK_URL: "mailto:ops:hookpass@example.com",
      FK_STREAM_WEBHOOK_SECRET: "tiny-secret",
      FK_STREAM_NATS_SUBJECT: "a.*",
      PORT: "0",
    });
    expect(p.map((x) => x.split(" ")[0]).sort()).toEqual(["FK_STREAM_NATS_SUBJECT", "FK_STREAM_NATS_URL", "FK_STREAM_WEBHOOK_SECRET", "FK_STREAM_WEBHOOK_URL", "PORT"]);
    const all = p.join("\n");
    for (const secret of ["natspass", "hookpass", "tiny-secret"]) expect(all).not.toContain(secret);
  });
});

describe("tracing (OTEL_*)", () => {
  it("is off without an endpoint, and when the SDK or the traces exporter is disabled", () => {
    expect(parseConfig({}).tracing).toBeNull();
    expect(parseConfig({ OTEL_SERVICE_NAME: "kernel-a" }).tracing).toBeNull();
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "TRUE" }).tracing).toBeNull();
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_TRACES_EXPORTER: "none" }).tracing).toBeNull();
  });

  it("sends to <endpoint>/v1/traces, or to the traces endpoint as given, with the standard defaults", () => {
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }).tracing).toEqual({
      url: "http://collector:4318/v1/traces",
      headers: {},
      serviceName: "freedom-kernel",
      timeoutMs: 10_000,
    });
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example/base/" }).tracing?.url).toBe("https://otel.example/base/v1/traces");
    const c = parseConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/custom",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc, x-team=fk",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-team=kernel",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_TIMEOUT: "2500",
      OTEL_SERVICE_NAME: "kernel-eu-1",
      OTEL_SDK_DISABLED: "false",
      OTEL_TRACES_EXPORTER: "otlp",
    });
    expect(c.tracing).toEqual({ url: "http://traces:9999/custom", headers: { authorization: "Bearer abc", "x-team": "kernel" }, serviceName: "kernel-eu-1", timeoutMs: 2500 });
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ["an endpoint that is not a URL", { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, /^OTEL_EXPORTER_OTLP_ENDPOINT "collector:4318" is not an http:\/\/ or https:\/\/ URL with a host; expected the OTLP\/HTTP collector's URL, e.g. http:\/\/localhost:4318$/],
    ["a relative endpoint", { OTEL_EXPORTER_OTLP_ENDPOINT: "localhost" }, /^OTEL_EXPORTER_OTLP_ENDPOINT "localhost" is not a URL; expected the OTLP\/HTTP collector's URL/],
    ["an endpoint of another scheme", { OTEL_EXPORTER_OTLP_ENDPOINT: "grpc://collector:4317" }, /^OTEL_EXPORTER_OTLP_ENDPOINT "grpc:\/\/collector:4317" is not an http:\/\/ or https:\/\/ URL/],
    ["a traces endpoint of another scheme", { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "ftp://x/v1/traces" }, /^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT "ftp:\/\/x\/v1\/traces" is not an http:\/\/ or https:\/\/ URL .*e\.g\. http:\/\/localhost:4318\/v1\/traces$/],
    ["the protobuf protocol", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" }, /^OTEL_EXPORTER_OTLP_PROTOCOL is not supported; this server exports OTLP over HTTP with JSON bodies only/],
    ["gRPC for traces", { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" }, /^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL is not supported/],
    ["a zipkin exporter", { OTEL_TRACES_EXPORTER: "zipkin" }, /^OTEL_TRACES_EXPORTER is not supported; expected otlp/],
    ["OTEL_SDK_DISABLED=1", { OTEL_SDK_DISABLED: "1" }, /^OTEL_SDK_DISABLED is not true or false/],
    ["a timeout of 0", { OTEL_EXPORTER_OTLP_TIMEOUT: "0" }, /^OTEL_EXPORTER_OTLP_TIMEOUT "0" is out of range/],
  ];
  it.each(bad)("refuses %s", (_name, e, message) => {
    const p = problems(e);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(message);
  });

  it("never prints credentials in the endpoint or header values", () => {
    const p = problems({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://user:otelpass@collector:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "bad:otelpass2@x",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer abc,api-key",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-key=%E0%A4%A",
    });
    expect(p.map((x) => x.split(" ")[0]).sort()).toEqual(["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"]);
    expect(p.find((x) => x.startsWith("OTEL_EXPORTER_OTLP_ENDPOINT"))).toMatch(/has credentials in the URL \(not shown\); put them in OTEL_EXPORTER_OTLP_HEADERS/);
    expect(p.find((x) => x.startsWith("OTEL_EXPORTER_OTLP_HEADERS"))).toMatch(/entry 2 is not a header name=value \(values are not shown\)/);
    const all = p.join("\n");
    for (const secret of ["otelpass", "otelpass2", "Bearer abc", "%E0"]) expect(all).not.toContain(secret);
  });
});
