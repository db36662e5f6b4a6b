import "server-only";
import { formatIso } from "../../kernel/iso-time";
import { checkGrant, type GrantProposal } from "../../kernel/grant";
import { canonicalizeReference, isObjectReference } from "../../kernel/object-ref";
import { scopeAncestors, scopeContains, validateScope } from "../../kernel/scope";
import type { Snapshot } from "../../kernel/snapshot";
import { violationClass, type Violation } from "../../kernel/types";
import type { HumanPrincipal } from "../auth";
import { getDb } from "../db/client";
import { ApiError, notFound } from "../errors";
import { currentSnapshot, type Tx } from "../registry";
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
type Right = "read" | "write" | "delegate";
type Missing = { resource: string; right: Right; code: string; canonical?: string; resolvedTo?: string };
type Widen = readonly { ref: string; scope: string }[];

/** Enclosing scopes offered for widening stop after this many; `covers` lists at most this many resources. */
const MAX_WIDEN_OPTIONS = 16;
const MAX_COVERS = 50;
/** The lifetime checkGrant is asked about when offering a scope (the inbox's default). */
const OFFER_TTL_MS = 300_000;

/** The canonical path of a missing grant's entry, when it is an object reference. */
function canonicalOf(m: Missing): string | undefined {
  if (m.canonical !== undefined) return m.canonical;
  if (!isObjectReference(m.resource)) return undefined;
  const c = canonicalizeReference(m.resource);
  return c.ok ? c.canonical : undefined;
}

/** Missing grants grouped by entry as written, in order of first appearance. */
function targets(missing: readonly Missing[]): { ref: string; rights: Set<Right>; canonical: string | undefined }[] {
  const by = new Map<string, { ref: string; rights: Set<Right>; canonical: string | undefined }>();
  for (const m of missing) {
    const t = by.get(m.resource);
    if (t) t.rights.add(m.right);
    else by.set(m.resource, { ref: m.resource, rights: new Set([m.right]), canonical: canonicalOf(m) });
  }
  return [...by.values()];
}

/**
 * The enclosing scopes of an object the owner could grant the same rights on, most specific
 * first, each with the registered resources inside it: what else widening would cover. Asked of
 * the kernel's checkGrant against the current registry, so only what approving could write.
 */
function widenOptions(snapshot: Snapshot, a: ApprovalRow, canonical: string, rights: ReadonlySet<Right>, now: number) {
  const options: { scope: string; covers: string[] }[] = [];
  for (const scope of scopeAncestors(canonical).slice(1)) {
    if (options.length >= MAX_WIDEN_OPTIONS) break;
    const proposal: GrantProposal = {
      holder: a.machineId,
      grantor: a.ownerId,
      scope,
      canRead: rights.has("read"),
      canWrite: rights.has("write"),
      canDelegate: rights.has("delegate"),
      expiresAt: now + OFFER_TTL_MS,
    };
    if (!checkGrant(snapshot, proposal, now).ok) continue;
    const covers = snapshot.data.resources
      .filter((r) => scopeContains(scope, r.scope))
      .map((r) => r.id)
      .sort()
      .slice(0, MAX_COVERS);
    options.push({ scope, covers });
  }
  return options;
}

function out(a: ApprovalRow, snapshot?: Snapshot, now = Date.now()) {
  const missing = JSON.parse(a.missingGrants) as Missing[];
  // Pending approvals of object references offer the scopes the owner could widen to.
  const offers = new Map<string, { scope: string; covers: string[] }[]>();
  if (snapshot !== undefined && a.status === "PENDING" && a.curable) {
    for (const t of targets(missing)) if (t.canonical !== undefined) offers.set(t.ref, widenOptions(snapshot, a, t.canonical, t.rights, now));
  }
  return {
    id: a.id,
    machineId: a.machineId,
    ownerId: a.ownerId,
    actionId: a.actionId,
    action: JSON.parse(a.action) as unknown,
    actionDigest: a.actionDigest,
    auditSeq: a.auditSeq,
    violations: JSON.parse(a.violations) as Violation[],
    missingGrants: missing.map((m) => {
      const canonical = canonicalOf(m);
      const offer = offers.get(m.resource);
      return {
        resource: m.resource,
        right: m.right,
        code: m.code,
        ...(canonical !== undefined ? { canonical } : {}),
        ...(m.resolvedTo !== undefined ? { resolvedTo: m.resolvedTo } : {}),
        ...(offer !== undefined ? { widenOptions: offer } : {}),
      };
    }),
    curable: a.curable,
    status: a.status as "PENDING" | "APPROVED" | "REFUSED",
    reason: a.reason,
    createdAt: formatIso(a.createdAt.getTime()),
    decidedAt: a.decidedAt ? formatIso(a.decidedAt.getTime()) : null,
    decidedBy: a.decidedBy,
  };
}

export async function listApprovals(principal: HumanPrincipal, status?: string) {
  const db = getDb();
  const rows = await db.approval.findMany({
    where: { ...(principal.kind === "owner" ? { ownerId: principal.entityId } : {}), ...(status ? { status } : {}) },
    orderBy: { createdAt: "desc" },
    take: 500,
  });
  // Widening is offered against the registry as it is now; the approval re-checks it when written.
  const snapshot = rows.some((r) => r.status === "PENDING" && r.curable && r.missingGrants.includes('"canonical"')) ? await currentSnapshot(db) : undefined;
  const now = Date.now();
  return rows.map((r) => out(r, snapshot, now));
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

/**
 * The scope each widened reference is granted on instead of exactly the object. Refuses (400,
 * before anything is decided) a reference the action did not lack authority on or that is not an
 * object reference, a reference named twice, and a scope that is not a valid scope containing the
 * object's canonical path. Whether the owner may grant that scope is the kernel's to say.
 */
function widenScopes(missing: readonly Missing[], widen: Widen | undefined): Map<string, string> {
  const chosen = new Map<string, string>();
  if (widen === undefined) return chosen;
  const byRef = new Map(targets(missing).map((t) => [t.ref, t]));
  for (const w of widen) {
    const t = byRef.get(w.ref);
    if (t === undefined || t.canonical === undefined) throw new ApiError("VALIDATION_FAILED", `widen: ${JSON.stringify(w.ref)} is not an object reference this approval lacks authority on`);
    if (chosen.has(w.ref)) throw new ApiError("VALIDATION_FAILED", `widen: ${JSON.stringify(w.ref)} is named twice`);
    const v = validateScope(w.scope);
    if (!v.ok) throw new ApiError("VALIDATION_FAILED", `widen: scope ${JSON.stringify(w.scope)}: ${v.reason}`);
    if (!scopeContains(w.scope, t.canonical)) throw new ApiError("VALIDATION_FAILED", `widen: scope ${JSON.stringify(w.scope)} does not contain ${JSON.stringify(t.canonical)}`);
    chosen.set(w.ref, w.scope);
  }
  return chosen;
}

/**
 * One narrow grant per entry, with only the rights the action lacked there: a resource id as
 * itself; an object reference as a scope claim on exactly its canonical path, or on the scope the
 * owner chose to widen to.
 */
function grantsFor(a: ApprovalRow, expiresAt: number, widened: ReadonlyMap<string, string>): GrantProposal[] {
  return targets(JSON.parse(a.missingGrants) as Missing[]).map((t) => ({
    holder: a.machineId,
    grantor: a.ownerId,
    ...(t.canonical !== undefined ? { scope: widened.get(t.ref) ?? t.canonical } : { resource: t.ref }),
    canRead: t.rights.has("read"),
    canWrite: t.rights.has("write"),
    canDelegate: t.rights.has("delegate"),
    confidence: 1,
    expiresAt,
  }));
}

export async function approve(principal: HumanPrincipal, id: string, ttlSeconds: number, widen?: Widen) {
  return commitAuthority(principal, async ({ tx, by, now }) => {
    const a = await ownApproval(tx, principal, id);
    const widened = widenScopes(JSON.parse(a.missingGrants) as Missing[], widen);
    const updated = await decide(tx, a, { status: "APPROVED", decidedBy: by });
    const violations = JSON.parse(a.violations) as Violation[];
    const invariant = violations.filter((v) => violationClass(v.code) === "invariant");
    if (!a.curable || invariant.length > 0) {
      throw new ApiError("NOT_APPROVABLE", `this action broke an invariant no one can approve: ${invariant.map((v) => v.code).join(", ") || "not curable"}`, invariant);
    }
    const expiresAt = now + ttlSeconds * 1000;
    const proposals = grantsFor(a, expiresAt, widened);
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
      result: out(updated, snapshot, now),
      op: "approve",
      data: {
        approval: id,
        machine: a.machineId,
        actionDigest: a.actionDigest,
        grants: claims.map((c) => ({
          claim: c.id,
          ...(c.resourceId !== null ? { resource: c.resourceId } : { scope: c.scope }),
          rights: [c.canRead && "read", c.canWrite && "write", c.canDelegate && "delegate"].filter(Boolean),
        })),
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
