/**
 * What-if replay and shadow rules (issue 12) over real HTTP on both databases: a revocation that
 * cuts a chain flips exactly the downstream machines' permitted decisions, a halt flips everything
 * to HALTED, a grant cures blocked actions, an invalid proposal is refused with the kernel's
 * reasons, an owner can neither simulate on nor see another owner's machines, and the only trace a
 * simulation leaves is its one audit entry. Shadow rules deny nothing, are reported in every
 * matching signed record, and after promotion block the very actions they reported.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyDecision, verifyPermit } from "@/lib/kernel/signing";
import { verifySimulation } from "@/lib/kernel/simulate";
import { PROVIDERS, type TestDatabase } from "../support/databases";
import { call, OPERATOR_TOKEN, signIn, startServer, type TestServer } from "../support/server";
import { makeAgent, verifyAs, type Agent } from "../support/world";

async function op(server: TestServer, method: string, path: string, body?: unknown) {
  const res = await call(server, method, path, { token: OPERATOR_TOKEN, body });
  if (res.status !== 200) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}


type Flip = { auditSeq: number; actionId: string; machine: string; before: { permitted: boolean; codes: string[] }; after: { permitted: boolean; codes: string[] } };
type Sim = { record: { kind: string; flips: Flip[]; counts: { byMachine: Record<string, number>; byCode: Record<string, number> }; replayed: number }; signature: string; keyId: string };

async function currentKey(server: TestServer): Promise<string> {
  const keys = await call(server, "GET", "/keys");
  return keys.body.keys.find((k: { status: string }) => k.status === "current").publicKey as string;
}

describe.each(PROVIDERS)("what-if and shadow rules on %s", (_provider, fresh) => {
  let database: TestDatabase;
  let server: TestServer;
  // alice -> a (read + delegate on data) -> b (read); c: another machine of alice on other data.
  let a: Agent;
  let b: Agent;
  let c: Agent;
  let aGrant: string;
  let owner: { cookie: string; csrf: string };
  const asOwner = (method: string, path: string, body?: unknown) => call(server, method, path, { body, headers: { cookie: owner.cookie, "x-csrf-token": owner.csrf } });

  beforeAll(async () => {
    database = await fresh();
    server = await startServer({ database: database.config });
    a = await makeAgent(server, "sim");
    const grants = (await op(server, "GET", "/grants")) as { id: string; holder: string }[];
    const plain = grants.find((g) => g.holder === a.machine)!;
    await op(server, "DELETE", `/grants/${plain.id}`);
    aGrant = ((await op(server, "POST", "/grants", { holder: a.machine, resource: a.resource, canRead: true, canWrite: false, canDelegate: true, grantor: a.owner })) as { id: string }).id;
    const bId = `${a.machine}-b`;
    const cId = `${a.machine}-c`;
    await op(server, "POST", "/machines", { id: bId, owner: a.owner });
    await op(server, "POST", "/machines", { id: cId, owner: a.owner });
    await op(server, "POST", "/grants", { holder: bId, resource: a.resource, canRead: true, canWrite: false, canDelegate: false, grantor: a.machine });
    const other = `${a.resource}-other`;
    await op(server, "POST", "/resources", { id: other, type: "dataset", scope: `/data/${a.owner}-other`, isPublic: false, owner: a.owner });
    await op(server, "POST", "/grants", { holder: cId, resource: other, canRead: true, canWrite: true, canDelegate: false, grantor: a.owner });
    b = { ...a, machine: bId, token: (await op(server, "POST", `/machines/${bId}/tokens`, { label: "b" })).secret };
    c = { ...a, machine: cId, resource: other, token: (await op(server, "POST", `/machines/${cId}/tokens`, { label: "c" })).secret };
    // Traffic: a and b read (permitted), c reads its own data (permitted) and a's (blocked).
    for (let i = 0; i < 3; i++) {
      expect((await verifyAs(server, a, { actionId: `a-${i}`, reads: [a.resource] })).body.record.permitted).toBe(true);
      expect((await verifyAs(server, b, { actionId: `b-${i}`, reads: [a.resource] })).body.record.permitted).toBe(true);
      expect((await verifyAs(server, c, { actionId: `c-${i}`, reads: [c.resource] })).body.record.permitted).toBe(true);
    }
    expect((await verifyAs(server, c, { actionId: "c-blocked", reads: [a.resource] })).body.record.permitted).toBe(false);
    owner = await signIn(server, `${a.owner}@test.example`, "owner-password-123");
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  async function simulate(body: unknown, token = OPERATOR_TOKEN) {
    return call(server, "POST", "/simulate", { token, body });
  }

  it("a revocation that cuts a chain flips exactly the downstream machines' permitted decisions", async () => {
    const res = await asOwner("POST", "/simulate", { changes: [{ op: "revoke", grant: aGrant }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const sim = res.body as Sim;
    const flipped = sim.record.flips.map((f) => f.actionId).sort();
    expect(flipped).toEqual(["a-0", "a-1", "a-2", "b-0", "b-1", "b-2"]);
    for (const f of sim.record.flips) {
      expect(f.before.permitted).toBe(true);
      expect(f.after.permitted).toBe(false);
    }
    expect(sim.record.counts.byMachine).toEqual({ [a.machine]: 3, [b.machine]: 3 });
    expect(sim.record.replayed).toBe(10);
    // Signed under its own domain: it verifies as a simulation and never as a decision or a permit.
    const key = await currentKey(server);
    expect(verifySimulation(sim.record, sim.signature, key)).toBe(true);
    expect(verifyDecision(sim.record, sim.signature, key)).toBe(false);
    expect(verifyPermit(sim.record, sim.signature, key, { now: Date.now(), expectedActor: a.machine }).ok).toBe(false);
  });

  it("a halt flips every permitted decision of the machine to HALTED, nothing else", async () => {
    const sim = (await simulate({ changes: [{ op: "halt", machine: c.machine }] })).body as Sim;
    expect(sim.record.flips.map((f) => f.actionId).sort()).toEqual(["c-0", "c-1", "c-2"]);
    for (const f of sim.record.flips) expect(f.after.codes).toContain("HALTED");
  });

  it("a new grant cures the blocked action: blocked -> permitted", async () => {
    const res = await simulate({ changes: [{ op: "grant", holder: c.machine, resource: a.resource, canRead: true, canWrite: false, canDelegate: false, grantor: a.owner }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const sim = res.body as Sim;
    expect(sim.record.flips.map((f) => [f.actionId, f.before.permitted, f.after.permitted])).toEqual([["c-blocked", false, true]]);
    expect(sim.record.flips[0]!.before.codes).toEqual(["READ_DENIED"]);
  });

  it("a proposal the kernel refuses is refused with its reasons", async () => {
    const res = await simulate({ changes: [{ op: "grant", holder: b.machine, resource: a.resource, canRead: true, canWrite: true, canDelegate: false, grantor: a.machine }] });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("GRANT_REFUSED");
    expect(JSON.stringify(res.body.error.details)).toContain("GRANTOR_LACKS_RIGHT");
  });

  it("an owner cannot simulate on, or see, another owner's machines", async () => {
    const stranger = await makeAgent(server, "stranger");
    expect((await verifyAs(server, stranger, { actionId: "s-0", reads: [stranger.resource] })).body.record.permitted).toBe(true);
    expect((await asOwner("POST", "/simulate", { changes: [{ op: "halt", machine: a.machine }], window: { machines: [stranger.machine] } })).status).toBe(404);
    expect((await asOwner("POST", "/simulate", { changes: [{ op: "halt", machine: stranger.machine }] })).status).toBe(404);
    // A change that would flip the stranger's decisions shows nothing of them to this owner.
    const haltAll = await asOwner("POST", "/simulate", { changes: [{ op: "halt", machine: a.machine }] });
    expect(haltAll.status).toBe(200);
    expect(JSON.stringify(haltAll.body)).not.toContain(stranger.machine);
    // The operator sees every machine.
    const opSim = (await simulate({ changes: [{ op: "revoke", grant: aGrant }], window: { machines: [stranger.machine, a.machine] } })).body as Sim;
    expect(Object.keys(opSim.record.counts.byMachine)).toEqual([a.machine]);
  });

  it("nothing changes but one audit entry naming who asked, the change set and the answer's digest", async () => {
    // The log is read newest first.
    const newest = (await op(server, "GET", "/audit?limit=1")).entries[0].seq as number;
    const grantsBefore = await op(server, "GET", "/grants");
    const res = await simulate({ changes: [{ op: "revoke", grant: aGrant }, { op: "halt", machine: a.machine }] });
    expect(res.status).toBe(200);
    const after = (await op(server, "GET", "/audit?limit=500")).entries.filter((e: { seq: number }) => e.seq > newest);
    expect(after.length).toBe(1);
    const entry = after[0];
    expect(entry.payload).toMatchObject({ kind: "system", op: "simulate", by: "operator:token", changes: [{ op: "revoke", grant: aGrant }, { op: "halt", machine: a.machine }] });
    expect(entry.payload.recordDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(await op(server, "GET", "/grants")).toEqual(grantsBefore);
    expect((await verifyAs(server, a, { actionId: "after-sim", reads: [a.resource] })).body.record.permitted).toBe(true);
  });

  it("a burst of 40 simulations: each answered (signed) or refused 429, one audit entry per answer and none for a refusal", async () => {
    const newest = (await op(server, "GET", "/audit?limit=1")).entries[0].seq as number;
    const key = await currentKey(server);
    const burst = await Promise.all(Array.from({ length: 40 }, () => simulate({ changes: [{ op: "halt", machine: c.machine }] })));
    const answered = burst.filter((r) => r.status === 200);
    expect(answered.length + burst.filter((r) => r.status === 429 && r.body.error.code === "RATE_LIMITED").length).toBe(40);
    expect(answered.length).toBeGreaterThanOrEqual(33);
    for (const r of answered) expect(verifySimulation(r.body.record, r.body.signature, key)).toBe(true);
    const entries = (await op(server, "GET", "/audit?limit=100")).entries.filter((e: { seq: number }) => e.seq > newest);
    expect(entries.map((e: { payload: { op: string } }) => e.payload.op)).toEqual(answered.map(() => "simulate"));
  });

  it("a shadow rule denies nothing, is reported on every matching decision, and blocks the same actions once promoted", async () => {
    const rule = await op(server, "POST", "/rules", { id: `no-b-reads-${b.machine}`, priority: 10, effect: "deny", operations: ["read"], actorPattern: b.machine, scope: "/data", mode: "shadow" });
    expect(rule.mode).toBe("shadow");
    const shadowed = await verifyAs(server, b, { actionId: "b-shadow", reads: [a.resource] });
    expect(shadowed.body.record.permitted).toBe(true);
    expect(shadowed.body.record.shadow).toEqual([{ ruleId: rule.id, wouldDeny: true }]);
    const untouched = await verifyAs(server, a, { actionId: "a-shadow", reads: [a.resource] });
    expect(untouched.body.record.permitted).toBe(true);
    expect(untouched.body.record.shadow).toBeUndefined();
    // The report over the signed records: b's read matched and would have been denied, a's did not match.
    await verifyAs(server, b, { actionId: "b-shadow-2", reads: [a.resource] });
    const listed = (await op(server, "GET", "/rules")) as { id: string; mode: string; shadowReport: { matched: number; wouldDeny: number; recent: { actionId: string }[] } | null }[];
    const report = listed.find((r) => r.id === rule.id)!.shadowReport!;
    expect(report).toMatchObject({ matched: 2, wouldDeny: 2 });
    expect(report.recent.map((r) => r.actionId)).toEqual(["b-shadow-2", "b-shadow"]);
    // The owner of b sees the same report (b is theirs); the owner may not add rules.
    const ownerList = (await asOwner("GET", "/rules")).body as typeof listed;
    expect(ownerList.find((r) => r.id === rule.id)!.shadowReport).toMatchObject({ matched: 2, wouldDeny: 2 });
    expect((await asOwner("POST", "/rules", { priority: 1, effect: "deny", operations: ["read"], actorPattern: "*", scope: "" })).status).toBe(403);
    // What promotion would do, before doing it: exactly b's reads flip.
    const sim = (await simulate({ changes: [{ op: "removeRule", rule: rule.id }, { op: "addRule", ...rule, mode: "enforce", createdAt: undefined, description: undefined, id: `${rule.id}-x` }] })).body as Sim;
    expect(new Set(sim.record.flips.map((f) => f.machine))).toEqual(new Set([b.machine]));
    expect(sim.record.counts.byCode).toMatchObject({ POLICY_DENIED: sim.record.flips.length });
    const promoted = await op(server, "POST", `/rules/${rule.id}/mode`, { mode: "enforce" });
    expect(promoted.mode).toBe("enforce");
    const blocked = await verifyAs(server, b, { actionId: "b-enforced", reads: [a.resource] });
    expect(blocked.body.record.permitted).toBe(false);
    expect(blocked.body.record.violations.map((v: { code: string }) => v.code)).toEqual(["POLICY_DENIED"]);
    expect(blocked.body.record.violations[0].message).toContain(rule.id);
    // Owners may not change rules; every change of a rule is audited.
    expect((await asOwner("POST", `/rules/${rule.id}/mode`, { mode: "shadow" })).status).toBe(403);
    const audit = await op(server, "GET", "/audit?kind=authority&limit=500");
    const ops = audit.entries.map((e: { payload: { op: string } }) => e.payload.op);
    expect(ops).toContain("add-rule");
    expect(ops).toContain("promote-rule");
    await op(server, "DELETE", `/rules/${rule.id}`);
    expect((await verifyAs(server, b, { actionId: "b-after-removal", reads: [a.resource] })).body.record.permitted).toBe(true);
  });

  it("removing a resource: the simulation flips exactly the reads of it, and the real removal blocks them", async () => {
    const sim = (await asOwner("POST", "/simulate", { changes: [{ op: "removeResource", resource: c.resource }] })).body as Sim;
    expect(sim.record.flips.map((f) => f.actionId).sort()).toEqual(["c-0", "c-1", "c-2"]);
    expect((await verifyAs(server, c, { actionId: "c-before-removal", reads: [c.resource] })).body.record.permitted).toBe(true);
    const removed = await asOwner("DELETE", `/resources/${c.resource}`);
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect((await asOwner("DELETE", `/resources/${c.resource}`)).status).toBe(404);
    const after = await verifyAs(server, c, { actionId: "c-after-removal", reads: [c.resource] });
    expect(after.body.record.permitted).toBe(false);
    const audit = await op(server, "GET", "/audit?kind=authority&limit=5");
    const entry = audit.entries.find((e: { payload: { op: string } }) => e.payload.op === "remove-resource");
    expect(entry.payload.data).toMatchObject({ resource: c.resource });
    expect(entry.payload.data.claims.length).toBeGreaterThan(0);
  });
});
