import "server-only";
import { formatIso } from "../../kernel/iso-time";
import type { GrantProposal } from "../../kernel/grant";
import { violationClass, type Violation } from "../../kernel/types";
import type { HumanPrincipal } from "../auth";
import { getDb } from "../db/client";
import { ApiError, notFound } from "../errors";
import type { Tx } from "../registry";
import { commitAuthority } from "./commit";
import { requireGrantable, writeGrant } from "./grants";
import { snapshotIn } from "./shared";

/**
 * The approval inbox (design §9). A blocked action with only authority violations can be cured by
 * its owner: approving creates narrow grants — exactly the resources and rights the action lacked,
 * from the owner to the machine, expiring soon — each through the same checkGrant as any grant.
 * The agent's retry then passes the ordinary verifier; nothing here permits anything by itself.
 * Actions with an invariant violation are listed read-only and can never be approved.
 *
 * Approving is one change of authority: every grant and the status change commit together or not
 * at all. The status moves from PENDING by a conditional update inside the transaction, so of two
 * concurrent decisions on one request exactly one succeeds; the other is 409 and leaves nothing.
 */
type ApprovalRow = Awaited<ReturnType<Tx["approval"]["findUniqueOrThrow"]>>;
type Missing = { resource: string; right: "read" | "write" | "delegate" };

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
    missingGrants: JSON.parse(a.missingGrants) as (Missing & { code: string })[],
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

async function ownApproval(tx: Tx, principal: HumanPrincipal, id: string): Promise<ApprovalRow> {
  const a = await tx.approval.findUnique({ where: { id } });
  if (!a || (principal.kind === "owner" && a.ownerId !== principal.entityId)) throw notFound(`approval ${id}`);
  return a;
}

/** Moves a PENDING request to `status`, or throws 409 when it was already decided. */
async function decide(tx: Tx, a: ApprovalRow, data: { status: "APPROVED" | "REFUSED"; reason?: string; decidedBy: string }): Promise<ApprovalRow> {
  const { count } = await tx.approval.updateMany({ where: { id: a.id, status: "PENDING" }, data: { ...data, decidedAt: new Date() } });
  if (count !== 1) {
    const now = await tx.approval.findUnique({ where: { id: a.id }, select: { status: true } });
    throw new ApiError("CONFLICT", `the approval is already ${(now?.status ?? a.status).toLowerCase()}`);
  }
  return tx.approval.findUniqueOrThrow({ where: { id: a.id } });
}

/** One narrow grant per resource, with only the rights the action lacked there. */
function grantsFor(a: ApprovalRow, expiresAt: number): GrantProposal[] {
  const missing = JSON.parse(a.missingGrants) as Missing[];
  const byResource = new Map<string, Set<string>>();
  for (const m of missing) {
    let rights = byResource.get(m.resource);
    if (!rights) byResource.set(m.resource, (rights = new Set()));
    rights.add(m.right);
  }
  return [...byResource].map(([resource, rights]) => ({
    holder: a.machineId,
    grantor: a.ownerId,
    resource,
    canRead: rights.has("read"),
    canWrite: rights.has("write"),
    canDelegate: rights.has("delegate"),
    confidence: 1,
    expiresAt,
  }));
}

export async function approve(principal: HumanPrincipal, id: string, ttlSeconds: number) {
  return commitAuthority(principal, async ({ tx, by, now }) => {
    const a = await ownApproval(tx, principal, id);
    const updated = await decide(tx, a, { status: "APPROVED", decidedBy: by });
    const violations = JSON.parse(a.violations) as Violation[];
    const invariant = violations.filter((v) => violationClass(v.code) === "invariant");
    if (!a.curable || invariant.length > 0) {
      throw new ApiError("NOT_APPROVABLE", `this action broke an invariant no one can approve: ${invariant.map((v) => v.code).join(", ") || "not curable"}`, invariant);
    }
    const expiresAt = now + ttlSeconds * 1000;
    const proposals = grantsFor(a, expiresAt);
    if (proposals.length === 0) throw new ApiError("NOT_APPROVABLE", "nothing to grant: the action needs no resource the owner can delegate");
    // Every grant is checked against the registry as it was before any of them, then all are written.
    const snapshot = await snapshotIn(tx);
    for (const p of proposals) {
      try {
        requireGrantable(snapshot, p, now);
      } catch (e) {
        if (e instanceof ApiError && e.code === "GRANT_REFUSED") throw new ApiError("NOT_APPROVABLE", `the owner cannot grant what the action needs: ${e.message}`, e.details);
        throw e;
      }
    }
    const claims = [];
    for (const p of proposals) claims.push(await writeGrant(tx, by, p, a.id));
    return {
      changed: true,
      result: out(updated),
      op: "approve",
      data: {
        approval: id,
        machine: a.machineId,
        actionDigest: a.actionDigest,
        grants: claims.map((c) => ({ claim: c.id, resource: c.resourceId, rights: [c.canRead && "read", c.canWrite && "write", c.canDelegate && "delegate"].filter(Boolean) })),
        expiresAt: formatIso(expiresAt),
      },
      ownerId: a.ownerId,
      machineId: a.machineId,
    };
  });
}

export async function refuse(principal: HumanPrincipal, id: string, reason: string) {
  return commitAuthority(principal, async ({ tx, by }) => {
    const a = await ownApproval(tx, principal, id);
    const updated = await decide(tx, a, { status: "REFUSED", reason, decidedBy: by });
    return {
      changed: true,
      result: out(updated),
      op: "refuse",
      data: { approval: id, machine: a.machineId, actionDigest: a.actionDigest, reason },
      ownerId: a.ownerId,
      machineId: a.machineId,
    };
  });
}
