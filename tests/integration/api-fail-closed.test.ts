/**
 * The fail-closed catalogue of design §10 over real HTTP: each failure shows BLOCKED (a refusal
 * with permitted:false, or a signed BLOCKED decision) and never a permit, and the service recovers
 * when the failure ends. Failures are made real: a trigger that makes the audit insert fail, a
 * corrupt registry row, a missing or malformed signing key, a database that is locked, renamed or
 * read-only.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAuditExport, verifyAuditExport } from "@/lib/kernel/audit-export";
import { freshPostgres, freshSqlite, PG_ADMIN_URL, PROVIDERS, type TestDatabase } from "../support/databases";
import { call, OPERATOR_TOKEN, startServer, startServerExpectingFailure, type TestServer } from "../support/server";
import { makeAgent, verifyAs, type Agent } from "../support/world";

function expectRefusal(res: { status: number; body: any }) {
  if (res.status === 200) {
    expect(res.body.record.permitted).toBe(false);
  } else {
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body.permitted).toBe(false);
    expect(res.body.record).toBeUndefined();
  }
}

async function sql(database: TestDatabase, statements: string[]): Promise<void> {
  if (database.config.provider === "sqlite") {
    const db = new Database(database.config.url);
    try {
      for (const s of statements) db.exec(s);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: database.config.url });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end();
  }
}

const FAIL_TRIGGER = {
  sqlite: [`CREATE TRIGGER "test_fail_append" BEFORE INSERT ON "AuditEntry" BEGIN SELECT RAISE(ABORT, 'injected append failure'); END;`],
  postgresql: [
    `CREATE FUNCTION test_fail_append() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected append failure'; END; $$ LANGUAGE plpgsql;`,
    `CREATE TRIGGER "test_fail_append" BEFORE INSERT ON "AuditEntry" FOR EACH ROW EXECUTE FUNCTION test_fail_append();`,
  ],
};
const DROP_FAIL_TRIGGER = {
  sqlite: [`DROP TRIGGER "test_fail_append";`],
  postgresql: [`DROP TRIGGER "test_fail_append" ON "AuditEntry";`, `DROP FUNCTION test_fail_append();`],
};

describe.each(PROVIDERS)("fail closed on %s", (provider, fresh) => {
  let database: TestDatabase;
  let server: TestServer;
  let agent: Agent;

  beforeAll(async () => {
    database = await fresh();
    server = await startServer({ database: database.config, env: { FK_PERMIT_TTL_MS: "1500", FK_SQLITE_BUSY_MS: "1000" } });
    agent = await makeAgent(server);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it("works before anything fails", async () => {
    const ok = await verifyAs(server, agent, { actionId: "baseline", reads: [agent.resource] });
    expect(ok.body.record.permitted).toBe(true);
  });

  it("audit append failing: refused, nothing recorded, recovers", async () => {
    const before = (await call(server, "GET", "/audit?limit=1", { token: OPERATOR_TOKEN })).body.entries[0].seq;
    await sql(database, FAIL_TRIGGER[provider]);
    const res = await verifyAs(server, agent, { actionId: "during-append-failure", reads: [agent.resource] });
    expect(res.status).toBe(503);
    expectRefusal(res);
    expect(res.body.error.message).toMatch(/AUDIT_UNAVAILABLE/);
    await sql(database, DROP_FAIL_TRIGGER[provider]);
    const after = await verifyAs(server, agent, { actionId: "after-append-failure", reads: [agent.resource] });
    expect(after.body.record.permitted).toBe(true);
    expect(after.body.record.auditSeq).toBe(before + 1);
  });

  it("snapshot load failing: refused, recovers", async () => {
    await sql(database, [
      `INSERT INTO "Entity" ("id", "kind", "displayName", "createdAt") VALUES ('corrupt-entity', 'ROBOT', 'x', CURRENT_TIMESTAMP)`,
      `UPDATE "RegistryState" SET "version" = "version" + 1 WHERE "id" = 1`,
    ]);
    const res = await verifyAs(server, agent, { actionId: "during-bad-registry", reads: [agent.resource] });
    expect(res.status).toBe(503);
    expectRefusal(res);
    expect(res.body.error.message).toMatch(/SNAPSHOT_UNAVAILABLE/);
    await sql(database, [`DELETE FROM "Entity" WHERE "id" = 'corrupt-entity'`, `UPDATE "RegistryState" SET "version" = "version" + 1 WHERE "id" = 1`]);
    expect((await verifyAs(server, agent, { actionId: "after-bad-registry", reads: [agent.resource] })).body.record.permitted).toBe(true);
  });

  it("expired permit: refused at redemption", async () => {
    const res = await verifyAs(server, agent, { actionId: "short-lived", reads: [agent.resource] });
    expect(res.body.record.permitted).toBe(true);
    await new Promise((r) => setTimeout(r, 2000));
    const redeem = await call(server, "POST", "/permits/redeem", { token: agent.token, body: res.body });
    expect(redeem.status).toBe(422);
    expect(redeem.body.error.message).toMatch(/EXPIRED/);
  });

  it("tampered permit: refused at redemption", async () => {
    const res = await verifyAs(server, agent, { actionId: "tamper", reads: [agent.resource] });
    const forged = { ...res.body, record: { ...res.body.record, actionId: "something-else" } };
    const redeem = await call(server, "POST", "/permits/redeem", { token: agent.token, body: forged });
    expect(redeem.status).toBe(422);
    expect(redeem.body.error.message).toMatch(/BAD_SIGNATURE/);
  });

  it("a halted machine's outstanding permit fails to redeem", async () => {
    const res = await verifyAs(server, agent, { actionId: "before-halt", reads: [agent.resource] });
    expect(res.body.record.permitted).toBe(true);
    expect((await call(server, "POST", `/machines/${agent.machine}/halt`, { token: OPERATOR_TOKEN, body: {} })).status).toBe(200);
    const redeem = await call(server, "POST", "/permits/redeem", { token: agent.token, body: res.body });
    expect(redeem.status).toBe(422);
    expect(redeem.body.error.message).toMatch(/HALTED/);
    expectRefusal(await verifyAs(server, agent, { actionId: "while-halted", reads: [agent.resource] }));
    expect((await call(server, "POST", `/machines/${agent.machine}/resume`, { token: OPERATOR_TOKEN })).status).toBe(200);
  });

  it("database unavailable: refused, recovers", async () => {
    if (provider === "sqlite") {
      // Another process holds the write lock: the append cannot happen within the busy timeout.
      const blocker = new Database(database.config.url);
      blocker.exec("BEGIN EXCLUSIVE");
      try {
        const res = await verifyAs(server, agent, { actionId: "during-lock", reads: [agent.resource] });
        expect(res.status).toBe(503);
        expectRefusal(res);
      } finally {
        blocker.exec("ROLLBACK");
        blocker.close();
      }
    } else {
      const name = new URL(database.config.url).pathname.slice(1);
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      try {
        // Down: every connection cut and the database gone under its name.
        await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
        const down = await verifyAs(server, agent, { actionId: "during-outage", reads: [agent.resource] });
        expect(down.status).toBe(503);
        expectRefusal(down);
        // Read-only: connections allowed again but every transaction read-only.
        await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
        await admin.query(`ALTER DATABASE "${name}" SET default_transaction_read_only = on`);
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
        const ro = await verifyAs(server, agent, { actionId: "during-read-only", reads: [agent.resource] });
        expect(ro.status).toBe(503);
        expectRefusal(ro);
      } finally {
        await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
        await admin.query(`ALTER DATABASE "${name}" RESET default_transaction_read_only`);
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
        await admin.end();
      }
    }
    let recovered = false;
    for (let i = 0; i < 20 && !recovered; i++) {
      const res = await verifyAs(server, agent, { actionId: `recover-${i}`, reads: [agent.resource] });
      recovered = res.status === 200 && res.body.record.permitted === true;
      if (!recovered) await new Promise((r) => setTimeout(r, 250));
    }
    expect(recovered).toBe(true);
  });

  it("after all of that the log is whole: the export verifies and no refused request left an entry", async () => {
    const exp = await call(server, "GET", "/audit/export", { token: OPERATOR_TOKEN });
    const summary = verifyAuditExport(parseAuditExport(exp.body));
    expect(summary.ok).toBe(true);
    const ids = (exp.body as string).split("\n").filter((l) => l.includes('"type":"entry"')).map((l) => JSON.parse(l).payload?.record?.actionId);
    for (const refused of ["during-append-failure", "during-bad-registry", "during-lock", "during-outage", "during-read-only"]) expect(ids).not.toContain(refused);
    expect(ids).toContain("after-append-failure");
  });
});

describe("signer unavailable", () => {
  // A missing key used to be answered per request (503); since issue 9 item 4 a store that has
  // signed refuses to START without its key, so no process ever serves it without one. The
  // running-replica case (key rotated away under it) is in key-lifecycle.test.ts.
  it("a missing or malformed key stops the start, names the expected key, and never creates a new key", async () => {
    const database = await freshSqlite();
    const dataDir = fs.mkdtempSync(path.join(path.dirname(database.config.url), "data-"));
    const first = await startServer({ database: database.config, dataDir });
    const agent = await makeAgent(first);
    const permitted = await verifyAs(first, agent, { actionId: "with-key", reads: [agent.resource] });
    expect(permitted.body.record.permitted).toBe(true);
    const keyId = permitted.body.record.keyId as string;
    await first.stop();
    const keyFile = path.join(dataDir, "signing-key");
    const seed = fs.readFileSync(keyFile, "utf8");
    try {
      fs.rmSync(keyFile);
      // Even with key creation allowed (the default), a store that signed gets no new key.
      const missing = await startServerExpectingFailure({ database: database.config, dataDir });
      expect(missing.code).not.toBe(0);
      expect(missing.output).toContain(keyId);
      expect(fs.existsSync(keyFile)).toBe(false);
      fs.writeFileSync(keyFile, "not a key\n", { mode: 0o600 });
      const malformed = await startServerExpectingFailure({ database: database.config, dataDir });
      expect(malformed.code).not.toBe(0);
      expect(malformed.output).toMatch(/must hold 64 hex characters/);
      expect(fs.readFileSync(keyFile, "utf8")).toBe("not a key\n");
      // The original key back: the server decides and signs again, under the same key.
      fs.writeFileSync(keyFile, seed, { mode: 0o600 });
      const restored = await startServer({ database: database.config, dataDir });
      try {
        const res = await verifyAs(restored, agent, { actionId: "restored", reads: [agent.resource] });
        expect(res.body.record.permitted).toBe(true);
        expect(res.body.record.keyId).toBe(keyId);
      } finally {
        await restored.stop();
      }
    } finally {
      await database.drop();
    }
  }, 180_000);
});

// Keep the import used for the PostgreSQL-only helpers when the SQLite suite runs alone.
void freshPostgres;
