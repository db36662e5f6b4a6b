/**
 * Fresh databases for integration tests: a temporary SQLite file, and a new PostgreSQL database on
 * 127.0.0.1:5432 (FK_TEST_PG_URL overrides the server) that is dropped afterwards.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { DatabaseConfig } from "@/lib/server/config";

export const PG_ADMIN_URL = process.env.FK_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  readonly config: DatabaseConfig;
  drop(): Promise<void>;
}

export async function freshSqlite(): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fk-it-"));
  return {
    config: { provider: "sqlite", url: path.join(dir, "test.db") },
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export async function freshPostgres(): Promise<TestDatabase> {
  const name = `fk_test_${crypto.randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    config: { provider: "postgresql", url: url.toString() },
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export const PROVIDERS = [
  ["sqlite", freshSqlite],
  ["postgresql", freshPostgres],
] as const;
