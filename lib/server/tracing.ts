import "server-only";
import crypto from "node:crypto";
import { AsyncLocalStorage } from "node:async_hooks";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Tracer } from "@opentelemetry/api";
import type { ReadableSpan, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { config, type TracingConfig } from "./config";
import { log } from "./log";

/**
 * OpenTelemetry traces of decisions (issue 14): one trace per decision on the agent routes
 * (POST /api/v1/verify, /verify-plan, /permits/redeem), a root span from authentication to the
 * committed answer and one child span per phase.
 *
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) is set (lib/server/config.ts). Off,
 * nothing is set up: the SDK is never imported, no provider is registered, and `beginDecision`
 * answers null, so the decision path builds no span, reads no clock for tracing and allocates
 * nothing for it. On, the decision path only notes phase times in a plain array (`DecisionTrace`);
 * once the answer is handed back, the spans are built in one go on the next turn of the event
 * loop, handed to a bounded queue, and exported in the background. Nothing here can change, delay past its commit, or fail a decision: every
 * call is total (errors are counted, never thrown), a full queue drops spans (counted), and an
 * export that fails or times out is counted and logged at most once a minute.
 *
 * Decisions are group-committed (decisions.ts): one transaction reads the snapshot once, decides a
 * batch and commits once. A decision's `snapshot` and `commit` spans are its batch's (the same
 * interval for every decision of a batch, with `fk.batch.size`); `queue`, `verify`, `sign` and
 * `append` are its own. Gaps between spans are time the decision spent waiting for others.
 *
 * Our provider is never registered as the global one: Next.js's own spans stay no-ops, and only
 * these traces are exported. Spans carry the machine, outcome, violation codes, audit sequence
 * number, snapshot version and a hash of the action id — never the action (its reads, writes,
 * arguments or description), a violation's message, a token, a header or a permit's signature.
 */

export type DecisionKind = "verify" | "plan" | "redeem";
export type Phase = "authenticate" | "queue" | "snapshot" | "verify" | "sign" | "append" | "commit";
export type Outcome = "permitted" | "blocked" | "redeemed" | "refused" | "unauthenticated" | "forbidden" | "error";

/** The route a decision kind is asked on (the root span's name and `http.route`). */
export const DECISION_ROUTES: Readonly<Record<DecisionKind, string>> = {
  verify: "/api/v1/verify",
  plan: "/api/v1/verify-plan",
  redeem: "/api/v1/permits/redeem",
};
const KIND_OF_PATH: ReadonlyMap<string, DecisionKind> = new Map(Object.entries(DECISION_ROUTES).map(([k, p]) => [p, k as DecisionKind]));

export interface DecisionOutcome {
  outcome: Outcome;
  machine?: string;
  /** Violation codes (deduplicated here); never messages. */
  codes?: readonly string[];
  auditSeq?: number;
  /** The action id (plans: every step's), hashed before it is exported. */
  actionIds?: readonly string[];
  snapshotVersion?: number;
  /** A refusal's stable code (SNAPSHOT_UNAVAILABLE, a redemption's reason, …). */
  reason?: string;
  /** Extra fk.* attributes of the root span (numbers and booleans only: no free text). */
  extra?: Readonly<Record<string, number | boolean>>;
}

export interface TracingStats {
  enabled: boolean;
  spansQueued: number;
  spansExported: number;
  spansDropped: number;
  spansFailed: number;
  exportFailures: number;
  internalErrors: number;
}

interface State {
  tracer: Tracer | null;
  processor: ExportQueue | null;
  stats: TracingStats;
  starting: Promise<boolean> | null;
}

// One per process, whatever number of bundles this module is compiled into (Next.js may load it
// once for instrumentation.ts and again in a route's chunk).
const globals = globalThis as unknown as { __fkTracing?: State };
const state: State = (globals.__fkTracing ??= {
  tracer: null,
  processor: null,
  starting: null,
  stats: { enabled: false, spansQueued: 0, spansExported: 0, spansDropped: 0, spansFailed: 0, exportFailures: 0, internalErrors: 0 },
});

/** The decision a request is part of, from authentication on (see auth.ts). */
const current = new AsyncLocalStorage<DecisionTrace>();

const now = () => performance.now();

/** Whether traces are being recorded in this process. */
export function isTracing(): boolean {
  return state.tracer !== null;
}

/** Counters since start (exported, dropped and failed spans). */
export function tracingStats(): TracingStats {
  return { ...state.stats, enabled: state.tracer !== null };
}

/**
 * The phases of one decision, noted as they happen (plain numbers, no span objects), and turned
 * into spans by `finish` once the answer is known. `finish` runs at most once; every method is
 * total.
 */
export class DecisionTrace {
  private readonly phases: [Phase, number, number, Attributes | undefined][] = [];
  private readonly notes: Record<string, number | boolean> = Object.create(null) as Record<string, number | boolean>;
  private finished = false;
  /** Handed to a decision already (takeDecisionTrace): never to a second one. */
  taken = false;
  /** When the request joined the decision queue (decisions.ts). */
  enqueued = 0;

  constructor(
    readonly kind: DecisionKind,
    readonly start: number = now(),
  ) {}

  /** Notes a phase that ran from `start` to `end` (performance.now() milliseconds). */
  phase(name: Phase, start: number, end: number = now(), attributes?: Attributes): void {
    if (!this.finished) this.phases.push([name, start, end, attributes]);
  }

  /** Notes an fk.* attribute of the root span (numbers and booleans only: no free text). */
  note(key: string, value: number | boolean): void {
    this.notes[key] = value;
  }

  /**
   * Ends the trace; its spans are built and queued on the next turn of the event loop, so the
   * answers handed back just before are written first. Never throws; does nothing the second time.
   */
  finish(result: DecisionOutcome, end: number = now()): void {
    if (this.finished) return;
    this.finished = true;
    if (!state.tracer) return;
    pending.push([this, result, end]);
    emitting ??= setImmediate(emitPending);
  }

  /** Builds this trace's spans (emitPending). */
  emit(tracer: Tracer, result: DecisionOutcome, end: number): void {
    try {
      const root = tracer.startSpan(`POST ${DECISION_ROUTES[this.kind]}`, { root: true, kind: SpanKind.SERVER, startTime: hrTime(this.start), attributes: rootAttributes(this.kind, result, this.notes) }, ROOT_CONTEXT);
      const parent = trace.setSpan(ROOT_CONTEXT, root);
      for (const [name, start, stop, attributes] of this.phases) {
        tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: hrTime(start), ...(attributes ? { attributes } : {}) }, parent).end(hrTime(stop));
      }
      if (result.outcome === "error") root.setStatus({ code: SpanStatusCode.ERROR, ...(result.reason ? { message: result.reason } : {}) });
      root.end(hrTime(end));
    } catch {
      state.stats.internalErrors++;
    }
  }
}

/** Finished traces whose spans are not built yet, and the immediate that will build them. */
const pending: [DecisionTrace, DecisionOutcome, number][] = [];
let emitting: NodeJS.Immediate | null = null;

function emitPending(): void {
  if (emitting) clearImmediate(emitting);
  emitting = null;
  const batch = pending.splice(0, pending.length);
  const tracer = state.tracer;
  if (tracer) for (const [t, result, end] of batch) t.emit(tracer, result, end);
}

/**
 * A performance.now() reading as OpenTelemetry's [seconds, nanoseconds] since the epoch, on the
 * same clock for every span (the SDK's own conversion of a number re-reads Date.now() per span,
 * which skews spans of one trace against each other by up to a millisecond).
 */
function hrTime(ms: number): [number, number] {
  const t = performance.timeOrigin + ms;
  const seconds = Math.floor(t / 1000);
  const nanos = Math.min(999_999_999, Math.round((t - seconds * 1000) * 1e6));
  return [seconds, nanos];
}

/**
 * A hash of an action id, so a trace can be found from the id without exporting it: SHA-256 under
 * its own domain, 128 bits. Action ids are chosen by agents and may carry meaning; nothing else
 * of the action is exported.
 */
export function hashActionIds(ids: readonly string[]): string {
  return crypto.createHash("sha256").update(`freedom-kernel/trace/action-id/v1\n${JSON.stringify(ids)}`).digest("hex").slice(0, 32);
}

function rootAttributes(kind: DecisionKind, r: DecisionOutcome, notes: Readonly<Record<string, number | boolean>>): Attributes {
  const a: Attributes = { "http.request.method": "POST", "http.route": DECISION_ROUTES[kind], "fk.decision.kind": kind, "fk.outcome": r.outcome };
  if (r.machine !== undefined) a["fk.machine"] = r.machine;
  if (r.codes !== undefined) a["fk.violation_codes"] = [...new Set(r.codes)];
  if (r.auditSeq !== undefined && r.auditSeq >= 0) a["fk.audit.seq"] = r.auditSeq;
  if (r.actionIds !== undefined && r.actionIds.length > 0) a["fk.action_id.hash"] = hashActionIds(r.actionIds);
  if (r.snapshotVersion !== undefined) a["fk.snapshot.version"] = r.snapshotVersion;
  if (r.reason !== undefined) a["fk.reason"] = r.reason;
  for (const [k, v] of Object.entries(notes)) a[`fk.${k}`] = v;
  if (r.extra) for (const [k, v] of Object.entries(r.extra)) a[`fk.${k}`] = v;
  return a;
}

// ------------------------------------------------------------------------------------------------
// The decision path's entry points: cheap nulls when tracing is off
// ------------------------------------------------------------------------------------------------

/**
 * Called by `authenticate` (auth.ts): for a request to a decision route, starts its trace and
 * makes it the request's current one, so the decision service picks it up without any change to
 * the route wrapper or handlers. Returns null when tracing is off or the route decides nothing.
 */
export function beginRequestTrace(req: Request): DecisionTrace | null {
  if (state.tracer === null || req.method !== "POST") return null;
  try {
    const kind = KIND_OF_PATH.get(new URL(req.url).pathname);
    if (!kind) return null;
    const t = new DecisionTrace(kind);
    // enterWith, not run: the wrapper (lib/server/http.ts) awaits authenticate and then calls the
    // handler in this same asynchronous context, which therefore sees the trace.
    current.enterWith(t);
    return t;
  } catch {
    state.stats.internalErrors++;
    return null;
  }
}

/**
 * The trace of the decision about to be made: the request's (started at authentication) when it
 * is of this kind, else a new one — or null when tracing is off. Taking it makes it no longer
 * current, so one request's trace is never attached to a second decision.
 */
export function takeDecisionTrace(kind: DecisionKind): DecisionTrace | null {
  if (state.tracer === null) return null;
  const t = current.getStore();
  if (t) current.enterWith(undefined as unknown as DecisionTrace);
  if (t && t.kind === kind && !t.taken) {
    t.taken = true;
    return t;
  }
  const fresh = new DecisionTrace(kind);
  fresh.taken = true;
  return fresh;
}

/** A clock reading when tracing is on (0 otherwise: nothing traced reads it). */
export function traceClock(traced: boolean): number {
  return traced ? now() : 0;
}

// ------------------------------------------------------------------------------------------------
// Set-up: once per process (instrumentation.ts), or by a test with its own exporter
// ------------------------------------------------------------------------------------------------

export interface StartOptions {
  /** The configuration to use; default config().tracing. */
  tracing?: TracingConfig | null;
  /** An exporter to use instead of OTLP/HTTP (tests: InMemorySpanExporter). */
  exporter?: SpanExporter;
  /** How long spans wait to be batched, default 1000 ms. */
  scheduledDelayMs?: number;
  /** How long one export may take before it counts as failed; default the OTLP timeout + 1 s. */
  exportTimeoutMs?: number;
}

/**
 * Sets up tracing when configured (or when a test passes an exporter); returns whether it is on.
 * Idempotent. A failure to set up leaves tracing off, logs why, and never stops the server.
 */
export function startTracing(options: StartOptions = {}): Promise<boolean> {
  state.starting ??= setUp(options).catch((error: unknown) => {
    log("error", "tracing could not be set up; continuing without traces", { error });
    return false;
  });
  return state.starting;
}

async function setUp(options: StartOptions): Promise<boolean> {
  const settings = options.tracing !== undefined ? options.tracing : config().tracing;
  if (!settings && !options.exporter) return false;
  // Imported here, not at the top: without an endpoint the SDK is never even loaded.
  const [{ BasicTracerProvider, AlwaysOnSampler }, { resourceFromAttributes }, { ATTR_SERVICE_NAME }] = await Promise.all([
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/semantic-conventions"),
  ]);
  let exporter = options.exporter;
  if (!exporter && settings) {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    exporter = new OTLPTraceExporter({ url: settings.url, headers: { ...settings.headers }, timeoutMillis: settings.timeoutMs });
  }
  if (!exporter) return false;
  const processor = new ExportQueue(exporter, { scheduledDelayMs: options.scheduledDelayMs ?? 1000, timeoutMs: options.exportTimeoutMs ?? (settings?.timeoutMs ?? 10_000) + 1000 });
  // Every setting explicit, so no OTEL_* variable is read behind config.ts's back.
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings?.serviceName ?? "freedom-kernel", "service.version": "0.1.0" }),
    sampler: new AlwaysOnSampler(),
    spanLimits: { attributeCountLimit: 64, attributeValueLengthLimit: 256, eventCountLimit: 0, linkCountLimit: 0 },
    spanProcessors: [processor],
  });
  state.processor = processor;
  state.tracer = provider.getTracer("freedom-kernel");
  if (settings) log("info", "tracing decisions", { endpoint: settings.url, service: settings.serviceName });
  return true;
}

/** Exports what is queued now (tests, shutdown). Never throws. */
export async function flushTracing(): Promise<void> {
  emitPending();
  await state.processor?.forceFlush().catch(() => undefined);
}

/** Flushes, then turns tracing off for this process (tests). */
export async function stopTracing(): Promise<void> {
  emitPending();
  const p = state.processor;
  state.tracer = null;
  state.processor = null;
  state.starting = null;
  await p?.shutdown().catch(() => undefined);
}

/**
 * A bounded batching span processor: spans wait at most `scheduledDelayMs`, at most MAX_QUEUE
 * wait at all (beyond that they are dropped and counted), one export runs at a time, and an
 * export that fails, or does not answer within `timeoutMs`, is counted and its spans given up.
 * (The SDK's BatchSpanProcessor does the same but drops and fails without counting, and reads
 * OTEL_BSP_* behind config.ts's back.)
 */
class ExportQueue implements SpanProcessor {
  static readonly MAX_QUEUE = 8192;
  static readonly MAX_BATCH = 512;
  private queue: ReadableSpan[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private inFlight: Promise<void> | null = null;
  private lastWarning = 0;
  private closed = false;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly options: { scheduledDelayMs: number; timeoutMs: number },
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed) return;
    if (this.queue.length >= ExportQueue.MAX_QUEUE) {
      state.stats.spansDropped++;
      this.warn("trace spans dropped: the export queue is full");
      return;
    }
    this.queue.push(span);
    state.stats.spansQueued++;
    // A full batch goes out on the next turn of the event loop, not inside this call: serialising
    // it would otherwise run on whichever decision's finish() happened to fill it.
    if (this.queue.length >= ExportQueue.MAX_BATCH) {
      if (!this.immediate) this.immediate = setImmediate(() => this.kick());
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.kick(), this.options.scheduledDelayMs);
      this.timer.unref();
    }
  }

  /** Exports everything queued, giving up (the rest stays queued) after `timeoutMs`. */
  async forceFlush(): Promise<void> {
    const deadline = Date.now() + this.options.timeoutMs;
    while ((this.queue.length > 0 || this.inFlight) && Date.now() < deadline) {
      if (this.inFlight) await this.inFlight;
      else await this.exportOne();
    }
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    await this.exporter.shutdown().catch(() => undefined);
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    if (this.inFlight) return; // exportOne looks at the queue again when it is done
    void this.exportOne();
  }

  private exportOne(): Promise<void> {
    const batch = this.queue.splice(0, ExportQueue.MAX_BATCH);
    if (batch.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => {
      let settled = false;
      const settle = (ok: boolean, error?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (ok) state.stats.spansExported += batch.length;
        else {
          state.stats.exportFailures++;
          state.stats.spansFailed += batch.length;
          this.warn("trace export failed", error);
        }
        resolve();
      };
      const deadline = setTimeout(() => settle(false, new Error("export timed out")), this.options.timeoutMs);
      deadline.unref();
      try {
        // ExportResultCode.SUCCESS is 0 (@opentelemetry/core).
        this.exporter.export(batch, (result) => settle(result.code === 0, result.error));
      } catch (error) {
        settle(false, error);
      }
    });
    this.inFlight = done.then(() => {
      this.inFlight = null;
      if (this.queue.length >= ExportQueue.MAX_BATCH) this.kick();
      else if (this.queue.length > 0 && !this.timer && !this.closed) {
        this.timer = setTimeout(() => this.kick(), this.options.scheduledDelayMs);
        this.timer.unref();
      }
    });
    return this.inFlight;
  }

  /** At most one line a minute, with the counts so far; the error's message only (no headers). */
  private warn(message: string, error?: unknown): void {
    const t = Date.now();
    if (t - this.lastWarning < 60_000) return;
    this.lastWarning = t;
    const { spansExported, spansDropped, spansFailed, exportFailures } = state.stats;
    log("warn", message, { spansExported, spansDropped, spansFailed, exportFailures, ...(error instanceof Error ? { reason: error.message.slice(0, 200) } : {}) });
  }
}
