/**
 * npm start — the one command a new user runs. First the whole environment is parsed
 * (lib/server/config.ts): invalid configuration stops here with one message listing every problem.
 *  1. embedded SQLite: create the data directory and apply pending migrations;
 *     PostgreSQL: refuse to start while migrations are pending (run `npm run db:migrate`), so
 *     several replicas never race to migrate one database;
 *  2. check the signing key against the store: created only for a store that never signed; a
 *     missing, retired or unknown key stops the start with a message naming the expected key;
 *  3. seed the demo data when the database is empty and print its credentials;
 *  4. build the app when the sources changed since the last build;
 *  5. the server (scripts/server.ts) on PORT (default 3000): the agent routes on the lean path,
 *     everything else through Next.js's request handler, in one process.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import Database from "better-sqlite3";
import path from "node:path";
import { childEnv, config, describeDatabase } from "../lib/server/config";
import { resolveSigningKey } from "../lib/server/keys";
import { applyPendingMigrations, migrationStatus } from "../lib/server/db/migrations";
import { seedIfEmpty } from "./seed";
import { buildIfStale } from "./build-if-stale";

const root = process.cwd();

async function main(): Promise<void> {
  const settings = config();
  const inherited = childEnv({ NEXT_TELEMETRY_DISABLED: "1", NEXT_RUNTIME: "nodejs" });
  // What `next start` sets: production unless the caller chose a mode (tests run with NODE_ENV=test).
  const env = { ...inherited, NODE_ENV: inherited.NODE_ENV || "production" };
  const database = settings.database;
  if (database.provider === "sqlite") {
    fs.mkdirSync(settings.dataDir, { recursive: true });
    const applied = await applyPendingMigrations(database);
    // WAL: readers never wait for the audit writer; it is a property of the file, set once.
    // synchronous stays FULL (SQLite's default): a commit is on disk before an answer leaves.
    const sqlite = new Database(database.url);
    sqlite.pragma("journal_mode = WAL");
    sqlite.close();
    console.log(`[start] database: SQLite at ${database.url}${applied.length ? ` (applied ${applied.join(", ")})` : ""}`);
  } else {
    const status = await migrationStatus(database);
    if (status.pending.length > 0) {
      console.error(`[start] ${describeDatabase(database)} has pending migrations (${status.pending.join(", ")}); run: npm run db:migrate`);
      process.exit(1);
    }
    console.log(`[start] database: PostgreSQL ${describeDatabase(database)}`);
  }
  const key = await resolveSigningKey(settings);
  console.log(`[start] signing key ${key.signer.keyId}${key.created ? ` (created at ${settings.signingKey.file} for this new store)` : ""}`);
  await seedIfEmpty();
  if (!settings.skipBuild && !buildIfStale()) process.exit(1);
  const port = String(settings.port);
  console.log(`[start] console and API on http://localhost:${port}`);
  // FK_NEXT_NODE_OPTIONS: flags for the server process only (e.g. --cpu-prof when profiling).
  // tsx as a loader in that very process (not its CLI, which would start another), with the
  // react-server condition lib/server is loaded under in every script.
  const serverArgs = [...settings.nextNodeOptions, "--conditions=react-server", "--import", "tsx", path.join(root, "scripts", "server.ts")];
  const child = spawn(process.execPath, serverArgs, { stdio: "inherit", env, cwd: root });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main().catch((e: unknown) => {
  console.error(`[start] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
