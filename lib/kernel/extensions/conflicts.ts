/**
 * Conflict resolver queue (design §9, §12): conflicting write claims between humans go to a
 * queue; the operator or the owners involved resolve each one (keep one, split scopes, lower
 * confidence) and every resolution becomes a record for the audit log.
 *
 * Everything here is a pure function over immutable values: detectConflicts reads a snapshot,
 * the queue functions return new queues, resolveConflict returns the new queue and the record.
 * Applying a resolution to the registry is the server's job; claimChanges says exactly what to change.
 *
 * Two write claims conflict when they are ownership (root) claims of two different humans, both
 * valid at `now` (the snapshot's own validity rule), that overlap: the same resource, a resource
 * inside a scope, or nested scopes. Delegated claims are never queued on their own: a valid
 * delegated claim is backed by a root claim covering it, so any dispute it is part of is the
 * dispute of its root — and a right shared from A to B is sharing, not a dispute. Resolving the
 * roots' conflict settles everything delegated from them.
 */
import { canonicalJson } from "../canonical";
import { formatIso } from "../iso-time";
import { scopeAncestors, scopeContains, validateScope } from "../scope";
import type { Snapshot } from "../snapshot";
import type { Claim } from "../types";
import { CONTESTED_THRESHOLD } from "../verify";

/** Two humans' overlapping write claims. */
export interface WriteConflict {
  /** "conflict:" + the two claim ids, sorted, joined by "|". Deterministic. */
  readonly id: string;
  /** The two claim ids, sorted. */
  readonly claims: readonly [string, string];
  /** Their holders, in the order of `claims`. */
  readonly holders: readonly [string, string];
  /** Their confidences, in the order of `claims`. */
  readonly confidences: readonly [number, number];
  /** Where they overlap: a resource id, or the narrower of two nested scopes. */
  readonly overlap: { readonly resource: string } | { readonly scope: string };
}

/** How a conflict is settled. */
export type Resolution =
  /** The kept claim keeps its write; the other claim loses canWrite. */
  | { readonly kind: "keep_one"; readonly keep: string }
  /** Each claim is narrowed to a scope; the scopes must be disjoint and inside the claim's target. */
  | { readonly kind: "split_scopes"; readonly scopes: readonly { readonly claim: string; readonly scope: string }[] }
  /** Both claims drop to `confidence` (< 0.8): every write becomes contested and needs arbitration. */
  | { readonly kind: "lower_confidence"; readonly confidence: number };

/** One change to the registry that a resolution asks for. */
export type ClaimChange =
  | { readonly claim: string; readonly change: "revoke_write" }
  | { readonly claim: string; readonly change: "set_scope"; readonly scope: string }
  | { readonly claim: string; readonly change: "set_confidence"; readonly confidence: number };

/** An audit-ready record of a resolution (plain JSON data). */
export interface ResolutionRecord {
  readonly conflictId: string;
  readonly claims: readonly [string, string];
  readonly holders: readonly [string, string];
  readonly resolution: Resolution;
  readonly changes: readonly ClaimChange[];
  /** Who resolved it: a human id or an operator id. */
  readonly by: string;
  readonly resolvedAt: string;
}

/** The immutable arbitration queue. */
export interface ConflictQueue {
  /** Open conflicts, sorted by id. */
  readonly pending: readonly WriteConflict[];
  /** Resolutions, oldest first. */
  readonly resolved: readonly ResolutionRecord[];
}

/** Why resolveConflict refused. */
export type ResolveFailure =
  | "UNKNOWN_CONFLICT"
  | "NOT_A_PARTY"
  | "BAD_RESOLUTION";

/** The outcome of resolveConflict. */
export type ResolveOutcome =
  | { readonly ok: true; readonly queue: ConflictQueue; readonly record: ResolutionRecord }
  | { readonly ok: false; readonly reason: ResolveFailure; readonly message: string };

const EMPTY_QUEUE: ConflictQueue = Object.freeze({ pending: Object.freeze([]), resolved: Object.freeze([]) });

/** The empty queue. */
export function emptyConflictQueue(): ConflictQueue {
  return EMPTY_QUEUE;
}

function makeConflict(a: Claim, b: Claim, overlap: WriteConflict["overlap"]): WriteConflict {
  const [x, y] = a.id < b.id ? [a, b] : [b, a];
  return {
    id: `conflict:${x.id}|${y.id}`,
    claims: [x.id, y.id],
    holders: [x.holder, y.holder],
    confidences: [x.confidence, y.confidence],
    overlap,
  };
}

/**
 * Every write conflict between humans in `snapshot` at `now`, sorted by id, each pair once.
 * Indexed by resource and scope ancestors, so the cost grows with claims x path depth, not claims².
 * Never throws for a snapshot made by buildSnapshot; returns [] for a non-integer `now`.
 */
export function detectConflicts(snapshot: Snapshot, now: number): WriteConflict[] {
  if (!Number.isSafeInteger(now)) return [];
  const writers = snapshot.data.claims.filter(
    (c) =>
      c.canWrite &&
      c.grantor === undefined &&
      snapshot.entity(c.holder)?.kind === "HUMAN" &&
      snapshot.isClaimValid(c.id, now),
  );
  const byResource = new Map<string, Claim[]>();
  const byScope = new Map<string, Claim[]>();
  for (const c of writers) {
    const map = c.resource !== undefined ? byResource : byScope;
    const key = (c.resource ?? c.scope) as string;
    map.set(key, [...(map.get(key) ?? []), c]);
  }
  const found = new Map<string, WriteConflict>();
  const consider = (a: Claim, b: Claim, overlap: WriteConflict["overlap"]) => {
    if (a.id === b.id || a.holder === b.holder) return;
    const conflict = makeConflict(a, b, overlap);
    if (!found.has(conflict.id)) found.set(conflict.id, conflict);
  };
  for (const c of writers) {
    if (c.resource !== undefined) {
      const scope = snapshot.resource(c.resource)?.scope;
      for (const other of byResource.get(c.resource) ?? []) consider(c, other, { resource: c.resource });
      if (scope === undefined) continue;
      for (const a of scopeAncestors(scope)) for (const other of byScope.get(a) ?? []) consider(c, other, { resource: c.resource });
    } else if (c.scope !== undefined) {
      // Scopes containing this one (itself included); the contained side finds the containing one.
      for (const a of scopeAncestors(c.scope)) for (const other of byScope.get(a) ?? []) consider(c, other, { scope: c.scope });
    }
  }
  return [...found.values()].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

/**
 * Adds conflicts not already pending or resolved (by id). Returns a new queue; pending stays
 * sorted by id. A resolved conflict that is detected again (the resolution was not applied) is
 * not re-queued silently: it is the caller's to re-open with reopenConflict.
 */
export function enqueueConflicts(queue: ConflictQueue, conflicts: readonly WriteConflict[]): ConflictQueue {
  const known = new Set([...queue.pending.map((c) => c.id), ...queue.resolved.map((r) => r.conflictId)]);
  const added = conflicts.filter((c) => {
    if (known.has(c.id)) return false;
    known.add(c.id);
    return true;
  });
  if (added.length === 0) return queue;
  const pending = [...queue.pending, ...added].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return Object.freeze({ pending: Object.freeze(pending), resolved: queue.resolved });
}

/** Puts a conflict back on the pending list even if it was resolved before. Returns a new queue. */
export function reopenConflict(queue: ConflictQueue, conflict: WriteConflict): ConflictQueue {
  if (queue.pending.some((c) => c.id === conflict.id)) return queue;
  const pending = [...queue.pending, conflict].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return Object.freeze({ pending: Object.freeze(pending), resolved: queue.resolved });
}

/** Confidence suggested when neither claim can be preferred: contested, so every write is arbitrated. */
export const SUGGESTED_LOWER_CONFIDENCE = 0.5;

/**
 * A deterministic suggestion, for humans to accept or change:
 * 1. confidences differ -> keep the claim with the higher confidence (the better-evidenced one);
 * 2. otherwise -> lower both to 0.5, so every write to the overlap needs arbitration.
 * A split is never suggested: where the boundary between two owners runs is theirs to decide;
 * resolveConflict accepts one when they do. The snapshot argument is accepted for call sites
 * that pass it; the suggestion depends on the conflict alone.
 */
export function suggestResolution(conflict: WriteConflict, _snapshot?: Snapshot): Resolution {
  const [idA, idB] = conflict.claims;
  const [ca, cb] = conflict.confidences;
  if (ca !== cb) return { kind: "keep_one", keep: ca > cb ? idA : idB };
  return { kind: "lower_confidence", confidence: SUGGESTED_LOWER_CONFIDENCE };
}

function targetOf(claim: Claim, snapshot: Snapshot): string | undefined {
  return claim.scope ?? (claim.resource !== undefined ? snapshot.resource(claim.resource)?.scope : undefined);
}

/** The registry changes a resolution asks for, or an error message when it does not fit the conflict. */
function changesFor(conflict: WriteConflict, resolution: unknown, snapshot: Snapshot): ClaimChange[] | string {
  if (typeof resolution !== "object" || resolution === null) return "a resolution is an object with a kind";
  const r = resolution as Record<string, unknown>;
  const [idA, idB] = conflict.claims;
  switch (r.kind) {
    case "keep_one": {
      if (r.keep !== idA && r.keep !== idB) return "keep must be one of the two claims";
      return [{ claim: r.keep === idA ? idB : idA, change: "revoke_write" }];
    }
    case "lower_confidence": {
      const c = r.confidence;
      if (typeof c !== "number" || !(c > 0) || !(c < CONTESTED_THRESHOLD)) {
        return `confidence must be in (0, ${CONTESTED_THRESHOLD}) so that writes stay contested`;
      }
      return conflict.claims.map((claim, i) => ({
        claim,
        change: "set_confidence" as const,
        confidence: Math.min(c, conflict.confidences[i] ?? c),
      }));
    }
    case "split_scopes": {
      const list: unknown = r.scopes;
      if (!Array.isArray(list) || list.length !== 2) return "split_scopes assigns one scope to each of the two claims";
      const assigned = new Map<string, string>();
      for (const item of list as unknown[]) {
        const { claim, scope } = (item ?? {}) as { claim?: unknown; scope?: unknown };
        if ((claim !== idA && claim !== idB) || typeof scope !== "string" || !validateScope(scope).ok || assigned.has(claim)) {
          return "each claim gets exactly one valid scope";
        }
        const original = snapshot.claim(claim);
        const target = original !== undefined ? targetOf(original, snapshot) : undefined;
        if (target === undefined || !scopeContains(target, scope)) {
          return `the scope for ${claim} must lie inside what it already covers`;
        }
        if (original?.resource !== undefined && scope !== target) {
          return `${claim} is a claim on one resource; it cannot be split`;
        }
        assigned.set(claim, scope);
      }
      const sa = assigned.get(idA) as string;
      const sb = assigned.get(idB) as string;
      if (scopeContains(sa, sb) || scopeContains(sb, sa)) return "the two scopes must not overlap";
      return [
        { claim: idA, change: "set_scope", scope: sa },
        { claim: idB, change: "set_scope", scope: sb },
      ];
    }
    default:
      return "unknown resolution kind";
  }
}

/** The claim changes a resolution implies for a conflict; [] when it does not fit. Never throws. */
export function claimChanges(conflict: WriteConflict, resolution: Resolution, snapshot: Snapshot): ClaimChange[] {
  try {
    const out = changesFor(conflict, resolution, snapshot);
    return typeof out === "string" ? [] : out;
  } catch {
    return [];
  }
}

/**
 * Resolves a pending conflict. `by` must be one of the two holders, or listed in
 * `options.operators` (design §9: the operator or the owners involved). Returns the new queue
 * (conflict moved from pending to resolved) and the record to write to the audit log, or a
 * failure: UNKNOWN_CONFLICT, NOT_A_PARTY, BAD_RESOLUTION. Never throws; IsoTimeError-free
 * (a bad `now` is BAD_RESOLUTION).
 */
export function resolveConflict(
  queue: ConflictQueue,
  conflictId: string,
  resolution: Resolution,
  options: { readonly by: string; readonly now: number; readonly snapshot: Snapshot; readonly operators?: readonly string[] },
): ResolveOutcome {
  try {
    const conflict = queue.pending.find((c) => c.id === conflictId);
    if (conflict === undefined) return { ok: false, reason: "UNKNOWN_CONFLICT", message: `no pending conflict ${conflictId}` };
    const isParty = conflict.holders.includes(options.by) || (options.operators ?? []).includes(options.by);
    if (!isParty) return { ok: false, reason: "NOT_A_PARTY", message: `${options.by} is neither a holder nor an operator` };
    if (!Number.isSafeInteger(options.now)) return { ok: false, reason: "BAD_RESOLUTION", message: "now must be integer ms" };
    const changes = changesFor(conflict, resolution, options.snapshot);
    if (typeof changes === "string") return { ok: false, reason: "BAD_RESOLUTION", message: changes };
    // The record is plain JSON data (copied), ready to be an audit payload.
    const record = JSON.parse(
      canonicalJson({
        conflictId,
        claims: conflict.claims,
        holders: conflict.holders,
        resolution,
        changes,
        by: options.by,
        resolvedAt: formatIso(options.now),
      }),
    ) as ResolutionRecord;
    const next: ConflictQueue = Object.freeze({
      pending: Object.freeze(queue.pending.filter((c) => c.id !== conflictId)),
      resolved: Object.freeze([...queue.resolved, record]),
    });
    return { ok: true, queue: next, record };
  } catch {
    return { ok: false, reason: "BAD_RESOLUTION", message: "the resolution could not be read" };
  }
}
