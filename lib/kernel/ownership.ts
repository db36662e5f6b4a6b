/**
 * Who owns a resource (design §3, §13 "Authority"): one rule, used by the server (resource lists,
 * the console's registry view, the refusal of overlapping registrations) and by the browser (the
 * graph editor), so the two can never name different owners for one resource.
 *
 * The owner is the human who registered the resource (`Resource.owner`, set at registration). A
 * disputed resource — another human holds a root claim on it too — keeps that owner until
 * arbitration changes the claims; the dispute never moves ownership by itself. For a registry
 * that predates `Resource.owner`, the owner is the single human holding unrevoked root claims on
 * the resource; when there is none, or two humans hold one (a dispute), the answer is "no owner"
 * (null) rather than a guess from claim ids or times that two callers could order differently.
 */
import type { Claim, Resource } from "./types";

/** The fields of a resource the rule reads (the kernel's Resource and its JSON form both fit). */
export type OwnedResource = Pick<Resource, "id" | "owner">;
/** The fields of a claim the rule reads. */
export type OwnershipClaim = Pick<Claim, "holder" | "resource" | "grantor" | "revokedAt">;

export interface OwnershipInput {
  readonly resources: readonly OwnedResource[];
  readonly claims: readonly OwnershipClaim[];
}

/**
 * The owner of every resource of `data`, by resource id: the registering human, else the single
 * holder of unrevoked root claims on it, else null. Total: a malformed entry (not an object, an id
 * that is not a string) is skipped, never thrown on; a resource listed twice keeps its first entry.
 */
export function resourceOwners(data: OwnershipInput): ReadonlyMap<string, string | null> {
  const out = new Map<string, string | null>();
  const resources = Array.isArray(data?.resources) ? data.resources : [];
  const claims = Array.isArray(data?.claims) ? data.claims : [];
  // Holders of live root claims per resource; a Map, so "__proto__" is an id like any other.
  const holders = new Map<string, Set<string>>();
  for (const c of claims) {
    if (typeof c !== "object" || c === null) continue;
    if (c.grantor !== undefined || c.revokedAt !== undefined || typeof c.resource !== "string" || typeof c.holder !== "string") continue;
    let set = holders.get(c.resource);
    if (!set) holders.set(c.resource, (set = new Set()));
    set.add(c.holder);
  }
  for (const r of resources) {
    if (typeof r !== "object" || r === null || typeof r.id !== "string" || out.has(r.id)) continue;
    if (typeof r.owner === "string") {
      out.set(r.id, r.owner);
      continue;
    }
    const set = holders.get(r.id);
    out.set(r.id, set !== undefined && set.size === 1 ? ([...set][0] as string) : null);
  }
  return out;
}

/**
 * The owner of resource `resourceId` in `data` (see resourceOwners), or null when the resource is
 * unknown, has no owner, or is disputed in a registry that names no registering owner. Total.
 */
export function resourceOwner(data: OwnershipInput, resourceId: string): string | null {
  return resourceOwners(data).get(resourceId) ?? null;
}
