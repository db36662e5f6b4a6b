/**
 * Kill switch across replicas (design §9, §11): two server processes on one PostgreSQL database.
 * A halt through one takes effect for the very next decision on either, and outstanding permits
 * fail to redeem on both; resuming is an explicit act that restores both.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgresReplicas, type Replicas } from "../support/replicas";
import { call, OPERATOR_TOKEN, type TestServer } from "../support/server";
import { makeAgent, verifyAs, type Agent } from "../support/world";

describe("kill switch with two servers on one PostgreSQL database", () => {
  let replicas: Replicas;
  let a: TestServer;
  let b: TestServer;
  let agent: Agent;

  beforeAll(async () => {
    // The second replica shares the database and the signing key (one installation).
    replicas = await startPostgresReplicas();
    ({ a, b } = replicas);
    agent = await makeAgent(a);
  }, 180_000);
  afterAll(() => replicas?.stop());

  it("both replicas permit, then a halt on A blocks the next decision on B and voids permits on both", async () => {
    const permitA = await verifyAs(a, agent, { actionId: "pa", reads: [agent.resource] });
    const permitB = await verifyAs(b, agent, { actionId: "pb", reads: [agent.resource] });
    expect(permitA.body.record.permitted).toBe(true);
    expect(permitB.body.record.permitted).toBe(true);

    const halt = await call(a, "POST", `/machines/${agent.machine}/halt`, { token: OPERATOR_TOKEN, body: { reason: "kill switch test" } });
    expect(halt.status).toBe(200);

    const nextOnB = await verifyAs(b, agent, { actionId: "after-halt-b", reads: [agent.resource] });
    expect(nextOnB.body.record.permitted).toBe(false);
    expect(nextOnB.body.record.violations.map((v: { code: string }) => v.code)).toContain("HALTED");
    expect(nextOnB.body.record.snapshot.version).toBe(halt.body.registryVersion);
    const nextOnA = await verifyAs(a, agent, { actionId: "after-halt-a", reads: [agent.resource] });
    expect(nextOnA.body.record.violations.map((v: { code: string }) => v.code)).toContain("HALTED");

    for (const [server, permit] of [[a, permitB], [b, permitA], [a, permitA], [b, permitB]] as const) {
      const redeem = await call(server, "POST", "/permits/redeem", { token: agent.token, body: permit.body });
      expect(redeem.status).toBe(422);
      expect(redeem.body.error.message).toMatch(/HALTED/);
    }

    expect((await call(b, "POST", `/machines/${agent.machine}/resume`, { token: OPERATOR_TOKEN })).status).toBe(200);
    expect((await verifyAs(a, agent, { actionId: "resumed-a", reads: [agent.resource] })).body.record.permitted).toBe(true);
    expect((await verifyAs(b, agent, { actionId: "resumed-b", reads: [agent.resource] })).body.record.permitted).toBe(true);
  });

  it("concurrent decisions on both replicas never fork the chain", async () => {
    const burst = Array.from({ length: 60 }, (_, i) => verifyAs(i % 2 ? a : b, agent, { actionId: `burst-${i}`, reads: [agent.resource] }));
    const results = await Promise.all(burst);
    const seqs = results.map((r) => r.body.record.auditSeq as number);
    expect(new Set(seqs).size).toBe(seqs.length);
    const { parseAuditExport, verifyAuditExport } = await import("@/lib/kernel/audit-export");
    const exp = await call(a, "GET", "/audit/export", { token: OPERATOR_TOKEN });
    const summary = verifyAuditExport(parseAuditExport(exp.body));
    expect(summary.ok).toBe(true);
  });
});
