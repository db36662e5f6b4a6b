import "server-only";
import type { z } from "zod";
import type * as C from "../../contracts";
import { checkGrant, type GrantProposal } from "../../kernel/grant";
import type { Snapshot } from "../../kernel/snapshot";
import { newId, type HumanPrincipal } from "../auth";
import { getDb } from "../db/client";
import { ApiError, notFound } from "../errors";
import type { Tx } from "../registry";
import { budgetColumn, budgetOfColumn, readUsage } from "../budgets";
import type { Budget } from "../../kernel/types";
import { commitAuthority, type AuthorityChange } from "./commit";
import { grantOut, principalEntities, snapshotIn } from "./shared";

/**
 * Delegated grants (design §4): checked by the kernel's checkGrant — the same function the graph
 * editor runs in the browser — against the committed snapshot, then committed; revocation.
 */

export type GrantRequest = z.infer<typeof C.CreateGrantRequest>;

/** The kernel's proposal for a grant request, with the grantor resolved. */
function proposalOf(body: GrantRequest, grantor: string): GrantProposal {
  const expiresAt = body.expiresAt ? Date.parse(body.expiresAt) : undefined;
  return {
    holder: body.holder,
    ...(body.resource !== undefined ? { resource: body.resource } : {}),
    ...(body.scope !== undefined ? { scope: body.scope } : {}),
    canRead: body.canRead,
    canWrite: body.canWrite,
    canDelegate: body.canDelegate,
    confidence: body.confidence ?? 1,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    ...(body.budget !== undefined ? { budget: body.budget } : {}),
    grantor,
  };
}

/** The grantor of a request: named, or the signed-in owner; it must be one the principal speaks for. */
async function grantorOf(tx: Tx, principal: HumanPrincipal, body: GrantRequest): Promise<string> {
  const grantor = body.grantor ?? (principal.kind === "owner" ? principal.entityId : undefined);
  if (!grantor) throw new ApiError("VALIDATION_FAILED", "the operator must name the grantor");
  const mine = await principalEntities(tx, principal);
  if (mine && !mine.has(grantor)) throw notFound(`grantor ${grantor}`);
  return grantor;
}

/** Throws GRANT_REFUSED with the kernel's violations unless checkGrant accepts the proposal. */
export function requireGrantable(snapshot: Snapshot, proposal: GrantProposal, now: number): void {
  const check = checkGrant(snapshot, proposal, now);
  if (!check.ok) {
    throw new ApiError("GRANT_REFUSED", check.violations.map((v) => v.message).join("; "), check.violations.map((v) => ({ code: v.code, message: v.message })));
  }
}

/**
 * Writes the claim row of a grant the kernel accepted. For use inside a change of authority only
 * (a grant or an approval): the commit validates the registry it leaves.
 */
export async function writeGrant(tx: Tx, by: string, proposal: GrantProposal, approvalId: string | null) {
  return tx.claim.create({
    data: {
      id: newId("clm"),
      holderId: proposal.holder,
      resourceId: proposal.resource ?? null,
      scope: proposal.scope ?? null,
      canRead: proposal.canRead,
      canWrite: proposal.canWrite,
      canDelegate: proposal.canDelegate,
      confidence: proposal.confidence ?? 1,
      expiresAt: proposal.expiresAt !== undefined ? new Date(proposal.expiresAt) : null,
      grantorId: proposal.grantor,
      approvalId,
      createdBy: by,
      budget: budgetColumn(proposal.budget),
    },
  });
}

/** The owner a holder answers to (a machine's owner, or the human itself), for the audit columns. */
export function holderColumns(snapshot: Snapshot, holder: string): { ownerId: string | null; machineId: string | null } {
  const machine = snapshot.entity(holder)?.kind === "MACHINE";
  return machine ? { ownerId: snapshot.ownerOf(holder) ?? null, machineId: holder } : { ownerId: holder, machineId: null };
}

export async function createGrant(principal: HumanPrincipal, body: GrantRequest) {
  return commitAuthority(principal, grantChange(principal, body));
}

/** A delegation as a change of authority (also what a what-if simulation applies). */
export function grantChange(principal: HumanPrincipal, body: GrantRequest): AuthorityChange<ReturnType<typeof grantOut>> {
  return async ({ tx, by, now }) => {
    const grantor = await grantorOf(tx, principal, body);
    const snapshot = await snapshotIn(tx);
    const proposal = proposalOf(body, grantor);
    requireGrantable(snapshot, proposal, now);
    const claim = await writeGrant(tx, by, proposal, null);
    return { changed: true, result: grantOut(claim), op: "grant", data: { claim: grantOut(claim) }, ...holderColumns(snapshot, body.holder) };
  };
}

export async function listGrants(principal: HumanPrincipal) {
  const db = getDb();
  const mine = await principalEntities(db, principal);
  const rows = await db.claim.findMany({
    where: mine ? { OR: [{ holderId: { in: [...mine] } }, { grantorId: { in: [...mine] } }] } : {},
    orderBy: { createdAt: "asc" },
  });
  const now = Date.now();
  const usage = await readUsage(db, rows.filter((r) => r.budget !== null && r.revokedAt === null).map((r) => r.id), now);
  return rows.map((r) => grantOut(r, usage.get(r.id)?.inWindow ?? 0));
}

/**
 * Who may set the budget of a claim: for a delegated claim, whoever speaks for its grantor (the
 * grantor, or the owner of a machine grantor); for a root claim, its holder (an owner limiting
 * themselves). The operator may set any.
 */
export function maySetBudget(mine: ReadonlySet<string> | null, claim: { grantorId: string | null; holderId: string }): boolean {
  if (mine === null) return true;
  return claim.grantorId !== null ? mine.has(claim.grantorId) : mine.has(claim.holderId);
}

/**
 * Sets (raises, lowers or removes) the budget of a claim inside a change of authority. A delegated
 * claim is re-checked by checkGrant with the new budget (it must still fit the grantor's);
 * usage is kept: raising maxUses from 10 to 20 after 10 uses leaves 10.
 */
export async function writeBudget(tx: Tx, snapshot: Snapshot, id: string, budget: Budget | null, now: number, mine: ReadonlySet<string> | null) {
  const claim = await tx.claim.findUnique({ where: { id } });
  if (!claim || !maySetBudget(mine, claim)) throw notFound(`grant ${id}`);
  if (claim.revokedAt) throw new ApiError("CONFLICT", `grant ${id} is revoked`);
  if (claim.grantorId !== null) {
    const current = snapshot.claim(id);
    if (!current) throw notFound(`grant ${id}`);
    requireGrantable(
      snapshot,
      {
        holder: current.holder,
        grantor: claim.grantorId,
        ...(current.resource !== undefined ? { resource: current.resource } : { scope: current.scope as string }),
        canRead: current.canRead,
        canWrite: current.canWrite,
        canDelegate: current.canDelegate,
        confidence: current.confidence,
        ...(current.expiresAt !== undefined ? { expiresAt: current.expiresAt } : {}),
        ...(budget !== null ? { budget } : {}),
      },
      now,
    );
  }
  const previous = budgetOfColumn(claim.budget);
  const updated = await tx.claim.update({ where: { id }, data: { budget: budgetColumn(budget) } });
  return { claim, updated, previous };
}

export async function setGrantBudget(principal: HumanPrincipal, id: string, budget: Budget | null) {
  return commitAuthority(principal, async ({ tx, now }) => {
    const snapshot = await snapshotIn(tx);
    const mine = await principalEntities(tx, principal);
    const { claim, updated, previous } = await writeBudget(tx, snapshot, id, budget, now, mine);
    const usage = await readUsage(tx, budget?.rate !== undefined ? [id] : [], now);
    const result = grantOut(updated, usage.get(id)?.inWindow ?? 0);
    if (budgetColumn(previous) === budgetColumn(budget)) return { changed: false, result };
    return { changed: true, result, op: "budget", data: { claim: id, budget, previous }, ...holderColumns(snapshot, claim.holderId) };
  });
}

export async function revokeGrant(principal: HumanPrincipal, id: string) {
  return commitAuthority(principal, revokeChange(principal, id));
}

/** A revocation as a change of authority. */
export function revokeChange(principal: HumanPrincipal, id: string): AuthorityChange<ReturnType<typeof grantOut>> {
  return async ({ tx }) => {
    const claim = await tx.claim.findUnique({ where: { id } });
    const mine = await principalEntities(tx, principal);
    // An owner revokes what they or their machines granted, and what their machines hold.
    const allowed =
      claim &&
      (!mine || (claim.grantorId !== null && mine.has(claim.grantorId)) || (mine.has(claim.holderId) && claim.holderId !== (principal.kind === "owner" ? principal.entityId : "")));
    if (!claim || !allowed) throw notFound(`grant ${id}`);
    if (claim.revokedAt) return { changed: false, result: grantOut(claim) };
    const updated = await tx.claim.update({ where: { id }, data: { revokedAt: new Date() } });
    const holder = await tx.entity.findUnique({ where: { id: claim.holderId } });
    const ownerId = holder?.kind === "MACHINE" ? holder.ownerId : claim.holderId;
    return {
      changed: true,
      result: grantOut(updated),
      op: "revoke",
      data: { claim: id, holder: claim.holderId, grantor: claim.grantorId },
      ownerId,
      machineId: holder?.kind === "MACHINE" ? holder.id : null,
    };
  };
}
