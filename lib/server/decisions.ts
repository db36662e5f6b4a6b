import "server-only";
import crypto from "node:crypto";
import { parseAction } from "../kernel/action";
import { canonicalJson } from "../kernel/canonical";
import { stepTaint } from "../kernel/ifc";
import { verifyPlan } from "../kernel/plan";
import {
  actionDigest,
  buildDecisionRecord,
  inputDigest,
  buildPlanDecisionRecord,
  decisionSigningBytes,
  planDecisionSigningBytes,
  type DecisionRecord,
  type PlanDecisionRecord,
} from "../kernel/signing";
import type { Snapshot } from "../kernel/snapshot";
import { violationClass, type Action, type Violation, type VerifyResult } from "../kernel/types";
import { budgetedClaimsFor, verify } from "../kernel/verify";
import { readUsage } from "./budgets";
import { withAuditTransaction, type AuditAppender } from "./audit-log";
import { config } from "./config";
import { ApiError } from "./errors";
import { log } from "./log";
import { recordDecision } from "./metrics";
import { currentSnapshot, SnapshotUnavailableError, type Tx } from "./registry";
import { SignerUnavailableError } from "./signer";
import { sha256Hex, tokenStillValid } from "./auth";
import { actionIdReused, planDigest, priorPermit, recordIssued, voidReason, type IssuedPermitRow } from "./permits";
import { takeDecisionTrace, traceClock, type DecisionTrace } from "./tracing";


/**
 * The decision service (design §5-§10): authenticate (route wrapper) -> bind the actor to the
 * token's machine -> snapshot -> kernel verify -> sign -> append the audit entry -> commit ->
 * answer. Concurrent requests are grouped: one transaction reads the registry version once,
 * decides every queued request against that one snapshot, and appends all their entries, so a
 * burst costs one commit instead of one per decision. No answer leaves before its commit; if the
 * transaction fails, every request in it gets a refusal (never a permit) and the failure is logged.
 * With tracing on (tracing.ts) each job carries its DecisionTrace: its own verify, sign and append
 * phases are noted as they run, its batch's queue wait, snapshot and commit once the batch is done,
 * and the spans are emitted after the answer is handed back.
 */

export interface SignedDecisionOut {
  record: DecisionRecord;
  signature: string;
  keyId: string;
}
export interface SignedPlanOut {
  record: PlanDecisionRecord;
  signature: string;
  keyId: string;
}

interface AgentAuth {
  tokenId: string;
  authVersion: number;
}

interface VerifyJob {
  kind: "verify";
  auth: AgentAuth | "internal";
  machineId: string;
  input: unknown;
  session: string | undefined;
  started: bigint;
  trace: DecisionTrace | null;
  resolve: (out: SignedDecisionOut) => void;
  reject: (e: unknown) => void;
}
interface PlanJob {
  kind: "plan";
  auth: AgentAuth | "internal";
  machineId: string;
  input: unknown[] | MalformedBody;
  session: string | undefined;
  started: bigint;
  trace: DecisionTrace | null;
  resolve: (out: SignedPlanOut) => void;
  reject: (e: unknown) => void;
}
type Job = VerifyJob | PlanJob;

const MAX_BATCH = 256;
/**
 * The queue is per module instance, deliberately not on globalThis. Under `npm start` this module
 * is loaded twice (the server's lean path through tsx, Next's bundle), and a job is bound to the
 * copy that made it: `MalformedBody` and the `ApiError` it is refused with are checked with
 * instanceof by that copy's route(), and a snapshot is only usable by the kernel copy that built it
 * (its index is in that copy's WeakMap). Two queues are safe: every batch is one transaction under
 * the process's audit lock (on globalThis, audit-log.ts; on PostgreSQL also the advisory lock), so
 * batches of either copy take turns and never fork the chain. Under `npm start` only the lean path
 * makes decisions (the agent routes never reach Next), so batches stay as large as before.
 */
const queue: Job[] = [];
let draining = false;

const nonce = () => crypto.randomBytes(16).toString("hex");


/**
 * A request body the route could not read as one unambiguous JSON value (duplicate member names,
 * invalid JSON): on agent routes it is still decided — a signed, audited MALFORMED_ACTION refusal
 * that cites the digest of the raw bytes, never a value guessed from them.
 */
export class MalformedBody {
  constructor(
    readonly reason: string,
    readonly raw: string,
  ) {}
}

function malformed(snapshot: Snapshot, reason: string): VerifyResult {
  return {
    actionId: "",
    permitted: false,
    violations: [{ code: "MALFORMED_ACTION", axiom: "FAIL_CLOSED", message: `MALFORMED ACTION: ${reason}` }],
    warnings: [],
    confidence: 0,
    requiresHumanArbitration: false,
    manipulationScore: 0,
    snapshot: snapshot.ref,
  };
}

function unrepresentable(snapshot: Snapshot): VerifyResult {
  return {
    actionId: "",
    permitted: false,
    violations: [{ code: "MALFORMED_ACTION", axiom: "FAIL_CLOSED", message: "MALFORMED ACTION: the action cannot be represented as canonical JSON" }],
    warnings: [],
    confidence: 0,
    requiresHumanArbitration: false,
    manipulationScore: 0,
    snapshot: snapshot.ref,
  };
}

const ACTOR_MISMATCH = (actor: string, machine: string): Violation => ({
  code: "ACTOR_NOT_TOKEN_MACHINE",
  axiom: "FAIL_CLOSED",
  message: `ACTOR NOT TOKEN MACHINE: the token belongs to ${machine}, the action names ${actor}`,
});

/** Binds the action to the token's machine: a token asks only for its own machine. */
function bindActor(result: VerifyResult, action: Action | null, machineId: string): VerifyResult {
  // An action that does not parse is already BLOCKED (MALFORMED_ACTION); its actor means nothing.
  if (!action || action.actor === machineId) return result;
  return { ...result, permitted: false, violations: [ACTOR_MISMATCH(action.actor, machineId), ...result.violations] };
}

function codesOf(violations: readonly Violation[]): string | null {
  return violations.length ? [...new Set(violations.map((v) => v.code))].join(",") : null;
}

const SESSION_KEY = (machine: string, session: string) => `${machine}\u0000${session}`;

async function sessionTaint(tx: Tx, taints: Map<string, string>, machineId: string, session: string): Promise<string | undefined> {
  const key = SESSION_KEY(machineId, session);
  if (taints.has(key)) return taints.get(key);
  const row = await tx.agentSession.findUnique({ where: { machineId_sessionId: { machineId, sessionId: session } } });
  if (row) taints.set(key, row.taint);
  return row?.taint;
}

/**
 * Missing (resource, right) pairs of a blocked action, each confirmed by the kernel on its own.
 * For an object reference, also its canonical path and the resource it resolved to (issue 10):
 * approving grants exactly that path by default.
 */
function missingGrants(snapshot: Snapshot, action: Action, now: number) {
  const out: { resource: string; right: "read" | "write" | "delegate"; code: string; canonical?: string; resolvedTo?: string }[] = [];
  const ops = [
    ["read", "reads"],
    ["write", "writes"],
    ["delegate", "delegates"],
  ] as const;
  for (const [right, field] of ops) {
    for (const resource of action[field]) {
      const probe = { actionId: `${action.actionId}#probe`, actor: action.actor, [field]: [resource], ...(action.cost !== undefined ? { cost: action.cost } : {}) };
      const r = verify(snapshot, probe, now);
      // A used-up budget is cured by raising it (the approval's exhaustedBudgets), not by a grant.
      const denial = r.violations.find((v) => violationClass(v.code) === "authority" && v.code !== "BUDGET_EXHAUSTED");
      if (!denial) continue;
      const ref = r.resolved?.find((x) => x.ref === resource);
      out.push({
        resource,
        right,
        code: denial.code,
        ...(ref ? { canonical: ref.canonical, ...(ref.resource !== undefined ? { resolvedTo: ref.resource } : {}) } : {}),
      });
    }
  }
  return out;
}

/** Queues blocked actions for their owner (design §9): curable ones, and invariant ones read-only. */
async function enqueueApproval(tx: Tx, snapshot: Snapshot, action: Action, record: DecisionRecord, now: number): Promise<void> {
  if (record.permitted) return;
  const owner = snapshot.ownerOf(action.actor);
  if (!owner) return;
  const curable = record.violations.every((v) => violationClass(v.code) === "authority");
  const existing = await tx.approval.findFirst({
    where: { machineId: action.actor, actionDigest: record.actionDigest, status: "PENDING" },
    select: { id: true },
  });
  if (existing) return;
  await tx.approval.create({
    data: {
      id: `apr_${crypto.randomBytes(9).toString("base64url")}`,
      machineId: action.actor,
      ownerId: owner,
      actionId: action.actionId,
      action: canonicalJson(action),
      actionDigest: record.actionDigest,
      auditSeq: record.auditSeq ?? -1,
      violations: JSON.stringify(record.violations),
      missingGrants: JSON.stringify(curable ? missingGrants(snapshot, action, now) : []),
      curable,
      status: "PENDING",
    },
  });
}

/** Adds a fail-closed violation to a result (it is then BLOCKED whatever else it says). */
function withViolation(result: VerifyResult, violation: Violation): VerifyResult {
  return { ...result, permitted: false, violations: [violation, ...result.violations] };
}

async function decideVerify(tx: Tx, audit: AuditAppender, snapshot: Snapshot, job: VerifyJob, taints: Map<string, string>) {
  const tr = job.trace;
  const t0 = traceClock(tr !== null);
  const now = Date.now();
  const body = job.input instanceof MalformedBody ? job.input : null;
  const parsed = body ? null : parseAction(job.input);
  const action = parsed?.ok ? parsed.action : null;
  const own = action !== null && action.actor === job.machineId;
  const taint = job.session ? await sessionTaint(tx, taints, job.machineId, job.session) : undefined;
  // Budgets (issue 13): the usage of the budgeted claims this action could charge, read in this
  // transaction; the kernel decides with it. Nothing is consumed here (redemption does that).
  const usage = own && snapshot.hasBudgets ? await readUsage(tx, budgetedClaimsFor(snapshot, action, now), now) : undefined;
  let result = body ? malformed(snapshot, body.reason) : bindActor(verify(snapshot, action ?? job.input, now, { taint, usage }), action, job.machineId);
  // One permit per actionId, ever (permits.ts): an identical retry of a permit still good gets it
  // back unchanged; anything else under an id that had its permit is ACTION_ID_REUSED.
  const prior = own ? await priorPermit(tx, job.machineId, action.actionId) : null;
  if (prior && action) {
    const same = prior.kind === "decision" && prior.actionDigest === actionDigest(action);
    const why = same ? await voidReason(tx, snapshot, prior, now) : "OTHER_ACTION";
    if (why === null && result.permitted) {
      tr?.phase("verify", t0);
      tr?.note("permit.replayed", true);
      return storedDecision(prior);
    }
    // Halted or no longer permitted: the fresh result already says why. Otherwise the id is spent.
    if (why !== null && why !== "HALTED" && why !== "AUTHORITY_CHANGED") result = withViolation(result, actionIdReused(action.actionId, why));
  }
  const t1 = traceClock(tr !== null);
  tr?.phase("verify", t0, t1);
  const seq = audit.nextSeq;
  const subject = body
    ? { actor: job.machineId, actionDigest: sha256Hex(body.raw) }
    : own
      ? { action }
      : { actor: action?.actor ?? job.machineId, actionDigest: action ? inputDigest(action) : inputDigest(job.input) };
  const envelope = { mode: "live" as const, now, nonce: nonce(), keyId: audit.keyId, auditSeq: seq, ttlMs: config().permitTtlMs, ...(job.session ? { session: job.session } : {}) };
  let record: DecisionRecord;
  let signature: string;
  try {
    record = buildDecisionRecord({ ...envelope, ...subject, result });
    signature = audit.sign(decisionSigningBytes(record));
  } catch (error) {
    // Input the kernel refused but that cannot even be recorded as given (e.g. a lone surrogate
    // in an id): record a refusal that cites nothing of it, rather than failing the whole batch.
    log("warn", "decision recorded without the unrepresentable input", { machine: job.machineId, error });
    record = buildDecisionRecord({ ...envelope, actor: job.machineId, actionDigest: inputDigest(null), result: unrepresentable(snapshot) });
    signature = audit.sign(decisionSigningBytes(record));
  }
  const t2 = traceClock(tr !== null);
  tr?.phase("sign", t1, t2);
  const owner = snapshot.ownerOf(job.machineId) ?? null;
  audit.append(
    { kind: "decision", record: record as never, signature, keyId: audit.keyId, ...(own && record.actionId === action.actionId ? { action: action as never } : {}) },
    { kind: "decision", actorId: record.actor, machineId: job.machineId, ownerId: owner, permitted: record.permitted, codes: codesOf(record.violations) },
    now,
  );
  if (record.permitted && action && !prior) {
    await recordIssued(tx, { machineId: job.machineId, kind: "decision", actionIds: [action.actionId], digest: record.actionDigest, action, record, signature, keyId: audit.keyId });
  }
  if (job.session && action && record.permitted) {
    taints.set(SESSION_KEY(job.machineId, job.session), stepTaint(snapshot, taint, action));
  }
  const spent = record.violations.some((v) => v.code === "ACTION_ID_REUSED");
  if (own && !spent) await enqueueApproval(tx, snapshot, action, record, now);
  tr?.phase("append", t2);
  return { record, signature, keyId: audit.keyId };
}

/** The answer already given for a permit: the same record, signature and key, byte for byte. */
function storedDecision(row: IssuedPermitRow): SignedDecisionOut {
  return { record: JSON.parse(row.record) as DecisionRecord, signature: row.signature, keyId: row.keyId };
}

/** A stand-in step for this machine, for a plan whose input cannot be cited step by step. */
function stubAction(actionId: string, machineId: string): Action {
  return (parseAction({ actionId, actor: machineId }) as { ok: true; action: Action }).action;
}

async function decidePlan(tx: Tx, audit: AuditAppender, snapshot: Snapshot, job: PlanJob, taints: Map<string, string>) {
  const tr = job.trace;
  const t0 = traceClock(tr !== null);
  const now = Date.now();
  const taint = job.session ? await sessionTaint(tx, taints, job.machineId, job.session) : undefined;
  const actions: Action[] = [];
  let results: VerifyResult[] = [];
  let planTaint: string | undefined;
  let allOwn = false;
  if (job.input instanceof MalformedBody) {
    actions.push(stubAction("malformed-plan", job.machineId));
    results.push({ ...malformed(snapshot, job.input.reason), actionId: "malformed-plan" });
  } else {
    const input = job.input;
    const plan = verifyPlan(snapshot, input, now, { taint });
    planTaint = plan.taint;
    allOwn = plan.steps.length > 0;
    plan.steps.forEach((step, i) => {
      const parsed = parseAction(input[i]);
      // A step that does not parse cannot be cited by digest of a parsed action; the plan is
      // refused as a whole with the kernel's reasons on a synthetic step for this machine.
      const action: Action = parsed.ok ? parsed.action : stubAction(step.actionId || `step-${i}`, job.machineId);
      if (!parsed.ok || parsed.action.actor !== job.machineId) allOwn = false;
      actions.push(action);
      results.push(bindActor(step.actionId === action.actionId ? step : { ...step, actionId: action.actionId }, parsed.ok ? action : null, job.machineId));
    });
  }
  // One permit per actionId holds for plan steps too; a plan's permit covers all of its step ids.
  const digest = allOwn ? planDigest(actions) : null;
  const priors = digest !== null ? await Promise.all(actions.map((a) => priorPermit(tx, job.machineId, a.actionId))) : [];
  if (digest !== null) {
    const first = priors[0];
    const identical = first != null && first.kind === "plan" && first.actionDigest === digest && priors.every((p) => p?.nonce === first.nonce);
    const why = identical ? await voidReason(tx, snapshot, first, now) : null;
    if (identical && why === null && results.every((r) => r.permitted)) {
      tr?.phase("verify", t0);
      tr?.note("permit.replayed", true);
      return storedPlan(first);
    }
    const seen = new Set<string>();
    results = results.map((r, i) => {
      const id = actions[i]!.actionId;
      const repeated = seen.has(id);
      seen.add(id);
      const prior = priors[i];
      if (repeated) return withViolation(r, actionIdReused(id, "REPEATED_IN_PLAN", i));
      if (!prior) return r;
      // Identical and still good (but blocked now by session taint), or halted / no longer
      // permitted: the fresh result already says why. Otherwise the id had its one permit.
      if (identical && (why === null || why === "HALTED" || why === "AUTHORITY_CHANGED")) return r;
      return withViolation(r, actionIdReused(id, identical && why !== null ? why : "OTHER_ACTION", i));
    });
  }
  const t1 = traceClock(tr !== null);
  tr?.phase("verify", t0, t1);
  const envelope = { mode: "live" as const, now, nonce: nonce(), keyId: audit.keyId, auditSeq: audit.nextSeq, ttlMs: config().permitTtlMs, ...(job.session ? { session: job.session } : {}) };
  let record: PlanDecisionRecord;
  let signature: string;
  try {
    record = buildPlanDecisionRecord({ ...envelope, results, actions, snapshot: snapshot.ref });
    signature = audit.sign(planDecisionSigningBytes(record));
  } catch (error) {
    log("warn", "plan recorded without the unrepresentable input", { machine: job.machineId, error });
    const stub = stubAction("unrepresentable-plan", job.machineId);
    results = [{ ...unrepresentable(snapshot), actionId: stub.actionId }];
    record = buildPlanDecisionRecord({ ...envelope, results, actions: [stub], snapshot: snapshot.ref });
    signature = audit.sign(planDecisionSigningBytes(record));
  }
  const t2 = traceClock(tr !== null);
  tr?.phase("sign", t1, t2);
  const codes = results.flatMap((r) => r.violations);
  audit.append(
    { kind: "plan", record: record as never, signature, keyId: audit.keyId },
    { kind: "plan", actorId: job.machineId, machineId: job.machineId, ownerId: snapshot.ownerOf(job.machineId) ?? null, permitted: record.permitted, codes: codesOf(codes) },
    now,
  );
  if (record.permitted && digest !== null && actions.length > 0 && !priors.some(Boolean)) {
    await recordIssued(tx, { machineId: job.machineId, kind: "plan", actionIds: actions.map((a) => a.actionId), digest, action: actions, record, signature, keyId: audit.keyId });
  }
  if (job.session && record.permitted && planTaint !== undefined) taints.set(SESSION_KEY(job.machineId, job.session), planTaint);
  tr?.phase("append", t2);
  return { record, signature, keyId: audit.keyId };
}

function storedPlan(row: IssuedPermitRow): SignedPlanOut {
  return { record: JSON.parse(row.record) as PlanDecisionRecord, signature: row.signature, keyId: row.keyId };
}

async function persistTaints(tx: Tx, taints: Map<string, string>): Promise<void> {
  for (const [key, taint] of taints) {
    const [machineId, sessionId] = key.split("\u0000") as [string, string];
    await tx.agentSession.upsert({
      where: { machineId_sessionId: { machineId, sessionId } },
      create: { id: `ses_${crypto.randomBytes(9).toString("base64url")}`, machineId, sessionId, taint, updatedAt: new Date() },
      update: { taint, updatedAt: new Date() },
    });
  }
}


function refusal(error: unknown): ApiError {
  if (error instanceof SnapshotUnavailableError) return new ApiError("SERVICE_UNAVAILABLE", "SNAPSHOT_UNAVAILABLE: the registry cannot be loaded; nothing is permitted");
  if (error instanceof SignerUnavailableError) return new ApiError("SERVICE_UNAVAILABLE", "SIGNER_UNAVAILABLE: the kernel cannot sign; nothing is permitted");
  return new ApiError("SERVICE_UNAVAILABLE", "AUDIT_UNAVAILABLE: the decision could not be recorded; nothing is permitted");
}

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      const outs: unknown[] = [];
      const traced = batch.some((job) => job.trace !== null);
      // The batch's shared phases, for traces: transaction begun (lock held), snapshot read,
      // every decision made (commit starts), committed. 0: not reached (or not traced).
      const times: BatchTimes = { begun: 0, snapshot: 0, commit: 0, done: 0, version: -1 };
      try {
        await withAuditTransaction(
          async (tx, audit) => {
            times.begun = traceClock(traced);
            const snapshot = await currentSnapshot(tx);
            times.snapshot = traceClock(traced);
            times.version = snapshot.version;
            const taints = new Map<string, string>();
            for (const job of batch) {
              if (!(await tokenStillValid(tx, job.auth, snapshot.version))) {
                outs.push(new ApiError("UNAUTHENTICATED", "the bearer token is not valid"));
                continue;
              }
              outs.push(job.kind === "verify" ? await decideVerify(tx, audit, snapshot, job, taints) : await decidePlan(tx, audit, snapshot, job, taints));
            }
            times.commit = traceClock(traced);
            await persistTaints(tx, taints);
          },
          { timeoutMs: 10_000 },
        );
      } catch (error) {
        const code = refusal(error).message.split(":")[0]!;
        log("error", "decision batch refused: nothing committed", { size: batch.length, error, code });
        times.done = traceClock(traced);
        batch.forEach((job, i) => {
          recordDecision("error", [], job.started);
          job.reject(refusal(error));
          finishTrace(job, null, times, batch.length, i, code);
        });
        continue;
      }
      times.done = traceClock(traced);
      batch.forEach((job, i) => {
        if (outs[i] instanceof ApiError) {
          job.reject(outs[i]);
          finishTrace(job, null, times, batch.length, i, "UNAUTHENTICATED");
          return;
        }
        const out = outs[i] as SignedDecisionOut | SignedPlanOut;
        const record = out.record;
        const codes = "steps" in record ? record.steps.flatMap((s) => s.violations.map((v) => v.code)) : record.violations.map((v) => v.code);
        recordDecision(record.permitted ? "permitted" : "blocked", codes, job.started);
        (job.resolve as (o: unknown) => void)(out);
        finishTrace(job, { record, codes }, times, batch.length, i);
      });
    }
  } finally {
    draining = false;
  }
}

interface BatchTimes {
  begun: number;
  snapshot: number;
  commit: number;
  done: number;
  version: number;
}

/**
 * Completes a job's trace with its batch's phases and the answer (after it was handed back):
 * `queue` from joining the queue until its batch's transaction began, then the batch's `snapshot`
 * and `commit` (the same interval for every decision of the batch). `refused`: the code of a
 * refusal (the whole batch failed, or the token was revoked meanwhile).
 */
function finishTrace(job: Job, answer: { record: DecisionRecord | PlanDecisionRecord; codes: readonly string[] } | null, t: BatchTimes, size: number, index: number, refused?: string): void {
  const tr = job.trace;
  if (!tr) return;
  try {
    traceBatchAnswer(tr, job, answer, t, size, index, refused);
  } catch {
    // Tracing never fails a decision, nor the answers after it in the batch.
  }
}

function traceBatchAnswer(tr: DecisionTrace, job: Job, answer: Parameters<typeof finishTrace>[1], t: BatchTimes, size: number, index: number, refused?: string): void {
  tr.phase("queue", tr.enqueued, t.begun || t.done);
  if (t.snapshot) tr.phase("snapshot", t.begun, t.snapshot, { "fk.batch.shared": true });
  if (t.commit) tr.phase("commit", t.commit, t.done, { "fk.batch.shared": true });
  tr.note("batch.size", size);
  tr.note("batch.index", index);
  if (!answer) {
    tr.finish({ outcome: refused === "UNAUTHENTICATED" ? "unauthenticated" : "error", machine: job.machineId, ...(refused ? { reason: refused } : {}), ...(t.version >= 0 ? { snapshotVersion: t.version } : {}) });
    return;
  }
  const { record, codes } = answer;
  tr.finish({
    outcome: record.permitted ? "permitted" : "blocked",
    machine: job.machineId,
    codes,
    ...(record.auditSeq !== undefined ? { auditSeq: record.auditSeq } : {}),
    actionIds: "steps" in record ? record.steps.map((s) => s.actionId) : [record.actionId],
    snapshotVersion: record.snapshot.version,
    ...("steps" in record ? { extra: { "plan.steps": record.steps.length } } : {}),
  });
}

function enqueue<T>(make: (resolve: (out: T) => void, reject: (e: unknown) => void) => Job): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const job = make(resolve, reject);
    if (job.trace) job.trace.enqueued = traceClock(true);
    queue.push(job);
    // Let the requests that arrive in the same tick join this batch.
    setImmediate(() => void drain());
  });
}

/**
 * Queues a decision. `auth` is the agent token that asked ("internal" only for in-process callers
 * such as the demo seed, which hold no token).
 */
export function decide(machineId: string, input: unknown | MalformedBody, session: string | undefined, auth: AgentAuth | "internal"): Promise<SignedDecisionOut> {
  return enqueue<SignedDecisionOut>((resolve, reject) => ({ kind: "verify", auth, machineId, input, session, started: process.hrtime.bigint(), trace: takeDecisionTrace("verify"), resolve, reject }));
}

export function decidePlanFor(machineId: string, input: unknown[] | MalformedBody, session: string | undefined, auth: AgentAuth | "internal"): Promise<SignedPlanOut> {
  return enqueue<SignedPlanOut>((resolve, reject) => ({ kind: "plan", auth, machineId, input, session, started: process.hrtime.bigint(), trace: takeDecisionTrace("plan"), resolve, reject }));
}
