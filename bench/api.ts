/**
 * npm run bench:api — loopback load against the product (`next start`, embedded SQLite) and its
 * floor (bench/floor-server.ts: a bare node:http server doing the same signed, audited work per
 * decision with the kernel and the same driver, issue 11), measured by the same load generator in
 * the same run: signed, durably audited POST /api/v1/verify decisions per second and
 * p50/p90/p99/max at 1, 8, 32 and 128 concurrent connections (autocannon), then at evenly paced
 * offered rates (500 to 4,000/s: latency, and whether the rate was sustained). Each product row
 * shows its ratio to the floor's. On SQLite the product runs twice, side by side: tracing off (no
 * OTEL_* variable) and on (OTEL_EXPORTER_OTLP_ENDPOINT pointing at a throwaway OTLP/HTTP receiver
 * this script starts, which counts the spans and discards them). On PostgreSQL (a fresh database
 * on FK_TEST_PG_URL's server) it runs as one replica and as two replicas on one database, the
 * load split evenly between them. Every server (or pair of replicas) has its own database.
 * FK_BENCH_DATABASES=sqlite or =postgresql runs one of the two suites.
 * Every load level runs in FK_BENCH_ROUNDS (default 3) rounds of one slice per server,
 * FK_BENCH_SECONDS (default 4) each, so a burst of other work on the machine lands on all sides:
 * decisions/s is the total over the slices, percentiles of closed loops the median of the
 * slices', of paced runs over every request. First, in this process, what building and
 * exporting one decision's spans costs.
 */
import autocannon from "autocannon";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import pg from "pg";
import { freshPostgres, freshSqlite } from "../tests/support/databases";
import { call, startServer } from "../tests/support/server";
import { makeAgent } from "../tests/support/world";

const SECONDS = Number(process.env.FK_BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.FK_BENCH_ROUNDS ?? 3);
/** FK_BENCH_DATABASES=sqlite,postgresql (the default: both), or one of them. */
const DATABASES = (process.env.FK_BENCH_DATABASES ?? "sqlite,postgresql").split(",").filter((d) => d === "sqlite" || d === "postgresql");

/** Sends `rate` requests per second for `seconds`, each on its own schedule; latency per request. */
async function paced(url: string, token: string, bodyOf: () => string, rate: number, seconds: number) {
  const u = new URL(url);
  const pool = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[] = [];
  let errors = 0;
  const once = () =>
    new Promise<void>((resolve) => {
      const body = bodyOf();
      const t = process.hrtime.bigint();
      const req = http.request(
        { host: u.hostname, port: u.port, path: u.pathname, method: "POST", agent: pool, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
        (res) => {
          if (res.statusCode !== 200) errors++;
          res.resume();
          res.on("end", () => {
            latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
            resolve();
          });
        },
      );
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const pending: Promise<void>[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + BigInt(Math.round((i * 1e9) / rate));
    while (process.hrtime.bigint() < due) await new Promise((r) => setImmediate(r));
    pending.push(once());
  }
  await Promise.all(pending);
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  pool.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN).toFixed(2);
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: (latencies.at(-1) ?? NaN).toFixed(1), errors, latencies, elapsed };
}

/** A throwaway OTLP/HTTP receiver: counts the spans it is sent (without keeping them) and answers 200. */
async function otlpReceiver() {
  let spans = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        const doc = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[] };
        for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans += ss.spans?.length ?? 0;
      } catch {
        // not ours to judge
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
  return { url: `http://127.0.0.1:${port}`, spans: () => spans, close: () => new Promise<void>((r) => server.close(() => r())) };
}

interface Target {
  label: string;
  /** Base URLs of the API, e.g. http://127.0.0.1:1234/api/v1: one per replica; load is split between them. */
  apis: string[];
  token: string;
  bodyOf: () => string;
  /** Audit entries written so far. */
  entries: () => Promise<number>;
  /** Size of the database on disk (SQLite), or undefined. */
  databaseFile?: string;
  stop: () => Promise<void>;
}

const OPERATOR_TOKEN = process.env.FK_OPERATOR_TOKEN ?? "operator-token-for-integration-tests-0123456789";

async function target(label: string, env: Record<string, string>, options: { postgres?: boolean; replicas?: number } = {}): Promise<Target> {
  const database = options.postgres ? await freshPostgres() : await freshSqlite();
  // The test harness checks every answer against the route table (FK_CHECK_RESPONSES=1); production does not.
  const serverEnv = { FK_LOG_LEVEL: "silent", FK_CHECK_RESPONSES: "0", ...env };
  const first = await startServer({ database: database.config, env: serverEnv });
  const servers = [first];
  // Further replicas: the same database and the same key (the first one's data directory).
  for (let i = 1; i < (options.replicas ?? 1); i++) servers.push(await startServer({ database: database.config, dataDir: first.dataDir, env: serverEnv }));
  const agent = await makeAgent(first, "bench");
  // Every request is a new action (a new actionId): a repeated id would be answered from its
  // one permit without deciding, signing or logging anything (README, "One permit per actionId").
  let n = 0;
  const bodyOf = () => JSON.stringify({ action: { actionId: `bench-${n++}`, actor: agent.machine, reads: [agent.resource] } });
  for (const server of servers) {
    const check = await call(server, "POST", "/verify", { token: agent.token, body: bodyOf() });
    if (check.body?.record?.permitted !== true) throw new Error(`warm-up decision not permitted: ${JSON.stringify(check.body)}`);
  }
  return {
    label,
    apis: servers.map((s) => s.api),
    token: agent.token,
    bodyOf,
    entries: async () => (await call(first, "GET", "/audit?limit=1", { token: OPERATOR_TOKEN })).body.entries[0].seq + 1,
    ...(options.postgres ? {} : { databaseFile: database.config.url }),
    stop: async () => {
      for (const server of servers.reverse()) await server.stop();
      await database.drop();
    },
  };
}

/** The floor (bench/floor-server.ts) on a fresh SQLite file or PostgreSQL database, started like the product: tsx with the react-server condition. */
async function floorTarget(options: { postgres?: boolean } = {}): Promise<Target> {
  const database = options.postgres ? await freshPostgres() : await freshSqlite();
  const port = await new Promise<number>((resolve) => {
    const probe = http.createServer().listen(0, "127.0.0.1", () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
  const child: ChildProcess = spawn(process.execPath, [path.join("node_modules", "tsx", "dist", "cli.mjs"), "--conditions=react-server", "bench/floor-server.ts", database.config.url, String(port)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = await new Promise<{ token: string; machine: string; resource: string }>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the floor server exited with ${code}`)));
    readline.createInterface({ input: child.stdout! }).once("line", (line) => resolve(JSON.parse(line) as { token: string; machine: string; resource: string }));
  });
  let n = 0;
  const bodyOf = () => JSON.stringify({ action: { actionId: `bench-${n++}`, actor: ready.machine, reads: [ready.resource] } });
  const api = `http://127.0.0.1:${port}/api/v1`;
  const check = await fetch(`${api}/verify`, { method: "POST", headers: { authorization: `Bearer ${ready.token}`, "content-type": "application/json" }, body: bodyOf() });
  const body = (await check.json()) as { record?: { permitted?: boolean } };
  if (body.record?.permitted !== true) throw new Error(`floor warm-up decision not permitted: ${JSON.stringify(body)}`);
  const count = async (): Promise<number> => {
    if (options.postgres) {
      const client = new pg.Client({ connectionString: database.config.url });
      await client.connect();
      try {
        return Number((await client.query(`SELECT count(*) AS n FROM "AuditEntry"`)).rows[0].n);
      } finally {
        await client.end();
      }
    }
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(database.config.url, { readonly: true });
    try {
      return (db.prepare(`SELECT count(*) AS n FROM "AuditEntry"`).get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  return {
    label: "floor",
    apis: [api],
    token: ready.token,
    bodyOf,
    entries: count,
    ...(options.postgres ? {} : { databaseFile: database.config.url }),
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      await database.drop();
    },
  };
}

/** A closed loop on every replica of `t` at once, the connections split between them (at least one each). */
async function closedLoop(t: Target, connections: number) {
  const per = Math.max(1, Math.ceil(connections / t.apis.length));
  const results = await Promise.all(
    t.apis.map((api) =>
      autocannon({
        url: `${api}/verify`,
        method: "POST",
        headers: { authorization: `Bearer ${t.token}`, "content-type": "application/json" },
        requests: [{ setupRequest: (req) => ({ ...req, body: t.bodyOf() }) }],
        connections: per,
        duration: SECONDS,
      }),
    ),
  );
  // Across replicas: requests add up; percentiles are the worst replica's (an upper bound).
  const worst = (f: (r: (typeof results)[number]) => number) => Math.max(...results.map(f));
  return {
    requests: results.reduce((a, r) => a + r.requests.total, 0),
    seconds: worst((r) => r.duration),
    p50: worst((r) => r.latency.p50),
    p90: worst((r) => r.latency.p90),
    p99: worst((r) => r.latency.p99),
    max: worst((r) => r.latency.max),
    errors: results.reduce((a, r) => a + r.errors + r.timeouts + r.non2xx, 0),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** ROUNDS slices of a closed loop on each target, alternating; totals and median percentiles. */
async function closedLoops(targets: Target[], connections: number) {
  const slices = targets.map(() => [] as Awaited<ReturnType<typeof closedLoop>>[]);
  for (let r = 0; r < ROUNDS; r++) for (const [i, t] of targets.entries()) slices[i]!.push(await closedLoop(t, connections));
  return slices.map((list) => ({
    rate: (list.reduce((a, x) => a + x.requests, 0) / list.reduce((a, x) => a + x.seconds, 0)).toFixed(0),
    p50: median(list.map((x) => x.p50)).toFixed(1),
    p90: median(list.map((x) => x.p90)).toFixed(1),
    p99: median(list.map((x) => x.p99)).toFixed(1),
    max: Math.max(...list.map((x) => x.max)).toFixed(0),
    errors: list.reduce((a, x) => a + x.errors, 0),
  }));
}

/** ROUNDS paced slices on each target, alternating; percentiles over every request of a target. */
async function pacedRounds(targets: Target[], rate: number) {
  const all = targets.map(() => ({ latencies: [] as number[], errors: 0, elapsed: 0 }));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, t] of targets.entries()) {
      // Every replica gets its share of the rate, on its own even schedule, at the same time.
      const outs = await Promise.all(t.apis.map((api) => paced(`${api}/verify`, t.token, t.bodyOf, rate / t.apis.length, SECONDS)));
      for (const out of outs) {
        all[i]!.latencies.push(...out.latencies);
        all[i]!.errors += out.errors;
      }
      all[i]!.elapsed += Math.max(...outs.map((o) => o.elapsed));
    }
  }
  return all.map(({ latencies, errors, elapsed }) => {
    const answered = latencies.length / elapsed;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
    // Sustained: every request answered, at (within 5 %) the offered rate over the whole run.
    return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: latencies.at(-1) ?? NaN, errors, answered, sustained: errors === 0 && answered >= rate * 0.95 };
  });
}

/**
 * In this process: what the decision path pays for one decision's trace when tracing is on
 * (noting 7 phases and finishing the trace), and the CPU it costs afterwards, once the answer is
 * out, to build its 8 spans, serialise them as OTLP JSON and send them (to a sink here that only
 * reads the bytes), per decision. Off, the path pays a null check per call and builds nothing.
 */
async function spanCost() {
  const sink = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  const port = await new Promise<number>((resolve) => sink.listen(0, "127.0.0.1", () => resolve((sink.address() as { port: number }).port)));
  const tracing = await import("../lib/server/tracing");
  await tracing.startTracing({ tracing: { url: `http://127.0.0.1:${port}/v1/traces`, headers: {}, serviceName: "fk-bench", timeoutMs: 10_000 } });
  const CHUNK = 500; // decisions: 4,000 spans, within the export queue
  let i = 0;
  const chunk = () => {
    for (let k = 0; k < CHUNK; k++, i++) {
      const t = tracing.takeDecisionTrace("verify")!;
      const c = performance.now();
      for (const p of ["authenticate", "queue", "snapshot", "verify", "sign", "append", "commit"] as const) t.phase(p, c, c + 0.1);
      t.note("batch.size", 8);
      t.note("batch.index", i % 8);
      t.finish({ outcome: "permitted", machine: "bench-bot-0000", codes: [], auditSeq: i, actionIds: [`bench-${i}`], snapshotVersion: 12 });
    }
  };
  let pathMs = 0;
  let exportCpuMs = 0;
  const rounds = 40;
  for (let r = -4; r < rounds; r++) {
    const t0 = performance.now();
    chunk();
    const t1 = performance.now();
    const cpu = process.cpuUsage();
    await tracing.flushTracing();
    const used = process.cpuUsage(cpu);
    if (r >= 0) {
      // the first rounds warm the JIT up
      pathMs += t1 - t0;
      exportCpuMs += (used.user + used.system) / 1000;
    }
  }
  const stats = tracing.tracingStats();
  await tracing.stopTracing();
  await new Promise<void>((r) => sink.close(() => r()));
  const n = rounds * CHUNK;
  return { pathUs: ((pathMs / n) * 1000).toFixed(1), exportUs: ((exportCpuMs / n) * 1000).toFixed(1), failed: stats.spansFailed + stats.spansDropped };
}

/** One table of closed loops and one of paced rates over `suite` (its first target is the floor). */
async function runSuite(title: string, suite: Target[]) {
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  console.log(`\nPOST /api/v1/verify, signed + audited, ${title}, ${os.cpus().length} cores, ${ROUNDS} x ${SECONDS} s per server and level, ${new Date().toISOString().slice(0, 10)}`);
  console.log("| connections | server | decisions/s | vs floor | p50 ms | p90 ms | p99 ms | p99 vs floor | max ms | errors |");
  console.log("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const connections of [1, 8, 32, 128]) {
    const rows = await closedLoops(suite, connections);
    const floor = rows[0]!;
    for (const [i, r] of rows.entries()) {
      const vs = i === 0 ? "" : ratio(Number(r.rate), Number(floor.rate));
      const p99vs = i === 0 ? "" : ratio(Number(r.p99), Number(floor.p99));
      console.log(`| ${connections} | ${suite[i]!.label} | ${r.rate} | ${vs} | ${r.p50} | ${r.p90} | ${r.p99} | ${p99vs} | ${r.max} | ${r.errors} |`);
    }
  }
  // Latency below (and past) saturation: requests sent on an even schedule (open loop, one
  // keep-alive pool), so a slow answer does not slow the arrivals down the way a closed loop would.
  console.log("\n| offered/s | server | answered/s | sustained | p50 ms | p90 ms | p99 ms | p99 vs floor | max ms | errors |");
  console.log("|---:|---|---:|---|---:|---:|---:|---:|---:|---:|");
  for (const rate of [500, 1000, 2000, 4000]) {
    const rows = await pacedRounds(suite, rate);
    const floor = rows[0]!;
    for (const [i, r] of rows.entries()) {
      const p99vs = i === 0 ? "" : ratio(r.p99, floor.p99);
      console.log(`| ${rate} | ${suite[i]!.label} | ${r.answered.toFixed(0)} | ${r.sustained ? "yes" : "**no**"} | ${r.p50.toFixed(2)} | ${r.p90.toFixed(2)} | ${r.p99.toFixed(2)} | ${p99vs} | ${r.max.toFixed(0)} | ${r.errors} |`);
    }
  }
  await new Promise((r) => setTimeout(r, 2000)); // the last batch of spans leaves within a second
  for (const t of suite) {
    const size = t.databaseFile !== undefined ? `, database ${(fs.statSync(t.databaseFile).size / 1e6).toFixed(1)} MB` : "";
    console.log(`${t.label}: audit entries written ${await t.entries()}${size}`);
  }
}

async function main() {
  const build = spawnSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/build-if-stale.ts"], { stdio: "inherit" });
  if (build.status !== 0) process.exit(1);
  const receiver = await otlpReceiver();
  const targets: Target[] = [];
  try {
    const cost = await spanCost();
    console.log(`\ntracing on, in-process: ${cost.pathUs} µs per decision on its path (7 phases noted, trace finished); ${cost.exportUs} µs of CPU per decision after its answer to build its 8 spans and export them (OTLP JSON over loopback HTTP)${cost.failed ? `; ${cost.failed} spans not exported` : ""}`);
    for (const db of DATABASES) {
      const postgres = db === "postgresql";
      const suite: Target[] = postgres
        ? [await floorTarget({ postgres }), await target("product, 1 replica", {}, { postgres }), await target("product, 2 replicas", {}, { postgres, replicas: 2 })]
        : [await floorTarget(), await target("product, tracing off", {}), await target("product, tracing on", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: "fk-bench" })];
      targets.push(...suite);
      await runSuite(postgres ? "PostgreSQL 15 (one database; the floor on one connection, one multi-row INSERT per batch)" : "SQLite (WAL, synchronous=FULL)", suite);
      for (const t of suite) await t.stop();
      targets.length = 0;
    }
    console.log(`spans received by the OTLP receiver: ${receiver.spans()} (8 per decision: a root and 7 phases)`);
  } finally {
    for (const t of targets) await t.stop();
    await receiver.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
