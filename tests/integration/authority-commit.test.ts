/**
 * The one commit path for changes of authority (issue 9, items 6 and 7; design §13 "Authority"),
 * over real HTTP on both databases:
 * - approving is one transaction: of two concurrent decisions on one request exactly one succeeds,
 *   and exactly one set of grants exists afterwards;
 * - conflict resolution runs the same path: a resolution the kernel refuses leaves the conflict
 *   open and writes nothing (no audit entry, no new registry version); of two concurrent
 *   resolutions exactly one applies;
 * - no scope squatting: a registration inside or around another owner's resource is 409 without
 *   naming that resource, the root scopes are the operator's, and the operator's disputed claim
 *   goes to arbitration;
 * - server and browser name one owner per resource (the kernel's resourceOwners).
 */
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS, type TestDatabase } from "../support/databases";
import { call, OPERATOR_TOKEN, startServer, type TestServer } from "../support/server";
import { makeAgent, verifyAs } from "../support/world";

const op = (server: TestServer, method: string, path: string, body?: unknown) => call(server, method, path, { token: OPERATOR_TOKEN, body });

async function auditHead(server: TestServer): Promise<number> {
  const page = await op(server, "GET", "/audit?limit=1");
  expect(page.status).toBe(200);
  return page.body.entries[0].seq as number;
}

async function signIn(server: TestServer, email: string, password: string) {
  const res = await fetch(`${server.api}/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }) });
  expect(res.status).toBe(200);
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]!).join("; ");
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return (method: string, path: string, body?: unknown) => call(server, method, path, { body, headers: { cookie, "x-csrf-token": csrfToken } });
}

/** A pending, curable approval: the agent read a resource of its owner it holds no grant on. */
async function pendingApproval(server: TestServer, name: string) {
  const agent = await makeAgent(server, name);
  const extra = `${agent.resource}-extra`;
  expect((await op(server, "POST", "/resources", { id: extra, type: "dataset", scope: `/data/${agent.owner}/extra`, isPublic: false, owner: agent.owner })).status).toBe(200);
  const blocked = await verifyAs(server, agent, { actionId: `needs-${name}`, reads: [extra] });
  expect(blocked.body.record.permitted).toBe(false);
  const inbox = await op(server, "GET", "/approvals?status=PENDING");
  const approval = inbox.body.find((a: { machineId: string }) => a.machineId === agent.machine);
  expect(approval).toBeDefined();
  return { agent, extra, approval: approval.id as string };
}

/** A write conflict: the operator registers a disputed root claim of owner B on A's resource. */
async function openConflict(server: TestServer) {
  const a = await makeAgent(server, "dispute-a");
  const b = await makeAgent(server, "dispute-b");
  const claim = await op(server, "POST", "/claims", { holder: b.owner, resource: a.resource, canRead: true, canWrite: true, canDelegate: false });
  expect(claim.status).toBe(200);
  const conflicts = await op(server, "GET", "/conflicts");
  const conflict = conflicts.body.find((c: { resourceId: string; status: string }) => c.resourceId === a.resource && c.status === "OPEN");
  expect(conflict).toBeDefined();
  return { a, b, conflict: conflict.id as string };
}

describe.each(PROVIDERS)("the authority commit path on %s", (_provider, fresh) => {
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

  it("two concurrent approvals of one request: one 200, one 409, one set of grants", async () => {
    const { agent, extra, approval } = await pendingApproval(server, "race");
    const answers = await Promise.all([
      op(server, "POST", `/approvals/${approval}/approve`, { ttlSeconds: 120 }),
      op(server, "POST", `/approvals/${approval}/approve`, { ttlSeconds: 120 }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const grants = await op(server, "GET", "/grants");
    const onExtra = grants.body.filter((g: { holder: string; resource: string | null }) => g.holder === agent.machine && g.resource === extra);
    expect(onExtra).toHaveLength(1);
    const log = await op(server, "GET", `/audit?machine=${agent.machine}&kind=authority`);
    expect(log.body.entries.filter((e: { payload: { op: string } }) => e.payload.op === "approve")).toHaveLength(1);
  });

  it("an approval racing a refusal: exactly one decides, and a refused request grants nothing", async () => {
    const { agent, extra, approval } = await pendingApproval(server, "refuse-race");
    const [approved, refused] = await Promise.all([
      op(server, "POST", `/approvals/${approval}/approve`, {}),
      op(server, "POST", `/approvals/${approval}/refuse`, { reason: "no" }),
    ]);
    expect([approved.status, refused.status].sort()).toEqual([200, 409]);
    const grants = await op(server, "GET", "/grants");
    const onExtra = grants.body.filter((g: { holder: string; resource: string | null }) => g.holder === agent.machine && g.resource === extra);
    expect(onExtra).toHaveLength(approved.status === 200 ? 1 : 0);
    const final = (await op(server, "GET", "/approvals")).body.find((a: { id: string }) => a.id === approval);
    expect(final.status).toBe(approved.status === 200 ? "APPROVED" : "REFUSED");
  });

  it("a resolution the kernel refuses leaves the conflict open and writes nothing", async () => {
    const { conflict } = await openConflict(server);
    const head = await auditHead(server);
    // Both claims are claims on one resource: the kernel refuses to split them.
    const bad = await op(server, "POST", `/conflicts/${conflict}/resolve`, { strategy: "split", scopeA: "/x/a", scopeB: "/x/b" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("VALIDATION_FAILED");
    const after = (await op(server, "GET", "/conflicts")).body.find((c: { id: string }) => c.id === conflict);
    expect(after.status).toBe("OPEN");
    expect(after.resolution).toBeNull();
    expect(await auditHead(server)).toBe(head);
  });

  it("two concurrent resolutions: exactly one applies, audited once, through the commit path", async () => {
    const { a, conflict } = await openConflict(server);
    const answers = await Promise.all([
      op(server, "POST", `/conflicts/${conflict}/resolve`, { strategy: "keep", keep: "A" }),
      op(server, "POST", `/conflicts/${conflict}/resolve`, { strategy: "keep", keep: "B" }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = answers.find((r) => r.status === 200)!;
    expect(winner.body.status).toBe("RESOLVED");
    const log = await op(server, "GET", "/audit?kind=authority&limit=200");
    const arbitrations = log.body.entries.filter((e: { payload: { op: string; data: { conflict?: string } } }) => e.payload.op === "arbitrate" && JSON.stringify(e.payload.data).includes(conflict));
    expect(arbitrations).toHaveLength(1);
    // The resolution bumped the registry version like every other change: a decision sees it.
    const decided = await verifyAs(server, a, { actionId: `after-${conflict}`, reads: [a.resource] });
    expect(decided.body.record.snapshot.version).toBeGreaterThanOrEqual(arbitrations[0].payload.data.registryVersion);
  });

  it("no scope squatting: inside or around another owner's resource is 409, the other id withheld", async () => {
    const victim = await makeAgent(server, "victim");
    const squatter = await makeAgent(server, "squatter");
    const s = crypto.randomBytes(3).toString("hex");
    for (const scope of [`/data/${victim.owner}/inner`, `/data/${victim.owner}`, "/data"]) {
      const res = await op(server, "POST", "/resources", { id: `squat-${s}-${scope.length}`, type: "dataset", scope, isPublic: false, owner: squatter.owner });
      expect(res.status, scope).toBe(409);
      expect(res.body.error.message).toContain("overlaps a resource you do not own");
      expect(JSON.stringify(res.body)).not.toContain(victim.resource);
    }
    // Nesting inside one's own resource stays allowed.
    const own = await op(server, "POST", "/resources", { id: `own-${s}`, type: "dataset", scope: `/data/${squatter.owner}/sub`, isPublic: false, owner: squatter.owner });
    expect(own.status).toBe(200);
    expect(own.body.owner).toBe(squatter.owner);
    // The operator's disputed claim on the victim's resource goes to arbitration instead.
    const claim = await op(server, "POST", "/claims", { holder: squatter.owner, resource: victim.resource, canRead: true, canWrite: true, canDelegate: false });
    expect(claim.status).toBe(200);
    const conflicts = await op(server, "GET", "/conflicts");
    expect(conflicts.body.some((c: { resourceId: string; status: string }) => c.resourceId === victim.resource && c.status === "OPEN")).toBe(true);
    // Ownership did not move with the dispute: one owner, named alike by every list.
    const resources = await op(server, "GET", "/resources");
    expect(resources.body.find((r: { id: string }) => r.id === victim.resource).owner).toBe(victim.owner);
  });

  it('the root scopes "" and "/" are the operator\'s alone', async () => {
    const s = crypto.randomBytes(3).toString("hex");
    const owner = { id: `rooter-${s}`, email: `rooter-${s}@test.example`, password: "rooter-password-123" };
    expect((await op(server, "POST", "/owners", { ...owner, displayName: owner.id })).status).toBe(200);
    const asOwner = await signIn(server, owner.email, owner.password);
    for (const scope of ["", "/"]) {
      const res = await asOwner("POST", "/resources", { id: `root-${s}-${scope.length}`, type: "dataset", scope });
      expect(res.status, JSON.stringify(scope)).toBe(403);
      expect(res.body.error.message).toContain("only the operator");
    }
    // An owner's ordinary registration through the same session works.
    expect((await asOwner("POST", "/resources", { id: `plain-${s}`, type: "dataset", scope: `/rooted/${s}` })).status).toBe(200);
  });
});
