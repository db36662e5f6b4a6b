/**
 * One JSON reading (issue 9 item 3) over real HTTP on both databases: a body with a duplicated
 * member name — which JSON.parse would silently read as its last value, while a proxy in front may
 * read the first — is never decided as either reading.
 * - POST /verify and POST /verify-plan: a signed MALFORMED_ACTION decision, whose signature verifies
 *   under the kernel's key and which is in the audit log (like any other malformed action);
 * - POST /permits/redeem, a console route and the stateless route: 400 BAD_REQUEST naming the member
 *   and its path (with permitted:false on agent routes);
 * - authentication still comes first: a duplicated body without a token is 401.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyDecision, verifyPlanDecision } from "@/lib/kernel/signing";
import { PROVIDERS, type TestDatabase } from "../support/databases";
import { call, OPERATOR_TOKEN, startServer, type TestServer } from "../support/server";
import { makeAgent, verifyAs, type Agent } from "../support/world";

/** Verify bodies with a duplicate, as raw text: [name, body(machine, resource), expected path]. */
const VERIFY_CORPUS: [string, (m: string, r: string) => string, string][] = [
  ["deceives twice (true, then false)", (m, r) => `{"action":{"actionId":"dup-deceives","actor":"${m}","reads":["${r}"],"deceives":true,"deceives":false}}`, "$.action.deceives"],
  ["two reads", (m, r) => `{"action":{"actionId":"dup-reads","actor":"${m}","reads":["someone-elses"],"reads":["${r}"]}}`, "$.action.reads"],
  ["two actors", (m, r) => `{"action":{"actionId":"dup-actor","actor":"other-bot","actor":"${m}","reads":["${r}"]}}`, "$.action.actor"],
  ["two action objects", (m, r) => `{"action":{"actionId":"dup-a1","actor":"${m}","writes":["x"]},"action":{"actionId":"dup-a2","actor":"${m}","reads":["${r}"]}}`, "$.action"],
  ["two sessions", (m, r) => `{"action":{"actionId":"dup-session","actor":"${m}","reads":["${r}"]},"session":"s1","session":"s2"}`, "$.session"],
  ["escaped-equal names", (m, r) => `{"action":{"actionId":"dup-escaped","actor":"${m}","reads":["${r}"],"deceives":true,"\\u0064eceives":false}}`, "$.action.deceives"],
  ["__proto__ twice", (m, r) => `{"action":{"actionId":"dup-proto","actor":"${m}","reads":["${r}"],"__proto__":{},"__proto__":{}}}`, "$.action.__proto__"],
  ["inside an array of objects", (m, r) => `{"action":{"actionId":"dup-deep","actor":"${m}","reads":["${r}"],"metadata":[{"k":1},{"k":1,"k":2}]}}`, "$.action.metadata[1].k"],
];

const codes = (record: { violations: { code: string }[] }) => record.violations.map((v) => v.code);

describe.each(PROVIDERS)("duplicate member names on %s", (_provider, fresh) => {
  let database: TestDatabase;
  let server: TestServer;
  let agent: Agent;
  let publicKey: string;

  beforeAll(async () => {
    database = await fresh();
    server = await startServer({ database: database.config });
    agent = await makeAgent(server, "dup");
    const keys = await call(server, "GET", "/keys");
    publicKey = keys.body.keys.find((k: { status: string }) => k.status === "current").publicKey as string;
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  async function auditEntryAt(seq: number) {
    const page = await call(server, "GET", `/audit?limit=200`, { token: OPERATOR_TOKEN });
    expect(page.status).toBe(200);
    return (page.body.entries as { seq: number; payload: { record?: unknown } }[]).find((e) => e.seq === seq);
  }

  it("the same bodies without the duplicate are permitted (the corpus is otherwise valid)", async () => {
    const res = await verifyAs(server, agent, { actionId: "clean", reads: [agent.resource] });
    expect(res.body.record.permitted).toBe(true);
  });

  it.each(VERIFY_CORPUS)("POST /verify, %s: a signed, audited MALFORMED_ACTION", async (_name, body, path) => {
    const res = await call(server, "POST", "/verify", { token: agent.token, body: body(agent.machine, agent.resource) });
    expect(res.status).toBe(200);
    const { record, signature } = res.body;
    expect(record.permitted).toBe(false);
    expect(record.expiresAt).toBeUndefined();
    expect(codes(record)).toEqual(["MALFORMED_ACTION"]);
    expect(record.violations[0].message).toContain("duplicate member name");
    expect(record.violations[0].message).toContain(path);
    expect(verifyDecision(record, signature, publicKey)).toBe(true);
    expect(typeof record.auditSeq).toBe("number");
    const entry = await auditEntryAt(record.auditSeq);
    expect(entry?.payload.record).toEqual(record);
  });

  it("POST /verify-plan with a duplicate in a step: a signed, audited MALFORMED_ACTION plan decision", async () => {
    const m = agent.machine;
    const raw = `{"actions":[{"actionId":"p1","actor":"${m}","reads":["${agent.resource}"]},{"actionId":"p2","actor":"${m}","selfModify":true,"selfModify":false}]}`;
    const res = await call(server, "POST", "/verify-plan", { token: agent.token, body: raw });
    expect(res.status).toBe(200);
    const { record, signature } = res.body;
    expect(record.permitted).toBe(false);
    const steps = record.steps as { violations: { code: string; message: string }[] }[];
    expect(steps.flatMap((s) => s.violations.map((v) => v.code))).toContain("MALFORMED_ACTION");
    expect(JSON.stringify(steps)).toContain("$.actions[1].selfModify");
    expect(verifyPlanDecision(record, signature, publicKey)).toBe(true);
    const entry = await auditEntryAt(record.auditSeq);
    expect(entry?.payload.record).toEqual(record);
  });

  it("authentication and audience still come first: 401 without a token, 403 for the operator", async () => {
    const body = VERIFY_CORPUS[0]![1](agent.machine, agent.resource);
    const anonymous = await call(server, "POST", "/verify", { body });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.permitted).toBe(false);
    const operator = await call(server, "POST", "/verify-plan", { token: OPERATOR_TOKEN, body: `{"actions":[{"a":1,"a":2}]}` });
    expect(operator.status).toBe(403);
    expect(operator.body.permitted).toBe(false);
  });

  it("invalid JSON (not a duplicate) on /verify is still 400 BAD_REQUEST, with the reason", async () => {
    const res = await call(server, "POST", "/verify", { token: agent.token, body: `{"action":{"actionId":"x","actor":"${agent.machine}",}}` });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("BAD_REQUEST");
    expect(res.body.error.message).toContain("not valid JSON");
    expect(res.body.permitted).toBe(false);
  });

  it("POST /permits/redeem with a duplicate: 400 permitted:false, and the permit is still redeemable once", async () => {
    const permit = await verifyAs(server, agent, { actionId: "to-redeem", reads: [agent.resource] });
    expect(permit.body.record.permitted).toBe(true);
    const good = JSON.stringify({ record: permit.body.record, signature: permit.body.signature, keyId: permit.body.keyId });
    const dup = good.replace(/}$/, `,"signature":"${"0".repeat(128)}"}`);
    const res = await call(server, "POST", "/permits/redeem", { token: agent.token, body: dup });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("BAD_REQUEST");
    expect(res.body.error.message).toBe('the body has a duplicate member name "signature" at $.signature');
    expect(res.body.permitted).toBe(false);
    const nested = good.replace('"permitted":true', '"permitted":true,"permitted":true');
    expect(nested).not.toBe(good);
    const res2 = await call(server, "POST", "/permits/redeem", { token: agent.token, body: nested });
    expect(res2.status).toBe(400);
    expect(res2.body.error.message).toContain("$.record.permitted");
    const ok = await call(server, "POST", "/permits/redeem", { token: agent.token, body: good });
    expect(ok.status).toBe(200);
  });

  it("a console route (POST /machines) with a duplicate: 400 naming the path, nothing created", async () => {
    const id = `dup-machine-${Date.now()}`;
    const res = await call(server, "POST", "/machines", { token: OPERATOR_TOKEN, body: `{"id":"${id}","owner":"${agent.owner}","owner":"someone-else"}` });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("BAD_REQUEST");
    expect(res.body.error.message).toBe('the body has a duplicate member name "owner" at $.owner');
    expect(res.body.permitted).toBeUndefined();
    const list = await call(server, "GET", "/machines", { token: OPERATOR_TOKEN });
    expect(JSON.stringify(list.body)).not.toContain(id);
  });

  it("the stateless route with a duplicate flag: 400, no signed answer", async () => {
    const alice = { name: "Alice", kind: "HUMAN" };
    const bot = { name: "Bot", kind: "MACHINE" };
    const request = JSON.stringify({
      registry: { claims: [{ holder: alice, resource: { name: "d", rtype: "dataset", scope: "/d" }, can_read: true, can_write: true, can_delegate: true }], machine_owners: [{ machine: bot, owner: alice }] },
      action: { action_id: "s1", actor: bot, increases_machine_sovereignty: true },
    });
    const clean = await call(server, "POST", "/stateless/verify", { body: request });
    expect(clean.status).toBe(200);
    const dup = request.replace('"increases_machine_sovereignty":true', '"increases_machine_sovereignty":true,"increases_machine_sovereignty":false');
    expect(dup).not.toBe(request);
    const res = await call(server, "POST", "/stateless/verify", { body: dup });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("BAD_REQUEST");
    expect(res.body.error.message).toContain("$.action.increases_machine_sovereignty");
    expect(res.body.record).toBeUndefined();
  });
});
