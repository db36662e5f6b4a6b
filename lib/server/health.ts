import "server-only";
import { databaseConfig, describeDatabase } from "./config";
import { getDb } from "./db/client";
import { listMigrations } from "./db/migration-files";

export interface Health {
  status: "ok" | "degraded";
  version: string;
  database: {
    provider: string;
    location: string;
    reachable: boolean;
    migrations: { expected: number; applied: number; pending: string[]; latest: string | null };
  };
}

/**
 * Reads migration state from `_prisma_migrations` with one query instead of starting the schema
 * engine on every health check.
 */
export async function readHealth(appVersion: string): Promise<Health> {
  const config = databaseConfig();
  const expected = listMigrations(config.provider).map((m) => m.name);
  let applied: string[] = [];
  let reachable = true;
  try {
    const rows = await getDb().$queryRawUnsafe<{ migration_name: string }[]>(
      `SELECT "migration_name" FROM "_prisma_migrations" WHERE "finished_at" IS NOT NULL AND "rolled_back_at" IS NULL ORDER BY "migration_name"`,
    );
    applied = rows.map((r) => r.migration_name);
  } catch {
    reachable = false;
  }
  const pending = expected.filter((n) => !applied.includes(n));
  return {
    status: reachable && pending.length === 0 ? "ok" : "degraded",
    version: appVersion,
    database: {
      provider: config.provider,
      location: describeDatabase(config),
      reachable,
      migrations: { expected: expected.length, applied: applied.length, pending, latest: applied.at(-1) ?? null },
    },
  };
}
