/**
 * The lean agent path (issue 11) over real HTTP against `npm start`: the four agent routes are
 * answered by the server process itself (scripts/server.ts, lib/server/lean-path.ts) with the
 * functions their route files export, every other request by Next.js, on one port.
 *
 * How a test tells the paths apart without any answer differing: with FK_LOG_LEVEL=debug the lean
 * path logs one line per answer ("answered on the lean path", method, route, status), so a request
 * served by Next leaves none. (No test-only header: the answers are byte for byte what a
 * production server sends.)
 *
 * Also: the refusals are route()'s, with the bodies and status codes they had under Next (the
 * table below is what `next start` answered before the lean path existed); a body over the limit
 * leaves the connection usable; and the state the server's module instances and Next's bundle
 * share is one per process: the audit chain stays unbroken under decisions (lean) interleaved
 * with grants (Next), a token revoked through Next is refused at once on the lean path, and the
 * audit stream's worker runs once.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAuditExport, verifyAuditExport } from "@/lib/kernel/audit-export";
import { verifyDecision } from "@/lib/kernel/signing";
import { freshSqlite, type TestDatabase } from "../support/databases";
import { call, OPERATOR_TOKEN, startServer, type TestServer } from "../support/server";
import { makeAgent, verifyAs, type Agent } from "../support/world";
import { until } from "../support/until";

interface LeanLine {
  method: string;
  route: string;
  status: number;
}

/** One request on `agent` (keep-alive when given), the body written in the given chunks. */
function raw(server: TestServer, method: string, path: string, headers: Record<string, string>, chunks: (string | Buffer)[] = [], agent?: http.Agent) {
  const u = new URL(server.url);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }>((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers, agent: agent ?? false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode!, headers: res.headers, body });
      });
    });
    req.on("error", reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe("the lean agent path", () => {
  let database: TestDatabase;
  let server: TestServer;
  let agent: Agent;
  const lean = (): LeanLine[] =>
    server
      .output()
      .split("\n")
      .filter((l) => l.includes('"msg":"answered on the lean path"'))
      .map((l) => JSON.parse(l) as LeanLine);
  /** Runs `fn` and returns the lean-path lines it caused (waiting for `expected` of them). */
  async function leanLinesOf(expected: number, fn: () => Promise<void>): Promise<LeanLine[]> {
    // The server's output reaches this process on its own pipe: let lines of earlier requests land.
    await new Promise((r) => setTimeout(r, 300));
    const before = lean().length;
    await fn();
    if (expected === 0) await new Promise((r) => setTimeout(r, 300)); // a stray line would have arrived
    return until(`${expected} lean-path lines`, () => {
      const lines = lean().slice(before);
      return lines.length >= expected ? lines : undefined;
    });
  }

  beforeAll(async () => {
    database = await freshSqlite();
    server = await startServer({ database: database.config, env: { FK_LOG_LEVEL: "debug", FK_STREAM_STDOUT: "1" } });
    agent = await makeAgent(server, "lean");
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it("answers the four agent routes, once per request, with route()'s answers and headers", async () => {
    let permit: Awaited<ReturnType<typeof verifyAs>> | undefined;
    let plan: Awaited<ReturnType<typeof call>> | undefined;
    let redeemed: Awaited<ReturnType<typeof call>> | undefined;
    let keys: Awaited<ReturnType<typeof call>> | undefined;
    const lines = await leanLinesOf(4, async () => {
      permit = await verifyAs(server, agent, { actionId: "lean-1", reads: [agent.resource] });
      plan = await call(server, "POST", "/verify-plan", { token: agent.token, body: { actions: [{ actionId: "lean-plan-1", actor: agent.machine, reads: [agent.resource] }] } });
      redeemed = await call(server, "POST", "/permits/redeem", { token: agent.token, body: permit.body });
      keys = await call(server, "GET", "/keys?any=query");
    });
    expect(lines.map((l) => `${l.method} ${l.route} ${l.status}`)).toEqual([
      "POST /api/v1/verify 200",
      "POST /api/v1/verify-plan 200",
      "POST /api/v1/permits/redeem 200",
      "GET /api/v1/keys 200",
    ]);
    expect(permit!.body.record.permitted).toBe(true);
    expect(plan!.body.record.permitted).toBe(true);
    expect(redeemed!.body).toMatchObject({ redeemed: true, actionId: "lean-1" });
    const current = keys!.body.keys.find((k: { status: string }) => k.status === "current");
    expect(verifyDecision(permit!.body.record, permit!.body.signature, current.publicKey)).toBe(true);
    for (const res of [permit!, plan!, redeemed!, keys!]) {
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("content-type")).toBe("application/json");
      // What Next's router adds to every answer, kept on the lean path.
      expect(res.headers.get("vary")).toBe("rsc, next-router-state-tree, next-router-prefetch, next-router-segment-prefetch");
      // route() checked the answer against the route table (FK_CHECK_RESPONSES=1).
      expect(res.headers.get("x-fk-response-checked")).toBe("1");
    }
  });

  it("refuses exactly as under Next: the same statuses, codes and bodies (agents: permitted false)", async () => {
    const auth = { authorization: `Bearer ${agent.token}` };
    const json = { "content-type": "application/json" };
    const action = (id: string) => JSON.stringify({ action: { actionId: id, actor: agent.machine, reads: [agent.resource] } });
    const big = JSON.stringify({ action: { actionId: "big", actor: agent.machine, description: "x".repeat(70_000) } });
    const bigPlan = JSON.stringify({ actions: [{ actionId: "big", actor: agent.machine, description: "x".repeat(1_100_000) }] });
    // [name, path, headers, body chunks, status, error code] — what `next start` answered.
    const cases: [string, string, Record<string, string>, (string | Buffer)[], number, string][] = [
      ["no credentials", "/api/v1/verify", json, [action("r1")], 401, "UNAUTHENTICATED"],
      ["an unknown token", "/api/v1/verify", { ...json, authorization: "Bearer fkm_nope" }, [action("r2")], 401, "UNAUTHENTICATED"],
      ["the operator's token", "/api/v1/verify", { ...json, authorization: `Bearer ${OPERATOR_TOKEN}` }, [action("r3")], 403, "FORBIDDEN"],
      ["no body", "/api/v1/verify", auth, [], 400, "VALIDATION_FAILED"],
      ["an empty body", "/api/v1/verify", { ...auth, "content-length": "0" }, [""], 400, "VALIDATION_FAILED"],
      ["text/plain", "/api/v1/verify", { ...auth, "content-type": "text/plain" }, [action("r4")], 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["not JSON", "/api/v1/verify", { ...auth, ...json }, ["{nope"], 400, "BAD_REQUEST"],
      ["not UTF-8", "/api/v1/verify", { ...auth, ...json }, [Buffer.from([0x7b, 0xff, 0x7d])], 400, "BAD_REQUEST"],
      ["an unknown member", "/api/v1/verify", { ...auth, ...json }, [JSON.stringify({ action: { actionId: "u", actor: agent.machine }, x: 1 })], 400, "VALIDATION_FAILED"],
      ["70 KB", "/api/v1/verify", { ...auth, ...json }, [big], 413, "PAYLOAD_TOO_LARGE"],
      ["70 KB, chunked", "/api/v1/verify", { ...auth, ...json }, [big.slice(0, 100), big.slice(100)], 413, "PAYLOAD_TOO_LARGE"],
      ["a plan over 1 MiB", "/api/v1/verify-plan", { ...auth, ...json }, [bigPlan], 413, "PAYLOAD_TOO_LARGE"],
      ["a redemption of nothing", "/api/v1/permits/redeem", { ...auth, ...json }, [JSON.stringify({ record: {}, signature: "x" })], 400, "VALIDATION_FAILED"],
    ];
    const answers: Awaited<ReturnType<typeof raw>>[] = [];
    const lines = await leanLinesOf(cases.length, async () => {
      for (const [, path, headers, chunks] of cases) answers.push(await raw(server, "POST", path, headers, chunks));
    });
    cases.forEach(([name, , , , status, code], i) => {
      const res = answers[i]!;
      expect({ name, status: res.status, code: res.body?.error?.code, permitted: res.body?.permitted }).toEqual({ name, status, code, permitted: false });
      expect(res.headers["cache-control"]).toBe("no-store");
      if (status === 401) expect(res.headers["www-authenticate"]).toBe("Bearer");
    });
    expect(lines.map((l) => l.status)).toEqual(cases.map((c) => c[4]));
    // A duplicated member name is a signed, audited MALFORMED_ACTION decision, not a 400.
    const dup = await raw(server, "POST", "/api/v1/verify", { ...auth, ...json }, [`{"action":{"actionId":"d","actionId":"e","actor":"${agent.machine}"}}`]);
    expect(dup.status).toBe(200);
    expect(dup.body.record.permitted).toBe(false);
    expect(dup.body.record.violations.map((v: { code: string }) => v.code)).toEqual(["MALFORMED_ACTION"]);
  });

  it("reads a body past its first 16 KiB as route() asks, and keeps a connection usable after a 413", async () => {
    const pool = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const headers = { authorization: `Bearer ${agent.token}`, "content-type": "application/json" };
      const long = JSON.stringify({ action: { actionId: "long-1", actor: agent.machine, reads: [agent.resource], description: "y".repeat(9_000), argument: "z".repeat(9_000) } });
      const chunks = [long.slice(0, 5000), long.slice(5000, 17_000), long.slice(17_000)];
      const accepted = await raw(server, "POST", "/api/v1/verify", headers, chunks, pool);
      expect(accepted.status).toBe(200);
      expect(accepted.body.record.permitted).toBe(true);
      const big = "x".repeat(200_000);
      const refused = await raw(server, "POST", "/api/v1/verify", headers, [big.slice(0, 10), big.slice(10)], pool);
      expect(refused.status).toBe(413);
      const next = await raw(server, "POST", "/api/v1/verify", headers, [JSON.stringify({ action: { actionId: "after-413", actor: agent.machine, reads: [agent.resource] } })], pool);
      expect(next.status).toBe(200);
      expect(next.body.record.permitted).toBe(true);
    } finally {
      pool.destroy();
    }
  });

  it("hands every other request to Next", async () => {
    const answers: Record<string, Awaited<ReturnType<typeof raw>>> = {};
    const lines = await leanLinesOf(0, async () => {
      answers.health = await raw(server, "GET", "/api/health", {});
      answers.openapi = await raw(server, "GET", "/api/v1/openapi.json", {});
      answers.login = await raw(server, "GET", "/login", {});
      answers.headKeys = await raw(server, "HEAD", "/api/v1/keys", {});
      answers.getVerify = await raw(server, "GET", "/api/v1/verify", { authorization: `Bearer ${agent.token}` });
      answers.slash = await raw(server, "POST", "/api/v1/verify/", { authorization: `Bearer ${agent.token}`, "content-type": "application/json" }, ["{}"]);
      answers.machines = await raw(server, "GET", "/api/v1/machines", { authorization: `Bearer ${OPERATOR_TOKEN}` });
      answers.agentOnConsole = await raw(server, "GET", "/api/v1/machines", { authorization: `Bearer ${agent.token}` });
      answers.missing = await raw(server, "GET", "/api/v1/no-such-route", {});
    });
    expect(lines).toEqual([]);
    expect(answers.health!.status).toBe(200);
    expect(answers.openapi!.status).toBe(200);
    expect(Object.keys(answers.openapi!.body.paths)).toEqual(expect.arrayContaining(["/verify", "/verify-plan", "/permits/redeem", "/keys"]));
    expect(answers.login!.status).toBe(200);
    expect(answers.login!.headers["content-type"]).toMatch(/^text\/html/);
    expect(answers.headKeys!.status).toBe(200);
    expect(answers.getVerify!.status).toBe(405);
    expect(answers.slash!.status).toBe(308);
    expect(answers.slash!.headers.location).toBe("/api/v1/verify");
    expect(answers.machines!.status).toBe(200);
    expect(answers.agentOnConsole!.status).toBe(403);
    expect(answers.agentOnConsole!.body.error.code).toBe("FORBIDDEN");
    expect(answers.missing!.status).toBe(404);
  });

  it("shares the process's state with Next: one audit chain, one token cache, one stream worker", async () => {
    // Decisions on the lean path and grants through Next, at once, on one SQLite connection.
    const other = await makeAgent(server, "lean-mix");
    const work: Promise<{ status: number }>[] = [];
    for (let i = 0; i < 40; i++) {
      work.push(verifyAs(server, agent, { actionId: `mix-${i}`, reads: [agent.resource] }));
      if (i % 4 === 0) work.push(call(server, "POST", "/grants", { token: OPERATOR_TOKEN, body: { holder: other.machine, resource: other.resource, canRead: true, canWrite: false, canDelegate: false, grantor: other.owner } }));
    }
    expect((await Promise.all(work)).map((r) => r.status).every((s) => s === 200)).toBe(true);
    const exported = await call(server, "GET", "/audit/export", { token: OPERATOR_TOKEN });
    const summary = verifyAuditExport(parseAuditExport(exported.body));
    expect(summary.ok).toBe(true);

    // A token revoked through Next (the console's route) is refused at once on the lean path,
    // also where no decision batch would re-check it: redeeming a permit it got before.
    const permit = await verifyAs(server, other, { actionId: "before-revoke", reads: [other.resource] });
    expect(permit.body.record.permitted).toBe(true);
    const tokens = await call(server, "GET", `/machines/${other.machine}/tokens`, { token: OPERATOR_TOKEN });
    expect((await call(server, "DELETE", `/tokens/${tokens.body[0].id}`, { token: OPERATOR_TOKEN })).status).toBe(200);
    const redeem = await call(server, "POST", "/permits/redeem", { token: other.token, body: permit.body });
    expect(redeem.status).toBe(401);
    expect(redeem.body.permitted).toBe(false);
    const after = await verifyAs(server, other, { actionId: "after-revoke", reads: [other.resource] });
    expect(after.status).toBe(401);
    expect(after.body.permitted).toBe(false);

    // The audit stream's worker started once (by the server, before Next's instrumentation ran
    // for the first console request), and every entry went out exactly once.
    expect(server.output().split("\n").filter((l) => l.includes('"msg":"audit stream started"'))).toHaveLength(1);
    const entries = (exported.body as string).split("\n").filter((l) => l.includes('"type":"entry"'));
    const shipped = await until("the stream to ship the exported entries", () => {
      const lines = server.output().split("\n").filter((l) => l.includes('"type":"entry"'));
      return entries.every((e) => lines.includes(e)) ? lines : undefined;
    });
    for (const e of entries) expect(shipped.filter((l) => l === e)).toHaveLength(1);
  });
});
