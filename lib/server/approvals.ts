import "server-only";
import { formatIso } from "../kernel/iso-time";
import { violationClass, type Violation } from "../kernel/types";
import { withAuditTransaction } from "./audit-log";
import { actorName, createGrant } from "./authority";
import type { HumanPrincipal } from "./auth";
import { getDb } from "./db/client";
import { ApiError, notFound } from "./errors";

/**
 * The approval inbox (design §9). A blocked action with only authority violations can be cured by
 * its owner: approving creates narrow grants — exactly the resources and rights the action lacked,
 * from the owner to the machine, expiring soon — through the same checkGrant as any grant. The
 * agent's retry then passes the ordinary verifier; nothing here permits anything by itself.
 * Actions with an invariant violation are listed read-only and can never be approved.
 */
type ApprovalRow = Awaited<ReturnType<ReturnType<typeof getDb>["approval"]["findUniqueOrThrow"]>>;

function out(a: ApprovalRow) {
  return {
    id: a.id,
    machineId: a.machineId,
    ownerId: a.ownerId,
    actionId: a.actionId,
    action: JSON.parse(a.action) as unknown,
    actionDigest: a.actionDigest,
    auditSeq: a.auditSeq,
    violations: JSON.parse(a.violations) as Violation[],
    missingGrants: JSON.parse(a.missingGrants) as { resource: string; right: "read" | "write" | "delegate"; code: string }[],
    curable: a.curable,
    status: a.status as "PENDING" | "APPROVED" | "REFUSED",
    reason: a.reason,
    createdAt: formatIso(a.createdAt.getTime()),
    decidedAt: a.decidedAt ? formatIso(a.decidedAt.getTime()) : null,
    decidedBy: a.decidedBy,
  };
}

export async function listApprovals(principal: HumanPrincipal, status?: string) {
  const rows = await getDb().approval.findMany({
    where: { ...(principal.kind === "owner" ? { ownerId: principal.entityId } : {}), ...(status ? { status } : {}) },
    orderBy: { createdAt: "desc" },
    take: 500,
  });
  return rows.map(out);
}

async function ownApproval(principal: HumanPrincipal, id: string): Promise<ApprovalRow> {
  const a = await getDb().approval.findUnique({ where: { id } });
  if (!a || (principal.kind === "owner" && a.ownerId !== principal.entityId)) throw notFound(`approval ${id}`);
  return a;
}

export async function approve(principal: HumanPrincipal, id: string, ttlSeconds: number) {
  const a = await ownApproval(principal, id);
  if (a.status !== "PENDING") throw new ApiError("CONFLICT", `the approval is already ${a.status.toLowerCase()}`);
  const violations = JSON.parse(a.violations) as Violation[];
  const invariant = violations.filter((v) => violationClass(v.code) === "invariant");
  if (!a.curable || invariant.length > 0) {
    throw new ApiError(
      "NOT_APPROVABLE",
      `this action broke an invariant no one can approve: ${invariant.map((v) => v.code).join(", ") || "not curable"}`,
      invariant,
    );
  }
  const missing = JSON.parse(a.missingGrants) as { resource: string; right: "read" | "write" | "delegate" }[];
  if (missing.length === 0) throw new ApiError("NOT_APPROVABLE", "nothing to grant: the action needs no resource the owner can delegate");
  const expiresAt = formatIso(Date.now() + ttlSeconds * 1000);
  // One narrow grant per resource, with only the rights the action lacked there.
  const byResource = new Map<string, Set<string>>();
  for (const m of missing) (byResource.get(m.resource) ?? byResource.set(m.resource, new Set()).get(m.resource)!).add(m.right);
  for (const [resource, rights] of byResource) {
    await createGrant(
      principal,
      { holder: a.machineId, resource, canRead: rights.has("read"), canWrite: rights.has("write"), canDelegate: rights.has("delegate"), grantor: a.ownerId, expiresAt },
      { approvalId: a.id },
    ).catch((e: unknown) => {
      if (e instanceof ApiError && e.code === "GRANT_REFUSED") {
        throw new ApiError("NOT_APPROVABLE", `the owner cannot grant what the action needs: ${e.message}`, e.details);
      }
      throw e;
    });
  }
  const { result } = await withAuditTransaction(async (tx, audit) => {
    const updated = await tx.approval.update({ where: { id }, data: { status: "APPROVED", decidedAt: new Date(), decidedBy: actorName(principal) } });
    audit.append(
      { kind: "authority", op: "approve", by: actorName(principal), data: { approval: id, machine: a.machineId, actionDigest: a.actionDigest, grants: [...byResource].map(([r, s]) => ({ resource: r, rights: [...s] })), expiresAt } },
      { kind: "authority", actorId: actorName(principal), ownerId: a.ownerId, machineId: a.machineId },
    );
    return out(updated);
  });
  return result;
}

export async function refuse(principal: HumanPrincipal, id: string, reason: string) {
  const a = await ownApproval(principal, id);
  if (a.status !== "PENDING") throw new ApiError("CONFLICT", `the approval is already ${a.status.toLowerCase()}`);
  const { result } = await withAuditTransaction(async (tx, audit) => {
    const updated = await tx.approval.update({ where: { id }, data: { status: "REFUSED", reason, decidedAt: new Date(), decidedBy: actorName(principal) } });
    audit.append(
      { kind: "authority", op: "refuse", by: actorName(principal), data: { approval: id, machine: a.machineId, actionDigest: a.actionDigest, reason } },
      { kind: "authority", actorId: actorName(principal), ownerId: a.ownerId, machineId: a.machineId },
    );
    return out(updated);
  });
  return result;
}
