import "server-only";
import { formatIso } from "../../kernel/iso-time";
import type { Snapshot } from "../../kernel/snapshot";
import type { HumanPrincipal } from "../auth";
import { budgetOfColumn, usageOut } from "../budgets";
import { ApiError, forbidden, notFound } from "../errors";
import { currentSnapshot, SnapshotUnavailableError, type Tx } from "../registry";

/** Small pieces shared by the kinds of change of authority (kept apart to avoid import cycles). */
export const iso = (d: Date | null | undefined) => (d ? formatIso(d.getTime()) : null);

export type Row<T> = T & { createdAt: Date };

/** The human an owner acts as; the operator acts on behalf of `onBehalfOf` (required). */
export function actingOwner(principal: HumanPrincipal, onBehalfOf: string | undefined): string {
  if (principal.kind === "owner") {
    if (onBehalfOf !== undefined && onBehalfOf !== principal.entityId) throw forbidden("owners act only for themselves");
    return principal.entityId;
  }
  if (!onBehalfOf) throw new ApiError("VALIDATION_FAILED", "the operator must name the owner this is for");
  return onBehalfOf;
}

export function actorName(principal: HumanPrincipal): string {
  return principal.kind === "owner" ? principal.entityId : `operator:${principal.accountId ?? "token"}`;
}

type ClaimRow = Awaited<ReturnType<Tx["claim"]["findUniqueOrThrow"]>>;
/** A claim as the API shows it; `inWindow`: its uses in its rate window now (listGrants counts them). */
export function grantOut(c: ClaimRow, inWindow = 0) {
  const budget = budgetOfColumn(c.budget);
  return {
    id: c.id,
    holder: c.holderId,
    resource: c.resourceId,
    scope: c.scope,
    canRead: c.canRead,
    canWrite: c.canWrite,
    canDelegate: c.canDelegate,
    confidence: c.confidence,
    expiresAt: iso(c.expiresAt),
    grantor: c.grantorId,
    revokedAt: iso(c.revokedAt),
    createdAt: formatIso(c.createdAt.getTime()),
    budget,
    usage: budget === null ? null : usageOut(budget, { uses: c.usedUses, cost: Number(c.usedCost), inWindow }),
  };
}

export async function requireHumanEntity(tx: Tx, id: string): Promise<void> {
  const e = await tx.entity.findUnique({ where: { id } });
  if (!e || e.kind !== "HUMAN") throw notFound(`owner ${id}`);
}

export async function idTaken(tx: Tx, id: string): Promise<boolean> {
  const [e, r] = await Promise.all([tx.entity.findUnique({ where: { id } }), tx.resource.findUnique({ where: { id } })]);
  return Boolean(e || r);
}

/** A machine the principal may manage, or 404 (never 403: another owner's ids stay unconfirmed). */
export async function ownedMachine(tx: Tx, principal: HumanPrincipal, machineId: string) {
  const m = await tx.entity.findUnique({ where: { id: machineId } });
  if (!m || m.kind !== "MACHINE") throw notFound(`machine ${machineId}`);
  if (principal.kind === "owner" && m.ownerId !== principal.entityId) throw notFound(`machine ${machineId}`);
  return m;
}

/** Entities the principal speaks for: themselves and their machines (operator: everyone). */
export async function principalEntities(tx: Tx, principal: HumanPrincipal): Promise<Set<string> | null> {
  if (principal.kind === "operator") return null;
  const machines = await tx.entity.findMany({ where: { ownerId: principal.entityId }, select: { id: true } });
  return new Set([principal.entityId, ...machines.map((m) => m.id)]);
}

/** The committed snapshot as `tx` sees it; 503 when the registry cannot be loaded. */
export async function snapshotIn(tx: Tx): Promise<Snapshot> {
  try {
    return await currentSnapshot(tx);
  } catch (e) {
    if (e instanceof SnapshotUnavailableError) throw new ApiError("SERVICE_UNAVAILABLE", "the registry cannot be loaded");
    throw e;
  }
}
