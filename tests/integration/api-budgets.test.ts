/**
 * Budgets inside grants (issue 13) over real HTTP on both databases: set on grants and root
 * claims, attenuated, charged up the chain, decided with the usage read in the decision
 * transaction, consumed atomically at redemption (also 100 concurrent redemptions against a
 * budget of 10, on one server and on two PostgreSQL replicas), a signed receipt per use in the
 * audit log, raised from the inbox.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditExport } from "@/lib/kernel/audit-export";
import { PROVIDERS, type TestDatabase } from "../support/databases";
import { startPostgresReplicas, type Replicas } from "../support/replicas";
import { call, OPERATOR_TOKEN, startServer, type TestServer } from "../support/server";
import { makeAgent, verifyAs, type Agent } from "../support/world";

type DecisionRecordOut = { permitted: boolean; violations: { code: string; message: string }[]; budgets?: { grant: string; remaining: { uses?: number; cost?: number; window?: number } }[] };
const codes = (record: DecisionRecordOut) => record.violations.map((v) => v.code);

async function op(server: TestServer, method: string, path: string, body?: unknown) {
  const res = await call(server, method, path, { token: OPERATOR_TOKEN, body });
  if (res.status !== 200) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

type GrantOut = { id: string; holder: string; grantor: string | null; resource: string | null; revokedAt: string | null; budget: unknown; usage: { uses: number; cost: number; inWindow: number; remaining: { uses?: number; cost?: number; window?: number } } | null };

async function grantOf(server: TestServer, holder: string, grantor?: string): Promise<GrantOut> {
  const grants = (await op(server, "GET", "/grants")) as GrantOut[];
  const g = grants.find((x) => x.holder === holder && !x.revokedAt && (grantor === undefined || x.grantor === grantor));
  if (!g) throw new Error(`no grant held by ${holder}`);
  return g;
}

/** An agent whose grant carries `budget` (the default grant of makeAgent revoked). */
async function budgetedAgent(server: TestServer, name: string, budget: unknown): Promise<Agent & { grant: string }> {
  const agent = await makeAgent(server, name);
  const plain = await grantOf(server, agent.machine);
  await op(server, "DELETE", `/grants/${plain.id}`);
  const g = (await op(server, "POST", "/grants", { holder: agent.machine, resource: agent.resource, canRead: true, canWrite: false, canDelegate: false, grantor: agent.owner, budget })) as GrantOut;
  return { ...agent, grant: g.id };
}

async function decide(server: TestServer, agent: Agent, actionId: string, extra: Record<string, unknown> = {}) {
  const res = await verifyAs(server, agent, { actionId, reads: [agent.resource], ...extra });
  expect(res.status).toBe(200);
  return res.body as { record: DecisionRecordOut; signature: string; keyId: string };
}

function redeem(server: TestServer, agent: Agent, permit: unknown) {
  return call(server, "POST", "/permits/redeem", { token: agent.token, body: permit });
}

async function use(server: TestServer, agent: Agent, actionId: string, extra: Record<string, unknown> = {}) {
  const permit = await decide(server, agent, actionId, extra);
  expect(permit.record.permitted, JSON.stringify(permit.record.violations)).toBe(true);
  const res = await redeem(server, agent, permit);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return permit;
}

type Entry = { seq: number; payload: { kind: string; op?: string; machine?: string; receipts?: { grant: string; chain: string[]; use: number; cost: number; remaining: { [k: string]: number } }[] } };
async function redeemEntries(server: TestServer, machine: string): Promise<Entry[]> {
  const page = await op(server, "GET", `/audit?machine=${encodeURIComponent(machine)}&limit=500`);
  return (page.entries as Entry[]).filter((e) => e.payload.kind === "system" && e.payload.op === "redeem").sort((a, b) => a.seq - b.seq);
}

describe.each(PROVIDERS)("budgets on %s", (_provider, fresh) => {
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

  it("maxUses: the grant lists its budget and what is left; uses are exact at the boundary; receipts count them", async () => {
    const agent = await budgetedAgent(server, "uses", { maxUses: 3 });
    const before = await grantOf(server, agent.machine);
    expect(before.budget).toEqual({ maxUses: 3 });
    expect(before.usage).toEqual({ uses: 0, cost: 0, inWindow: 0, remaining: { uses: 3 } });
    const left: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const p = await use(server, agent, `use-${i}`);
      left.push(p.record.budgets?.find((b) => b.grant === agent.grant)?.remaining.uses ?? -1);
    }
    // The signed record says what is left after the use it permits.
    expect(left).toEqual([2, 1, 0]);
    expect((await grantOf(server, agent.machine)).usage).toEqual({ uses: 3, cost: 0, inWindow: 0, remaining: { uses: 0 } });
    const fourth = await decide(server, agent, "use-4");
    expect(fourth.record.permitted).toBe(false);
    expect(codes(fourth.record)).toEqual(["BUDGET_EXHAUSTED"]);
    expect(fourth.record.violations[0]!.message).toContain(agent.grant);
    // One receipt per use: use numbers 1..3, remaining 2..0, the chain from the machine's claim to the owner's root.
    const entries = await redeemEntries(server, agent.machine);
    const receipts = entries.flatMap((e) => e.payload.receipts ?? []);
    expect(receipts.map((r) => [r.grant, r.use, r.remaining.uses])).toEqual([
      [agent.grant, 1, 2],
      [agent.grant, 2, 1],
      [agent.grant, 3, 0],
    ]);
    expect(receipts[0]!.chain[0]).toBe(agent.grant);
    expect(receipts[0]!.chain.length).toBe(2);
  });

  it("permits issued beyond the budget are refused at redemption, naming BUDGET_EXHAUSTED", async () => {
    const agent = await budgetedAgent(server, "outstanding", { maxUses: 2 });
    // Decisions do not consume: three permits while nothing is used yet.
    const permits = [await decide(server, agent, "o-1"), await decide(server, agent, "o-2"), await decide(server, agent, "o-3")];
    expect(permits.every((p) => p.record.permitted)).toBe(true);
    expect((await redeem(server, agent, permits[0])).status).toBe(200);
    expect((await redeem(server, agent, permits[1])).status).toBe(200);
    const third = await redeem(server, agent, permits[2]);
    expect(third.status).toBe(422);
    expect(third.body.error.code).toBe("PERMIT_INVALID");
    expect(third.body.error.details.reason).toBe("BUDGET_EXHAUSTED");
    expect((await grantOf(server, agent.machine)).usage?.uses).toBe(2);
  });

  it("attenuation: a sub-delegation cannot exceed its grantor's budget, and its uses count up the chain", async () => {
    const a = await budgetedAgent(server, "chain-a", { maxUses: 5 });
    // Give A delegation rights under the same budget.
    await op(server, "DELETE", `/grants/${a.grant}`);
    const aGrant = (await op(server, "POST", "/grants", { holder: a.machine, resource: a.resource, canRead: true, canWrite: false, canDelegate: true, grantor: a.owner, budget: { maxUses: 5 } })) as GrantOut;
    const b = `${a.machine}-b`;
    await op(server, "POST", "/machines", { id: b, owner: a.owner });
    const bToken = (await op(server, "POST", `/machines/${b}/tokens`, { label: "b" })).secret as string;
    const bAgent: Agent = { ...a, machine: b, token: bToken };
    const tooBig = await call(server, "POST", "/grants", { token: OPERATOR_TOKEN, body: { holder: b, resource: a.resource, canRead: true, canWrite: false, canDelegate: false, grantor: a.machine, budget: { maxUses: 10 } } });
    expect(tooBig.status).toBe(422);
    expect(tooBig.body.error.details.map((d: { code: string }) => d.code)).toContain("EXCEEDS_GRANTOR_BUDGET");
    const none = await call(server, "POST", "/grants", { token: OPERATOR_TOKEN, body: { holder: b, resource: a.resource, canRead: true, canWrite: false, canDelegate: false, grantor: a.machine } });
    expect(none.status).toBe(422);
    const bGrant = (await op(server, "POST", "/grants", { holder: b, resource: a.resource, canRead: true, canWrite: false, canDelegate: false, grantor: a.machine, budget: { maxUses: 3 } })) as GrantOut;
    for (let i = 0; i < 3; i++) {
      const p = await use(server, bAgent, `b-${i}`);
      expect(p.record.budgets?.map((x) => x.grant).sort()).toEqual([aGrant.id, bGrant.id].sort());
    }
    expect(codes((await decide(server, bAgent, "b-4")).record)).toEqual(["BUDGET_EXHAUSTED"]);
    // B's three uses were A's too: A has two left.
    expect((await grantOf(server, a.machine)).usage?.remaining).toEqual({ uses: 2 });
    await use(server, a, "a-1");
    await use(server, a, "a-2");
    const blocked = await decide(server, a, "a-3");
    expect(codes(blocked.record)).toEqual(["BUDGET_EXHAUSTED"]);
  });

  it("an owner's budget on their own root claim limits every machine under it", async () => {
    const agent = await makeAgent(server, "root");
    const root = ((await op(server, "GET", "/grants")) as GrantOut[]).find((g) => g.holder === agent.owner && g.grantor === null && g.resource === agent.resource);
    expect(root).toBeDefined();
    const set = await op(server, "POST", `/grants/${root!.id}/budget`, { budget: { maxUses: 2 } });
    expect(set.budget).toEqual({ maxUses: 2 });
    await use(server, agent, "r-1");
    await use(server, agent, "r-2");
    const third = await decide(server, agent, "r-3");
    expect(codes(third.record)).toEqual(["BUDGET_EXHAUSTED"]);
    expect(third.record.violations[0]!.message).toContain(root!.id);
    // The budget change is an audited change of authority.
    const page = await op(server, "GET", `/audit?kind=authority&limit=500`);
    expect((page.entries as Entry[]).some((e) => e.payload.op === "budget" && JSON.stringify(e.payload).includes(root!.id))).toBe(true);
  });

  it("approving a missing grant under an owner's budgeted claim gives the narrow grant that budget", async () => {
    const agent = await makeAgent(server, "inherit");
    const root = ((await op(server, "GET", "/grants")) as GrantOut[]).find((g) => g.holder === agent.owner && g.grantor === null && g.resource === agent.resource)!;
    await op(server, "POST", `/grants/${root.id}/budget`, { budget: { maxUses: 4 } });
    await op(server, "DELETE", `/grants/${(await grantOf(server, agent.machine)).id}`);
    const blocked = await decide(server, agent, "i-1");
    expect(codes(blocked.record)).toEqual(["READ_DENIED"]);
    const inbox = await call(server, "GET", "/approvals?status=PENDING", { token: OPERATOR_TOKEN });
    const approval = (inbox.body as { id: string; machineId: string; actionId: string }[]).find((a) => a.machineId === agent.machine && a.actionId === "i-1")!;
    const ok = await call(server, "POST", `/approvals/${approval.id}/approve`, { token: OPERATOR_TOKEN, body: {} });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await grantOf(server, agent.machine)).budget).toEqual({ maxUses: 4 });
    await use(server, agent, "i-2");
  });

  it("maxCost: cost is charged per use; an action without a cost is refused under a cost budget", async () => {
    const agent = await budgetedAgent(server, "cost", { maxCost: 100 });
    const p = await use(server, agent, "c-1", { cost: 60 });
    expect(p.record.budgets?.[0]?.remaining).toEqual({ cost: 40 });
    expect(codes((await decide(server, agent, "c-2", { cost: 50 })).record)).toEqual(["BUDGET_EXHAUSTED"]);
    const noCost = await decide(server, agent, "c-3");
    expect(codes(noCost.record)).toEqual(["BUDGET_EXHAUSTED"]);
    expect(noCost.record.violations[0]!.message).toMatch(/declares none/);
    await use(server, agent, "c-4", { cost: 40 });
    expect((await grantOf(server, agent.machine)).usage).toMatchObject({ cost: 100, remaining: { cost: 0 } });
  });

  it("rate: a sliding window of uses", async () => {
    const agent = await budgetedAgent(server, "rate", { rate: { uses: 2, seconds: 2 } });
    await use(server, agent, "w-1");
    await use(server, agent, "w-2");
    const t = Date.now();
    expect(codes((await decide(server, agent, "w-3")).record)).toEqual(["BUDGET_EXHAUSTED"]);
    expect((await grantOf(server, agent.machine)).usage?.inWindow).toBe(2);
    await new Promise((r) => setTimeout(r, Math.max(0, 2_100 - (Date.now() - t))));
    await use(server, agent, "w-4");
  });

  it("the inbox offers to raise an exhausted budget; approving with raise cures the retry", async () => {
    const agent = await budgetedAgent(server, "raise", { maxUses: 1 });
    await use(server, agent, "x-1");
    const blocked = await decide(server, agent, "x-2");
    expect(codes(blocked.record)).toEqual(["BUDGET_EXHAUSTED"]);
    const inbox = await call(server, "GET", "/approvals?status=PENDING", { token: OPERATOR_TOKEN });
    const approval = (inbox.body as { id: string; machineId: string; actionId: string; missingGrants: unknown[]; exhaustedBudgets: { grant: string; canRaise: boolean; usage: { uses: number } }[]; curable: boolean }[]).find((a) => a.machineId === agent.machine && a.actionId === "x-2");
    expect(approval).toBeDefined();
    expect(approval!.curable).toBe(true);
    expect(approval!.missingGrants).toEqual([]);
    expect(approval!.exhaustedBudgets.map((e) => [e.grant, e.canRaise, e.usage.uses])).toEqual([[agent.grant, true, 1]]);
    // Approving without raising grants nothing: refused with the reason.
    const bare = await call(server, "POST", `/approvals/${approval!.id}/approve`, { token: OPERATOR_TOKEN, body: {} });
    expect(bare.status).toBe(422);
    // A smaller budget is not a raise; an unrelated grant cannot be raised through this approval.
    const smaller = await call(server, "POST", `/approvals/${approval!.id}/approve`, { token: OPERATOR_TOKEN, body: { raise: [{ grant: agent.grant, budget: { rate: { uses: 1, seconds: 60 } } }] } });
    expect(smaller.status).toBe(400);
    const ok = await call(server, "POST", `/approvals/${approval!.id}/approve`, { token: OPERATOR_TOKEN, body: { raise: [{ grant: agent.grant, budget: { maxUses: 3 } }] } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await grantOf(server, agent.machine)).usage?.remaining).toEqual({ uses: 2 });
    await use(server, agent, "x-3");
  });

  it("a plan may not use budgeted authority (its permit is not redeemed action by action)", async () => {
    const agent = await budgetedAgent(server, "plan", { maxUses: 10 });
    const res = await call(server, "POST", "/verify-plan", { token: agent.token, body: { actions: [{ actionId: "p-1", actor: agent.machine, reads: [agent.resource] }] } });
    expect(res.status).toBe(200);
    expect(res.body.record.permitted).toBe(false);
    expect(JSON.stringify(res.body.record)).toContain("BUDGET_EXHAUSTED");
  });

  it("100 concurrent redemptions against a budget of 10 consume exactly 10, and the export verifies", async () => {
    const agent = await budgetedAgent(server, "race", { maxUses: 10 });
    const permits = [];
    for (let i = 0; i < 100; i++) permits.push(await decide(server, agent, `race-${i}`));
    expect(permits.every((p) => p.record.permitted)).toBe(true);
    const results = await Promise.all(permits.map((p) => redeem(server, agent, p)));
    expect(results.filter((r) => r.status === 200).length).toBe(10);
    expect(results.filter((r) => r.status !== 200).every((r) => r.body.error.details.reason === "BUDGET_EXHAUSTED")).toBe(true);
    expect((await grantOf(server, agent.machine)).usage?.uses).toBe(10);
    const receipts = (await redeemEntries(server, agent.machine)).flatMap((e) => e.payload.receipts ?? []);
    expect(receipts.map((r) => r.use).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const exported = await call(server, "GET", "/audit/export", { token: OPERATOR_TOKEN });
    const summary = verifyAuditExport(String(exported.body));
    expect(summary.firstFailure).toBeUndefined();
    expect(summary.ok).toBe(true);
  }, 120_000);
});

describe("budgets across two replicas on one PostgreSQL database", () => {
  let replicas: Replicas;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    replicas = await startPostgresReplicas();
    ({ a, b } = replicas);
  }, 180_000);
  afterAll(() => replicas?.stop());

  it("100 redemptions racing on two replicas against a budget of 10: exactly 10 succeed", async () => {
    const agent = await budgetedAgent(a, "replicas", { maxUses: 10 });
    const permits = [];
    for (let i = 0; i < 100; i++) permits.push(await decide(i % 2 === 0 ? a : b, agent, `r-${i}`));
    expect(permits.every((p) => p.record.permitted)).toBe(true);
    const results = await Promise.all(permits.map((p, i) => redeem(i % 2 === 0 ? b : a, agent, p)));
    expect(results.filter((r) => r.status === 200).length).toBe(10);
    expect(results.filter((r) => r.status !== 200).map((r) => r.body.error.details.reason)).toEqual(new Array(90).fill("BUDGET_EXHAUSTED"));
    expect((await grantOf(a, agent.machine)).usage?.uses).toBe(10);
    expect((await grantOf(b, agent.machine)).usage?.uses).toBe(10);
  }, 120_000);
});
