import "server-only";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";
import type { DatabaseConfig, Provider } from "../config";
import { listMigrations, migrationsDir, ROOT, schemaPath } from "./migration-files";

export { listMigrations, migrationsDir, schemaPath };
import { migrationAdapterFactory } from "./adapters";
import { createDb } from "./client";

/**
 * Migrations without any downloaded binary: Prisma's schema engine compiled to WebAssembly
 * (@prisma/schema-engine-wasm), driven through the same driver adapters as the client.
 * `applyPendingMigrations` does what `prisma migrate deploy` does, including the
 * `_prisma_migrations` bookkeeping, so the two stay interchangeable.
 */

const FILTERS = { externalTables: [], externalEnums: [] };

let wasmReady: Promise<typeof import("@prisma/schema-engine-wasm/schema_engine_bg")> | undefined;

/** The package is built for bundlers (it imports the .wasm as a module); plain Node needs it by hand. */
async function loadEngineModule() {
  wasmReady ??= (async () => {
    const bg = await import("@prisma/schema-engine-wasm/schema_engine_bg");
    const require = createRequire(import.meta.url);
    const wasmPath = path.join(path.dirname(require.resolve("@prisma/schema-engine-wasm")), "schema_engine_bg.wasm");
    const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmPath), {
      "./schema_engine_bg.js": bg as unknown as WebAssembly.ModuleImports,
    });
    const exports = instance.exports as WebAssembly.Exports & { __wbindgen_start: () => void };
    bg.__wbg_set_wasm(exports);
    exports.__wbindgen_start();
    return bg;
  })();
  return wasmReady;
}

async function withEngine<T>(config: DatabaseConfig, root: string, fn: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  const bg = await loadEngineModule();
  const schemaFile = schemaPath(config.provider, root);
  const schema = fs.readFileSync(schemaFile, "utf8");
  const connections = migrationAdapterFactory(config);
  const adapter = bindMigrationAwareSqlAdapterFactory(connections.factory);
  const logs: string[] = [];
  const engine = (await bg.SchemaEngine.new(
    { datamodels: [[schemaFile, schema]] },
    (log: string) => logs.push(log),
    adapter,
  )) as SchemaEngine;
  try {
    return await fn(engine);
  } finally {
    engine.free();
    await connections.dispose();
  }
}

function migrationList(provider: Provider, root: string) {
  const baseDir = migrationsDir(provider, root);
  const lockPath = path.join(baseDir, "migration_lock.toml");
  return {
    baseDir,
    lockfile: {
      path: "migration_lock.toml",
      content: fs.existsSync(lockPath) ? fs.readFileSync(lockPath, "utf8") : null,
    },
    shadowDbInitScript: "",
    migrationDirectories: listMigrations(provider, root).map((m) => ({
      path: m.name,
      migrationFile: { path: "migration.sql", content: { tag: "ok" as const, value: m.sql } },
    })),
  };
}

/** Applies every migration not yet recorded in `_prisma_migrations`; returns their names. */
export async function applyPendingMigrations(config: DatabaseConfig, root = ROOT): Promise<string[]> {
  return withEngine(config, root, async (engine) => {
    const out = await engine.applyMigrations({ migrationsList: migrationList(config.provider, root), filters: FILTERS });
    return out.appliedMigrationNames;
  });
}

export interface MigrationStatus {
  readonly applied: string[];
  readonly pending: string[];
}

/** Compares the folders on disk with `_prisma_migrations` (absent table = nothing applied). */
export async function migrationStatus(config: DatabaseConfig, root = ROOT): Promise<MigrationStatus> {
  const onDisk = listMigrations(config.provider, root).map((m) => m.name);
  const db = createDb(config);
  try {
    const table = await db.$queryRawUnsafe<{ n: number | bigint }[]>(
      config.provider === "sqlite"
        ? `SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'`
        : `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '_prisma_migrations'`,
    );
    if (Number(table[0]?.n ?? 0) === 0) return { applied: [], pending: onDisk };
    const rows = await db.$queryRawUnsafe<{ migration_name: string }[]>(
      `SELECT "migration_name" FROM "_prisma_migrations" WHERE "finished_at" IS NOT NULL AND "rolled_back_at" IS NULL`,
    );
    const applied = new Set(rows.map((r) => r.migration_name));
    return { applied: onDisk.filter((n) => applied.has(n)), pending: onDisk.filter((n) => !applied.has(n)) };
  } finally {
    await db.$disconnect();
  }
}

/**
 * SQL that takes a database from schema `from` (null = empty) to schema `to`, both full schema
 * texts of `provider`. Needs no database: each migration folder keeps the schema it produced
 * (schema.prisma beside migration.sql), so the next diff starts from that text.
 */
export async function diffDatamodels(provider: Provider, from: string | null, to: string): Promise<string> {
  const bg = await loadEngineModule();
  // The engine wants an adapter even for a pure datamodel diff; it never connects for one. An
  // in-memory SQLite stands in for either provider (the provider comes from the datamodel).
  const connections = migrationAdapterFactory({ provider: "sqlite", url: ":memory:" });
  const adapter = bindMigrationAwareSqlAdapterFactory(connections.factory);
  const file = `schema.${provider}.prisma`;
  const engine = (await bg.SchemaEngine.new({ datamodels: [[file, to]] }, () => undefined, adapter)) as SchemaEngine;
  try {
    const result = await engine.diff({
      from: from === null ? { tag: "empty" } : { tag: "schemaDatamodel", files: [{ path: file, content: from }] },
      to: { tag: "schemaDatamodel", files: [{ path: file, content: to }] },
      script: true,
      exitCode: null,
      filters: FILTERS,
    });
    const sql = result.stdout ?? "";
    return sql.includes("This is an empty migration.") ? "" : sql;
  } finally {
    engine.free();
    await connections.dispose();
  }
}
