import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "@/lib/server/db/client";
import { applyPendingMigrations, diffDatamodels, listMigrations, migrationStatus, migrationsDir, schemaPath } from "@/lib/server/db/migrations";
import { PROVIDERS, type TestDatabase } from "../support/databases";

describe.each(PROVIDERS)("migrations on %s", (provider, fresh) => {
  let database: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    database = await fresh();
    db = createDb(database.config);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await database?.drop();
  });

  it("applies every migration once, then reports nothing pending", async () => {
    const before = await migrationStatus(database.config);
    expect(before.pending.length).toBe(listMigrations(provider).length);
    const applied = await applyPendingMigrations(database.config);
    expect(applied).toEqual(listMigrations(provider).map((m) => m.name));
    expect(await applyPendingMigrations(database.config)).toEqual([]);
    expect((await migrationStatus(database.config)).pending).toEqual([]);
  });

  it("the migrated database accepts the client's writes", async () => {
    await db.registryState.create({ data: { id: 1, version: 1, updatedAt: new Date() } });
    expect((await db.registryState.findUniqueOrThrow({ where: { id: 1 } })).version).toBe(1);
  });

  it("refuses UPDATE and DELETE on the audit log and checkpoints, and refuses a forked chain", async () => {
    const genesis = "0".repeat(64);
    const entry = (seq: number, prevHash: string, entryHash: string) => ({
      seq, prevHash, entryHash, payload: "{}", signature: "s", keyId: "k", kind: "test", recordedAt: new Date(),
    });
    await db.auditEntry.create({ data: entry(0, genesis, "a".repeat(64)) });
    await expect(db.auditEntry.update({ where: { seq: 0 }, data: { payload: "{\"x\":1}" } })).rejects.toThrow();
    await expect(db.auditEntry.delete({ where: { seq: 0 } })).rejects.toThrow();
    await expect(db.$executeRawUnsafe(`DELETE FROM "AuditEntry"`)).rejects.toThrow();
    // A second entry at seq 0 (a fork), a gap, or a wrong back-link are all refused.
    await expect(db.auditEntry.create({ data: entry(0, genesis, "b".repeat(64)) })).rejects.toThrow();
    await expect(db.auditEntry.create({ data: entry(2, "a".repeat(64), "c".repeat(64)) })).rejects.toThrow();
    await expect(db.auditEntry.create({ data: entry(1, genesis, "d".repeat(64)) })).rejects.toThrow();
    await db.auditEntry.create({ data: entry(1, "a".repeat(64), "e".repeat(64)) });
    expect(await db.auditEntry.count()).toBe(2);
    const row = await db.auditEntry.findUniqueOrThrow({ where: { seq: 0 } });
    expect(row.payload).toBe("{}");

    await db.checkpoint.create({ data: { treeSize: 1, rootHash: "r", body: "{}", signature: "s", keyId: "k", createdAt: new Date() } });
    await expect(db.checkpoint.update({ where: { treeSize: 1 }, data: { rootHash: "x" } })).rejects.toThrow();
    await expect(db.checkpoint.delete({ where: { treeSize: 1 } })).rejects.toThrow();
    await db.usedNonce.create({ data: { nonce: "n1", machineId: "m" } });
    await expect(db.usedNonce.delete({ where: { nonce: "n1" } })).rejects.toThrow();
    await expect(db.usedNonce.create({ data: { nonce: "n1", machineId: "m" } })).rejects.toThrow();
  });

  it("the committed migrations produce exactly the current schema", async () => {
    const last = listMigrations(provider).at(-1);
    expect(last).toBeDefined();
    const from = fs.readFileSync(path.join(migrationsDir(provider), last!.name, "schema.prisma"), "utf8");
    const to = fs.readFileSync(schemaPath(provider), "utf8");
    expect(await diffDatamodels(provider, from, to)).toBe("");
  });

  it("writes SQL for a schema change without a database", async () => {
    const to = fs.readFileSync(schemaPath(provider), "utf8") + "\nmodel Probe {\n  id String @id\n  n Int\n}\n";
    const sql = await diffDatamodels(provider, fs.readFileSync(schemaPath(provider), "utf8"), to);
    expect(sql).toMatch(/CREATE TABLE "Probe"/);
  });
});
