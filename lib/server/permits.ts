import "server-only";
import type { JsonValue } from "../kernel/audit";
import { canonicalJson } from "../kernel/canonical";
import { verifyPlan } from "../kernel/plan";
import { actionDigest, verifyPermit, type DecisionRecord, type PlanDecisionRecord } from "../kernel/signing";
import type { Snapshot } from "../kernel/snapshot";
import type { Action, Violation } from "../kernel/types";
import { parseAction } from "../kernel/action";
import { budgetedClaimsFor, verify, verifyWithCharges } from "../kernel/verify";
import { BudgetExhaustedError, consumeBudgets, readUsage, type Receipt } from "./budgets";
import { getSigner, withAuditTransaction } from "./audit-log";
import { tokenStillValid } from "./auth";
import { ApiError } from "./errors";
import { currentSnapshot, type Tx } from "./registry";
import { sha256Hex } from "./auth";
import { takeDecisionTrace, traceClock } from "./tracing";

/**
 * The permit lifecycle (design §5, §13).
 *
 * One actionId of a machine gets at most one permit, ever: the IssuedPermit row keyed by
 * (machine, actionId) is written in the transaction that signs the permit, so its primary key, not
 * a check-then-insert, decides races across replicas. An identical retry while that permit is
 * still good gets the very same record back (same nonce: an idempotent retry after a timeout).
 *
 * A permit is void — at redemption, and for a retry — when it expired, was redeemed, its machine is
 * halted now or was halted at any moment since it was issued (a machine, owner or global halt
 * whose commit produced a newer registry version than the permit's snapshot: versions, not clocks,
 * so replicas with skewed clocks agree), or its action is no longer permitted by the current
 * snapshot (a revoked, expired or narrowed grant).
 */

export type VoidReason = "EXPIRED" | "REDEEMED" | "HALTED" | "HALTED_SINCE_ISSUE" | "AUTHORITY_CHANGED";

export type IssuedPermitRow = NonNullable<Awaited<ReturnType<Tx["issuedPermit"]["findUnique"]>>>;

const VOID_MESSAGES: Record<VoidReason, string> = {
  EXPIRED: "its permit expired",
  REDEEMED: "its permit was already redeemed",
  HALTED: "the machine is halted",
  HALTED_SINCE_ISSUE: "the machine was halted after its permit was issued",
  AUTHORITY_CHANGED: "the action is no longer permitted by the current registry",
};

/** Digest a plan's permit is bound to: of the canonical list of its parsed actions. */
export function planDigest(actions: readonly Action[]): string {
  return sha256Hex(canonicalJson(actions.map(actionDigest)));
}

export function priorPermit(tx: Tx, machineId: string, actionId: string): Promise<IssuedPermitRow | null> {
  return tx.issuedPermit.findUnique({ where: { machineId_actionId: { machineId, actionId } } });
}

/** True if a halt covering the machine was committed after registry version `version`. */
async function haltedSince(tx: Tx, snapshot: Snapshot, machineId: string, version: number): Promise<boolean> {
  const owner = snapshot.ownerOf(machineId);
  const halt = await tx.halt.findFirst({
    where: {
      createdVersion: { gt: version },
      OR: [{ kind: "all" }, { kind: "machine", target: machineId }, ...(owner ? [{ kind: "owner", target: owner }] : [])],
    },
    select: { id: true },
  });
  return halt !== null;
}

/** Why an issued permit can no longer be used, or null while it is good. */
export async function voidReason(tx: Tx, snapshot: Snapshot, row: IssuedPermitRow, now: number): Promise<VoidReason | null> {
  if (!(now <= row.expiresAt.getTime())) return "EXPIRED";
  if (await tx.usedNonce.findUnique({ where: { nonce: row.nonce }, select: { nonce: true } })) return "REDEEMED";
  if (snapshot.isHalted(row.machineId)) return "HALTED";
  if (await haltedSince(tx, snapshot, row.machineId, row.snapshotVersion)) return "HALTED_SINCE_ISSUE";
  const stored = JSON.parse(row.action) as unknown;
  const stillPermitted = row.kind === "plan" ? verifyPlan(snapshot, stored as unknown[], now).permitted : verify(snapshot, stored, now).permitted;
  return stillPermitted ? null : "AUTHORITY_CHANGED";
}

/** The invariant-class refusal of an actionId that already had its one permit. */
export function actionIdReused(actionId: string, why: VoidReason | "OTHER_ACTION" | "REPEATED_IN_PLAN", step?: number): Violation {
  const reason =
    why === "OTHER_ACTION"
      ? "it was issued a permit for another action"
      : why === "REPEATED_IN_PLAN"
        ? "it names an earlier step of this plan"
        : VOID_MESSAGES[why];
  return {
    code: "ACTION_ID_REUSED",
    axiom: "FAIL_CLOSED",
    message: `ACTION ID REUSED: ${actionId} already had its one permit and ${reason}; a new action needs a new actionId`,
    ...(step !== undefined ? { step } : {}),
  };
}

interface IssueInput {
  machineId: string;
  kind: "decision" | "plan";
  actionIds: readonly string[];
  digest: string;
  action: unknown;
  record: DecisionRecord | PlanDecisionRecord;
  signature: string;
  keyId: string;
}

/** Records the one permit of each actionId, in the transaction that signs it. */
export async function recordIssued(tx: Tx, input: IssueInput): Promise<void> {
  const { record } = input;
  const common = {
    machineId: input.machineId,
    kind: input.kind,
    actionDigest: input.digest,
    nonce: record.nonce,
    action: canonicalJson(input.action),
    record: JSON.stringify(record),
    signature: input.signature,
    keyId: input.keyId,
    auditSeq: record.auditSeq ?? -1,
    snapshotVersion: record.snapshot.version,
    expiresAt: new Date(Date.parse(record.expiresAt ?? "")),
  };
  // One insert per id; a duplicate key fails the whole transaction (nothing answered, nothing permitted).
  await tx.issuedPermit.createMany({ data: input.actionIds.map((actionId) => ({ ...common, actionId })) });
}

export type RedeemRefusal = VoidReason | "UNKNOWN_PERMIT" | "BUDGET_EXHAUSTED";

const REDEEM_MESSAGES: Record<Exclude<RedeemRefusal, "REDEEMED">, string> = {
  EXPIRED: "EXPIRED (the permit expired)",
  HALTED: "HALTED (the machine is halted)",
  HALTED_SINCE_ISSUE: "HALTED_SINCE_ISSUE (the machine was halted after the permit was issued; a halt voids every outstanding permit)",
  AUTHORITY_CHANGED: "AUTHORITY_CHANGED (the action is no longer permitted by the current registry)",
  UNKNOWN_PERMIT: "UNKNOWN_PERMIT (this kernel never issued this permit for this action)",
  BUDGET_EXHAUSTED: "BUDGET_EXHAUSTED (a budget this action is charged to has no use left; its owner may raise it)",
};

/**
 * The budgeted uses a permit takes at redemption (issue 13): the kernel picks, against the usage
 * read now inside the transaction, the chains it is charged through; each charged claim then
 * gives one use atomically (budgets.ts). Returns the receipts, or the refusal.
 */
async function chargeRedemption(tx: Tx, snapshot: Snapshot, row: IssuedPermitRow, now: number, nonce: string, seq: number): Promise<Receipt[] | "BUDGET_EXHAUSTED" | "AUTHORITY_CHANGED"> {
  if (!snapshot.hasBudgets) return [];
  const stored = JSON.parse(row.action) as unknown;
  const ids = budgetedClaimsFor(snapshot, stored, now);
  if (ids.length === 0) return [];
  const usage = await readUsage(tx, ids, now);
  const { result, charges } = verifyWithCharges(snapshot, stored, now, { usage });
  if (!result.permitted) return result.violations.some((v) => v.code === "BUDGET_EXHAUSTED") ? "BUDGET_EXHAUSTED" : "AUTHORITY_CHANGED";
  if (charges.length === 0) return [];
  const parsed = parseAction(stored);
  const cost = parsed.ok ? (parsed.action.cost ?? 0) : 0;
  return consumeBudgets(tx, charges, cost, now, nonce, seq);
}

/**
 * Redeems a permit once (design §5, §13): the signature under the current key, not expired, issued
 * to this machine, issued by this kernel for this actionId, not void (halted now or since issue,
 * authority changed), and the nonce never redeemed before — the nonce table's primary key decides
 * races. Redemptions and refused redemptions of genuine permits are audited.
 */
export async function redeemPermit(
  machineId: string,
  record: unknown,
  signature: string,
  auth: { tokenId: string; authVersion: number } | "internal",
): Promise<{ redeemed: true; nonce: string; actionId: string }> {
  const tr = takeDecisionTrace("redeem");
  const clock = () => traceClock(tr !== null);
  const t0 = clock();
  try {
    const signer = getSigner();
    const now = Date.now();
    const check = verifyPermit(record, signature, signer.publicKeyHex, { now, expectedActor: machineId });
    tr?.phase("verify", t0, clock(), { "fk.stage": "permit" });
    if (!check.ok) {
      tr?.finish({ outcome: "refused", machine: machineId, reason: check.reason });
      throw new ApiError("PERMIT_INVALID", `the permit is not valid: ${check.reason}`, { reason: check.reason });
    }
    const permit = record as DecisionRecord;
    const t1 = clock();
    let seq = -1;
    let version = -1;
    let commitStart = 0;
    let raced = false;
    const { result } = await withAuditTransaction(async (tx, audit) => {
      const t2 = clock();
      tr?.phase("queue", t1, t2);
      const snapshot = await currentSnapshot(tx);
      version = snapshot.version;
      // A token revoked through another replica since this one cached it redeems nothing.
      if (!(await tokenStillValid(tx, auth, snapshot.version))) throw new ApiError("UNAUTHENTICATED", "the bearer token is not valid");
      const t3 = clock();
      tr?.phase("snapshot", t2, t3);
      const row = await priorPermit(tx, machineId, permit.actionId);
      let refusal: RedeemRefusal | null;
      if (!row || row.kind !== "decision" || row.nonce !== permit.nonce || row.actionDigest !== permit.actionDigest) refusal = "UNKNOWN_PERMIT";
      else refusal = await voidReason(tx, snapshot, row, now);
      const t4 = clock();
      tr?.phase("verify", t3, t4, { "fk.stage": "void" });
      const entry = { machine: machineId, nonce: permit.nonce, actionId: permit.actionId, actionDigest: permit.actionDigest, decisionSeq: permit.auditSeq ?? null };
      const columns = { kind: "system", actorId: machineId, machineId, ownerId: snapshot.ownerOf(machineId) ?? null };
      let receipts: Receipt[] = [];
      if (refusal === null && row) {
        try {
          const charged = await chargeRedemption(tx, snapshot, row, now, permit.nonce, audit.nextSeq);
          if (typeof charged === "string") refusal = charged;
          else receipts = charged;
        } catch (error) {
          // A use taken by a concurrent redemption between the read and the locked update: roll
          // back everything and record the refusal in a transaction of its own (below).
          if (!(error instanceof BudgetExhaustedError)) throw error;
          raced = true;
          throw error;
        }
      }
      if (refusal === null) {
        await tx.usedNonce.create({ data: { nonce: permit.nonce, machineId } });
        const payload = receipts.length > 0 ? { kind: "system" as const, op: "redeem", ...entry, receipts: JSON.parse(JSON.stringify(receipts)) as JsonValue } : { kind: "system" as const, op: "redeem", ...entry };
        seq = audit.append(payload, columns, now).seq;
      } else {
        seq = audit.append({ kind: "system", op: "redeem-refused", reason: refusal, ...entry }, columns, now).seq;
      }
      commitStart = clock();
      tr?.phase("append", t4, commitStart);
      return refusal;
    }).catch(async (error: unknown) => {
      if (!raced) throw error;
      return withAuditTransaction(async (tx, audit) => {
        const snapshot = await currentSnapshot(tx);
        const entry = { machine: machineId, nonce: permit.nonce, actionId: permit.actionId, actionDigest: permit.actionDigest, decisionSeq: permit.auditSeq ?? null };
        const columns = { kind: "system", actorId: machineId, machineId, ownerId: snapshot.ownerOf(machineId) ?? null };
        seq = audit.append({ kind: "system", op: "redeem-refused", reason: "BUDGET_EXHAUSTED", ...entry }, columns, Date.now()).seq;
        return "BUDGET_EXHAUSTED" as RedeemRefusal;
      });
    });
    if (commitStart) tr?.phase("commit", commitStart);
    const reason = result === null ? undefined : result === "REDEEMED" ? "REUSED" : result;
    tr?.finish({
      outcome: result === null ? "redeemed" : "refused",
      machine: machineId,
      auditSeq: seq,
      actionIds: [permit.actionId],
      snapshotVersion: version,
      ...(reason ? { reason } : {}),
      ...(permit.auditSeq !== undefined ? { extra: { "permit.decision_seq": permit.auditSeq } } : {}),
    });
    if (result === "REDEEMED") throw new ApiError("PERMIT_REUSED", "this permit was already redeemed", { reason: "REUSED" });
    if (result !== null) throw new ApiError("PERMIT_INVALID", `the permit is not valid: ${REDEEM_MESSAGES[result]}`, { reason: result });
    return { redeemed: true, nonce: permit.nonce, actionId: permit.actionId };
  } catch (error) {
    // A refusal above already finished the trace (finish runs once); anything else is an error.
    tr?.finish({ outcome: "error", machine: machineId, reason: error instanceof ApiError ? error.code : "ERROR" });
    throw error;
  }
}
