import "server-only";
import crypto from "node:crypto";
import { parseAction } from "../kernel/action";
import { canonicalJson } from "../kernel/canonical";
import { stepTaint } from "../kernel/ifc";
import { verifyPlan } from "../kernel/plan";
import {
  buildDecisionRecord,
  buildPlanDecisionRecord,
  decisionSigningBytes,
  planDecisionSigningBytes,
  verifyPermit,
  type DecisionRecord,
  type PlanDecisionRecord,
} from "../kernel/signing";
import type { Snapshot } from "../kernel/snapshot";
import { violationClass, type Action, type Violation, type VerifyResult } from "../kernel/types";
import { verify } from "../kernel/verify";
import { getSigner, withAuditTransaction, type AuditAppender } from "./audit-log";
import { ApiError } from "./errors";
import { log } from "./log";
import { recordDecision } from "./metrics";
import { currentSnapshot, SnapshotUnavailableError, type Tx } from "./registry";
import { SignerUnavailableError } from "./signer";
import { forgetToken, rememberToken } from "./auth";

/**
 * The decision service (design §5-§10): authenticate (route wrapper) -> bind the actor to the
 * token's machine -> snapshot -> kernel verify -> sign -> append the audit entry -> commit ->
 * answer. Concurrent requests are grouped: one transaction reads the registry version once,
 * decides every queued request against that one snapshot, and appends all their entries, so a
 * burst costs one commit instead of one per decision. No answer leaves before its commit; if the
 * transaction fails, every request in it gets a refusal (never a permit) and the failure is logged.
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
  resolve: (out: SignedDecisionOut) => void;
  reject: (e: unknown) => void;
}
interface PlanJob {
  kind: "plan";
  auth: AgentAuth | "internal";
  machineId: string;
  input: unknown[];
  session: string | undefined;
  started: bigint;
  resolve: (out: SignedPlanOut) => void;
  reject: (e: unknown) => void;
}
type Job = VerifyJob | PlanJob;

const PERMIT_TTL_MS = Number(process.env.FK_PERMIT_TTL_MS ?? 60_000);
const MAX_BATCH = 256;
const queue: Job[] = [];
let draining = false;

const nonce = () => crypto.randomBytes(16).toString("hex");

function rawDigest(input: unknown): string {
  let text: string;
  try {
    text = canonicalJson(input);
  } catch {
    text = "unrepresentable";
  }
  return crypto.createHash("sha256").update(text).digest("hex");
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

/** Missing (resource, right) pairs of a blocked action, each confirmed by the kernel on its own. */
function missingGrants(snapshot: Snapshot, action: Action, now: number) {
  const out: { resource: string; right: "read" | "write" | "delegate"; code: string }[] = [];
  const ops = [
    ["read", "reads"],
    ["write", "writes"],
    ["delegate", "delegates"],
  ] as const;
  for (const [right, field] of ops) {
    for (const resource of action[field]) {
      const probe = { actionId: `${action.actionId}#probe`, actor: action.actor, [field]: [resource] };
      const r = verify(snapshot, probe, now);
      const denial = r.violations.find((v) => violationClass(v.code) === "authority");
      if (denial) out.push({ resource, right, code: denial.code });
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

async function decideVerify(tx: Tx, audit: AuditAppender, snapshot: Snapshot, job: VerifyJob, taints: Map<string, string>) {
  const now = Date.now();
  const parsed = parseAction(job.input);
  const action = parsed.ok ? parsed.action : null;
  const taint = job.session ? await sessionTaint(tx, taints, job.machineId, job.session) : undefined;
  const result = bindActor(verify(snapshot, job.input, now, { taint }), action, job.machineId);
  const seq = audit.nextSeq;
  const subject = action && action.actor === job.machineId
    ? { action }
    : { actor: action?.actor ?? job.machineId, actionDigest: action ? rawDigest(action) : rawDigest(job.input) };
  const envelope = { mode: "live" as const, now, nonce: nonce(), keyId: audit.keyId, auditSeq: seq, ttlMs: PERMIT_TTL_MS, ...(job.session ? { session: job.session } : {}) };
  let record: DecisionRecord;
  let signature: string;
  try {
    record = buildDecisionRecord({ ...envelope, ...subject, result });
    signature = audit.sign(decisionSigningBytes(record));
  } catch (error) {
    // Input the kernel refused but that cannot even be recorded as given (e.g. a lone surrogate
    // in an id): record a refusal that cites nothing of it, rather than failing the whole batch.
    log("warn", "decision recorded without the unrepresentable input", { machine: job.machineId, error });
    record = buildDecisionRecord({ ...envelope, actor: job.machineId, actionDigest: rawDigest(null), result: unrepresentable(snapshot) });
    signature = audit.sign(decisionSigningBytes(record));
  }
  const owner = snapshot.ownerOf(job.machineId) ?? null;
  audit.append(
    { kind: "decision", record: record as never, signature, keyId: audit.keyId },
    { kind: "decision", actorId: record.actor, machineId: job.machineId, ownerId: owner, permitted: record.permitted, codes: codesOf(record.violations) },
    now,
  );
  if (job.session && action && record.permitted) {
    taints.set(SESSION_KEY(job.machineId, job.session), stepTaint(snapshot, taint, action));
  }
  if (action && action.actor === job.machineId) await enqueueApproval(tx, snapshot, action, record, now);
  return { record, signature, keyId: audit.keyId };
}

async function decidePlan(tx: Tx, audit: AuditAppender, snapshot: Snapshot, job: PlanJob, taints: Map<string, string>) {
  const now = Date.now();
  const taint = job.session ? await sessionTaint(tx, taints, job.machineId, job.session) : undefined;
  const plan = verifyPlan(snapshot, job.input, now, { taint });
  const actions: Action[] = [];
  const results: VerifyResult[] = [];
  plan.steps.forEach((step, i) => {
    const parsed = parseAction(job.input[i]);
    // A step that does not parse cannot be cited by digest of a parsed action; the plan is
    // refused as a whole with the kernel's reasons on a synthetic step for this machine.
    const action: Action = parsed.ok
      ? parsed.action
      : (parseAction({ actionId: step.actionId || `step-${i}`, actor: job.machineId }) as { ok: true; action: Action }).action;
    actions.push(action);
    results.push(bindActor(step.actionId === action.actionId ? step : { ...step, actionId: action.actionId }, parsed.ok ? action : null, job.machineId));
  });
  const envelope = { mode: "live" as const, now, nonce: nonce(), keyId: audit.keyId, auditSeq: audit.nextSeq, ttlMs: PERMIT_TTL_MS, ...(job.session ? { session: job.session } : {}) };
  let record: PlanDecisionRecord;
  let signature: string;
  try {
    record = buildPlanDecisionRecord({ ...envelope, results, actions, snapshot: snapshot.ref });
    signature = audit.sign(planDecisionSigningBytes(record));
  } catch (error) {
    log("warn", "plan recorded without the unrepresentable input", { machine: job.machineId, error });
    const stub = (parseAction({ actionId: "unrepresentable-plan", actor: job.machineId }) as { ok: true; action: Action }).action;
    results.splice(0, results.length, { ...unrepresentable(snapshot), actionId: stub.actionId });
    record = buildPlanDecisionRecord({ ...envelope, results, actions: [stub], snapshot: snapshot.ref });
    signature = audit.sign(planDecisionSigningBytes(record));
  }
  const codes = results.flatMap((r) => r.violations);
  audit.append(
    { kind: "plan", record: record as never, signature, keyId: audit.keyId },
    { kind: "plan", actorId: job.machineId, machineId: job.machineId, ownerId: snapshot.ownerOf(job.machineId) ?? null, permitted: record.permitted, codes: codesOf(codes) },
    now,
  );
  if (job.session && record.permitted) taints.set(SESSION_KEY(job.machineId, job.session), plan.taint);
  return { record, signature, keyId: audit.keyId };
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

/** A token authenticated at an older registry version is re-checked before it decides anything. */
async function tokenStillValid(tx: Tx, auth: AgentAuth | "internal", version: number): Promise<boolean> {
  if (auth === "internal" || auth.authVersion === version) return true;
  const row = await tx.apiToken.findUnique({ where: { id: auth.tokenId }, select: { revokedAt: true } });
  if (!row || row.revokedAt) {
    forgetToken(auth.tokenId);
    return false;
  }
  rememberToken(auth.tokenId, version);
  auth.authVersion = version;
  return true;
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
      try {
        await withAuditTransaction(
          async (tx, audit) => {
            const snapshot = await currentSnapshot(tx);
            const taints = new Map<string, string>();
            for (const job of batch) {
              if (!(await tokenStillValid(tx, job.auth, snapshot.version))) {
                outs.push(new ApiError("UNAUTHENTICATED", "the bearer token is not valid"));
                continue;
              }
              outs.push(job.kind === "verify" ? await decideVerify(tx, audit, snapshot, job, taints) : await decidePlan(tx, audit, snapshot, job, taints));
            }
            await persistTaints(tx, taints);
          },
          { timeoutMs: 10_000 },
        );
      } catch (error) {
        log("error", "decision batch refused: nothing committed", { size: batch.length, error, code: refusal(error).message.split(":")[0] });
        for (const job of batch) {
          recordDecision("error", [], job.started);
          job.reject(refusal(error));
        }
        continue;
      }
      batch.forEach((job, i) => {
        if (outs[i] instanceof ApiError) {
          job.reject(outs[i]);
          return;
        }
        const out = outs[i] as SignedDecisionOut | SignedPlanOut;
        const record = out.record;
        const codes = "steps" in record ? record.steps.flatMap((s) => s.violations.map((v) => v.code)) : record.violations.map((v) => v.code);
        recordDecision(record.permitted ? "permitted" : "blocked", codes, job.started);
        (job.resolve as (o: unknown) => void)(out);
      });
    }
  } finally {
    draining = false;
  }
}

function enqueue<T>(make: (resolve: (out: T) => void, reject: (e: unknown) => void) => Job): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    queue.push(make(resolve, reject));
    // Let the requests that arrive in the same tick join this batch.
    setImmediate(() => void drain());
  });
}

/**
 * Queues a decision. `auth` is the agent token that asked ("internal" only for in-process callers
 * such as the demo seed, which hold no token).
 */
export function decide(machineId: string, input: unknown, session: string | undefined, auth: AgentAuth | "internal"): Promise<SignedDecisionOut> {
  return enqueue<SignedDecisionOut>((resolve, reject) => ({ kind: "verify", auth, machineId, input, session, started: process.hrtime.bigint(), resolve, reject }));
}

export function decidePlanFor(machineId: string, input: unknown[], session: string | undefined, auth: AgentAuth | "internal"): Promise<SignedPlanOut> {
  return enqueue<SignedPlanOut>((resolve, reject) => ({ kind: "plan", auth, machineId, input, session, started: process.hrtime.bigint(), resolve, reject }));
}

/**
 * Redeems a permit once (design §5): the signature under the current key, not expired, issued to
 * this machine, the machine not halted now (a halt invalidates outstanding permits), and the nonce
 * never redeemed before — the nonce table's primary key decides races. The redemption is audited.
 */
export async function redeemPermit(machineId: string, record: unknown, signature: string): Promise<{ redeemed: true; nonce: string; actionId: string }> {
  const signer = getSigner();
  const check = verifyPermit(record, signature, signer.publicKeyHex, { now: Date.now(), expectedActor: machineId });
  if (!check.ok) throw new ApiError("PERMIT_INVALID", `the permit is not valid: ${check.reason}`, { reason: check.reason });
  const permit = record as DecisionRecord;
  const { result } = await withAuditTransaction(async (tx, audit) => {
    const snapshot = await currentSnapshot(tx);
    if (snapshot.isHalted(machineId)) return "HALTED" as const;
    const used = await tx.usedNonce.findUnique({ where: { nonce: permit.nonce } });
    if (used) return "REUSED" as const;
    await tx.usedNonce.create({ data: { nonce: permit.nonce, machineId } });
    audit.append(
      { kind: "system", op: "redeem", machine: machineId, nonce: permit.nonce, actionId: permit.actionId, actionDigest: permit.actionDigest, decisionSeq: permit.auditSeq ?? null },
      { kind: "system", actorId: machineId, machineId, ownerId: snapshot.ownerOf(machineId) ?? null },
    );
    return "OK" as const;
  });
  if (result === "HALTED") throw new ApiError("PERMIT_INVALID", "the permit is not valid: HALTED (the machine was halted after it was issued)", { reason: "HALTED" });
  if (result === "REUSED") throw new ApiError("PERMIT_REUSED", "this permit was already redeemed", { reason: "REUSED" });
  return { redeemed: true, nonce: permit.nonce, actionId: permit.actionId };
}
