import "server-only";
import type { z } from "zod";
import type * as C from "../../contracts";
import { formatIso } from "../../kernel/iso-time";
import { resourceOwners } from "../../kernel/ownership";
import { scopeContains, validateScope } from "../../kernel/scope";
import { newId, type HumanPrincipal } from "../auth";
import { getDb } from "../db/client";
import { ApiError, forbidden, notFound } from "../errors";
import { currentSnapshot } from "../registry";
import { commitAuthority, type AuthorityChange } from "./commit";
import { actingOwner, idTaken, requireHumanEntity, snapshotIn, type Row } from "./shared";

/**
 * Resources (design §3). Registering one gives its owner the root (ownership) claim on it and
 * records them as its owner (Resource.ownerId; lib/kernel/ownership.ts names the owner from it).
 *
 * No scope squatting (design §13): a registration whose scope contains, or lies inside, a resource
 * of another owner is refused — without naming that resource, whose id the registrant may not
 * know. The root scopes `""` and `"/"` contain everything and are the operator's alone. A human
 * who does have a case against another owner's resource asks the operator, who registers it as a
 * disputed root claim (POST /claims); the commit queues it for arbitration. Nesting within one
 * owner's own resources stays allowed.
 */
function resourceOut(r: Row<{ id: string; type: string; scope: string; isPublic: boolean; ifcLabel: string | null }>, owner: string | null) {
  return { id: r.id, type: r.type as z.infer<typeof C.ResourceType>, scope: r.scope, isPublic: r.isPublic, ifcLabel: r.ifcLabel, owner, createdAt: formatIso(r.createdAt.getTime()) };
}

const ROOT_SCOPES: ReadonlySet<string> = new Set(["", "/"]);

export async function createResource(principal: HumanPrincipal, body: z.infer<typeof C.CreateResourceRequest>) {
  const owner = actingOwner(principal, body.owner);
  const scope = validateScope(body.scope);
  if (!scope.ok) throw new ApiError("VALIDATION_FAILED", `scope: ${scope.reason}`);
  if (ROOT_SCOPES.has(scope.scope) && principal.kind !== "operator") throw forbidden('only the operator registers a resource over the root scope ("" or "/")');
  return commitAuthority(principal, resourceChange(principal, body, owner, scope.scope));
}

/** A registration as a change of authority (also what a what-if simulation applies). */
export function addResourceChange(principal: HumanPrincipal, body: z.infer<typeof C.CreateResourceRequest>): AuthorityChange<ReturnType<typeof resourceOut>> {
  const owner = actingOwner(principal, body.owner);
  const scope = validateScope(body.scope);
  if (!scope.ok) throw new ApiError("VALIDATION_FAILED", `scope: ${scope.reason}`);
  if (ROOT_SCOPES.has(scope.scope) && principal.kind !== "operator") throw forbidden('only the operator registers a resource over the root scope ("" or "/")');
  return resourceChange(principal, body, owner, scope.scope);
}

function resourceChange(_principal: HumanPrincipal, body: z.infer<typeof C.CreateResourceRequest>, owner: string, scopeIn: string): AuthorityChange<ReturnType<typeof resourceOut>> {
  const scope = { scope: scopeIn };
  return async ({ tx, by }) => {
    await requireHumanEntity(tx, owner);
    if (await idTaken(tx, body.id)) throw new ApiError("CONFLICT", `the id ${body.id} is taken`);
    const data = (await snapshotIn(tx)).data;
    const owners = resourceOwners(data);
    const squats = data.resources.some((r) => owners.get(r.id) !== owner && (scopeContains(scope.scope, r.scope) || scopeContains(r.scope, scope.scope)));
    if (squats) throw new ApiError("CONFLICT", "the scope overlaps a resource you do not own; ask the operator to register a disputed claim");
    const r = await tx.resource.create({
      data: { id: body.id, type: body.type, scope: scope.scope, isPublic: body.isPublic, ifcLabel: body.ifcLabel ?? null, ownerId: owner, createdBy: by },
    });
    // The owner's root claim: ownership of the new resource.
    await tx.claim.create({
      data: { id: newId("clm"), holderId: owner, resourceId: r.id, canRead: true, canWrite: true, canDelegate: true, confidence: 1, createdBy: by },
    });
    return {
      changed: true,
      result: resourceOut(r, owner),
      op: "register-resource",
      data: { resource: r.id, type: r.type, scope: r.scope, isPublic: r.isPublic, ifcLabel: r.ifcLabel, owner },
      ownerId: owner,
    };
  };
}

/**
 * Removes a resource and every claim on it by id (its owner, or the operator). Scope claims are
 * untouched: they name a scope, not the resource. Halts, decisions and receipts that cite it stay
 * in the audit log.
 */
export function removeResourceChange(principal: HumanPrincipal, id: string): AuthorityChange<ReturnType<typeof resourceOut>> {
  return async ({ tx }) => {
    const r = await tx.resource.findUnique({ where: { id } });
    const owner = r?.ownerId ?? null;
    if (!r || (principal.kind === "owner" && owner !== principal.entityId)) throw notFound(`resource ${id}`);
    const claims = await tx.claim.findMany({ where: { resourceId: id }, select: { id: true } });
    await tx.claim.deleteMany({ where: { resourceId: id } });
    await tx.resource.delete({ where: { id } });
    return { changed: true, result: resourceOut(r, owner), op: "remove-resource", data: { resource: id, claims: claims.map((c) => c.id) }, ownerId: owner };
  };
}

export const removeResource = (principal: HumanPrincipal, id: string) => commitAuthority(principal, removeResourceChange(principal, id));

/** Resources the principal owns or that a grant to them or their machines names (operator: all). */
export async function listResources(principal: HumanPrincipal) {
  const db = getDb();
  const [resources, snapshot] = await Promise.all([db.resource.findMany({ orderBy: { id: "asc" } }), currentSnapshot(db)]);
  const owners = resourceOwners(snapshot.data);
  const ownerOf = (id: string) => owners.get(id) ?? null;
  if (principal.kind === "operator") return resources.map((r) => resourceOut(r, ownerOf(r.id)));
  const mine = new Set([principal.entityId, ...(await db.entity.findMany({ where: { ownerId: principal.entityId }, select: { id: true } })).map((m) => m.id)]);
  const held = new Set(
    (await db.claim.findMany({ where: { holderId: { in: [...mine] }, resourceId: { not: null } }, select: { resourceId: true } })).map((c) => c.resourceId),
  );
  return resources.filter((r) => ownerOf(r.id) === principal.entityId || held.has(r.id) || r.isPublic).map((r) => resourceOut(r, ownerOf(r.id)));
}
