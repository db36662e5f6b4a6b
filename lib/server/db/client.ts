import "server-only";
import { PrismaClient as SqliteClient } from "../generated/sqlite/client";
import { PrismaClient as PostgresClient } from "../generated/postgresql/client";
import { adapterFactory } from "./adapters";
import { databaseConfig, type DatabaseConfig } from "../config";

/**
 * One Prisma client per process for the configured provider. Both generated clients come from the
 * same models, so they share one TypeScript shape; the SQLite client's type stands for both.
 */
export type Db = SqliteClient;

export function createDb(config: DatabaseConfig): Db {
  const adapter = adapterFactory(config);
  if (config.provider === "sqlite") return new SqliteClient({ adapter });
  return new PostgresClient({ adapter }) as unknown as Db;
}

const globalForDb = globalThis as unknown as { __fkDb?: { db: Db; key: string } };

/** The process-wide client; recreated only if the configuration changed (tests). */
export function getDb(): Db {
  const config = databaseConfig();
  const key = `${config.provider}:${config.url}`;
  if (!globalForDb.__fkDb || globalForDb.__fkDb.key !== key) {
    globalForDb.__fkDb = { db: createDb(config), key };
  }
  return globalForDb.__fkDb.db;
}
