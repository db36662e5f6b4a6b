/**
 * Every route of /api/v1 over real HTTP against `next start`, on SQLite and on PostgreSQL:
 * success, bad body, unknown fields, oversize body, no auth, wrong auth, another owner's object
 * (404/403 and unchanged), and an agent token on an owner route (table-driven, as dub does).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyDecision } from "@/lib/kernel/signing";
import { PROVIDERS, type TestDatabase } from "../support/databases";
import { call, OPERATOR_TOKEN, signIn, startServer, type TestServer } from "../support/server";

interface World {
  server: TestServer;
  suffix: string;
  ownerA: { id: string; email: string; password: string; cookie: string; csrf: string };
  ownerB: { id: string; email: string; password: string; cookie: string; csrf: string };
  machineA: string;
  machineB: string;
  tokenA: string;
  tokenAId: string;
  tokenB: string;
  grantA: string;
  approvalA: string;
}


/** Calls as a signed-in owner (cookie + CSRF header). */
function asOwner(w: World, who: "A" | "B", method: string, path: string, body?: unknown, opts: { csrf?: boolean } = {}) {
  const o = who === "A" ? w.ownerA : w.ownerB;
  const headers: Record<string, string> = { cookie: o.cookie };
  if (opts.csrf !== false) headers["x-csrf-token"] = o.csrf;
  return call(w.server, method, path, { body, headers });
}

async function setup(database: TestDatabase): Promise<World> {
  const server = await startServer({ database: database.config });
  const op = (method: string, path: string, body?: unknown) => call(server, method, path, { token: OPERATOR_TOKEN, body });
  const suffix = Math.random().toString(36).slice(2, 8);
  const mk = async (name: string) => {
    const o = { id: `${name}-${suffix}`, email: `${name}-${suffix}@test.example`, password: `${name}-password-123` };
    expect((await op("POST", "/owners", { id: o.id, displayName: name, email: o.email, password: o.password })).status).toBe(200);
    return { ...o, ...(await signIn(server, o.email, o.password)) };
  };
  const ownerA = await mk("owner-a");
  const ownerB = await mk("owner-b");
  const machineA = `bot-a-${suffix}`;
  const machineB = `bot-b-${suffix}`;
  expect((await op("POST", "/machines", { id: machineA, owner: ownerA.id })).status).toBe(200);
  expect((await op("POST", "/machines", { id: machineB, owner: ownerB.id })).status).toBe(200);
  expect((await op("POST", "/resources", { id: `data-a-${suffix}`, type: "dataset", scope: `/data/${ownerA.id}`, isPublic: false, owner: ownerA.id })).status).toBe(200);
  expect((await op("POST", "/resources", { id: `data-b-${suffix}`, type: "dataset", scope: `/data/${ownerB.id}`, isPublic: false, owner: ownerB.id })).status).toBe(200);
  const grant = await op("POST", "/grants", { holder: machineA, resource: `data-a-${suffix}`, canRead: true, canWrite: false, canDelegate: false, grantor: ownerA.id });
  expect(grant.status).toBe(200);
  const tA = await op("POST", `/machines/${machineA}/tokens`, { label: "a" });
  const tB = await op("POST", `/machines/${machineB}/tokens`, { label: "b" });
  // A blocked, curable action of machine A lands in A's inbox.
  const blocked = await call(server, "POST", "/verify", { token: tA.body.secret, body: { action: { actionId: "needs-write", actor: machineA, writes: [`data-a-${suffix}`] } } });
  expect(blocked.body.record.permitted).toBe(false);
  const inbox = await op("GET", "/approvals");
  const approval = (inbox.body as { id: string; machineId: string }[]).find((a) => a.machineId === machineA)!;
  return { server, suffix, ownerA, ownerB, machineA, machineB, tokenA: tA.body.secret, tokenAId: tA.body.id, tokenB: tB.body.secret, grantA: grant.body.id, approvalA: approval.id };
}

describe.each(PROVIDERS)("REST API on %s", (_provider, fresh) => {
  let database: TestDatabase;
  let w: World;

  beforeAll(async () => {
    database = await fresh();
    w = await setup(database);
  }, 180_000);
  afterAll(async () => {
    await w?.server.stop();
    await database?.drop();
  });

  describe("agents", () => {
    it("POST /verify answers a signed decision the kernel's verifier accepts", async () => {
      const keys = await call(w.server, "GET", "/keys");
      expect(keys.status).toBe(200);
      expect(keys.body.domain).toBe("freedom-kernel/decision/v1\n");
      const current = keys.body.keys.find((k: { status: string }) => k.status === "current");
      const res = await call(w.server, "POST", "/verify", { token: w.tokenA, body: { action: { actionId: "ok-read", actor: w.machineA, reads: [`data-a-${w.suffix}`] } } });
      expect(res.status).toBe(200);
      expect(res.body.record.permitted).toBe(true);
      expect(res.body.record.expiresAt).toBeDefined();
      expect(verifyDecision(res.body.record, res.body.signature, current.publicKey)).toBe(true);
      const tampered = { ...res.body.record, actionId: "other" };
      expect(verifyDecision(tampered, res.body.signature, current.publicKey)).toBe(false);
    });

    it("a misspelt flag is a signed MALFORMED_ACTION refusal, never ignored", async () => {
      const res = await call(w.server, "POST", "/verify", { token: w.tokenA, body: { action: { actionId: "typo", actor: w.machineA, increases_machine_sovereignity: true } } });
      expect(res.status).toBe(200);
      expect(res.body.record.permitted).toBe(false);
      expect(res.body.record.violations.map((v: { code: string }) => v.code)).toContain("MALFORMED_ACTION");
    });

    it("an unrepresentable action is refused on its own and does not disturb the decisions batched with it", async () => {
      const bad = '{"action":{"actionId":"\\ud800","actor":"' + w.machineA + '"}}';
      const [good, broken, plan] = await Promise.all([
        call(w.server, "POST", "/verify", { token: w.tokenA, body: { action: { actionId: "beside-bad", actor: w.machineA, reads: [`data-a-${w.suffix}`] } } }),
        call(w.server, "POST", "/verify", { token: w.tokenA, body: bad }),
        call(w.server, "POST", "/verify-plan", { token: w.tokenA, body: '{"actions":[{"actionId":"\\udc00","actor":"' + w.machineA + '"}]}' }),
      ]);
      expect(good.body.record.permitted).toBe(true);
      expect(broken.status).toBe(200);
      expect(broken.body.record.permitted).toBe(false);
      expect(broken.body.record.violations[0].code).toBe("MALFORMED_ACTION");
      expect(plan.body.record.permitted).toBe(false);
    });

    it("an actor other than the token's machine is BLOCKED and logged", async () => {
      const res = await call(w.server, "POST", "/verify", { token: w.tokenA, body: { action: { actionId: "impersonate", actor: w.machineB } } });
      expect(res.body.record.permitted).toBe(false);
      expect(res.body.record.violations[0].code).toBe("ACTOR_NOT_TOKEN_MACHINE");
      const audit = await call(w.server, "GET", `/audit?kind=decision&limit=5`, { token: OPERATOR_TOKEN });
      expect(audit.body.entries.some((e: { payload: { record?: { actionId: string } } }) => e.payload.record?.actionId === "impersonate")).toBe(true);
    });

    it.each([
      ["no auth", undefined, 401],
      ["a wrong token", "fkm_not-a-real-token", 401],
      ["the operator token", OPERATOR_TOKEN, 403],
    ])("POST /verify with %s is refused (%s) and permits nothing", async (_name, token, status) => {
      const res = await call(w.server, "POST", "/verify", { token, body: { action: { actionId: "x", actor: w.machineA } } });
      expect(res.status).toBe(status);
      expect(res.body.permitted).toBe(false);
      expect(res.body.error.code).toBeTypeOf("string");
    });

    it.each([
      ["not JSON", "{not json", 400, "BAD_REQUEST"],
      ["unknown envelope field", JSON.stringify({ action: {}, extra: 1 }), 400, "VALIDATION_FAILED"],
      ["missing action", JSON.stringify({ session: "s" }), 400, "VALIDATION_FAILED"],
      ["oversize body", JSON.stringify({ action: { actionId: "big", actor: "x", description: "y".repeat(70_000) } }), 413, "PAYLOAD_TOO_LARGE"],
    ])("POST /verify with %s -> %s %s", async (_name, raw, status, code) => {
      const res = await call(w.server, "POST", "/verify", { token: w.tokenA, body: raw });
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.permitted).toBe(false);
    });

    it("a session carries IFC taint across separate calls", async () => {
      const op = (method: string, path: string, body?: unknown) => call(w.server, method, path, { token: OPERATOR_TOKEN, body });
      const secret = `secret-${w.suffix}`;
      const sink = `public-sink-${w.suffix}`;
      expect((await op("POST", "/resources", { id: secret, type: "dataset", scope: `/ifc/${w.suffix}/secret`, ifcLabel: "SECRET", owner: w.ownerA.id })).status).toBe(200);
      expect((await op("POST", "/resources", { id: sink, type: "file", scope: `/ifc/${w.suffix}/public`, ifcLabel: "PUBLIC", owner: w.ownerA.id })).status).toBe(200);
      for (const [resource, canWrite] of [[secret, false], [sink, true]] as const) {
        expect((await op("POST", "/grants", { holder: w.machineA, resource, canRead: true, canWrite, canDelegate: false, grantor: w.ownerA.id })).status).toBe(200);
      }
      const verify = (actionId: string, extra: Record<string, unknown>, session?: string) =>
        call(w.server, "POST", "/verify", { token: w.tokenA, body: { action: { actionId, actor: w.machineA, ...extra }, ...(session ? { session } : {}) } });
      // Without a session each call stands alone: the write is allowed.
      expect((await verify("no-session-write", { writes: [sink] })).body.record.permitted).toBe(true);
      expect((await verify("s-read", { reads: [secret] }, `s-${w.suffix}`)).body.record.permitted).toBe(true);
      const leak = await verify("s-write", { writes: [sink] }, `s-${w.suffix}`);
      expect(leak.body.record.permitted).toBe(false);
      expect(leak.body.record.violations.map((v: { code: string }) => v.code)).toContain("IFC_DOWNWARD_FLOW");
      expect(leak.body.record.session).toBe(`s-${w.suffix}`);
      // Another session of the same machine is not tainted.
      expect((await verify("other-session-write", { writes: [sink] }, `t-${w.suffix}`)).body.record.permitted).toBe(true);
    });

    it("POST /verify-plan signs a plan record; a permit redeems once", async () => {
      const plan = await call(w.server, "POST", "/verify-plan", { token: w.tokenA, body: { actions: [{ actionId: "p1", actor: w.machineA }, { actionId: "p2", actor: w.machineA, increases_machine_sovereignty: true }, { actionId: "p3", actor: w.machineA }] } });
      expect(plan.status).toBe(200);
      expect(plan.body.record.permitted).toBe(false);
      expect(plan.body.record.steps[2].violations[0].code).toBe("PLAN_ABORTED");

      const permit = await call(w.server, "POST", "/verify", { token: w.tokenA, body: { action: { actionId: "redeem-me", actor: w.machineA } } });
      expect(permit.body.record.permitted).toBe(true);
      const first = await call(w.server, "POST", "/permits/redeem", { token: w.tokenA, body: permit.body });
      expect(first.status).toBe(200);
      const second = await call(w.server, "POST", "/permits/redeem", { token: w.tokenA, body: permit.body });
      expect(second.status).toBe(409);
      expect(second.body.error.code).toBe("PERMIT_REUSED");
      // Another machine cannot redeem A's permit.
      const other = await call(w.server, "POST", "/permits/redeem", { token: w.tokenB, body: permit.body });
      expect(other.status).toBe(422);
    });
  });

  describe("owners and the operator", () => {
    it("POST /owners is the operator's only", async () => {
      const body = { id: "mallory", displayName: "M", email: "m@test.example", password: "mallory-password-1" };
      expect((await asOwner(w, "A", "POST", "/owners", body)).status).toBe(403);
      expect((await call(w.server, "POST", "/owners", { body })).status).toBe(401);
      expect((await call(w.server, "POST", "/owners", { token: w.tokenA, body })).status).toBe(403);
      expect((await call(w.server, "POST", "/owners", { token: OPERATOR_TOKEN, body: { ...body, role: "OPERATOR" } })).status).toBe(400);
      expect((await call(w.server, "POST", "/owners", { token: OPERATOR_TOKEN, body: { ...body, password: "short" } })).status).toBe(400);
    });

    it("sign-in with a wrong password fails; the session shows who is signed in", async () => {
      expect((await call(w.server, "POST", "/session", { body: { email: w.ownerA.email, password: "wrong-password-123" } })).status).toBe(401);
      const me = await asOwner(w, "A", "GET", "/session");
      expect(me.body.principal.entityId).toBe(w.ownerA.id);
      expect(me.body.principal.role).toBe("OWNER");
    });

    it("repeated failed sign-ins lock the account name out, even for the right password", async () => {
      const email = `lockout-${w.suffix}@test.example`;
      expect((await call(w.server, "POST", "/owners", { token: OPERATOR_TOKEN, body: { id: `lockout-${w.suffix}`, displayName: "L", email, password: "lockout-password-1" } })).status).toBe(200);
      for (let i = 0; i < 10; i++) {
        expect((await call(w.server, "POST", "/session", { body: { email, password: `wrong-password-${i}` } })).status).toBe(401);
      }
      const locked = await call(w.server, "POST", "/session", { body: { email, password: "lockout-password-1" } });
      expect(locked.status).toBe(429);
      expect(locked.body.error.code).toBe("RATE_LIMITED");
      // Other accounts are unaffected.
      expect((await call(w.server, "POST", "/session", { body: { email: w.ownerA.email, password: w.ownerA.password } })).status).toBe(200);
    });

    it("state changes without the CSRF header are refused and change nothing", async () => {
      const res = await asOwner(w, "A", "POST", "/machines", { id: `csrf-${w.machineA}` }, { csrf: false });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("CSRF_FAILED");
      const list = await asOwner(w, "A", "GET", "/machines");
      expect(list.body.map((m: { id: string }) => m.id)).not.toContain(`csrf-${w.machineA}`);
    });

    it("an owner creates machines and resources, grants, lists and revokes", async () => {
      const id = `own-${w.machineA}`;
      const m = await asOwner(w, "A", "POST", "/machines", { id });
      expect(m.status).toBe(200);
      expect(m.body.owner).toBe(w.ownerA.id);
      const r = await asOwner(w, "A", "POST", "/resources", { id: `res-${id}`, type: "file", scope: `/files/${id}` });
      expect(r.status).toBe(200);
      expect(r.body.owner).toBe(w.ownerA.id);
      const g = await asOwner(w, "A", "POST", "/grants", { holder: id, resource: `res-${id}`, canRead: true, canWrite: true, canDelegate: false });
      expect(g.status).toBe(200);
      expect(g.body.grantor).toBe(w.ownerA.id);
      const grants = await asOwner(w, "A", "GET", "/grants");
      expect(grants.body.map((x: { id: string }) => x.id)).toContain(g.body.id);
      const del = await asOwner(w, "A", "DELETE", `/grants/${g.body.id}`);
      expect(del.status).toBe(200);
      expect(del.body.revokedAt).not.toBeNull();
    });

    it("a grant the kernel refuses is 422 with its reasons", async () => {
      // Widening: the machine may not get delegate rights over B's data, which A does not hold.
      const res = await asOwner(w, "A", "POST", "/grants", { holder: w.machineA, resource: `data-b-${w.suffix}`, canRead: true, canWrite: false, canDelegate: false });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("GRANT_REFUSED");
      expect(Array.isArray(res.body.error.details)).toBe(true);
      expect(res.body.error.details.length).toBeGreaterThan(0);
    });

    it.each([
      ["POST", "/machines", { id: "x", bogus: true }],
      ["POST", "/resources", { id: "x", type: "spaceship", scope: "/a" }],
      ["POST", "/resources", { id: "x", type: "file", scope: "/a/../b" }],
      ["POST", "/grants", { holder: "x", canRead: true, canWrite: false, canDelegate: false }],
      ["POST", "/machines/x/tokens", { label: "" }],
      ["POST", "/approvals/x/refuse", {}],
      ["POST", "/conflicts/x/resolve", { strategy: "burn" }],
    ])("%s %s with a bad body is 400", async (method, path, body) => {
      const res = await asOwner(w, "A", method, path, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
    });

    it("oversize owner bodies are 413", async () => {
      const res = await asOwner(w, "A", "POST", "/machines", { id: "big", displayName: "x".repeat(70_000) });
      expect(res.status).toBe(413);
    });
  });

  describe("isolation: owner B can see and change nothing of owner A's", () => {
    const reads = (w: World): [string, string][] => [
      ["GET", `/machines/${w.machineA}`],
      ["GET", `/machines/${w.machineA}/tokens`],
    ];
    it("B's reads of A's objects are 404 and lists leave them out", async () => {
      for (const [method, path] of reads(w)) expect((await asOwner(w, "B", method, path)).status).toBe(404);
      const machines = await asOwner(w, "B", "GET", "/machines");
      expect(machines.body.map((m: { id: string }) => m.id)).not.toContain(w.machineA);
      const approvals = await asOwner(w, "B", "GET", "/approvals");
      expect(approvals.body.map((a: { id: string }) => a.id)).not.toContain(w.approvalA);
      const grants = await asOwner(w, "B", "GET", "/grants");
      expect(grants.body.map((g: { id: string }) => g.id)).not.toContain(w.grantA);
      const audit = await asOwner(w, "B", "GET", "/audit");
      expect(audit.body.entries.every((e: { payload: { record?: { actor: string } } }) => e.payload.record?.actor !== w.machineA)).toBe(true);
      expect((await asOwner(w, "B", "GET", "/audit/export")).status).toBe(403);
    });

    it("B's changes to A's objects are 404 and change nothing", async () => {
      const attempts: [string, string, unknown][] = [
        ["POST", `/machines/${w.machineA}/halt`, {}],
        ["POST", `/machines/${w.machineA}/resume`, undefined],
        ["POST", `/machines/${w.machineA}/tokens`, { label: "steal" }],
        ["DELETE", `/tokens/${w.tokenAId}`, undefined],
        ["DELETE", `/grants/${w.grantA}`, undefined],
        ["POST", `/approvals/${w.approvalA}/approve`, {}],
        ["POST", `/approvals/${w.approvalA}/refuse`, { reason: "no" }],
        ["POST", `/owners/${w.ownerA.id}/halt`, {}],
        ["POST", "/machines", { id: `b-owns-${w.machineA}`, owner: w.ownerA.id }],
      ];
      for (const [method, path, body] of attempts) {
        const res = await asOwner(w, "B", method, path, body);
        expect([403, 404], `${method} ${path}`).toContain(res.status);
      }
      const machine = await asOwner(w, "A", "GET", `/machines/${w.machineA}`);
      expect(machine.body.halted).toBe(false);
      const tokens = await asOwner(w, "A", "GET", `/machines/${w.machineA}/tokens`);
      expect(tokens.body).toHaveLength(1);
      expect(tokens.body[0].revokedAt).toBeNull();
      const grants = await asOwner(w, "A", "GET", "/grants");
      expect(grants.body.find((g: { id: string }) => g.id === w.grantA).revokedAt).toBeNull();
      const approvals = await asOwner(w, "A", "GET", "/approvals");
      expect(approvals.body.find((a: { id: string }) => a.id === w.approvalA).status).toBe("PENDING");
    });

    it("an agent token reaches no owner or admin route", async () => {
      for (const [method, path] of [["GET", "/machines"], ["GET", "/approvals"], ["GET", "/audit"], ["POST", `/machines/${w.machineA}/halt`], ["GET", "/session"], ["POST", "/halt-all"]] as const) {
        const res = await call(w.server, method, path, { token: w.tokenA, body: method === "POST" ? {} : undefined });
        expect(res.status, `${method} ${path}`).toBe(403);
      }
    });
  });

  describe("approvals, halts, audit", () => {
    it("approving creates the narrow grant and the agent's retry passes the ordinary verifier", async () => {
      const a = await asOwner(w, "A", "POST", `/approvals/${w.approvalA}/approve`, { ttlSeconds: 120 });
      expect(a.status).toBe(200);
      expect(a.body.status).toBe("APPROVED");
      const retry = await call(w.server, "POST", "/verify", { token: w.tokenA, body: { action: { actionId: "needs-write", actor: w.machineA, writes: [`data-a-${w.suffix}`] } } });
      expect(retry.body.record.permitted).toBe(true);
      const again = await asOwner(w, "A", "POST", `/approvals/${w.approvalA}/approve`, {});
      expect(again.status).toBe(409);
    });

    it("an invariant block cannot be approved", async () => {
      await call(w.server, "POST", "/verify", { token: w.tokenA, body: { action: { actionId: "sovereign", actor: w.machineA, increases_machine_sovereignty: true } } });
      const inbox = await asOwner(w, "A", "GET", "/approvals?status=PENDING");
      const item = inbox.body.find((x: { actionId: string }) => x.actionId === "sovereign");
      expect(item.curable).toBe(false);
      const res = await asOwner(w, "A", "POST", `/approvals/${item.id}/approve`, {});
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("NOT_APPROVABLE");
    });

    it("halt blocks the next decision, resume restores it; halt-all is the operator's", async () => {
      expect((await asOwner(w, "A", "POST", `/machines/${w.machineA}/halt`, { reason: "test" })).status).toBe(200);
      const blocked = await call(w.server, "POST", "/verify", { token: w.tokenA, body: { action: { actionId: "h1", actor: w.machineA } } });
      expect(blocked.body.record.violations.map((v: { code: string }) => v.code)).toContain("HALTED");
      expect((await asOwner(w, "A", "POST", `/machines/${w.machineA}/resume`)).status).toBe(200);
      const ok = await call(w.server, "POST", "/verify", { token: w.tokenA, body: { action: { actionId: "h2", actor: w.machineA } } });
      expect(ok.body.record.permitted).toBe(true);
      expect((await asOwner(w, "A", "POST", "/halt-all", {})).status).toBe(403);
      expect((await asOwner(w, "A", "POST", `/owners/${w.ownerA.id}/halt`, {})).status).toBe(200);
      expect((await call(w.server, "POST", "/verify", { token: w.tokenA, body: { action: { actionId: "h3", actor: w.machineA } } })).body.record.permitted).toBe(false);
      expect((await asOwner(w, "A", "POST", `/owners/${w.ownerA.id}/resume`)).status).toBe(200);
      expect((await call(w.server, "POST", "/halt-all", { token: OPERATOR_TOKEN, body: {} })).status).toBe(200);
      expect((await call(w.server, "POST", "/verify", { token: w.tokenB, body: { action: { actionId: "h4", actor: w.machineB } } })).body.record.permitted).toBe(false);
      expect((await call(w.server, "POST", "/resume-all", { token: OPERATOR_TOKEN })).status).toBe(200);
      expect((await call(w.server, "POST", "/verify", { token: w.tokenB, body: { action: { actionId: "h5", actor: w.machineB } } })).body.record.permitted).toBe(true);
    });

    it("a disputed ownership claim is queued for arbitration and resolved by an owner involved", async () => {
      const body = { holder: w.ownerB.id, resource: `data-a-${w.suffix}`, canRead: true, canWrite: true, canDelegate: false, confidence: 0.6 };
      expect((await asOwner(w, "A", "POST", "/claims", body)).status).toBe(403);
      const claim = await call(w.server, "POST", "/claims", { token: OPERATOR_TOKEN, body });
      expect(claim.status).toBe(200);
      const forA = await asOwner(w, "A", "GET", "/conflicts");
      const conflict = forA.body.find((c: { resourceId: string }) => c.resourceId === `data-a-${w.suffix}`);
      expect(conflict.status).toBe("OPEN");
      expect([conflict.claimA.id, conflict.claimB.id]).toContain(claim.body.id);
      expect((await asOwner(w, "B", "GET", "/conflicts")).body.map((c: { id: string }) => c.id)).toContain(conflict.id);
      const keep = conflict.claimA.id === claim.body.id ? "B" : "A";
      const resolved = await asOwner(w, "A", "POST", `/conflicts/${encodeURIComponent(conflict.id)}/resolve`, { strategy: "keep", keep });
      expect(resolved.status).toBe(200);
      expect(resolved.body.status).toBe("RESOLVED");
      const grants = await call(w.server, "GET", "/grants", { token: OPERATOR_TOKEN });
      expect(grants.body.find((g: { id: string }) => g.id === claim.body.id).canWrite).toBe(false);
      expect((await asOwner(w, "B", "POST", `/conflicts/${encodeURIComponent(conflict.id)}/resolve`, { strategy: "keep", keep })).status).toBe(409);
    });

    it("a revoked token stops working at once", async () => {
      const t = await asOwner(w, "A", "POST", `/machines/${w.machineA}/tokens`, { label: "short-lived" });
      expect(t.status).toBe(200);
      expect(t.body.secret).toMatch(/^fkm_/);
      expect((await call(w.server, "POST", "/verify", { token: t.body.secret, body: { action: { actionId: "t1", actor: w.machineA } } })).status).toBe(200);
      expect((await asOwner(w, "A", "DELETE", `/tokens/${t.body.id}`)).status).toBe(200);
      expect((await call(w.server, "POST", "/verify", { token: t.body.secret, body: { action: { actionId: "t2", actor: w.machineA } } })).status).toBe(401);
      const list = await asOwner(w, "A", "GET", `/machines/${w.machineA}/tokens`);
      expect(JSON.stringify(list.body)).not.toContain(t.body.secret);
    });

    it("audit pages, checkpoints and proofs; the export verifies", async () => {
      const page = await asOwner(w, "A", "GET", "/audit?limit=3");
      expect(page.status).toBe(200);
      expect(page.body.entries.length).toBe(3);
      const blockedOnly = await asOwner(w, "A", "GET", "/audit?outcome=blocked&kind=decision");
      expect(blockedOnly.body.entries.every((e: { payload: { record: { permitted: boolean } } }) => e.payload.record.permitted === false)).toBe(true);
      const cp = await asOwner(w, "A", "GET", "/audit/checkpoints/latest");
      expect(cp.status).toBe(200);
      const size = cp.body.checkpoint.treeSize as number;
      const incl = await asOwner(w, "A", "GET", `/audit/proof/inclusion?seq=0&size=${size}`);
      expect(incl.body.rootHash).toBe(cp.body.checkpoint.rootHash);
      const cons = await asOwner(w, "A", "GET", `/audit/proof/consistency?from=1&to=${size}`);
      expect(cons.body.toRoot).toBe(cp.body.checkpoint.rootHash);
      expect((await asOwner(w, "A", "GET", `/audit/proof/inclusion?seq=${size}&size=${size}`)).status).toBe(400);
      const exp = await call(w.server, "GET", "/audit/export", { token: OPERATOR_TOKEN });
      expect(exp.status).toBe(200);
      const { parseAuditExport, verifyAuditExport } = await import("@/lib/kernel/audit-export");
      const summary = verifyAuditExport(parseAuditExport(exp.body));
      expect(summary.ok).toBe(true);
      expect(summary.entries).toBeGreaterThan(10);
    });

    it("the OpenAPI document and the metrics answer", async () => {
      const doc = await call(w.server, "GET", "/openapi.json");
      expect(doc.status).toBe(200);
      expect(doc.body.openapi).toBe("3.1.0");
      expect(Object.keys(doc.body.paths)).toContain("/verify");
      const metrics = await fetch(`${w.server.url}/api/metrics`);
      const text = await metrics.text();
      expect(text).toMatch(/fk_decisions_total\{outcome="permitted"\} [1-9]/);
      expect(text).toMatch(/fk_audit_entries [1-9]/);
    });

    it("every answer of route() is checked against the route table (FK_CHECK_RESPONSES=1)", async () => {
      const { openApiDocument } = await import("@/lib/server/openapi");
      const doc = await call(w.server, "GET", "/openapi.json");
      // The operations of the served document are the table's (lib/server/__tests__/routes.test.ts
      // checks the table against the route files and validates the document).
      const operations = (d: { paths: Record<string, Record<string, unknown>> }) =>
        Object.entries(d.paths).flatMap(([p, item]) => ["get", "post", "delete"].filter((m) => item[m]).map((m) => `${m} ${p}`)).sort();
      expect(operations(doc.body)).toEqual(operations(openApiDocument() as never));
      const answers = [
        doc,
        await call(w.server, "GET", "/machines", { token: OPERATOR_TOKEN }),
        await call(w.server, "POST", "/verify", { body: { action: {} } }), // 401, a refusal
        await call(w.server, "POST", "/verify", { token: w.tokenA, body: { action: { actionId: "checked", actor: w.machineA, reads: [`data-a-${w.suffix}`] } } }),
        await asOwner(w, "B", "GET", `/machines/${w.machineA}`), // 404
        { status: 0, body: null, headers: (await fetch(`${w.server.url}/api/metrics`)).headers },
        { status: 0, body: null, headers: (await fetch(`${w.server.url}/api/health`)).headers },
      ];
      expect(answers.map((a) => a.headers.get("x-fk-response-checked"))).toEqual(answers.map(() => "1"));
      expect(answers[2]!.body).toMatchObject({ error: { code: "UNAUTHENTICATED" }, permitted: false });
      expect(answers[3]!.body.record.permitted).toBe(true);
      expect(w.server.output()).not.toContain("does not match its contract");
    });
  });
});
