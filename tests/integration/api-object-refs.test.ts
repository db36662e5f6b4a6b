/**
 * Object references over real HTTP on both databases (issue 10): an action names files, URLs and
 * recipients that nobody registered; the kernel resolves them to the resource whose scope contains
 * them, signs what it resolved, and the inbox grants exactly the object (or, when the owner
 * chooses, an enclosing scope the kernel lets them grant).
 */
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyDecision } from "@/lib/kernel/signing";
import { PROVIDERS, type TestDatabase } from "../support/databases";
import { call, OPERATOR_TOKEN, startServer, type TestServer } from "../support/server";

const codes = (record: { violations: { code: string }[] }) => record.violations.map((v) => v.code);

interface World {
  owner: string;
  machine: string;
  token: string;
  /** The owner's resource, scope /files/<owner>. */
  resource: string;
  root: string;
}

describe.each(PROVIDERS)("object references on %s", (_provider, fresh) => {
  let database: TestDatabase;
  let server: TestServer;
  let key: string;

  const op = async (method: string, path: string, body?: unknown) => {
    const res = await call(server, method, path, { token: OPERATOR_TOKEN, body });
    if (res.status !== 200) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  /** An owner with one resource over /files/<owner>, a machine with a token and, optionally, read on the resource. */
  async function world(name: string, grantRead: boolean): Promise<World> {
    const s = crypto.randomBytes(4).toString("hex");
    const owner = `${name}-owner-${s}`;
    const machine = `${name}-bot-${s}`;
    const resource = `${name}-files-${s}`;
    const root = `/files/${owner}`;
    await op("POST", "/owners", { id: owner, displayName: owner, email: `${owner}@test.example`, password: "owner-password-123" });
    await op("POST", "/machines", { id: machine, owner });
    await op("POST", "/resources", { id: resource, type: "file", scope: root, isPublic: false, owner });
    if (grantRead) await op("POST", "/grants", { holder: machine, resource, canRead: true, canWrite: false, canDelegate: false, grantor: owner });
    const token = (await op("POST", `/machines/${machine}/tokens`, { label: "test" })).secret as string;
    return { owner, machine, token, resource, root };
  }

  const verifyAs = (w: World, action: Record<string, unknown>) =>
    call(server, "POST", "/verify", { token: w.token, body: { action: { actor: w.machine, ...action } } });

  async function pending(w: World, actionId: string) {
    const inbox = await call(server, "GET", "/approvals?status=PENDING", { token: OPERATOR_TOKEN });
    return inbox.body.find((a: { machineId: string; actionId: string }) => a.machineId === w.machine && a.actionId === actionId);
  }

  const auditHead = async () => (await call(server, "GET", "/audit?limit=1", { token: OPERATOR_TOKEN })).body.entries[0].seq as number;

  beforeAll(async () => {
    database = await fresh();
    server = await startServer({ database: database.config });
    key = (await call(server, "GET", "/keys")).body.keys.find((k: { status: string }) => k.status === "current").publicKey;
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it("a file under a granted resource is permitted without being registered; the signed record and the audit entry say what it resolved to", async () => {
    const w = await world("read", true);
    const file = `${w.root}/2026/q3.csv`;
    const res = await verifyAs(w, { actionId: "q3", reads: [file] });
    expect(res.status).toBe(200);
    expect(res.body.record.permitted).toBe(true);
    expect(res.body.record.resolved).toEqual([{ ref: file, canonical: file, resource: w.resource }]);
    expect(verifyDecision(res.body.record, res.body.signature, key)).toBe(true);
    const log = await call(server, "GET", `/audit?machine=${w.machine}&kind=decision`, { token: OPERATOR_TOKEN });
    const entry = log.body.entries.find((e: { payload: { record?: { actionId: string } } }) => e.payload.record?.actionId === "q3");
    expect(entry.payload.record.resolved).toEqual(res.body.record.resolved);
    // The same object as a file: URI, decided the same; its canonical path is the plain one.
    const uri = await verifyAs(w, { actionId: "q3-uri", reads: [`file://${file}`] });
    expect(uri.body.record.permitted).toBe(true);
    expect(uri.body.record.resolved).toEqual([{ ref: `file://${file}`, canonical: file, resource: w.resource }]);
    // The permit redeems like any other.
    expect((await call(server, "POST", "/permits/redeem", { token: w.token, body: res.body })).status).toBe(200);
  });

  it("outside the scope, under no resource, or with a traversal trick: BLOCKED, with the reason", async () => {
    const w = await world("deny", true);
    const other = await world("other", false);
    const sibling = await verifyAs(w, { actionId: "sib", reads: [`${other.root}/x.txt`] });
    expect(codes(sibling.body.record)).toEqual(["READ_DENIED"]);
    expect(sibling.body.record.resolved).toEqual([{ ref: `${other.root}/x.txt`, canonical: `${other.root}/x.txt`, resource: other.resource }]);
    const nowhere = await verifyAs(w, { actionId: "nowhere", reads: ["/nowhere/at/all"] });
    expect(codes(nowhere.body.record)).toEqual(["READ_DENIED"]);
    expect(nowhere.body.record.resolved).toEqual([{ ref: "/nowhere/at/all", canonical: "/nowhere/at/all" }]);
    for (const [i, trick] of [`${w.root}/../${other.owner}/x`, `file://${w.root}/%2e%2e/x`, `file://${w.root}/a%2Fb`, `${w.root}//x`].entries()) {
      const r = await verifyAs(w, { actionId: `trick-${i}`, reads: [trick] });
      expect(r.status).toBe(200);
      expect(r.body.record.permitted).toBe(false);
      expect(codes(r.body.record)).toEqual(["MALFORMED_ACTION"]);
      expect(r.body.record.violations[0].message).toContain("is not a valid object reference");
    }
  });

  it("registration refuses resource ids shaped like references", async () => {
    const w = await world("ids", false);
    for (const id of ["/files/x", "https://example.com/x", "mailto:bob@example.com"]) {
      const res = await call(server, "POST", "/resources", { token: OPERATOR_TOKEN, body: { id, type: "file", scope: `${w.root}/sub-${id.length}`, isPublic: false, owner: w.owner } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
      expect(JSON.stringify(res.body.error)).toContain("object references");
    }
  });

  it("approving a blocked object grants exactly that object by default; its sibling stays blocked", async () => {
    const w = await world("exact", false);
    const file = `${w.root}/reports/a.txt`;
    const blocked = await verifyAs(w, { actionId: "a", reads: [file] });
    expect(codes(blocked.body.record)).toEqual(["READ_DENIED"]);
    const approval = await pending(w, "a");
    expect(approval.missingGrants).toHaveLength(1);
    const missing = approval.missingGrants[0];
    expect(missing).toMatchObject({ resource: file, right: "read", code: "READ_DENIED", canonical: file, resolvedTo: w.resource });
    // The owner may widen to the folder or to the whole resource, never past it (another owner's resources lie under /files).
    expect(missing.widenOptions).toEqual([
      { scope: `${w.root}/reports`, covers: [] },
      { scope: w.root, covers: [w.resource] },
    ]);
    const ok = await call(server, "POST", `/approvals/${approval.id}/approve`, { token: OPERATOR_TOKEN, body: {} });
    expect(ok.status).toBe(200);
    const grants = (await op("GET", "/grants")) as { holder: string; scope: string | null; resource: string | null; canRead: boolean; canWrite: boolean }[];
    expect(grants.filter((g) => g.holder === w.machine)).toEqual([expect.objectContaining({ scope: file, resource: null, canRead: true, canWrite: false })]);
    const retry = await verifyAs(w, { actionId: "a", reads: [file] });
    expect(retry.body.record.permitted).toBe(true);
    const sibling = await verifyAs(w, { actionId: "b", reads: [`${w.root}/reports/b.txt`] });
    expect(codes(sibling.body.record)).toEqual(["READ_DENIED"]);
  });

  it("widening to an enclosing folder covers the sibling; a scope that does not contain the object, or that the owner cannot grant, grants nothing", async () => {
    const w = await world("widen", false);
    const file = `${w.root}/reports/a.txt`;
    await verifyAs(w, { actionId: "a", reads: [file] });
    const approval = await pending(w, "a");
    const head = await auditHead();
    const outside = await call(server, "POST", `/approvals/${approval.id}/approve`, { token: OPERATOR_TOKEN, body: { widen: [{ ref: file, scope: `${w.root}/other` }] } });
    expect(outside.status).toBe(400);
    expect(outside.body.error.code).toBe("VALIDATION_FAILED");
    const notMine = await call(server, "POST", `/approvals/${approval.id}/approve`, { token: OPERATOR_TOKEN, body: { widen: [{ ref: file, scope: "/files" }] } });
    expect(notMine.status).toBe(422);
    expect(notMine.body.error.code).toBe("NOT_APPROVABLE");
    const unknownRef = await call(server, "POST", `/approvals/${approval.id}/approve`, { token: OPERATOR_TOKEN, body: { widen: [{ ref: `${w.root}/x`, scope: w.root }] } });
    expect(unknownRef.status).toBe(400);
    // Nothing was granted or logged, and the request is still pending.
    expect(await auditHead()).toBe(head);
    expect((await pending(w, "a")).status).toBe("PENDING");
    const ok = await call(server, "POST", `/approvals/${approval.id}/approve`, { token: OPERATOR_TOKEN, body: { widen: [{ ref: file, scope: `${w.root}/reports` }] } });
    expect(ok.status).toBe(200);
    expect((await verifyAs(w, { actionId: "b", reads: [`${w.root}/reports/b.txt`] })).body.record.permitted).toBe(true);
    expect(codes((await verifyAs(w, { actionId: "c", reads: [`${w.root}/elsewhere/c.txt`] })).body.record)).toEqual(["READ_DENIED"]);
    const log = await call(server, "GET", `/audit?limit=5`, { token: OPERATOR_TOKEN });
    expect(JSON.stringify(log.body)).toContain(`"scope":"${w.root}/reports"`);
  });

  it("one object spelled two ways is one claim; widening it to two different scopes is refused", async () => {
    const w = await world("spell", false);
    const file = `${w.root}/reports/a.txt`;
    const uri = `file://${file}`;
    await verifyAs(w, { actionId: "a", reads: [file], writes: [uri] });
    const approval = await pending(w, "a");
    expect(approval.missingGrants.map((m: { resource: string; right: string; canonical: string }) => [m.resource, m.right, m.canonical])).toEqual([
      [file, "read", file],
      [uri, "write", file],
    ]);
    // Both spellings are offered the same scopes.
    expect(approval.missingGrants[0].widenOptions).toEqual(approval.missingGrants[1].widenOptions);
    const twoScopes = await call(server, "POST", `/approvals/${approval.id}/approve`, {
      token: OPERATOR_TOKEN,
      body: { widen: [{ ref: file, scope: w.root }, { ref: uri, scope: `${w.root}/reports` }] },
    });
    expect(twoScopes.status).toBe(400);
    expect(twoScopes.body.error.code).toBe("VALIDATION_FAILED");
    const ok = await call(server, "POST", `/approvals/${approval.id}/approve`, { token: OPERATOR_TOKEN, body: {} });
    expect(ok.status).toBe(200);
    const grants = (await op("GET", "/grants")) as { holder: string; scope: string | null; canRead: boolean; canWrite: boolean }[];
    expect(grants.filter((g) => g.holder === w.machine)).toEqual([expect.objectContaining({ scope: file, canRead: true, canWrite: true })]);
    expect((await verifyAs(w, { actionId: "b", reads: [uri], writes: [file] })).body.record.permitted).toBe(true);
  });

  it("a permit for an object is void once the grant that covered it is revoked", async () => {
    const w = await world("revoke", false);
    const file = `${w.root}/a.txt`;
    await verifyAs(w, { actionId: "a", reads: [file] });
    const approval = await pending(w, "a");
    expect((await call(server, "POST", `/approvals/${approval.id}/approve`, { token: OPERATOR_TOKEN, body: {} })).status).toBe(200);
    const permit = await verifyAs(w, { actionId: "a", reads: [file] });
    expect(permit.body.record.permitted).toBe(true);
    const grant = ((await op("GET", "/grants")) as { id: string; holder: string }[]).find((g) => g.holder === w.machine)!;
    expect((await call(server, "DELETE", `/grants/${grant.id}`, { token: OPERATOR_TOKEN })).status).toBe(200);
    const res = await call(server, "POST", "/permits/redeem", { token: w.token, body: permit.body });
    expect(res.status).toBe(422);
    expect(res.body.error.details.reason).toBe("AUTHORITY_CHANGED");
  });

  it("URLs and mail recipients: a grant on an https scope reaches only URLs under it; two recipients need both", async () => {
    const s = crypto.randomBytes(4).toString("hex");
    const w = await world("net", false);
    const api = `api-${s}`;
    const mail = `mail-${s}`;
    await op("POST", "/resources", { id: api, type: "api_endpoint", scope: `/https/api.${s}.example/repos/acme`, isPublic: false, owner: w.owner });
    await op("POST", "/resources", { id: mail, type: "api_endpoint", scope: `/mailto/${s}.example/bob`, isPublic: false, owner: w.owner });
    await op("POST", "/grants", { holder: w.machine, resource: api, canRead: true, canWrite: false, canDelegate: false, grantor: w.owner });
    await op("POST", "/grants", { holder: w.machine, resource: mail, canRead: false, canWrite: true, canDelegate: false, grantor: w.owner });
    const inside = await verifyAs(w, { actionId: "u1", reads: [`https://API.${s}.example:443/repos/acme/issues`] });
    expect(inside.body.record.permitted).toBe(true);
    expect(inside.body.record.resolved[0]).toEqual({ ref: `https://API.${s}.example:443/repos/acme/issues`, canonical: `/https/api.${s}.example/repos/acme/issues`, resource: api });
    expect(codes((await verifyAs(w, { actionId: "u2", reads: [`https://api.${s}.example/repos/other`] })).body.record)).toEqual(["READ_DENIED"]);
    expect(codes((await verifyAs(w, { actionId: "u3", reads: [`https://api.${s}.example/repos/acme?token=x`] })).body.record)).toEqual(["MALFORMED_ACTION"]);
    expect((await verifyAs(w, { actionId: "m1", writes: [`mailto:Bob@${s}.Example`] })).body.record.permitted).toBe(true);
    const two = await verifyAs(w, { actionId: "m2", writes: [`mailto:bob@${s}.example`, `mailto:carol@${s}.example`] });
    expect(two.body.record.permitted).toBe(false);
    expect(two.body.record.violations.map((v: { code: string; resource?: string }) => [v.code, v.resource])).toEqual([["WRITE_DENIED", `mailto:carol@${s}.example`]]);
  });
});
