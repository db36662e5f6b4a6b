import "server-only";
import { detectConflicts, suggestResolution } from "../../kernel/extensions/conflicts";
import { buildSnapshot, type Snapshot } from "../../kernel/snapshot";
import type { RegistryData } from "../../kernel/types";
import { withAuditTransaction } from "../audit-log";
import type { HumanPrincipal } from "../auth";
import { ApiError } from "../errors";
import { bumpRegistryVersion, loadRegistryData, readRegistryVersion, type Tx } from "../registry";
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
