import "server-only";
import { checkGrant } from "../kernel/grant";
import { formatIso } from "../kernel/iso-time";
import { validateScope } from "../kernel/scope";
import { buildSnapshot, type Snapshot } from "../kernel/snapshot";
import type { z } from "zod";
import type * as C from "../contracts";
import { withAuditTransaction, type AuditAppender } from "./audit-log";
import { forgetToken, hashPassword, newId, randomToken, sha256Hex, type HumanPrincipal } from "./auth";
import { getDb } from "./db/client";
import { ApiError, forbidden, notFound } from "./errors";
import { actingOwner, actorName, grantOut, iso } from "./authority-shared";
import { queueNewConflicts } from "./conflicts";

export { actingOwner, actorName, grantOut };
import { bumpRegistryVersion, currentSnapshot, loadRegistryData, SnapshotUnavailableError, type Tx } from "./registry";

/**
 * Changes of authority (design §3, §8, §9): registration, resources, grants, revocation, halts,
 * tokens. Each runs in one transaction that (1) checks the principal may make it, (2) writes it,
 * (3) bumps the registry version, (4) has the kernel rebuild the registry snapshot from the
 * transaction's view — a change that would leave the registry invalid is refused, so the API can
 * never lock every agent out by corrupting the graph — and (5) appends the audit entry naming the
 * human who made it. All or nothing.
 */

type Row<T> = T & { createdAt: Date };

async function requireHumanEntity(tx: Tx, id: string): Promise<void> {
  const e = await tx.entity.findUnique({ where: { id } });
  if (!e || e.kind !== "HUMAN") throw notFound(`owner ${id}`);
}

/** Bumps the version, validates the new registry with the kernel, and audits the change. */
async function commitChange(tx: Tx, audit: AuditAppender, principal: HumanPrincipal, op: string, data: Record<string, unknown>, ownerId: string | null, machineId: string | null = null): Promise<number> {
  const version = await bumpRegistryVersion(tx);
  let snapshot: Snapshot;
  try {
    snapshot = buildSnapshot(await loadRegistryData(tx, version));
  } catch (e) {
    throw new ApiError("CONFLICT", `the change would leave the registry invalid: ${e instanceof Error ? e.message : "invalid"}`);
  }
  await queueNewConflicts(tx, snapshot, Date.now());
  audit.append(
    { kind: "authority", op, by: actorName(principal), data: JSON.parse(JSON.stringify({ ...data, registryVersion: version })) },
    { kind: "authority", actorId: actorName(principal), ownerId, machineId },
  );
  return version;
}

async function snapshotIn(tx: Tx): Promise<Snapshot> {
  try {
    return await currentSnapshot(tx);
  } catch (e) {
    if (e instanceof SnapshotUnavailableError) throw new ApiError("SERVICE_UNAVAILABLE", "the registry cannot be loaded");
    throw e;
  }
}

async function idTaken(tx: Tx, id: string): Promise<boolean> {
  const [e, r] = await Promise.all([tx.entity.findUnique({ where: { id } }), tx.resource.findUnique({ where: { id } })]);
  return Boolean(e || r);
}

// ------------------------------------------------------------------------------------------------
// Owners and machines
// ------------------------------------------------------------------------------------------------

export async function createOwner(principal: HumanPrincipal, body: z.infer<typeof C.CreateOwnerRequest>) {
  if (principal.kind !== "operator") throw forbidden("only the operator registers owners");
  const passwordHash = await hashPassword(body.password);
  const { result } = await withAuditTransaction(async (tx, audit) => {
    if (await idTaken(tx, body.id)) throw new ApiError("CONFLICT", `the id ${body.id} is taken`);
    if (await tx.account.findUnique({ where: { email: body.email.toLowerCase() } })) throw new ApiError("CONFLICT", "an account with this email exists");
    const entity = await tx.entity.create({ data: { id: body.id, kind: "HUMAN", displayName: body.displayName, createdBy: actorName(principal) } });
    await tx.account.create({ data: { id: newId("acc"), entityId: body.id, email: body.email.toLowerCase(), passwordHash, role: "OWNER" } });
    await commitChange(tx, audit, principal, "register-owner", { owner: body.id, displayName: body.displayName }, body.id);
    return { id: entity.id, displayName: entity.displayName, email: body.email.toLowerCase(), createdAt: formatIso(entity.createdAt.getTime()) };
  });
  return result;
}

export async function listOwners(principal: HumanPrincipal) {
  const db = getDb();
  const where = principal.kind === "owner" ? { id: principal.entityId, kind: "HUMAN" } : { kind: "HUMAN" };
  const [entities, accounts] = await Promise.all([db.entity.findMany({ where, orderBy: { id: "asc" } }), db.account.findMany({ where: { role: "OWNER" } })]);
  const email = new Map(accounts.map((a) => [a.entityId, a.email]));
  return entities.map((e) => ({ id: e.id, displayName: e.displayName, email: email.get(e.id) ?? null, createdAt: formatIso(e.createdAt.getTime()) }));
}

function machineOut(m: Row<{ id: string; displayName: string; ownerId: string | null }>, halted: boolean) {
  return { id: m.id, displayName: m.displayName, owner: m.ownerId ?? "", halted, createdAt: formatIso(m.createdAt.getTime()) };
}

export async function createMachine(principal: HumanPrincipal, body: z.infer<typeof C.CreateMachineRequest>) {
  const owner = actingOwner(principal, body.owner);
  const { result } = await withAuditTransaction(async (tx, audit) => {
    await requireHumanEntity(tx, owner);
    if (await idTaken(tx, body.id)) throw new ApiError("CONFLICT", `the id ${body.id} is taken`);
    const m = await tx.entity.create({
      data: { id: body.id, kind: "MACHINE", displayName: body.displayName ?? body.id, ownerId: owner, createdBy: actorName(principal) },
    });
    await commitChange(tx, audit, principal, "register-machine", { machine: m.id, owner }, owner, m.id);
    return machineOut(m, false);
  });
  return result;
}

/** A machine the principal may manage, or 404 (never 403: another owner's ids stay unconfirmed). */
export async function ownedMachine(tx: Tx, principal: HumanPrincipal, machineId: string) {
  const m = await tx.entity.findUnique({ where: { id: machineId } });
  if (!m || m.kind !== "MACHINE") throw notFound(`machine ${machineId}`);
  if (principal.kind === "owner" && m.ownerId !== principal.entityId) throw notFound(`machine ${machineId}`);
  return m;
}

export async function listMachines(principal: HumanPrincipal) {
  const db = getDb();
  const where = principal.kind === "owner" ? { kind: "MACHINE", ownerId: principal.entityId } : { kind: "MACHINE" };
  const [machines, snapshot] = await Promise.all([db.entity.findMany({ where, orderBy: { id: "asc" } }), currentSnapshot(db)]);
  return machines.map((m) => machineOut(m, snapshot.isHalted(m.id)));
}

export async function getMachine(principal: HumanPrincipal, id: string) {
  const db = getDb();
  const m = await ownedMachine(db, principal, id);
  const snapshot = await currentSnapshot(db);
  return machineOut(m, snapshot.isHalted(m.id));
}

// ------------------------------------------------------------------------------------------------
// Resources and grants
// ------------------------------------------------------------------------------------------------

function resourceOut(r: Row<{ id: string; type: string; scope: string; isPublic: boolean; ifcLabel: string | null }>, owner: string | null) {
  return { id: r.id, type: r.type as z.infer<typeof C.ResourceType>, scope: r.scope, isPublic: r.isPublic, ifcLabel: r.ifcLabel, owner, createdAt: formatIso(r.createdAt.getTime()) };
}

export async function createResource(principal: HumanPrincipal, body: z.infer<typeof C.CreateResourceRequest>) {
  const owner = actingOwner(principal, body.owner);
  const scope = validateScope(body.scope);
  if (!scope.ok) throw new ApiError("VALIDATION_FAILED", `scope: ${scope.reason}`);
  const { result } = await withAuditTransaction(async (tx, audit) => {
    await requireHumanEntity(tx, owner);
    if (await idTaken(tx, body.id)) throw new ApiError("CONFLICT", `the id ${body.id} is taken`);
    const r = await tx.resource.create({
      data: { id: body.id, type: body.type, scope: scope.scope, isPublic: body.isPublic, ifcLabel: body.ifcLabel ?? null, createdBy: actorName(principal) },
    });
    // The owner's root claim: ownership of the new resource.
    await tx.claim.create({
      data: { id: newId("clm"), holderId: owner, resourceId: r.id, canRead: true, canWrite: true, canDelegate: true, confidence: 1, createdBy: actorName(principal) },
    });
    await commitChange(tx, audit, principal, "register-resource", { resource: r.id, type: r.type, scope: r.scope, isPublic: r.isPublic, ifcLabel: r.ifcLabel, owner }, owner);
    return resourceOut(r, owner);
  });
  return result;
}

async function resourceOwners(tx: Tx): Promise<Map<string, string>> {
  const roots = await tx.claim.findMany({ where: { grantorId: null, resourceId: { not: null } }, orderBy: { createdAt: "asc" } });
  const out = new Map<string, string>();
  for (const c of roots) if (c.resourceId && !out.has(c.resourceId)) out.set(c.resourceId, c.holderId);
  return out;
}

/** Resources the principal owns or that a grant to them or their machines names (operator: all). */
export async function listResources(principal: HumanPrincipal) {
  const db = getDb();
  const [resources, owners] = await Promise.all([db.resource.findMany({ orderBy: { id: "asc" } }), resourceOwners(db)]);
  if (principal.kind === "operator") return resources.map((r) => resourceOut(r, owners.get(r.id) ?? null));
  const mine = new Set([principal.entityId, ...(await db.entity.findMany({ where: { ownerId: principal.entityId }, select: { id: true } })).map((m) => m.id)]);
  const held = new Set(
    (await db.claim.findMany({ where: { holderId: { in: [...mine] }, resourceId: { not: null } }, select: { resourceId: true } })).map((c) => c.resourceId),
  );
  return resources.filter((r) => owners.get(r.id) === principal.entityId || held.has(r.id) || r.isPublic).map((r) => resourceOut(r, owners.get(r.id) ?? null));
}

/** The columns every new claim row has, from a grant or root-claim request. */
function claimRow(principal: HumanPrincipal, body: z.infer<typeof C.CreateGrantRequest> | z.infer<typeof C.CreateRootClaimRequest>) {
  return {
    id: newId("clm"),
    holderId: body.holder,
    resourceId: body.resource ?? null,
    scope: body.scope ?? null,
    canRead: body.canRead,
    canWrite: body.canWrite,
    canDelegate: body.canDelegate,
    confidence: body.confidence ?? 1,
    createdBy: actorName(principal),
  };
}

/** Entities the principal speaks for: themselves and their machines (operator: everyone). */
async function principalEntities(tx: Tx, principal: HumanPrincipal): Promise<Set<string> | null> {
  if (principal.kind === "operator") return null;
  const machines = await tx.entity.findMany({ where: { ownerId: principal.entityId }, select: { id: true } });
  return new Set([principal.entityId, ...machines.map((m) => m.id)]);
}

export async function createGrant(principal: HumanPrincipal, body: z.infer<typeof C.CreateGrantRequest>, extra: { approvalId?: string } = {}) {
  const { result } = await withAuditTransaction(async (tx, audit) => {
    const grantor = body.grantor ?? (principal.kind === "owner" ? principal.entityId : undefined);
    if (!grantor) throw new ApiError("VALIDATION_FAILED", "the operator must name the grantor");
    const mine = await principalEntities(tx, principal);
    if (mine && !mine.has(grantor)) throw notFound(`grantor ${grantor}`);
    const snapshot = await snapshotIn(tx);
    const now = Date.now();
    const expiresAt = body.expiresAt ? Date.parse(body.expiresAt) : undefined;
    const proposed = {
      holder: body.holder,
      ...(body.resource !== undefined ? { resource: body.resource } : {}),
      ...(body.scope !== undefined ? { scope: body.scope } : {}),
      canRead: body.canRead,
      canWrite: body.canWrite,
      canDelegate: body.canDelegate,
      confidence: body.confidence ?? 1,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      grantor,
    };
    const check = checkGrant(snapshot, proposed, now);
    if (!check.ok) {
      throw new ApiError("GRANT_REFUSED", check.violations.map((v) => v.message).join("; "), check.violations.map((v) => ({ code: v.code, message: v.message })));
    }
    const claim = await tx.claim.create({
      data: {
        ...claimRow(principal, body),
        expiresAt: expiresAt !== undefined ? new Date(expiresAt) : null,
        grantorId: grantor,
        approvalId: extra.approvalId ?? null,
      },
    });
    const holderEntity = snapshot.entity(body.holder);
    const ownerId = holderEntity?.kind === "MACHINE" ? (snapshot.ownerOf(body.holder) ?? null) : body.holder;
    await commitChange(tx, audit, principal, extra.approvalId ? "approve-grant" : "grant", { claim: grantOut(claim), ...(extra.approvalId ? { approval: extra.approvalId } : {}) }, ownerId, holderEntity?.kind === "MACHINE" ? body.holder : null);
    return grantOut(claim);
  });
  return result;
}

/**
 * Registers a root (ownership) claim for a human: the operator's tool for imports and disputed
 * claims. The kernel validates the registry with it before commit; overlapping write claims of two
 * humans are queued for arbitration by the same transaction.
 */
export async function createRootClaim(principal: HumanPrincipal, body: z.infer<typeof C.CreateRootClaimRequest>) {
  if (principal.kind !== "operator") throw forbidden("only the operator registers ownership claims");
  if (body.scope !== undefined) {
    const scope = validateScope(body.scope);
    if (!scope.ok) throw new ApiError("VALIDATION_FAILED", `scope: ${scope.reason}`);
  }
  if (!body.canRead && !body.canWrite && !body.canDelegate) throw new ApiError("VALIDATION_FAILED", "a claim holds at least one right");
  const { result } = await withAuditTransaction(async (tx, audit) => {
    await requireHumanEntity(tx, body.holder);
    if (body.resource !== undefined && !(await tx.resource.findUnique({ where: { id: body.resource } }))) throw notFound(`resource ${body.resource}`);
    const claim = await tx.claim.create({ data: claimRow(principal, body) });
    await commitChange(tx, audit, principal, "register-claim", { claim: grantOut(claim) }, body.holder);
    return grantOut(claim);
  });
  return result;
}

export async function listGrants(principal: HumanPrincipal) {
  const db = getDb();
  const mine = await principalEntities(db, principal);
  const rows = await db.claim.findMany({
    where: mine ? { OR: [{ holderId: { in: [...mine] } }, { grantorId: { in: [...mine] } }] } : {},
    orderBy: { createdAt: "asc" },
  });
  return rows.map(grantOut);
}

export async function revokeGrant(principal: HumanPrincipal, id: string) {
  const { result } = await withAuditTransaction(async (tx, audit) => {
    const claim = await tx.claim.findUnique({ where: { id } });
    const mine = await principalEntities(tx, principal);
    // An owner revokes what they or their machines granted, and what their machines hold.
    const allowed = claim && (!mine || (claim.grantorId !== null && mine.has(claim.grantorId)) || (mine.has(claim.holderId) && claim.holderId !== (principal.kind === "owner" ? principal.entityId : "")));
    if (!claim || !allowed) throw notFound(`grant ${id}`);
    if (claim.revokedAt) return grantOut(claim);
    const updated = await tx.claim.update({ where: { id }, data: { revokedAt: new Date() } });
    const holder = await tx.entity.findUnique({ where: { id: claim.holderId } });
    const ownerId = holder?.kind === "MACHINE" ? holder.ownerId : claim.holderId;
    await commitChange(tx, audit, principal, "revoke", { claim: id, holder: claim.holderId, grantor: claim.grantorId }, ownerId, holder?.kind === "MACHINE" ? holder.id : null);
    return grantOut(updated);
  });
  return result;
}

// ------------------------------------------------------------------------------------------------
// Kill switch
// ------------------------------------------------------------------------------------------------

export async function haltMachine(principal: HumanPrincipal, machineId: string, reason?: string) {
  const { result } = await withAuditTransaction(async (tx, audit) => {
    const m = await ownedMachine(tx, principal, machineId);
    const active = await tx.halt.findFirst({ where: { kind: "machine", target: m.id, liftedAt: null } });
    if (!active) await tx.halt.create({ data: { id: newId("hlt"), kind: "machine", target: m.id, createdBy: actorName(principal) } });
    const version = await commitChange(tx, audit, principal, "halt", { machine: m.id, reason: reason ?? null }, m.ownerId, m.id);
    return { halted: [m.id], registryVersion: version };
  });
  return result;
}

export async function resumeMachine(principal: HumanPrincipal, machineId: string) {
  const { result } = await withAuditTransaction(async (tx, audit) => {
    const m = await ownedMachine(tx, principal, machineId);
    await tx.halt.updateMany({ where: { kind: "machine", target: m.id, liftedAt: null }, data: { liftedAt: new Date(), liftedBy: actorName(principal) } });
    const version = await commitChange(tx, audit, principal, "resume", { machine: m.id }, m.ownerId, m.id);
    return { resumed: m.id, registryVersion: version };
  });
  return result;
}

export async function haltOwner(principal: HumanPrincipal, ownerId: string, reason?: string) {
  if (principal.kind === "owner" && principal.entityId !== ownerId) throw notFound(`owner ${ownerId}`);
  const { result } = await withAuditTransaction(async (tx, audit) => {
    await requireHumanEntity(tx, ownerId);
    const active = await tx.halt.findFirst({ where: { kind: "owner", target: ownerId, liftedAt: null } });
    if (!active) await tx.halt.create({ data: { id: newId("hlt"), kind: "owner", target: ownerId, createdBy: actorName(principal) } });
    const machines = await tx.entity.findMany({ where: { ownerId }, select: { id: true }, orderBy: { id: "asc" } });
    const version = await commitChange(tx, audit, principal, "halt-owner", { owner: ownerId, reason: reason ?? null }, ownerId);
    return { halted: machines.map((m) => m.id), registryVersion: version };
  });
  return result;
}

export async function resumeOwner(principal: HumanPrincipal, ownerId: string) {
  if (principal.kind === "owner" && principal.entityId !== ownerId) throw notFound(`owner ${ownerId}`);
  const { result } = await withAuditTransaction(async (tx, audit) => {
    await requireHumanEntity(tx, ownerId);
    await tx.halt.updateMany({ where: { kind: "owner", target: ownerId, liftedAt: null }, data: { liftedAt: new Date(), liftedBy: actorName(principal) } });
    const version = await commitChange(tx, audit, principal, "resume-owner", { owner: ownerId }, ownerId);
    return { resumed: ownerId, registryVersion: version };
  });
  return result;
}

export async function haltAll(principal: HumanPrincipal, reason?: string) {
  if (principal.kind !== "operator") throw forbidden("only the operator halts every machine");
  const { result } = await withAuditTransaction(async (tx, audit) => {
    const active = await tx.halt.findFirst({ where: { kind: "all", liftedAt: null } });
    if (!active) await tx.halt.create({ data: { id: newId("hlt"), kind: "all", createdBy: actorName(principal) } });
    const machines = await tx.entity.findMany({ where: { kind: "MACHINE" }, select: { id: true }, orderBy: { id: "asc" } });
    const version = await commitChange(tx, audit, principal, "halt-all", { reason: reason ?? null }, null);
    return { halted: machines.map((m) => m.id), registryVersion: version };
  });
  return result;
}

export async function resumeAll(principal: HumanPrincipal) {
  if (principal.kind !== "operator") throw forbidden("only the operator resumes every machine");
  const { result } = await withAuditTransaction(async (tx, audit) => {
    await tx.halt.updateMany({ where: { kind: "all", liftedAt: null }, data: { liftedAt: new Date(), liftedBy: actorName(principal) } });
    const version = await commitChange(tx, audit, principal, "resume-all", {}, null);
    return { resumed: "*", registryVersion: version };
  });
  return result;
}

// ------------------------------------------------------------------------------------------------
// Machine API tokens
// ------------------------------------------------------------------------------------------------

type TokenRow = Awaited<ReturnType<Tx["apiToken"]["findUniqueOrThrow"]>>;
const tokenOut = (t: TokenRow) => ({
  id: t.id,
  machineId: t.machineId,
  label: t.label,
  createdAt: formatIso(t.createdAt.getTime()),
  revokedAt: iso(t.revokedAt),
  lastUsedAt: iso(t.lastUsedAt),
});

export async function createToken(principal: HumanPrincipal, machineId: string, label: string) {
  const secret = randomToken("fkm_");
  const { result } = await withAuditTransaction(async (tx, audit) => {
    const m = await ownedMachine(tx, principal, machineId);
    const t = await tx.apiToken.create({ data: { id: newId("tok"), machineId: m.id, tokenHash: sha256Hex(secret), label, createdBy: actorName(principal) } });
    audit.append({ kind: "authority", op: "create-token", by: actorName(principal), data: { token: t.id, machine: m.id, label } }, { kind: "authority", actorId: actorName(principal), ownerId: m.ownerId, machineId: m.id });
    return { ...tokenOut(t), secret };
  });
  return result;
}

export async function listTokens(principal: HumanPrincipal, machineId: string) {
  const db = getDb();
  const m = await ownedMachine(db, principal, machineId);
  return (await db.apiToken.findMany({ where: { machineId: m.id }, orderBy: { createdAt: "asc" } })).map(tokenOut);
}

export async function revokeToken(principal: HumanPrincipal, tokenId: string) {
  const { result } = await withAuditTransaction(async (tx, audit) => {
    const t = await tx.apiToken.findUnique({ where: { id: tokenId } });
    if (!t) throw notFound(`token ${tokenId}`);
    const m = await ownedMachine(tx, principal, t.machineId).catch(() => {
      throw notFound(`token ${tokenId}`);
    });
    if (t.revokedAt) return tokenOut(t);
    const updated = await tx.apiToken.update({ where: { id: t.id }, data: { revokedAt: new Date() } });
    // A revocation is a change of authority: the version bump makes every replica re-check the token.
    await commitChange(tx, audit, principal, "revoke-token", { token: t.id, machine: m.id }, m.ownerId, m.id);
    forgetToken(t.id);
    return tokenOut(updated);
  });
  return result;
}
