/**
 * npm run bench:api — loopback load against `next start` on the embedded SQLite database:
 * signed, durably audited POST /api/v1/verify decisions per second and p50/p99 latency at 8, 32 and
 * 128 concurrent connections (autocannon). Starts its own server from the current build.
 * FK_BENCH_SECONDS (default 10) sets the duration of each run.
 */
import autocannon from "autocannon";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import { spawnSync } from "node:child_process";
import { freshSqlite } from "../tests/support/databases";
import { call, startServer } from "../tests/support/server";
import { makeAgent } from "../tests/support/world";

const SECONDS = Number(process.env.FK_BENCH_SECONDS ?? 10);

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
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: (latencies.at(-1) ?? NaN).toFixed(1), errors };
}

async function main() {
  const build = spawnSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/build-if-stale.ts"], { stdio: "inherit" });
  if (build.status !== 0) process.exit(1);
  const database = await freshSqlite();
  const server = await startServer({ database: database.config, env: { FK_LOG_LEVEL: "silent" } });
  try {
    const agent = await makeAgent(server, "bench");
    // Every request is a new action (a new actionId): a repeated id would be answered from its
    // one permit without deciding, signing or logging anything (README, "One permit per actionId").
    let n = 0;
    const bodyOf = () => JSON.stringify({ action: { actionId: `bench-${n++}`, actor: agent.machine, reads: [agent.resource] } });
    const check = await call(server, "POST", "/verify", { token: agent.token, body: bodyOf() });
    if (check.body?.record?.permitted !== true) throw new Error(`warm-up decision not permitted: ${JSON.stringify(check.body)}`);
    console.log(`\nPOST /api/v1/verify, signed + audited, SQLite (WAL, synchronous=FULL), ${os.cpus().length} cores, ${SECONDS} s per run`);
    console.log("connections | decisions/s | p50 ms | p90 ms | p99 ms | max ms | errors | non-2xx");
    for (const connections of [1, 8, 32, 128]) {
      const result = await autocannon({
        url: `${server.api}/verify`,
        method: "POST",
        headers: { authorization: `Bearer ${agent.token}`, "content-type": "application/json" },
        requests: [{ setupRequest: (req) => ({ ...req, body: bodyOf() }) }],
        connections,
        duration: SECONDS,
      });
      const l = result.latency;
      console.log(
        `${String(connections).padStart(11)} | ${result.requests.average.toFixed(0).padStart(11)} | ${l.p50.toFixed(2).padStart(6)} | ${l.p90.toFixed(2).padStart(6)} | ${l.p99.toFixed(2).padStart(6)} | ${l.max.toFixed(0).padStart(6)} | ${String(result.errors + result.timeouts).padStart(6)} | ${String(result.non2xx).padStart(7)}`,
      );
    }
    // Latency below saturation: requests sent on an even schedule (open loop, one keep-alive
    // pool), so a slow answer does not slow the arrivals down the way a closed loop would.
    console.log("\noffered rate, evenly paced | p50 ms | p90 ms | p99 ms | max ms | errors");
    for (const rate of [100, 250, 500]) {
      const r = await paced(`${server.api}/verify`, agent.token, bodyOf, rate, SECONDS);
      console.log(`${String(rate).padStart(26)} | ${r.p50.padStart(6)} | ${r.p90.padStart(6)} | ${r.p99.padStart(6)} | ${r.max.padStart(6)} | ${String(r.errors).padStart(6)}`);
    }
    const size = fs.statSync(database.config.url).size;
    console.log(`audit entries written: ${(await call(server, "GET", "/audit?limit=1", { token: process.env.FK_OPERATOR_TOKEN ?? "operator-token-for-integration-tests-0123456789" })).body.entries[0].seq + 1}, database ${(size / 1e6).toFixed(1)} MB`);
  } finally {
    await server.stop();
    await database.drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
