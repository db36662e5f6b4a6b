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
import type { Tx } from "../registry";
import { commitAuthority } from "./commit";
import { requireGrantable, writeGrant } from "./grants";
import { parseAction } from "../../kernel/action";
import { budgetShortfall, budgetWithin, parseBudget } from "../../kernel/budget";
import { buildSnapshot } from "../../kernel/snapshot";
import type { Budget } from "../../kernel/types";
import { budgetedClaimsFor } from "../../kernel/verify";
import { readUsage, usageOut } from "../budgets";
import { maySetBudget, writeBudget } from "./grants";
import { principalEntities, snapshotIn } from "./shared";

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
type Raise = readonly { grant: string; budget: Budget }[];
type Exhausted = { grant: string; holder: string; budget: Budget; usage: ReturnType<typeof usageOut>; canRaise: boolean };

/**
 * The budgets a pending BUDGET_EXHAUSTED request is blocked by now (issue 13): the budgeted claims
 * its action could charge that cannot take one more use at current usage, with whether the
 * caller may raise each (maySetBudget).
 */
async function exhaustedBudgets(db: Tx, snapshot: Snapshot, a: ApprovalRow, mine: ReadonlySet<string> | null, now: number): Promise<Exhausted[]> {
  const violations = JSON.parse(a.violations) as Violation[];
  if (a.status !== "PENDING" || !violations.some((v) => v.code === "BUDGET_EXHAUSTED")) return [];
  const action = JSON.parse(a.action) as unknown;
  const parsed = parseAction(action);
  const cost = parsed.ok ? parsed.action.cost : undefined;
  const ids = budgetedClaimsFor(snapshot, action, now);
  const usage = await readUsage(db, ids, now);
  const out: Exhausted[] = [];
  for (const id of ids) {
    const claim = snapshot.claim(id);
    const u = usage.get(id);
    if (!claim?.budget || !u || budgetShortfall(claim.budget, u, cost) === null) continue;
    out.push({ grant: id, holder: claim.holder, budget: claim.budget, usage: usageOut(claim.budget, u), canRaise: maySetBudget(mine, { grantorId: claim.grantor ?? null, holderId: claim.holder }) });
  }
  return out;
}

/**
 * Raises the budgets named by an approval, in one change of authority with its grants: only
 * grants the action is charged to, each to a budget no smaller than it was (budgetWithin), each
 * through writeBudget's attenuation check — root claims first, so a delegated grant is checked
 * against its grantor's raised budget.
 */
async function raiseBudgets(tx: Tx, snapshot: Snapshot, a: ApprovalRow, raise: Raise, now: number, mine: ReadonlySet<string> | null) {
  const charged = new Set(budgetedClaimsFor(snapshot, JSON.parse(a.action) as unknown, now));
  const seen = new Set<string>();
  for (const r of raise) {
    if (!charged.has(r.grant)) throw new ApiError("VALIDATION_FAILED", `raise: ${r.grant} is not a budgeted grant this action is charged to`);
    if (seen.has(r.grant)) throw new ApiError("VALIDATION_FAILED", `raise: ${r.grant} is named twice`);
    seen.add(r.grant);
    const parsed = parseBudget(r.budget, "raise.budget");
    if (!parsed.ok) throw new ApiError("VALIDATION_FAILED", parsed.errors.join("; "));
    if (!budgetWithin(snapshot.claim(r.grant)?.budget, parsed.budget)) throw new ApiError("VALIDATION_FAILED", `raise: the new budget of ${r.grant} is smaller than the current one on some member`);
  }
  const ordered = [...raise].sort((x, y) => Number(snapshot.claim(x.grant)?.grantor !== undefined) - Number(snapshot.claim(y.grant)?.grantor !== undefined));
  let current = snapshot;
  const done: { claim: string; budget: Budget; previous: Budget | null }[] = [];
  for (const r of ordered) {
    if (done.length > 0 && current.claim(r.grant)?.grantor !== undefined && current === snapshot) {
      // Check delegated raises against the registry with the root raises applied.
      const raised = new Map(done.map((d) => [d.claim, d.budget]));
      current = buildSnapshot({ ...snapshot.data, claims: snapshot.data.claims.map((c) => (raised.has(c.id) ? { ...c, budget: raised.get(c.id) } : c)) });
    }
    try {
      const { previous } = await writeBudget(tx, current, r.grant, r.budget, now, mine);
      done.push({ claim: r.grant, budget: r.budget, previous });
    } catch (e) {
      if (e instanceof ApiError && e.code === "GRANT_REFUSED") throw new ApiError("NOT_APPROVABLE", `the budget cannot be raised so: ${e.message}`, e.details);
      throw e;
    }
  }
  return done;
}

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

/** What one grant of an approval is on: the canonical path of the object(s), or a resource id. */
type Target = {
  /** "ref:" + canonical path, or "id:" + resource id. */
  key: string;
  /** The entries as written that name it. */
  refs: string[];
  rights: Set<Right>;
  canonical: string | undefined;
  /** The first entry as written (the resource id, for an id). */
  resource: string;
};

/**
 * Missing grants grouped by what they would be granted on, in order of first appearance: one
 * group per resource id, and one per canonical path — so the rights an action lacked on one
 * object, however it was spelled (`/a/x`, `file:///a/x`), become one claim.
 */
function targets(missing: readonly Missing[]): Target[] {
  const by = new Map<string, Target>();
  for (const m of missing) {
    const canonical = canonicalOf(m);
    // Distinct prefixes: a (legacy) resource id can never stand for a canonical path.
    const key = canonical !== undefined ? `ref:${canonical}` : `id:${m.resource}`;
    const t = by.get(key);
    if (t === undefined) by.set(key, { key, refs: [m.resource], rights: new Set([m.right]), canonical, resource: m.resource });
    else {
      t.rights.add(m.right);
      if (!t.refs.includes(m.resource)) t.refs.push(m.resource);
    }
  }
  return [...by.values()];
}

// The snapshot's resource scopes sorted (pure memoisation: a snapshot never changes), so the
// resources inside a scope are found by binary search instead of a scan of the registry.
const SORTED_SCOPES = new WeakMap<Snapshot, readonly { scope: string; id: string }[]>();

function sortedScopes(snapshot: Snapshot): readonly { scope: string; id: string }[] {
  let sorted = SORTED_SCOPES.get(snapshot);
  if (sorted === undefined) {
    sorted = snapshot.data.resources.map((r) => ({ scope: r.scope, id: r.id })).sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
    SORTED_SCOPES.set(snapshot, sorted);
  }
  return sorted;
}

/**
 * The registered resources whose scope lies inside `scope` (scopeContains), sorted by id, at most
 * MAX_COVERS. A scope inside a resource contains no resource (unless one is registered under it):
 * widening within a resource covers more of its objects, not more resources. These are never
 * another owner's secrets: checkGrant accepted `scope` for this owner, so the owner holds a claim
 * covering it (and the console's owner view already lists the resources inside held scopes), or
 * it stands for part of one resource the owner holds.
 */
function resourcesInside(snapshot: Snapshot, scope: string): string[] {
  const sorted = sortedScopes(snapshot);
  const lowerBound = (s: string): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as { scope: string }).scope < s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const ids: string[] = [];
  // Inside `scope`: `scope` itself, then a contiguous run (in sorted order) of what starts with
  // `scope + "/"`. Siblings such as `scope-x` sort between the two; the jump skips them.
  let i = lowerBound(scope);
  for (; i < sorted.length && (sorted[i] as { scope: string }).scope === scope; i++) ids.push((sorted[i] as { id: string }).id);
  const prefix = scope === "" || scope.endsWith("/") ? scope : scope + "/";
  if (prefix !== scope) i = lowerBound(prefix);
  for (; i < sorted.length && (sorted[i] as { scope: string }).scope.startsWith(prefix); i++) ids.push((sorted[i] as { id: string }).id);
  return ids.sort().slice(0, MAX_COVERS);
}

/** What one inbox listing computes once per scope: the resources inside it. */
type CoversCache = Map<string, string[]>;

/**
 * The enclosing scopes of an object the owner could grant the same rights on (proper ancestors of
 * its canonical path, most specific first), each with the registered resources inside it: what
 * else widening would cover. Asked of the kernel's checkGrant against the current registry, so
 * only what approving could write (approving asks again, inside its transaction).
 */
function widenOptions(snapshot: Snapshot, a: ApprovalRow, t: Target, now: number, cache: CoversCache) {
  const options: { scope: string; covers: string[] }[] = [];
  for (const scope of scopeAncestors(t.canonical as string).slice(1)) {
    if (options.length >= MAX_WIDEN_OPTIONS) break;
    const proposal: GrantProposal = {
      holder: a.machineId,
      grantor: a.ownerId,
      scope,
      canRead: t.rights.has("read"),
      canWrite: t.rights.has("write"),
      canDelegate: t.rights.has("delegate"),
      expiresAt: now + OFFER_TTL_MS,
    };
    if (!checkGrant(snapshot, proposal, now).ok) continue;
    let covers = cache.get(scope);
    if (covers === undefined) cache.set(scope, (covers = resourcesInside(snapshot, scope)));
    options.push({ scope, covers: [...covers] });
  }
  return options;
}

/** Whether listing this row offers widening: a pending, curable request with an object reference. */
function offersWidening(a: ApprovalRow, missing: readonly Missing[]): boolean {
  return a.status === "PENDING" && a.curable && missing.some((m) => canonicalOf(m) !== undefined);
}

function out(a: ApprovalRow, snapshot?: Snapshot, now = Date.now(), cache: CoversCache = new Map(), exhausted: Exhausted[] = []) {
  const missing = JSON.parse(a.missingGrants) as Missing[];
  // Pending approvals of object references offer the scopes the owner could widen to, per
  // canonical path (every spelling of one object is offered the same scopes).
  const offers = new Map<string, { scope: string; covers: string[] }[]>();
  if (snapshot !== undefined && offersWidening(a, missing)) {
    for (const t of targets(missing)) if (t.canonical !== undefined) offers.set(t.canonical, widenOptions(snapshot, a, t, now, cache));
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
      const offer = canonical !== undefined ? offers.get(canonical) : undefined;
      return {
        resource: m.resource,
        right: m.right,
        code: m.code,
        ...(canonical !== undefined ? { canonical } : {}),
        ...(m.resolvedTo !== undefined ? { resolvedTo: m.resolvedTo } : {}),
        ...(offer !== undefined ? { widenOptions: offer.map((o) => ({ scope: o.scope, covers: [...o.covers] })) } : {}),
      };
    }),
    exhaustedBudgets: exhausted,
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
  // Widening is offered against the registry as it is now; approving re-checks it when it writes.
  const budgeted = rows.some((r) => r.status === "PENDING" && r.violations.includes("BUDGET_EXHAUSTED"));
  const snapshot = budgeted || rows.some((r) => offersWidening(r, JSON.parse(r.missingGrants) as Missing[])) ? await snapshotIn(db) : undefined;
  const now = Date.now();
  const cache: CoversCache = new Map();
  const exhausted = new Map<string, Exhausted[]>();
  if (budgeted && snapshot !== undefined) {
    const mine = await principalEntities(db, principal);
    for (const r of rows) exhausted.set(r.id, await exhaustedBudgets(db, snapshot, r, mine, now));
  }
  return rows.map((r) => out(r, snapshot, now, cache, exhausted.get(r.id) ?? []));
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
 * The scope each widened object is granted on instead of exactly the object, by target key.
 * Refuses (400 VALIDATION_FAILED, before anything is decided or written) a reference that is not
 * an object reference this approval lacks authority on, one object (under any spelling) widened
 * to two different scopes, and a scope that is not a valid scope containing the object's
 * canonical path. Whether the owner may grant that scope is the kernel's to say (checkGrant).
 */
function widenScopes(missing: readonly Missing[], widen: Widen | undefined): Map<string, string> {
  const chosen = new Map<string, string>();
  if (widen === undefined) return chosen;
  const byRef = new Map<string, Target>();
  for (const t of targets(missing)) if (t.canonical !== undefined) for (const ref of t.refs) byRef.set(ref, t);
  for (const w of widen) {
    const t = byRef.get(w.ref);
    if (t === undefined || t.canonical === undefined) throw new ApiError("VALIDATION_FAILED", `widen: ${JSON.stringify(w.ref)} is not an object reference this approval lacks authority on`);
    const v = validateScope(w.scope);
    if (!v.ok) throw new ApiError("VALIDATION_FAILED", `widen: scope ${JSON.stringify(w.scope)}: ${v.reason}`);
    if (!scopeContains(w.scope, t.canonical)) throw new ApiError("VALIDATION_FAILED", `widen: scope ${JSON.stringify(w.scope)} does not contain ${JSON.stringify(t.canonical)}`);
    const earlier = chosen.get(t.key);
    if (earlier !== undefined && earlier !== w.scope) throw new ApiError("VALIDATION_FAILED", `widen: ${JSON.stringify(t.canonical)} is widened to two scopes (${JSON.stringify(earlier)}, ${JSON.stringify(w.scope)})`);
    chosen.set(t.key, w.scope);
  }
  return chosen;
}

/**
 * One narrow grant per target, with only the rights the action lacked there: a resource id as
 * itself; an object as a scope claim on exactly its canonical path, or on the scope the owner
 * chose to widen to.
 */
function grantsFor(a: ApprovalRow, expiresAt: number, widened: ReadonlyMap<string, string>): GrantProposal[] {
  return targets(JSON.parse(a.missingGrants) as Missing[]).map((t) => ({
    holder: a.machineId,
    grantor: a.ownerId,
    ...(t.canonical !== undefined ? { scope: widened.get(t.key) ?? t.canonical } : { resource: t.resource }),
    canRead: t.rights.has("read"),
    canWrite: t.rights.has("write"),
    canDelegate: t.rights.has("delegate"),
    confidence: 1,
    expiresAt,
  }));
}

/**
 * A narrow grant under an owner whose own authority over the target is budgeted must carry a
 * budget that fits it (attenuation): it gets the budget of the owner's covering claim, so its
 * uses are bounded the same way (and are charged to the owner's budget as well).
 */
function budgetFits(snapshot: Snapshot, p: GrantProposal, now: number): GrantProposal {
  const check = checkGrant(snapshot, p, now);
  if (check.ok || !check.violations.every((v) => v.code === "EXCEEDS_GRANTOR_BUDGET")) return p;
  for (const c of snapshot.claimsOf(p.grantor)) {
    if (c.budget === undefined) continue;
    const candidate = { ...p, budget: c.budget };
    if (checkGrant(snapshot, candidate, now).ok) return candidate;
  }
  return p;
}

export async function approve(principal: HumanPrincipal, id: string, ttlSeconds: number, widen?: Widen, raise?: Raise) {
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
    const budgetBlocked = violations.some((v) => v.code === "BUDGET_EXHAUSTED");
    if (proposals.length === 0 && !(raise && raise.length > 0)) {
      throw new ApiError(
        "NOT_APPROVABLE",
        budgetBlocked ? "nothing to grant: the action is blocked by a used-up budget; approve with `raise` to raise it" : "nothing to grant: the action needs no resource the owner can delegate",
      );
    }
    // Every grant is checked against the registry as it was before any of them, then all are written.
    const snapshot = await snapshotIn(tx);
    const raised = raise && raise.length > 0 ? await raiseBudgets(tx, snapshot, a, raise, now, await principalEntities(tx, principal)) : [];
    for (const [i, p0] of proposals.entries()) {
      const p = budgetFits(snapshot, p0, now);
      proposals[i] = p;
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
        ...(raised.length > 0 ? { budgets: raised } : {}),
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
