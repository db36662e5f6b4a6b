/**
 * The tracing helpers (lib/server/tracing.ts) with the SDK's InMemorySpanExporter: off, nothing is
 * built; on, one trace per decision with a root span and one child per phase, only the allowed
 * attributes, and exporter failures counted, never thrown. The real decision path is covered over
 * HTTP by tests/integration/tracing.test.ts.
 */
import { trace as otelTrace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { beginRequestTrace, DecisionTrace, flushTracing, hashActionIds, isTracing, startTracing, stopTracing, takeDecisionTrace, tracingStats } from "../tracing";

const post = (path: string) => new Request(`http://127.0.0.1:3000${path}`, { method: "POST" });
const ms = (t: readonly [number, number]) => t[0] * 1000 + t[1] / 1e6;

/** What lib/server/http.ts does: awaits authenticate (which starts the trace), then the handler. */
async function authenticateLike(req: Request): Promise<void> {
  const t = beginRequestTrace(req);
  await new Promise((r) => setTimeout(r, 1));
  t?.phase("authenticate", t.start);
}

const ALLOWED_ROOT_KEYS = new Set([
  "http.request.method",
  "http.route",
  "fk.decision.kind",
  "fk.outcome",
  "fk.machine",
  "fk.violation_codes",
  "fk.audit.seq",
  "fk.action_id.hash",
  "fk.snapshot.version",
  "fk.reason",
  "fk.batch.size",
  "fk.batch.index",
  "fk.permit.replayed",
  "fk.plan.steps",
  "fk.permit.decision_seq",
]);

afterEach(async () => {
  await stopTracing();
});

describe("tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)", () => {
  it("sets nothing up: no tracer, no trace objects, and the global OpenTelemetry API stays a no-op", async () => {
    expect(await startTracing({ tracing: null })).toBe(false);
    expect(isTracing()).toBe(false);
    expect(beginRequestTrace(post("/api/v1/verify"))).toBeNull();
    expect(takeDecisionTrace("verify")).toBeNull();
    expect(takeDecisionTrace("redeem")).toBeNull();
    const span = otelTrace.getTracer("probe").startSpan("probe");
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toBe("00000000000000000000000000000000");
    expect(tracingStats()).toMatchObject({ enabled: false, spansQueued: 0 });
  });
});

describe("tracing on", () => {
  it("one trace per decision: a root span over the request and one child per phase, in time", async () => {
    const exporter = new InMemorySpanExporter();
    expect(await startTracing({ tracing: null, exporter })).toBe(true);
    const before = tracingStats();
    for (let i = 0; i < 3; i++) {
      await (async () => {
        await authenticateLike(post("/api/v1/verify"));
        const t = takeDecisionTrace("verify")!;
        expect(t).toBeInstanceOf(DecisionTrace);
        // Taken once: a second decision in the same request starts a trace of its own.
        expect(takeDecisionTrace("verify")).not.toBe(t);
        let c = performance.now();
        for (const phase of ["queue", "snapshot", "verify", "sign", "append", "commit"] as const) {
          const s = c;
          c += 0.5;
          t.phase(phase, s, c);
        }
        t.note("batch.size", 2);
        t.finish({ outcome: "blocked", machine: "bot-1", codes: ["READ_DENIED", "READ_DENIED", "HALTED"], auditSeq: 40 + i, actionIds: [`a-${i}`], snapshotVersion: 7 }, c + 0.1);
        t.finish({ outcome: "permitted" }); // once only
      })();
    }
    await flushTracing();
    const spans = exporter.getFinishedSpans();
    const traces = new Map<string, ReadableSpan[]>();
    for (const s of spans) traces.set(s.spanContext().traceId, [...(traces.get(s.spanContext().traceId) ?? []), s]);
    expect(traces.size).toBe(3);
    for (const [, list] of traces) {
      const roots = list.filter((s) => s.parentSpanContext === undefined);
      expect(roots).toHaveLength(1);
      const root = roots[0]!;
      expect(root.name).toBe("POST /api/v1/verify");
      expect(list.filter((s) => s !== root).map((s) => s.name).sort()).toEqual(["append", "authenticate", "commit", "queue", "sign", "snapshot", "verify"]);
      for (const child of list.filter((s) => s !== root)) {
        expect(child.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
        expect(ms(child.startTime)).toBeGreaterThanOrEqual(ms(root.startTime) - 0.001);
        expect(ms(child.endTime)).toBeLessThanOrEqual(ms(root.endTime) + 0.001);
      }
      const seq = root.attributes["fk.audit.seq"] as number;
      expect(root.attributes).toMatchObject({
        "fk.outcome": "blocked",
        "fk.machine": "bot-1",
        "fk.violation_codes": ["READ_DENIED", "HALTED"],
        "fk.snapshot.version": 7,
        "fk.batch.size": 2,
        "fk.action_id.hash": hashActionIds([`a-${seq - 40}`]),
      });
      for (const key of Object.keys(root.attributes)) expect(ALLOWED_ROOT_KEYS.has(key), key).toBe(true);
    }
    const after = tracingStats();
    expect(after.enabled).toBe(true);
    expect([after.spansExported - before.spansExported, after.spansFailed - before.spansFailed, after.spansDropped - before.spansDropped]).toEqual([spans.length, 0, 0]);
  });

  it("starts traces only for POSTs to the three decision routes", async () => {
    await startTracing({ tracing: null, exporter: new InMemorySpanExporter() });
    expect(beginRequestTrace(post("/api/v1/verify"))?.kind).toBe("verify");
    expect(beginRequestTrace(post("/api/v1/verify-plan"))?.kind).toBe("plan");
    expect(beginRequestTrace(post("/api/v1/permits/redeem"))?.kind).toBe("redeem");
    expect(beginRequestTrace(post("/api/v1/machines"))).toBeNull();
    expect(beginRequestTrace(new Request("http://x/api/v1/verify"))).toBeNull();
  });

  it("hashes action ids under a domain: the id is not exported, and a list is not its concatenation", () => {
    expect(hashActionIds(["a1"])).toMatch(/^[0-9a-f]{32}$/);
    expect(hashActionIds(["a1"])).not.toBe(hashActionIds(["a2"]));
    expect(hashActionIds(["a", "b"])).not.toBe(hashActionIds(["a\nb"]));
    expect(hashActionIds(["a", "b"])).not.toBe(hashActionIds(["ab"]));
  });

  it("an exporter that fails or throws is counted and never reaches the caller", async () => {
    let calls = 0;
    const failing: SpanExporter = {
      export: (_spans, done) => {
        calls++;
        if (calls === 1) done({ code: 1, error: new Error("collector said 503") });
        else throw new Error("exporter bug");
      },
      shutdown: async () => undefined,
    };
    await startTracing({ tracing: null, exporter: failing });
    const before = tracingStats();
    for (let i = 0; i < 2; i++) {
      const t = takeDecisionTrace("redeem")!;
      t.phase("verify", t.start);
      expect(() => t.finish({ outcome: "redeemed", auditSeq: i })).not.toThrow();
      await flushTracing();
    }
    expect(calls).toBe(2);
    const after = tracingStats();
    expect([after.exportFailures - before.exportFailures, after.spansFailed - before.spansFailed, after.spansExported - before.spansExported]).toEqual([2, 4, 0]);
  });

  it("a full queue drops spans and counts them (the exporter never answers)", async () => {
    const stuck: SpanExporter = { export: () => undefined, shutdown: async () => undefined };
    await startTracing({ tracing: null, exporter: stuck, scheduledDelayMs: 60_000, exportTimeoutMs: 20 });
    const before = tracingStats();
    // Exports start on a later turn of the event loop: within one turn, the queue's 8192 fill up.
    for (let i = 0; i < 8800; i++) takeDecisionTrace("verify")!.finish({ outcome: "permitted" });
    expect(tracingStats().spansQueued).toBe(before.spansQueued); // built on the next turn
    await new Promise((r) => setImmediate(r));
    const after = tracingStats();
    expect(after.spansQueued - before.spansQueued).toBe(8192);
    expect(after.spansDropped - before.spansDropped).toBe(8800 - 8192);
  });
});
