import "server-only";
import fs from "node:fs";
import path from "node:path";
import type { Provider } from "../config";

/** Migration folders in the repository; read by the health check and by the migration engine. */

export const ROOT = process.cwd();

export function migrationsDir(provider: Provider, root = ROOT): string {
  return path.join(/*turbopackIgnore: true*/ root, "prisma", "migrations", provider);
}

export function schemaPath(provider: Provider, root = ROOT): string {
  return path.join(/*turbopackIgnore: true*/ root, "prisma", provider, "schema.prisma");
}

export interface MigrationDirectoryInfo {
  readonly name: string;
  readonly sql: string;
}

/** Migration folders on disk, in name (= time) order. */
export function listMigrations(provider: Provider, root = ROOT): MigrationDirectoryInfo[] {
  const dir = migrationsDir(provider, root);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => ({ name, sql: fs.readFileSync(path.join(/*turbopackIgnore: true*/ dir, name, "migration.sql"), "utf8") }));
}

