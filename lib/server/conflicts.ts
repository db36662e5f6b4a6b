import "server-only";
import type { z } from "zod";
import type { ResolveConflictRequest } from "../contracts";
import { detectConflicts, resolveConflict, suggestResolution, type Resolution, type WriteConflict } from "../kernel/extensions/conflicts";
import { formatIso } from "../kernel/iso-time";
import type { Snapshot } from "../kernel/snapshot";
import { withAuditTransaction } from "./audit-log";
import { actorName, grantOut } from "./authority-shared";
import type { HumanPrincipal } from "./auth";
import { getDb } from "./db/client";
import { ApiError, notFound } from "./errors";
import { bumpRegistryVersion, currentSnapshot, type Tx } from "./registry";

/**
 * The arbitration queue (design §9): conflicting write claims between humans, found by the
 * kernel's detectConflicts after every change of authority, resolved by the operator or one of the
 * two owners involved (keep one, split scopes, lower confidence). The kernel computes the claim
 * changes; every resolution is audited with them.
 */

/** Queues the conflicts of `snapshot` not queued yet. Called inside authority transactions. */
export async function queueNewConflicts(tx: Tx, snapshot: Snapshot, now: number): Promise<void> {
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

type ConflictRow = Awaited<ReturnType<Tx["conflict"]["findUniqueOrThrow"]>>;

async function out(tx: Tx, c: ConflictRow) {
  const [a, b] = await Promise.all([tx.claim.findUniqueOrThrow({ where: { id: c.claimAId } }), tx.claim.findUniqueOrThrow({ where: { id: c.claimBId } })]);
  return {
    id: c.id,
    resourceId: c.resourceId,
    claimA: grantOut(a),
    claimB: grantOut(b),
    suggestion: JSON.parse(c.suggestion) as unknown,
    status: c.status as "OPEN" | "RESOLVED",
    resolution: c.resolution ? (JSON.parse(c.resolution) as unknown) : null,
    createdAt: formatIso(c.createdAt.getTime()),
    resolvedAt: c.resolvedAt ? formatIso(c.resolvedAt.getTime()) : null,
    resolvedBy: c.resolvedBy,
  };
}

export async function listConflicts(principal: HumanPrincipal) {
  const db = getDb();
  const rows = await db.conflict.findMany({
    where: principal.kind === "owner" ? { OR: [{ ownerAId: principal.entityId }, { ownerBId: principal.entityId }] } : {},
    orderBy: { createdAt: "desc" },
  });
  return Promise.all(rows.map((r) => out(db, r)));
}

function toResolution(row: ConflictRow, body: z.infer<typeof ResolveConflictRequest>): Resolution {
  switch (body.strategy) {
    case "keep":
      return { kind: "keep_one", keep: body.keep === "A" ? row.claimAId : row.claimBId };
    case "split":
      return { kind: "split_scopes", scopes: [{ claim: row.claimAId, scope: body.scopeA }, { claim: row.claimBId, scope: body.scopeB }] };
    case "lower-confidence":
      return { kind: "lower_confidence", confidence: body.confidence };
    default: {
      const unreachable: never = body;
      return unreachable;
    }
  }
}

export async function resolve(principal: HumanPrincipal, id: string, body: z.infer<typeof ResolveConflictRequest>) {
  const by = actorName(principal);
  const { result } = await withAuditTransaction(async (tx, audit) => {
    const row = await tx.conflict.findUnique({ where: { id } });
    if (!row || (principal.kind === "owner" && row.ownerAId !== principal.entityId && row.ownerBId !== principal.entityId)) throw notFound(`conflict ${id}`);
    if (row.status !== "OPEN") throw new ApiError("CONFLICT", "the conflict is already resolved");
    const snapshot = await currentSnapshot(tx);
    const conflict: WriteConflict = {
      id: row.id,
      claims: [row.claimAId, row.claimBId],
      holders: [row.ownerAId, row.ownerBId],
      confidences: [snapshot.claim(row.claimAId)?.confidence ?? 0, snapshot.claim(row.claimBId)?.confidence ?? 0],
      overlap: snapshot.resource(row.resourceId) ? { resource: row.resourceId } : { scope: row.resourceId },
    };
    const outcome = resolveConflict({ pending: [conflict], resolved: [] }, id, toResolution(row, body), {
      by,
      now: Date.now(),
      snapshot,
      operators: principal.kind === "operator" ? [by] : [],
    });
    if (!outcome.ok) throw new ApiError(outcome.reason === "BAD_RESOLUTION" ? "VALIDATION_FAILED" : "FORBIDDEN", outcome.message);
    for (const change of outcome.record.changes) {
      if (change.change === "revoke_write") await tx.claim.update({ where: { id: change.claim }, data: { canWrite: false } });
      else if (change.change === "set_scope") await tx.claim.update({ where: { id: change.claim }, data: { scope: change.scope, resourceId: null } });
      else await tx.claim.update({ where: { id: change.claim }, data: { confidence: change.confidence } });
    }
    const version = await bumpRegistryVersion(tx);
    const updated = await tx.conflict.update({
      where: { id },
      data: { status: "RESOLVED", resolution: JSON.stringify(outcome.record), resolvedAt: new Date(), resolvedBy: by },
    });
    audit.append(
      { kind: "authority", op: "arbitrate", by, data: JSON.parse(JSON.stringify({ ...outcome.record, registryVersion: version })) },
      { kind: "authority", actorId: by, ownerId: row.ownerAId },
    );
    return out(tx, updated);
  });
  return result;
}
