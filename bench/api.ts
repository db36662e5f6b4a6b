/**
 * npm run bench:api — loopback load against `next start` on the embedded SQLite database:
 * signed, durably audited POST /api/v1/verify decisions per second and p50/p99 latency at 8, 32 and
 * 128 concurrent connections (autocannon). Starts its own server from the current build.
 * FK_BENCH_SECONDS (default 10) sets the duration of each run.
 */
import autocannon from "autocannon";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { freshSqlite } from "../tests/support/databases";
import { call, startServer } from "../tests/support/server";
import { makeAgent } from "../tests/support/world";

const SECONDS = Number(process.env.FK_BENCH_SECONDS ?? 10);

async function main() {
  const build = spawnSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/build-if-stale.ts"], { stdio: "inherit" });
  if (build.status !== 0) process.exit(1);
  const database = await freshSqlite();
  const server = await startServer({ database: database.config, env: { FK_LOG_LEVEL: "silent" } });
  try {
    const agent = await makeAgent(server, "bench");
    const body = JSON.stringify({ action: { actionId: "bench", actor: agent.machine, reads: [agent.resource] } });
    const check = await call(server, "POST", "/verify", { token: agent.token, body });
    if (check.body?.record?.permitted !== true) throw new Error(`warm-up decision not permitted: ${JSON.stringify(check.body)}`);
    console.log(`\nPOST /api/v1/verify, signed + audited, SQLite (WAL, synchronous=FULL), ${os.cpus().length} cores, ${SECONDS} s per run`);
    console.log("connections | decisions/s | p50 ms | p90 ms | p99 ms | max ms | errors | non-2xx");
    for (const connections of [8, 32, 128]) {
      const result = await autocannon({
        url: `${server.api}/verify`,
        method: "POST",
        headers: { authorization: `Bearer ${agent.token}`, "content-type": "application/json" },
        body,
        connections,
        duration: SECONDS,
      });
      const l = result.latency;
      console.log(
        `${String(connections).padStart(11)} | ${result.requests.average.toFixed(0).padStart(11)} | ${l.p50.toFixed(2).padStart(6)} | ${l.p90.toFixed(2).padStart(6)} | ${l.p99.toFixed(2).padStart(6)} | ${l.max.toFixed(0).padStart(6)} | ${String(result.errors + result.timeouts).padStart(6)} | ${String(result.non2xx).padStart(7)}`,
      );
    }
    // Latency below saturation: a fixed offered rate (autocannon's overallRate), 32 connections.
    console.log("\noffered rate | achieved/s | p50 ms | p90 ms | p99 ms | max ms | errors");
    for (const rate of [100, 250, 500]) {
      const result = await autocannon({
        url: `${server.api}/verify`,
        method: "POST",
        headers: { authorization: `Bearer ${agent.token}`, "content-type": "application/json" },
        body,
        connections: 32,
        duration: SECONDS,
        overallRate: rate,
      });
      const l = result.latency;
      console.log(
        `${String(rate).padStart(12)} | ${result.requests.average.toFixed(0).padStart(10)} | ${l.p50.toFixed(2).padStart(6)} | ${l.p90.toFixed(2).padStart(6)} | ${l.p99.toFixed(2).padStart(6)} | ${l.max.toFixed(0).padStart(6)} | ${String(result.errors + result.timeouts + result.non2xx).padStart(6)}`,
      );
    }
    const size = fs.statSync(database.config.url).size;
    console.log(`audit entries written: ${(await call(server, "GET", "/audit?limit=1", { token: process.env.FK_OPERATOR_TOKEN ?? "operator-token-for-integration-tests-0123456789" })).body.entries[0].seq + 1}, database ${(size / 1e6).toFixed(1)} MB`);
  } finally {
    await server.stop();
    await database.drop();
    void path;
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
