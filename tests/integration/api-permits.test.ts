/**
 * Permits over real HTTP on both databases (issue 9, items 1 and 2; design §13):
 * - a halt voids every outstanding permit, even after a resume (machine, owner and global halts),
 *   and a revoked grant voids the permits it supported; the refusal names why;
 * - one actionId of a machine gets at most one permit, ever: identical retries (also 20 at once)
 *   get that permit back byte for byte, anything else under the id is ACTION_ID_REUSED, and a
 *   blocked action cured by an approval passes on retry with the same id. Plans likewise.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyDecision } from "@/lib/kernel/signing";
import { PROVIDERS, type TestDatabase } from "../support/databases";
import { startPostgresReplicas, type Replicas } from "../support/replicas";
import { call, OPERATOR_TOKEN, startServer, type TestServer } from "../support/server";
import { makeAgent, verifyAs, type Agent } from "../support/world";

const codes = (record: { violations: { code: string }[] }) => record.violations.map((v) => v.code);

async function currentKey(server: TestServer): Promise<string> {
  const keys = await call(server, "GET", "/keys");
  return keys.body.keys.find((k: { status: string }) => k.status === "current").publicKey as string;
}

function redeem(server: TestServer, agent: Agent, permit: { body: unknown }) {
  return call(server, "POST", "/permits/redeem", { token: agent.token, body: permit.body });
}

async function permitFor(server: TestServer, agent: Agent, actionId: string) {
  const res = await verifyAs(server, agent, { actionId, reads: [agent.resource] });
  expect(res.status).toBe(200);
  expect(res.body.record.permitted).toBe(true);
  return res;
}

describe.each(PROVIDERS)("permits on %s", (_provider, fresh) => {
  let database: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    database = await fresh();
    server = await startServer({ database: database.config });
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  const halts = [
    ["machine", (a: Agent) => `/machines/${a.machine}/halt`, (a: Agent) => `/machines/${a.machine}/resume`],
    ["owner", (a: Agent) => `/owners/${a.owner}/halt`, (a: Agent) => `/owners/${a.owner}/resume`],
    ["all", () => "/halt-all", () => "/resume-all"],
  ] as const;

  it.each(halts)("a %s halt voids outstanding permits, even after resume", async (_kind, haltPath, resumePath) => {
    const agent = await makeAgent(server, "halt");
    const untried = await permitFor(server, agent, "before-halt");
    expect((await call(server, "POST", haltPath(agent), { token: OPERATOR_TOKEN, body: {} })).status).toBe(200);
    expect((await call(server, "POST", resumePath(agent), { token: OPERATOR_TOKEN })).status).toBe(200);
    // The machine works again: a new action is permitted and redeems.
    const fresh = await permitFor(server, agent, "after-resume");
    expect((await redeem(server, agent, fresh)).status).toBe(200);
    // The permit issued before the halt was never tried during it, and still is void.
    const res = await redeem(server, agent, untried);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("PERMIT_INVALID");
    expect(res.body.error.details.reason).toBe("HALTED_SINCE_ISSUE");
    // An identical retry cannot mint a replacement: the id had its one permit.
    const retry = await verifyAs(server, agent, { actionId: "before-halt", reads: [agent.resource] });
    expect(retry.body.record.permitted).toBe(false);
    expect(codes(retry.body.record)).toEqual(["ACTION_ID_REUSED"]);
  });

  it("a revoked grant voids the permits it supported, naming why", async () => {
    const agent = await makeAgent(server, "revoke");
    const permit = await permitFor(server, agent, "before-revoke");
    const grants = await call(server, "GET", "/grants", { token: OPERATOR_TOKEN });
    const grant = grants.body.find((g: { holder: string; revokedAt: string | null }) => g.holder === agent.machine && !g.revokedAt);
    expect((await call(server, "DELETE", `/grants/${grant.id}`, { token: OPERATOR_TOKEN })).status).toBe(200);
    const res = await redeem(server, agent, permit);
    expect(res.status).toBe(422);
    expect(res.body.error.details.reason).toBe("AUTHORITY_CHANGED");
    // The refusal is evidence too.
    const log = await call(server, "GET", `/audit?machine=${agent.machine}`, { token: OPERATOR_TOKEN });
    expect(JSON.stringify(log.body)).toContain("redeem-refused");
  });

  it("20 identical concurrent verifies get one permit; the other 19 answers are identical to it", async () => {
    const agent = await makeAgent(server, "burst");
    const answers = await Promise.all(Array.from({ length: 20 }, () => verifyAs(server, agent, { actionId: "same", reads: [agent.resource] })));
    expect(answers.every((a) => a.status === 200 && a.body.record.permitted === true)).toBe(true);
    const distinct = new Set(answers.map((a) => JSON.stringify(a.body)));
    expect(distinct.size).toBe(1);
    expect(verifyDecision(answers[0]!.body.record, answers[0]!.body.signature, await currentKey(server))).toBe(true);
    // Exactly one decision was logged for it, and the permit redeems exactly once.
    const log = await call(server, "GET", `/audit?machine=${agent.machine}&kind=decision`, { token: OPERATOR_TOKEN });
    const entries = log.body.entries as { payload: { kind: string; record?: { actionId: string } } }[];
    expect(entries.filter((e) => e.payload.kind === "decision" && e.payload.record?.actionId === "same")).toHaveLength(1);
    const results = await Promise.all(answers.slice(0, 5).map((a) => redeem(server, agent, a)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409).map((r) => r.body.error.code)).toEqual(Array(4).fill("PERMIT_REUSED"));
  });

  it("the same actionId with another action, or after its permit was redeemed, is ACTION_ID_REUSED, signed and logged", async () => {
    const agent = await makeAgent(server, "reuse");
    const first = await permitFor(server, agent, "id-1");
    const other = await verifyAs(server, agent, { actionId: "id-1", writes: [agent.resource] });
    expect(other.body.record.permitted).toBe(false);
    expect(codes(other.body.record)).toEqual(["ACTION_ID_REUSED"]);
    expect(other.body.record.auditSeq).toBeGreaterThan(first.body.record.auditSeq);
    expect(verifyDecision(other.body.record, other.body.signature, await currentKey(server))).toBe(true);
    // Still the original permit for the original action, until it is redeemed.
    const again = await verifyAs(server, agent, { actionId: "id-1", reads: [agent.resource] });
    expect(again.body).toEqual(first.body);
    expect((await redeem(server, agent, first)).status).toBe(200);
    const afterUse = await verifyAs(server, agent, { actionId: "id-1", reads: [agent.resource] });
    expect(afterUse.body.record.permitted).toBe(false);
    expect(codes(afterUse.body.record)).toEqual(["ACTION_ID_REUSED"]);
    expect(afterUse.body.record.violations[0].message).toMatch(/redeemed/);
    // A new call with a new id is decided as usual.
    expect((await permitFor(server, agent, "id-2")).body.record.nonce).not.toBe(first.body.record.nonce);
  });

  it("blocked, approved in the inbox, then retried with the same actionId: permitted", async () => {
    const agent = await makeAgent(server, "cure");
    const extra = `cure-extra-${agent.machine}`;
    const created = await call(server, "POST", "/resources", { token: OPERATOR_TOKEN, body: { id: extra, type: "dataset", scope: `/data/${agent.owner}/extra`, isPublic: false, owner: agent.owner } });
    expect(created.status).toBe(200);
    const blocked = await verifyAs(server, agent, { actionId: "needs-approval", reads: [extra] });
    expect(codes(blocked.body.record)).toEqual(["READ_DENIED"]);
    const inbox = await call(server, "GET", "/approvals?status=PENDING", { token: OPERATOR_TOKEN });
    const approval = inbox.body.find((a: { machineId: string; actionId: string }) => a.machineId === agent.machine && a.actionId === "needs-approval");
    expect((await call(server, "POST", `/approvals/${approval.id}/approve`, { token: OPERATOR_TOKEN, body: {} })).status).toBe(200);
    const retry = await verifyAs(server, agent, { actionId: "needs-approval", reads: [extra] });
    expect(retry.body.record.permitted).toBe(true);
    expect((await redeem(server, agent, retry)).status).toBe(200);
  });

  it("plans: an identical retry gets the same plan permit; a step id used before is ACTION_ID_REUSED", async () => {
    const agent = await makeAgent(server, "plan");
    const steps = [
      { actionId: "p-1", actor: agent.machine, reads: [agent.resource] },
      { actionId: "p-2", actor: agent.machine, writes: [agent.resource] },
    ];
    const plan = (actions: unknown[]) => call(server, "POST", "/verify-plan", { token: agent.token, body: { actions } });
    const first = await plan(steps);
    expect(first.body.record.permitted).toBe(true);
    const twice = await Promise.all([plan(steps), plan(steps)]);
    for (const t of twice) expect(t.body).toEqual(first.body);
    // A single decision under a step's id, a changed plan, and a plan repeating an id: all spent.
    const single = await verifyAs(server, agent, { actionId: "p-2", writes: [agent.resource] });
    expect(codes(single.body.record)).toEqual(["ACTION_ID_REUSED"]);
    const changed = await plan([steps[0], { actionId: "p-3", actor: agent.machine, reads: [agent.resource] }]);
    expect(changed.body.record.permitted).toBe(false);
    expect(changed.body.record.steps[0].violations.map((v: { code: string }) => v.code)).toContain("ACTION_ID_REUSED");
    const repeated = await plan([
      { actionId: "q-1", actor: agent.machine, reads: [agent.resource] },
      { actionId: "q-1", actor: agent.machine, reads: [agent.resource] },
    ]);
    expect(repeated.body.record.permitted).toBe(false);
    expect(repeated.body.record.steps[1].violations.map((v: { code: string }) => v.code)).toContain("ACTION_ID_REUSED");
  });
});

describe.each(PROVIDERS)("expired permits on %s", (_provider, fresh) => {
  let database: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    database = await fresh();
    server = await startServer({ database: database.config, env: { FK_PERMIT_TTL_MS: "1000" } });
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it("an expired permit's actionId stays spent, and the permit does not redeem", async () => {
    const agent = await makeAgent(server, "expiry");
    const permit = await permitFor(server, agent, "brief");
    await new Promise((r) => setTimeout(r, 1_200));
    const res = await redeem(server, agent, permit);
    expect(res.status).toBe(422);
    expect(res.body.error.details.reason).toBe("EXPIRED");
    const retry = await verifyAs(server, agent, { actionId: "brief", reads: [agent.resource] });
    expect(codes(retry.body.record)).toEqual(["ACTION_ID_REUSED"]);
    expect(retry.body.record.violations[0].message).toMatch(/expired/);
  });
});

describe("halts void permits across two replicas on one PostgreSQL database", () => {
  let replicas: Replicas;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    replicas = await startPostgresReplicas();
    ({ a, b } = replicas);
  }, 180_000);
  afterAll(() => replicas?.stop());

  it("a permit from A, a halt and resume through B: the permit redeems on neither", async () => {
    const agent = await makeAgent(a, "replica");
    const permit = await permitFor(a, agent, "on-a");
    expect((await call(b, "POST", `/machines/${agent.machine}/halt`, { token: OPERATOR_TOKEN, body: {} })).status).toBe(200);
    expect((await call(b, "POST", `/machines/${agent.machine}/resume`, { token: OPERATOR_TOKEN })).status).toBe(200);
    for (const server of [a, b]) {
      const res = await redeem(server, agent, permit);
      expect(res.status).toBe(422);
      expect(res.body.error.details.reason).toBe("HALTED_SINCE_ISSUE");
    }
    // Concurrent identical retries on both replicas still share the one id: no new permit anywhere.
    const retries = await Promise.all([a, b, a, b].map((s) => verifyAs(s, agent, { actionId: "fresh-id", reads: [agent.resource] })));
    const nonces = new Set(retries.map((r) => r.body.record.nonce));
    expect(retries.every((r) => r.body.record.permitted)).toBe(true);
    expect(nonces.size).toBe(1);
  });

  it("a token revoked through B redeems nothing on A, which had it cached", async () => {
    const agent = await makeAgent(a, "revoked");
    const permit = await permitFor(a, agent, "before-revocation"); // A has the token cached now
    const tokens = await call(b, "GET", `/machines/${agent.machine}/tokens`, { token: OPERATOR_TOKEN });
    expect(tokens.body).toHaveLength(1);
    expect((await call(b, "DELETE", `/tokens/${tokens.body[0].id}`, { token: OPERATOR_TOKEN })).status).toBe(200);
    const head = (await call(a, "GET", "/audit?limit=1", { token: OPERATOR_TOKEN })).body.entries[0].seq;
    const res = await redeem(a, agent, permit);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("UNAUTHENTICATED");
    // Nothing was redeemed or logged for it.
    expect((await call(a, "GET", "/audit?limit=1", { token: OPERATOR_TOKEN })).body.entries[0].seq).toBe(head);
  });
});
