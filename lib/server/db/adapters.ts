import "server-only";
import fs from "node:fs";
import path from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { config as settings, type DatabaseConfig } from "../config";

/** A migration-aware driver-adapter factory for the configured database. */
export function adapterFactory(config: DatabaseConfig, maxConnections = 10): PrismaBetterSqlite3 | PrismaPg {
  if (config.provider === "sqlite") {
    if (config.url !== ":memory:") fs.mkdirSync(path.dirname(/*turbopackIgnore: true*/ config.url), { recursive: true });
    // Millisecond timestamps keep ordering exact and comparisons cheap.
    return new PrismaBetterSqlite3({ url: config.url, timeout: settings().sqliteBusyMs }, { timestampFormat: "unixepoch-ms" });
  }
  return new PrismaPg({ connectionString: config.url, max: maxConnections });
}

interface MigrationAdapter {
  executeScript(script: string): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * The factory the schema engine migrates through, plus `dispose` for every connection it opened:
 * the engine does not close them when it is freed, and a leftover SQLite connection keeps the
 * database locked (the next migration run then times out on SQLITE_BUSY).
 * @prisma/adapter-pg runs a migration script by splitting it on ";", which breaks PL/pgSQL
 * function bodies (our append-only triggers); PostgreSQL's simple query protocol takes the whole
 * script at once and runs it as one implicit transaction, so a migration applies entirely or not
 * at all. One connection: the engine's session-level advisory lock must be released on the
 * connection that took it.
 */
export function migrationAdapterFactory(config: DatabaseConfig) {
  const factory = adapterFactory(config, 1);
  const opened: MigrationAdapter[] = [];
  const track = <T extends MigrationAdapter>(adapter: T): T => {
    opened.push(adapter);
    if (factory instanceof PrismaPg) {
      const raw = adapter as unknown as { client: { query(sql: string): Promise<unknown> }; onError(e: unknown): never };
      adapter.executeScript = async (script: string) => {
        try {
          await raw.client.query(script);
        } catch (error) {
          raw.onError(error);
        }
      };
    }
    return adapter;
  };
  return {
    factory: {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: async () => track(await factory.connect()),
      connectToShadowDb: async () => track(await factory.connectToShadowDb()),
    } as typeof factory,
    dispose: async () => {
      await Promise.allSettled(opened.splice(0).map((a) => a.dispose()));
    },
  };
}
