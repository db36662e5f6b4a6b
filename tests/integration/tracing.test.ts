/**
 * OpenTelemetry traces over real HTTP (issue 14): the product (`npm start`, from the build) with
 * OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP/HTTP JSON receiver inside this test. Every
 * decision on /verify, /verify-plan and /permits/redeem arrives as one trace whose root span and
 * phase spans carry the outcome, violation codes and audit sequence number of the signed answer,
 * and the exported bytes hold nothing of the actions' text, resources, messages or the token. A
 * collector that refuses every export changes no decision.
 */
import crypto from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshSqlite, type TestDatabase } from "../support/databases";
import { call, startServer, type TestServer } from "../support/server";
import { makeAgent, verifyAs, type Agent } from "../support/world";
import { until } from "../support/until";

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: OtlpValue }[];
  status?: { code?: number; message?: string };
}

/** An OTLP/HTTP receiver: keeps every body POSTed to /v1/traces; answers `status` meanwhile. */
function receiver() {
  const bodies: string[] = [];
  const contentTypes: string[] = [];
  let status = 200;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") {
        contentTypes.push(String(req.headers["content-type"]));
        if (status === 200) bodies.push(Buffer.concat(chunks).toString("utf8"));
      }
      res.writeHead(req.url === "/v1/traces" ? status : 404, { "content-type": "application/json" });
      res.end(status === 200 ? "{}" : '{"code":3,"message":"refused by the test"}');
    });
  });
  return {
    bodies,
    contentTypes,
    refuse: (on: boolean) => (status = on ? 400 : 200),
    listen: () => new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    spans(): { span: OtlpSpan; service: string }[] {
      const out: { span: OtlpSpan; service: string }[] = [];
      for (const body of bodies) {
        const doc = JSON.parse(body) as { resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of doc.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
          for (const ss of rs.scopeSpans) for (const span of ss.spans) out.push({ span, service });
        }
      }
      return out;
    },
  };
}

function value(v: OtlpValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}
const attrs = (s: OtlpSpan): Record<string, unknown> => Object.fromEntries((s.attributes ?? []).map((a) => [a.key, value(a.value)]));
const nanos = (t: string) => BigInt(t);

/** The documented hash of action ids, recomputed here rather than imported. */
const idHash = (ids: string[]) => crypto.createHash("sha256").update(`freedom-kernel/trace/action-id/v1\n${JSON.stringify(ids)}`).digest("hex").slice(0, 32);

interface Trace {
  root: OtlpSpan;
  children: OtlpSpan[];
  service: string;
}
function traces(spans: { span: OtlpSpan; service: string }[]): Trace[] {
  const byTrace = new Map<string, { span: OtlpSpan; service: string }[]>();
  for (const s of spans) byTrace.set(s.span.traceId, [...(byTrace.get(s.span.traceId) ?? []), s]);
  return [...byTrace.values()].map((list) => {
    const roots = list.filter((s) => !s.span.parentSpanId);
    expect(roots, "one root span per trace").toHaveLength(1);
    const root = roots[0]!.span;
    return { root, children: list.filter((s) => s.span !== root).map((s) => s.span), service: roots[0]!.service };
  });
}

const DECISION_SPANS = ["append", "authenticate", "commit", "queue", "sign", "snapshot", "verify"];
// Free text an action may carry; none of it, and no resource it names, may leave in a span.
const SECRET_DESCRIPTION = "quarterly-payroll-export-for-alice-7f3a";
const SECRET_ARGUMENT = "ssn=123-45-6789 please";

describe("decision traces over OTLP/HTTP", () => {
  const otlp = receiver();
  let database: TestDatabase;
  let server: TestServer;
  let agent: Agent;

  beforeAll(async () => {
    const port = await otlp.listen();
    database = await freshSqlite();
    server = await startServer({
      database: database.config,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SERVICE_NAME: "fk-trace-test", OTEL_EXPORTER_OTLP_HEADERS: "x-collector-key=collector-secret-1234" },
    });
    agent = await makeAgent(server, "trace");
  });

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    await otlp.close();
  });

  it("one trace per decision, with every phase and the signed answer's outcome, codes and audit seq", async () => {
    const before = otlp.spans().length;
    const secretResource = `unregistered-${crypto.randomBytes(4).toString("hex")}`;
    // Sequential and concurrent decisions (the concurrent ones may share a batch).
    const answers: { kind: "verify" | "plan" | "redeem"; actionIds: string[]; status: number; body: any }[] = [];
    const permitted = await verifyAs(server, agent, { actionId: "t-permit", reads: [agent.resource], description: SECRET_DESCRIPTION, argument: SECRET_ARGUMENT });
    answers.push({ kind: "verify", actionIds: ["t-permit"], ...permitted });
    const blocked = await verifyAs(server, agent, { actionId: "t-block", reads: [secretResource], writes: [`/data/${agent.owner}/payroll.csv`], argument: SECRET_ARGUMENT });
    answers.push({ kind: "verify", actionIds: ["t-block"], ...blocked });
    const burst = await Promise.all(
      Array.from({ length: 6 }, (_, i) => verifyAs(server, agent, { actionId: `t-burst-${i}`, reads: [i % 2 ? secretResource : agent.resource], description: SECRET_DESCRIPTION })),
    );
    burst.forEach((b, i) => answers.push({ kind: "verify", actionIds: [`t-burst-${i}`], ...b }));
    const plan = await call(server, "POST", "/verify-plan", {
      token: agent.token,
      body: { actions: [{ actionId: "t-plan-1", actor: agent.machine, reads: [agent.resource] }, { actionId: "t-plan-2", actor: agent.machine, writes: [secretResource], description: SECRET_DESCRIPTION }] },
    });
    answers.push({ kind: "plan", actionIds: ["t-plan-1", "t-plan-2"], ...plan });
    const redeemed = await call(server, "POST", "/permits/redeem", { token: agent.token, body: permitted.body });
    answers.push({ kind: "redeem", actionIds: ["t-permit"], ...redeemed });
    const reused = await call(server, "POST", "/permits/redeem", { token: agent.token, body: permitted.body });
    answers.push({ kind: "redeem", actionIds: ["t-permit"], ...reused });

    expect(permitted.body.record.permitted).toBe(true);
    expect(blocked.body.record.permitted).toBe(false);
    expect(plan.status).toBe(200);
    expect(redeemed.status).toBe(200);
    expect(reused.status).toBe(409);

    const got = await until("a trace per decision", () => {
      const t = traces(otlp.spans().slice(before));
      return t.length >= answers.length ? t : undefined;
    });
    expect(got).toHaveLength(answers.length);
    expect(otlp.contentTypes.every((c) => c.startsWith("application/json"))).toBe(true);

    // Match traces to answers by the action id hash, then check everything against the answer.
    for (const answer of answers) {
      const matching = got.filter((t) => attrs(t.root)["fk.action_id.hash"] === idHash(answer.actionIds) && attrs(t.root)["fk.decision.kind"] === answer.kind);
      const t = answer.kind === "redeem" ? matching.find((m) => attrs(m.root)["fk.outcome"] === (answer.status === 200 ? "redeemed" : "refused")) : matching[0];
      expect(t, `${answer.kind} ${answer.actionIds.join(",")}`).toBeDefined();
      const a = attrs(t!.root);
      expect(t!.service).toBe("fk-trace-test");
      expect(a["fk.machine"]).toBe(agent.machine);
      const names = t!.children.map((c) => c.name).sort();
      for (const c of t!.children) {
        expect(c.parentSpanId).toBe(t!.root.spanId);
        expect(nanos(c.startTimeUnixNano) >= nanos(t!.root.startTimeUnixNano)).toBe(true);
        expect(nanos(c.endTimeUnixNano) <= nanos(t!.root.endTimeUnixNano)).toBe(true);
      }
      if (answer.kind === "redeem") {
        expect(t!.root.name).toBe("POST /api/v1/permits/redeem");
        // A redemption's answer is not signed: no sign span; its permit is checked in two stages.
        expect(names).toEqual(["append", "authenticate", "commit", "queue", "snapshot", "verify", "verify"]);
        expect(a["fk.permit.decision_seq"]).toBe(permitted.body.record.auditSeq);
        expect(a["fk.audit.seq"]).toBeGreaterThan(permitted.body.record.auditSeq);
        if (answer.status === 409) expect(a["fk.reason"]).toBe("REUSED");
        continue;
      }
      const record = answer.body.record;
      expect(t!.root.name).toBe(answer.kind === "plan" ? "POST /api/v1/verify-plan" : "POST /api/v1/verify");
      expect(names).toEqual(DECISION_SPANS);
      expect(a["fk.outcome"]).toBe(record.permitted ? "permitted" : "blocked");
      expect(a["fk.audit.seq"]).toBe(record.auditSeq);
      expect(a["fk.snapshot.version"]).toBe(record.snapshot.version);
      const codes: string[] = answer.kind === "plan" ? record.steps.flatMap((s: any) => s.violations.map((v: any) => v.code)) : record.violations.map((v: any) => v.code);
      expect(a["fk.violation_codes"]).toEqual([...new Set(codes)]);
      expect(a["fk.batch.size"]).toBeGreaterThanOrEqual(1);
      if (answer.kind === "plan") expect(a["fk.plan.steps"]).toBe(2);
    }

    // Nothing of the actions, the answers' messages, the token or the exporter's headers left.
    const exported = otlp.bodies.join("\n");
    const messages = answers.flatMap((x) => (x.body?.record?.violations ?? []).map((v: any) => v.message as string));
    for (const text of [SECRET_DESCRIPTION, SECRET_ARGUMENT, secretResource, agent.resource, "payroll.csv", agent.token, "t-permit", "t-burst-", "t-plan-", "collector-secret-1234", permitted.body.signature, ...messages]) {
      expect(exported.includes(text), `exported spans contain ${JSON.stringify(text.slice(0, 40))}`).toBe(false);
    }
  });

  it("a refused credential is traced as unauthenticated, with no decision phases", async () => {
    const before = otlp.spans().length;
    const res = await call(server, "POST", "/verify", { token: "fkm_not-a-real-token", body: { action: { actionId: "x", actor: agent.machine } } });
    expect(res.status).toBe(401);
    const t = await until("the 401's trace", () => traces(otlp.spans().slice(before)).find((x) => attrs(x.root)["fk.outcome"] === "unauthenticated"));
    expect(attrs(t!.root)).toMatchObject({ "fk.outcome": "unauthenticated", "fk.reason": "UNAUTHENTICATED" });
    expect(t!.children.map((c) => c.name)).toEqual(["authenticate"]);
    expect(otlp.bodies.join("\n")).not.toContain("fkm_not-a-real-token");
  });

  it("a collector that refuses every export changes no decision, and the failure is logged", async () => {
    otlp.refuse(true);
    try {
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => verifyAs(server, agent, { actionId: `t-refused-${i}`, reads: [agent.resource] })));
      for (const r of results) {
        expect(r.status).toBe(200);
        expect(r.body.record.permitted).toBe(true);
      }
      await until("the export failure in the log", () => (/"msg":"trace export failed"/.test(server.output()) ? true : undefined));
      expect(server.output()).not.toContain("collector-secret-1234");
      // The failures are counted in the Prometheus metrics beside the spans exported before.
      const metrics = await (await fetch(`${server.url}/api/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(metrics)?.[1] ?? NaN);
      expect(value("fk_trace_spans_exported_total")).toBeGreaterThan(0);
      expect(value("fk_trace_export_failures_total")).toBeGreaterThan(0);
      expect(value("fk_trace_spans_queued_total")).toBeGreaterThanOrEqual(value("fk_trace_spans_exported_total"));
    } finally {
      otlp.refuse(false);
    }
  });
});
