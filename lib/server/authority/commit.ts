import "server-only";
import { detectConflicts, suggestResolution } from "../../kernel/extensions/conflicts";
import { buildSnapshot, type Snapshot } from "../../kernel/snapshot";
import type { RegistryData } from "../../kernel/types";
import { withAuditTransaction, withRolledBackTransaction, type AuditAppender } from "../audit-log";
import type { HumanPrincipal } from "../auth";
import { ApiError } from "../errors";
import { bumpRegistryVersion, currentSnapshot, loadRegistryData, readRegistryVersion, type Tx } from "../registry";
import { actorName } from "./shared";

/**
 * The one commit path for changes of authority (design §3, §8, §9, §13): registration of owners,
 * machines and resources, grants and root claims, revocation, halts and resumes, machine tokens,
 * approvals and refusals, conflict resolutions. Every one runs `commitAuthority`, which in ONE
 * transaction
 *   1. re-checks the state the change depends on and applies it (the change's own function, run
 *      inside the transaction: a status read outside it could be stale by the time it commits),
 *   2. rebuilds the registry snapshot from the transaction's view and has the kernel validate it —
 *      a change that would leave the registry invalid is refused (409) and nothing of it is kept,
 *      so the API can never lock every agent out by corrupting the graph,
 *   3. queues the write conflicts between humans the change created (the arbitration queue),
 *   4. appends the audit entry naming the human who made it, and
 *   5. bumps the registry version, so every replica decides against the new state at once.
 * All or nothing: a failure anywhere rolls every write back. No other module opens a transaction
 * for a change of authority (tests/integration/authority-commit.test.ts greps for it).
 *
 * Steps 1–2 are `proposeChange`, kept apart so that a what-if simulation can run a change and
 * read the validated snapshot inside a transaction it then rolls back instead of committing.
 */

/** What a change of authority sees while it runs. */
export interface CommitContext {
  readonly tx: Tx;
  readonly principal: HumanPrincipal;
  /** The audit name of the principal (an owner's id, or "operator:…"). */
  readonly by: string;
  /** The registry version this commit produces (halts record it as createdVersion). */
  readonly version: number;
  readonly now: number;
}

/** The outcome of applying a change: what it did (for the audit entry), or that it was a no-op. */
export type Applied<T> =
  | {
      readonly changed: true;
      readonly result: T;
      /** The audit op, e.g. "grant", "halt", "approve", "arbitrate". */
      readonly op: string;
      readonly data: Record<string, unknown>;
      /** The owner the change concerns (audit column), and the machine if it concerns one. */
      readonly ownerId: string | null;
      readonly machineId?: string | null;
    }
  /** Nothing changed (e.g. revoking what is already revoked): no audit entry, no new version. */
  | { readonly changed: false; readonly result: T };

/** A change of authority: re-check what it depends on and write it, through `ctx.tx` only. */
export type AuthorityChange<T> = (ctx: CommitContext) => Promise<Applied<T>>;

/**
 * Has the kernel validate a proposed registry. Returns its snapshot; throws CONFLICT naming the
 * kernel's first issues when the registry would be invalid.
 */
export function validateProposedRegistry(data: RegistryData): Snapshot {
  try {
    return buildSnapshot(data);
  } catch (e) {
    throw new ApiError("CONFLICT", `the change would leave the registry invalid: ${e instanceof Error ? e.message : "invalid"}`);
  }
}

/** A change applied inside a transaction, with the snapshot of the registry it leaves. */
export interface Proposal<T> {
  readonly applied: Applied<T>;
  /** The validated registry after the change; null when the change was a no-op. */
  readonly snapshot: Snapshot | null;
  readonly version: number;
}

/**
 * Steps 1–2 of the commit: applies `change` through `tx` and validates the resulting registry with
 * the kernel (throws CONFLICT when it is invalid). Audits nothing and bumps nothing: the caller
 * commits (commitAuthority) or rolls back (a what-if).
 */
export async function proposeChange<T>(tx: Tx, principal: HumanPrincipal, change: AuthorityChange<T>, now: number): Promise<Proposal<T>> {
  const version = (await readRegistryVersion(tx)) + 1;
  const applied = await change({ tx, principal, by: actorName(principal), version, now });
  if (!applied.changed) return { applied, snapshot: null, version };
  const snapshot = validateProposedRegistry(await loadRegistryData(tx, version));
  return { applied, snapshot, version };
}

/**
 * A what-if (issue 12): applies `changes` in order — each the very change function its real
 * commit runs, so each is refused exactly as it would be (404 for what the principal may not
 * touch, 422 GRANT_REFUSED with the kernel's reasons, ...) — reads the registry they leave and
 * rolls everything back; then has the kernel validate that registry (an invalid one is 422
 * PROPOSAL_REFUSED with its reasons). Runs under the append lock, so no commit lands while the
 * changes are applied; the snapshot of the committed registry is loaded before the first write,
 * so the per-version snapshot cache can never hold a view with uncommitted changes in it.
 * Each change is checked against the committed registry (not the one earlier changes of the set
 * leave); the set's end state is validated as a whole.
 */
export async function proposeChanges(principal: HumanPrincipal, changes: readonly AuthorityChange<unknown>[]): Promise<{ current: Snapshot; proposed: Snapshot; ops: string[] }> {
  const now = Date.now();
  const { current, data, ops } = await withRolledBackTransaction(async (tx) => {
    const current = await currentSnapshot(tx);
    const version = current.version + 1;
    const ops: string[] = [];
    for (const change of changes) {
      const applied = await change({ tx, principal, by: actorName(principal), version, now });
      ops.push(applied.changed ? applied.op : "unchanged");
    }
    return { current, data: await loadRegistryData(tx, version), ops };
  });
  try {
    return { current, proposed: buildSnapshot(data), ops };
  } catch (e) {
    throw new ApiError("PROPOSAL_REFUSED", `the change set would leave the registry invalid: ${e instanceof Error ? e.message : "invalid"}`, e instanceof Error && "issues" in e ? (e as { issues: unknown }).issues : undefined);
  }
}

/**
 * Records that `principal` looked at a proposal (a what-if simulation): `record` builds the signed
 * answer with the appender's key and returns it with the one system entry to append. Nothing of
 * authority is written and the registry version stays: the log is the only thing that changes.
 */
export async function auditProposal<T>(record: (audit: AuditAppender) => { result: T; entry: Parameters<AuditAppender["append"]> }): Promise<T> {
  const { result } = await withAuditTransaction(async (_tx, audit) => {
    const { result, entry } = record(audit);
    audit.append(...entry);
    return result;
  });
  return result;
}

/** Queues the write conflicts of `snapshot` not queued yet (open or resolved, by id). */
async function queueNewConflicts(tx: Tx, snapshot: Snapshot, now: number): Promise<void> {
  const found = detectConflicts(snapshot, now);
  if (found.length === 0) return;
  const known = await tx.conflict.findMany({ where: { id: { in: found.map((c) => c.id) } }, select: { id: true } });
  const have = new Set(known.map((k) => k.id));
  for (const c of found) {
    if (have.has(c.id)) continue;
    await tx.conflict.create({
      data: {
        id: c.id,
        resourceId: "resource" in c.overlap ? c.overlap.resource : c.overlap.scope,
        claimAId: c.claims[0],
        claimBId: c.claims[1],
        ownerAId: c.holders[0],
        ownerBId: c.holders[1],
        suggestion: JSON.stringify(suggestResolution(c, snapshot)),
        status: "OPEN",
      },
    });
  }
}

/** Commits one change of authority (see the module comment). Returns the change's result. */
export async function commitAuthority<T>(principal: HumanPrincipal, change: AuthorityChange<T>): Promise<T> {
  const { result } = await withAuditTransaction(async (tx, audit) => {
    const now = Date.now();
    const { applied, snapshot, version } = await proposeChange(tx, principal, change, now);
    if (!applied.changed || snapshot === null) return applied.result;
    await queueNewConflicts(tx, snapshot, now);
    const by = actorName(principal);
    audit.append(
      { kind: "authority", op: applied.op, by, data: JSON.parse(JSON.stringify({ ...applied.data, registryVersion: version })) },
      { kind: "authority", actorId: by, ownerId: applied.ownerId, machineId: applied.machineId ?? null },
      now,
    );
    // Every commit is serialised by withAuditTransaction, so the version read by proposeChange is
    // still the last one; if it were not, halts would carry a wrong createdVersion: refuse.
    const bumped = await bumpRegistryVersion(tx);
    if (bumped !== version) throw new Error(`registry version moved during a commit (${version} expected, ${bumped} written)`);
    return applied.result;
  });
  return result;
}
