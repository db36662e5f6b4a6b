import "server-only";
import { formatIso } from "../kernel/iso-time";
import type { HumanPrincipal } from "./auth";
import { ApiError, forbidden } from "./errors";
import type { Tx } from "./registry";

/** Small pieces shared by the authority services (kept apart to avoid import cycles). */
export const iso = (d: Date | null | undefined) => (d ? formatIso(d.getTime()) : null);

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
export function grantOut(c: ClaimRow) {
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
  };
}

