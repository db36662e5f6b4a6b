/**
 * npm run bench:api — loopback load against `next start` on the embedded SQLite database:
 * signed, durably audited POST /api/v1/verify decisions per second and p50/p99 latency at 1, 8, 32
 * and 128 concurrent connections (autocannon), then at evenly paced offered rates. Side by side:
 * tracing off (no OTEL_* variable) and on (OTEL_EXPORTER_OTLP_ENDPOINT pointing at a throwaway
 * OTLP/HTTP receiver this script starts, which counts the spans and discards them). Two servers
 * from the current build, each on its own database. Every load level runs in FK_BENCH_ROUNDS
 * (default 3) rounds of one slice off then one slice on, FK_BENCH_SECONDS (default 4) each, so a
 * burst of other work on the machine lands on both sides: decisions/s is the total over the
 * slices, percentiles of closed loops the median of the slices', of paced runs over every request.
 * First, in this process, what building and exporting one decision's spans costs.
 */
import autocannon from "autocannon";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import { spawnSync } from "node:child_process";
import { freshSqlite, type TestDatabase } from "../tests/support/databases";
import { call, startServer, type TestServer } from "../tests/support/server";
import { makeAgent } from "../tests/support/world";

const SECONDS = Number(process.env.FK_BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.FK_BENCH_ROUNDS ?? 3);

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
  pool.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN).toFixed(2);
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: (latencies.at(-1) ?? NaN).toFixed(1), errors, latencies };
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
  server: TestServer;
  database: TestDatabase;
  token: string;
  bodyOf: () => string;
}

async function target(label: string, env: Record<string, string>): Promise<Target> {
  const database = await freshSqlite();
  const server = await startServer({ database: database.config, env: { FK_LOG_LEVEL: "silent", ...env } });
  const agent = await makeAgent(server, "bench");
  // Every request is a new action (a new actionId): a repeated id would be answered from its
  // one permit without deciding, signing or logging anything (README, "One permit per actionId").
  let n = 0;
  const bodyOf = () => JSON.stringify({ action: { actionId: `bench-${n++}`, actor: agent.machine, reads: [agent.resource] } });
  const check = await call(server, "POST", "/verify", { token: agent.token, body: bodyOf() });
  if (check.body?.record?.permitted !== true) throw new Error(`warm-up decision not permitted: ${JSON.stringify(check.body)}`);
  return { label, server, database, token: agent.token, bodyOf };
}

async function closedLoop(t: Target, connections: number) {
  const result = await autocannon({
    url: `${t.server.api}/verify`,
    method: "POST",
    headers: { authorization: `Bearer ${t.token}`, "content-type": "application/json" },
    requests: [{ setupRequest: (req) => ({ ...req, body: t.bodyOf() }) }],
    connections,
    duration: SECONDS,
  });
  const l = result.latency;
  return { requests: result.requests.total, seconds: result.duration, p50: l.p50, p90: l.p90, p99: l.p99, max: l.max, errors: result.errors + result.timeouts + result.non2xx };
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
  const all = targets.map(() => ({ latencies: [] as number[], errors: 0 }));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, t] of targets.entries()) {
      const out = await paced(`${t.server.api}/verify`, t.token, t.bodyOf, rate, SECONDS);
      all[i]!.latencies.push(...out.latencies);
      all[i]!.errors += out.errors;
    }
  }
  return all.map(({ latencies, errors }) => {
    latencies.sort((a, b) => a - b);
    const q = (p: number) => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN).toFixed(1);
    return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: (latencies.at(-1) ?? NaN).toFixed(0), errors };
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

async function main() {
  const build = spawnSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/build-if-stale.ts"], { stdio: "inherit" });
  if (build.status !== 0) process.exit(1);
  const receiver = await otlpReceiver();
  const targets: Target[] = [];
  try {
    const cost = await spanCost();
    console.log(`\ntracing on, in-process: ${cost.pathUs} µs per decision on its path (7 phases noted, trace finished); ${cost.exportUs} µs of CPU per decision after its answer to build its 8 spans and export them (OTLP JSON over loopback HTTP)${cost.failed ? `; ${cost.failed} spans not exported` : ""}`);
    targets.push(await target("off", {}));
    targets.push(await target("on", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: "fk-bench" }));
    const pad = (v: string | number, n: number) => String(v).padStart(n);
    console.log(`\nPOST /api/v1/verify, signed + audited, SQLite (WAL, synchronous=FULL), ${os.cpus().length} cores, ${ROUNDS} x ${SECONDS} s per side and level; tracing off | on`);
    console.log("connections | decisions/s off |  on | p50 ms off |   on | p90 ms off |   on | p99 ms off |   on | max ms off |   on | errors off | on");
    for (const connections of [1, 8, 32, 128]) {
      const [off, on] = (await closedLoops(targets, connections)) as [Awaited<ReturnType<typeof closedLoops>>[number], Awaited<ReturnType<typeof closedLoops>>[number]];
      console.log(
        `${pad(connections, 11)} | ${pad(off.rate, 15)} | ${pad(on.rate, 3)} | ${pad(off.p50, 10)} | ${pad(on.p50, 4)} | ${pad(off.p90, 10)} | ${pad(on.p90, 4)} | ${pad(off.p99, 10)} | ${pad(on.p99, 4)} | ${pad(off.max, 10)} | ${pad(on.max, 4)} | ${pad(off.errors, 10)} | ${on.errors}`,
      );
    }
    // Latency below saturation: requests sent on an even schedule (open loop, one keep-alive
    // pool), so a slow answer does not slow the arrivals down the way a closed loop would.
    console.log("\noffered rate, evenly paced | p50 ms off |   on | p90 ms off |   on | p99 ms off |   on | max ms off |   on | errors off | on");
    for (const rate of [100, 250, 500]) {
      const [off, on] = (await pacedRounds(targets, rate)) as [Awaited<ReturnType<typeof pacedRounds>>[number], Awaited<ReturnType<typeof pacedRounds>>[number]];
      console.log(
        `${pad(rate, 26)} | ${pad(off.p50, 10)} | ${pad(on.p50, 4)} | ${pad(off.p90, 10)} | ${pad(on.p90, 4)} | ${pad(off.p99, 10)} | ${pad(on.p99, 4)} | ${pad(off.max, 10)} | ${pad(on.max, 4)} | ${pad(off.errors, 10)} | ${on.errors}`,
      );
    }
    await new Promise((r) => setTimeout(r, 2000)); // the last batch of spans leaves within a second
    for (const t of targets) {
      const entries = (await call(t.server, "GET", "/audit?limit=1", { token: process.env.FK_OPERATOR_TOKEN ?? "operator-token-for-integration-tests-0123456789" })).body.entries[0].seq + 1;
      const size = fs.statSync(t.database.config.url).size;
      console.log(`tracing ${t.label}: audit entries written ${entries}, database ${(size / 1e6).toFixed(1)} MB`);
    }
    console.log(`spans received by the OTLP receiver: ${receiver.spans()} (8 per decision: a root and 7 phases)`);
  } finally {
    for (const t of targets) {
      await t.server.stop();
      await t.database.drop();
    }
    await receiver.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
