/**
 * npm run db:new-migration -- <name>
 * Writes the SQL that takes the last migration's schema to the current prisma/schema.base.prisma,
 * once per provider, under prisma/migrations/<provider>/<timestamp>_<name>/. Needs no database.
 */
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { diffDatamodels, listMigrations, migrationsDir, schemaPath } from "../lib/server/db/migrations";
import type { Provider } from "../lib/server/config";

const PROVIDERS: Provider[] = ["sqlite", "postgresql"];

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export async function newMigration(name: string, root = process.cwd()): Promise<string[]> {
  if (!/^[a-z0-9_]{1,60}$/.test(name)) throw new Error("migration name: 1-60 characters of a-z, 0-9 and _");
  // Render the per-provider schemas (and regenerate the clients) from the base schema first.
  execFileSync(process.execPath, [path.join(root, "scripts/prisma-generate.mjs")], { cwd: root, stdio: "inherit" });
  const written: string[] = [];
  const stamp = timestamp();
  for (const provider of PROVIDERS) {
    const current = fs.readFileSync(schemaPath(provider, root), "utf8");
    const previous = listMigrations(provider, root).at(-1);
    const from = previous ? fs.readFileSync(path.join(migrationsDir(provider, root), previous.name, "schema.prisma"), "utf8") : null;
    const sql = await diffDatamodels(provider, from, current);
    if (sql.trim() === "") {
      console.log(`${provider}: the schema is unchanged since the last migration; nothing written`);
      continue;
    }
    const dir = path.join(migrationsDir(provider, root), `${stamp}_${name}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "migration.sql"), sql);
    fs.writeFileSync(path.join(dir, "schema.prisma"), current);
    const lock = path.join(migrationsDir(provider, root), "migration_lock.toml");
    if (!fs.existsSync(lock)) fs.writeFileSync(lock, `# Written by db:new-migration. Do not edit.\nprovider = "${provider}"\n`);
    console.log(`${provider}: wrote ${path.relative(root, dir)}/migration.sql`);
    written.push(dir);
  }
  return written;
}

const name = process.argv[2];
if (!name) {
  console.error("usage: npm run db:new-migration -- <name>");
  process.exit(2);
}
newMigration(name).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
