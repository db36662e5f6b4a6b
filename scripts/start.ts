/**
 * npm start — the one command a new user runs:
 *  1. embedded SQLite: create the data directory and apply pending migrations;
 *     PostgreSQL: refuse to start while migrations are pending (run `npm run db:migrate`), so
 *     several replicas never race to migrate one database;
 *  2. seed the demo data when the database is empty and print its credentials;
 *  3. build the app when the sources changed since the last build;
 *  4. `next start` on PORT (default 3000).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import Database from "better-sqlite3";
import path from "node:path";
import { databaseConfig, dataDir, describeDatabase } from "../lib/server/config";
import { applyPendingMigrations, migrationStatus } from "../lib/server/db/migrations";
import { seedIfEmpty } from "./seed";
import { buildIfStale } from "./build-if-stale";

const root = process.cwd();
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
function require_next(): string {
  return path.join(root, "node_modules", "next", "dist", "bin", "next");
}

async function main(): Promise<void> {
  const config = databaseConfig();
  if (config.provider === "sqlite") {
    fs.mkdirSync(dataDir(), { recursive: true });
    const applied = await applyPendingMigrations(config);
    // WAL: readers never wait for the audit writer; it is a property of the file, set once.
    // synchronous stays FULL (SQLite's default): a commit is on disk before an answer leaves.
    const sqlite = new Database(config.url);
    sqlite.pragma("journal_mode = WAL");
    sqlite.close();
    console.log(`[start] database: SQLite at ${config.url}${applied.length ? ` (applied ${applied.join(", ")})` : ""}`);
  } else {
    const status = await migrationStatus(config);
    if (status.pending.length > 0) {
      console.error(`[start] ${describeDatabase(config)} has pending migrations (${status.pending.join(", ")}); run: npm run db:migrate`);
      process.exit(1);
    }
    console.log(`[start] database: PostgreSQL ${describeDatabase(config)}`);
  }
  await seedIfEmpty();
  if (process.env.FK_SKIP_BUILD !== "1" && !buildIfStale()) process.exit(1);
  const port = process.env.PORT ?? "3000";
  const host = process.env.HOSTNAME ?? "0.0.0.0";
  console.log(`[start] console and API on http://localhost:${port}`);
  // FK_NEXT_NODE_OPTIONS: flags for the server process only (e.g. --cpu-prof when profiling).
  const nodeFlags = (process.env.FK_NEXT_NODE_OPTIONS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeFlags, require_next(), "start", "-p", port, "-H", host], { stdio: "inherit", env });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main().catch((e: unknown) => {
  console.error(`[start] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
