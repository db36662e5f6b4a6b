import "server-only";
import type { z } from "zod";
import type { ResolveConflictRequest } from "../../contracts";
import { resolveConflict, type Resolution, type WriteConflict } from "../../kernel/extensions/conflicts";
import { formatIso } from "../../kernel/iso-time";
import type { HumanPrincipal } from "../auth";
import { getDb } from "../db/client";
import { ApiError, notFound } from "../errors";
import type { Tx } from "../registry";
import { commitAuthority } from "./commit";
import { grantOut, snapshotIn } from "./shared";

/**
 * The arbitration queue (design §9): conflicting write claims between humans, found by the
 * kernel's detectConflicts in every commit (commit.ts queues them), resolved by the operator or
 * one of the two owners involved (keep one, split scopes, lower confidence). The kernel computes
 * the claim changes; the resolution is a change of authority like any other, so a result the
 * kernel refuses as a registry is refused and changes nothing.
 */
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
  return commitAuthority(principal, async ({ tx, by, now }) => {
    const row = await tx.conflict.findUnique({ where: { id } });
    if (!row || (principal.kind === "owner" && row.ownerAId !== principal.entityId && row.ownerBId !== principal.entityId)) throw notFound(`conflict ${id}`);
    // Conditional, like an approval: of two concurrent resolutions exactly one applies.
    const { count } = await tx.conflict.updateMany({ where: { id, status: "OPEN" }, data: { status: "RESOLVED", resolvedAt: new Date(now), resolvedBy: by } });
    if (count !== 1) throw new ApiError("CONFLICT", "the conflict is already resolved");
    const snapshot = await snapshotIn(tx);
    const conflict: WriteConflict = {
      id: row.id,
      claims: [row.claimAId, row.claimBId],
      holders: [row.ownerAId, row.ownerBId],
      confidences: [snapshot.claim(row.claimAId)?.confidence ?? 0, snapshot.claim(row.claimBId)?.confidence ?? 0],
      overlap: snapshot.resource(row.resourceId) ? { resource: row.resourceId } : { scope: row.resourceId },
    };
    const outcome = resolveConflict({ pending: [conflict], resolved: [] }, id, toResolution(row, body), {
      by,
      now,
      snapshot,
      operators: principal.kind === "operator" ? [by] : [],
    });
    if (!outcome.ok) throw new ApiError(outcome.reason === "BAD_RESOLUTION" ? "VALIDATION_FAILED" : "FORBIDDEN", outcome.message);
    for (const change of outcome.record.changes) {
      if (change.change === "revoke_write") await tx.claim.update({ where: { id: change.claim }, data: { canWrite: false } });
      else if (change.change === "set_scope") await tx.claim.update({ where: { id: change.claim }, data: { scope: change.scope, resourceId: null } });
      else await tx.claim.update({ where: { id: change.claim }, data: { confidence: change.confidence } });
    }
    const updated = await tx.conflict.update({ where: { id }, data: { resolution: JSON.stringify(outcome.record) } });
    return { changed: true, result: await out(tx, updated), op: "arbitrate", data: { ...outcome.record }, ownerId: row.ownerAId };
  });
}
