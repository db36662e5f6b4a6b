import "server-only";
import { sinkStates } from "./stream/state";
import { tracingStats } from "./tracing";

/** Prometheus counters and a latency histogram for decisions, kept per process. */
const BUCKETS_MS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

const metrics = ((globalThis as unknown as { __fkMetrics?: Metrics }).__fkMetrics ??= {
  outcomes: new Map<string, number>(),
  codes: new Map<string, number>(),
  buckets: new Array<number>(BUCKETS_MS.length).fill(0),
  count: 0,
  sumMs: 0,
});

interface Metrics {
  outcomes: Map<string, number>;
  codes: Map<string, number>;
  buckets: number[];
  count: number;
  sumMs: number;
}

export function recordDecision(outcome: "permitted" | "blocked" | "error", codes: readonly string[], started: bigint): void {
  metrics.outcomes.set(outcome, (metrics.outcomes.get(outcome) ?? 0) + 1);
  for (const c of new Set(codes)) metrics.codes.set(c, (metrics.codes.get(c) ?? 0) + 1);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  metrics.count += 1;
  metrics.sumMs += ms;
  BUCKETS_MS.forEach((b, i) => {
    if (ms <= b) metrics.buckets[i]! += 1;
  });
}

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function renderMetrics(auditLength: number): string {
  const lines: string[] = [];
  lines.push("# HELP fk_decisions_total Decisions answered, by outcome (error = refused because it could not be recorded).");
  lines.push("# TYPE fk_decisions_total counter");
  for (const outcome of ["permitted", "blocked", "error"]) {
    lines.push(`fk_decisions_total{outcome="${outcome}"} ${metrics.outcomes.get(outcome) ?? 0}`);
  }
  lines.push("# HELP fk_violations_total Decisions that carried a violation code.");
  lines.push("# TYPE fk_violations_total counter");
  for (const [code, n] of [...metrics.codes].sort()) lines.push(`fk_violations_total{code="${esc(code)}"} ${n}`);
  lines.push("# HELP fk_decision_duration_seconds Time from request to committed, signed answer.");
  lines.push("# TYPE fk_decision_duration_seconds histogram");
  BUCKETS_MS.forEach((b, i) => lines.push(`fk_decision_duration_seconds_bucket{le="${b / 1000}"} ${metrics.buckets[i]}`));
  lines.push(`fk_decision_duration_seconds_bucket{le="+Inf"} ${metrics.count}`);
  lines.push(`fk_decision_duration_seconds_sum ${metrics.sumMs / 1000}`);
  lines.push(`fk_decision_duration_seconds_count ${metrics.count}`);
  lines.push("# HELP fk_audit_entries Entries in the audit log.");
  lines.push("# TYPE fk_audit_entries gauge");
  lines.push(`fk_audit_entries ${auditLength}`);
  lines.push(...renderStreamMetrics(auditLength));
  lines.push(...renderTracingMetrics());
  return lines.join("\n") + "\n";
}

/**
 * The audit stream, per sink this replica runs (lib/server/stream): the cursor as this replica
 * last saw it (the standby replicas read it at each lease check), the lag behind the log's head
 * (head seq - cursor; -1 while the log's length is unknown), whether this replica holds the lease,
 * and this replica's delivered entries and failed attempts.
 */
function renderStreamMetrics(auditLength: number): string[] {
  const sinks = sinkStates();
  if (sinks.length === 0) return [];
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: (s: (typeof sinks)[number][1]) => number, type = "gauge") => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [sink, s] of sinks) lines.push(`${name}{sink="${sink}"} ${value(s)}`);
  };
  gauge("fk_stream_cursor", "Seq of the last audit entry the sink acknowledged (-1: none yet).", (s) => s.cursor);
  gauge("fk_stream_lag", "Audit entries not yet acknowledged by the sink: head seq - cursor (-1: unknown).", (s) => (auditLength < 0 ? -1 : Math.max(0, auditLength - 1 - s.cursor)));
  gauge("fk_stream_leader", "1 while this replica holds the sink's lease and ships to it.", (s) => (s.leader ? 1 : 0));
  gauge("fk_stream_delivered_total", "Audit entries this replica delivered to the sink (redeliveries count again).", (s) => s.delivered, "counter");
  gauge("fk_stream_failures_total", "Failed delivery attempts by this replica (each is retried).", (s) => s.failures, "counter");
  gauge("fk_stream_takeovers_total", "Times this replica took the sink's lease.", (s) => s.takeovers, "counter");
  return lines;
}

/**
 * Traces (lib/server/tracing.ts), only while OTEL_EXPORTER_OTLP_ENDPOINT is set: spans queued for
 * export, exported, dropped because the export queue was full, lost to failed exports, and the
 * failed export requests. A decision never waits for any of it.
 */
function renderTracingMetrics(): string[] {
  const t = tracingStats();
  if (!t.enabled) return [];
  const counter = (name: string, help: string, value: number) => [`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`];
  return [
    ...counter("fk_trace_spans_queued_total", "Spans queued for OTLP export.", t.spansQueued),
    ...counter("fk_trace_spans_exported_total", "Spans the collector accepted.", t.spansExported),
    ...counter("fk_trace_spans_dropped_total", "Spans dropped because the export queue was full.", t.spansDropped),
    ...counter("fk_trace_spans_failed_total", "Spans lost to failed exports.", t.spansFailed),
    ...counter("fk_trace_export_failures_total", "Export requests that failed.", t.exportFailures),
  ];
}
