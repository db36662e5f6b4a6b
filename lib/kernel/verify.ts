/**
 * verify(snapshot, action, now): the decision (design §4). Total — it never throws and always
 * explains — and deterministic: same snapshot, action, time and options, same result.
 *
 * Order of violations, all of which are reported:
 *   0. MALFORMED_ACTION (unknown fields, wrong types, an object reference that does not
 *      canonicalize, unknown actor) — nothing else is checked;
 *   1. FORBIDDEN_FLAG, one per true flag in FLAGS order (any actor);
 *   2. HALTED, 3. NO_OWNER (A4), 4. GOVERNS_HUMAN (A6) — machine actors only;
 *   5. per resource, reads then writes then delegates: READ/WRITE/DELEGATE_DENIED (A7),
 *      NOT_DELEGATED_BY_OWNER (A7), OUTSIDE_OWNER_SCOPE (A5);
 *   6. IFC_DOWNWARD_FLOW per write, then POLICY_DENIED per (operation, resource) from the
 *      enforced rules; shadow rules add nothing and are reported in `result.shadow`.
 *
 * Decisions the design left open, taken here:
 * - Validity boundaries: a claim is valid at `now` iff confidence > 0, `now <= expiresAt` (valid
 *   AT the expiry instant) and `now < revokedAt` (revoked FROM the revocation instant on), and a
 *   chain of at most MAX_CHAIN_DEPTH grants, each valid at `now`, leads to a human root claim.
 * - Human actors act on their own claims: the chain must be valid but need not lead to an owner;
 *   HALTED, A4, A5, A6 and the owner trace apply to machines only. Flags apply to everyone.
 * - For a machine actor, READ/WRITE/DELEGATE_DENIED means it holds no claim covering the
 *   resource with the right that is in force on its own (confidence, revocation, expiry);
 *   NOT_DELEGATED_BY_OWNER means it holds such a claim but none is backed by valid grants back to
 *   its owner (a revoked or expired grant upstream, a widened scope or right, a foreign grantor,
 *   a cycle, a chain that is too long); OUTSIDE_OWNER_SCOPE is added when, in that case, the
 *   owner does not itself hold a valid claim with the right over the resource. A4 already blocks
 *   an ownerless machine, so A5 is not evaluated for it.
 * - A human actor with no valid (chain-backed) claim gets READ/WRITE/DELEGATE_DENIED.
 * - Every id in governsHumans yields GOVERNS_HUMAN for a machine actor, whether or not it names
 *   a known human: the agent declared it governs that person, and an unknown id must not be a way
 *   around A6 (fail closed). The message is the same either way, so it reveals nothing.
 * - An unknown resource id is denied with exactly the code and message shape of an undelegated
 *   resource, counts as unlabeled for IFC, and matches only root-scope policy rules.
 * - Object references (issue 10, object-ref.ts): an entry of reads/writes/delegates that starts
 *   with "/" or a scheme is canonicalized into the path space and resolves to the most specific
 *   registered resource whose scope contains it; the object then is that resource for every
 *   check (type, owner, isPublic, ifcLabel, claims by id), and scope claims and policy rules are
 *   matched against its canonical path, so a claim on any scope containing the object covers it.
 *   An unresolved (or ambiguously resolved) object is denied like an unknown resource. Messages
 *   and `violation.resource` cite the reference as written; `result.resolved` maps each one to
 *   its canonical path and resource.
 * - Public resources may be read without a claim (confidence 1); writing or delegating them
 *   still needs a claim.
 * - Confidence: per checked resource, the confidence of the best valid claim (1 for a public
 *   read, 0 when denied); the result is the minimum, 1 when nothing is checked, 0 when malformed.
 */
import { parseAction } from "./action";
import { budgetShortfall, isBudgetUsage, NO_USAGE, remainingAfter } from "./budget";
import { detectManipulation } from "./extensions/manipulation";
import { isDownwardFlow, joinLabels, sourceRank } from "./ifc";
import {
  hasRight,
  isMachineHalted,
  MAX_CHAIN_DEPTH,
  quote,
  snapshotIndex,
  type ClaimNode,
  type HolderIndex,
  type Op,
  type ResourceNode,
  type SnapshotIndex,
} from "./internal";
import { canonicalizeReference, isObjectReference } from "./object-ref";
import { decidingRule, foldShadowPair, shadowVerdictList } from "./policy";
import { resolveObject } from "./resolve";
import type { Snapshot } from "./snapshot";
import {
  FLAGS,
  type Action,
  type Axiom,
  type Budget,
  type BudgetCharge,
  type BudgetUsage,
  type Flag,
  type ResolvedReference,
  type SnapshotRef,
  type VerifyResult,
  type Violation,
  type Warning,
} from "./types";

/** A valid claim below this confidence is contested (design §4). */
export const CONTESTED_THRESHOLD = 0.8;

/** The snapshot reference reported when there is no genuine snapshot to cite. */
export const NO_SNAPSHOT_REF: SnapshotRef = Object.freeze({ version: -1, digest: "" });

/** The invariant each flag protects. */
export const FLAG_AXIOMS: Readonly<Record<Flag, Axiom>> = Object.freeze({
  increases_machine_sovereignty: "SOVEREIGNTY",
  resists_human_correction: "CORRIGIBILITY",
  bypasses_verifier: "CORRIGIBILITY",
  weakens_verifier: "CORRIGIBILITY",
  disables_corrigibility: "CORRIGIBILITY",
  machine_coalition_dominion: "SOVEREIGNTY",
  coerces: "SOVEREIGNTY",
  deceives: "SOVEREIGNTY",
  self_modification_weakens_verifier: "CORRIGIBILITY",
  machine_coalition_reduces_freedom: "SOVEREIGNTY",
});

/** The original kernel's wording of each flag, kept so that messages stay recognisable. */
export const FLAG_LABELS: Readonly<Record<Flag, string>> = Object.freeze({
  increases_machine_sovereignty: "increases machine sovereignty",
  resists_human_correction: "resists human correction",
  bypasses_verifier: "bypasses the Freedom Verifier",
  weakens_verifier: "weakens the Freedom Verifier",
  disables_corrigibility: "disables corrigibility",
  machine_coalition_dominion: "machine coalition seeking dominion",
  coerces: "coerces another agent (property rights violation)",
  deceives: "deceives another agent (invalid consent)",
  self_modification_weakens_verifier: "self-modification weakens the Freedom Verifier",
  machine_coalition_reduces_freedom: "machine coalition reduces human freedom",
});

export interface VerifyOptions {
  /** Taint carried in from earlier steps or calls (a lattice label); undefined = the bottom. */
  readonly taint?: string | undefined;
  /** Plan step index, cited by IFC_DOWNWARD_FLOW. */
  readonly step?: number | undefined;
  /**
   * What has been used of budgeted claims (issue 13), by claim id, as the server read it inside
   * the decision transaction; a budgeted claim missing from it has no use yet. Only read when the
   * snapshot has budgets.
   */
  readonly usage?: ReadonlyMap<string, BudgetUsage> | undefined;
  /**
   * "forbid": no budgeted claim may be used at all (plans: their permits are not redeemed one
   * action at a time, so nothing could consume the budget). Default "charge".
   */
  readonly budgets?: "charge" | "forbid" | undefined;
}

/** One budgeted claim an action charges, with the chain it is charged through (for receipts). */
export interface BudgetChargeDetail {
  readonly grant: string;
  /** Claim ids from the actor's covering claim up to the root claim, through this grant. */
  readonly chain: readonly string[];
  readonly budget: Budget;
  readonly usage: BudgetUsage;
}

const DENIED_CODE = { read: "READ_DENIED", write: "WRITE_DENIED", delegate: "DELEGATE_DENIED" } as const;
const DENIED_WORD = { read: "READ DENIED", write: "WRITE DENIED", delegate: "DELEGATION DENIED" } as const;

function safeRef(snapshot: unknown): SnapshotRef {
  try {
    if (snapshotIndex(snapshot) === undefined) return NO_SNAPSHOT_REF;
    return (snapshot as Snapshot).ref;
  } catch {
    return NO_SNAPSHOT_REF;
  }
}

function blocked(actionId: string, ref: SnapshotRef, violations: Violation[]): VerifyResult {
  return {
    actionId,
    permitted: false,
    violations,
    warnings: [],
    confidence: 0,
    requiresHumanArbitration: false,
    manipulationScore: 0,
    snapshot: ref,
  };
}

/**
 * A BLOCKED result with one MALFORMED_ACTION violation per error (one generic error when the
 * list is empty), confidence 0. Exported for the wire and plan layers. Never throws for strings.
 */
export function malformedResult(actionId: string, ref: SnapshotRef, errors: readonly string[]): VerifyResult {
  const list = errors.length > 0 ? errors : ["action could not be parsed"];
  return blocked(
    actionId,
    ref,
    list.map((e) => ({ code: "MALFORMED_ACTION", axiom: "FAIL_CLOSED", message: `MALFORMED ACTION: ${e}` })),
  );
}

/** A BLOCKED result with one INTERNAL_ERROR violation, for a check that could not run. Never throws. */
export function internalErrorResult(actionId: string, ref: SnapshotRef, reason: string): VerifyResult {
  return blocked(actionId, ref, [
    { code: "INTERNAL_ERROR", axiom: "FAIL_CLOSED", message: `INTERNAL ERROR: ${reason}; blocked (fail closed)` },
  ]);
}

/**
 * Verifies an agent-supplied action against a snapshot at time `now` (integer ms since the
 * epoch). Total: never throws.
 *
 * On bad input it returns a BLOCKED result that says why: MALFORMED_ACTION for an action that
 * does not parse (see parseAction) or names an unknown actor; INTERNAL_ERROR when `snapshot` was
 * not made by buildSnapshot, `now` is not an integer, `options` is invalid, or anything
 * unexpected happens. Every result carries `snapshot: { version, digest }` (NO_SNAPSHOT_REF
 * when there is no genuine snapshot).
 */
export function verify(snapshot: Snapshot, action: unknown, now: number, options?: VerifyOptions): VerifyResult {
  const ref = safeRef(snapshot);
  try {
    const ix = snapshotIndex(snapshot);
    if (ix === undefined) return internalErrorResult(actionIdOf(action), ref, "not a snapshot built by buildSnapshot");
    if (typeof now !== "number" || !Number.isSafeInteger(now)) {
      return internalErrorResult(actionIdOf(action), ref, "now must be an integer number of milliseconds");
    }
    let taint: string | undefined;
    let step: number | undefined;
    let budgets: BudgetContext | undefined;
    if (options !== undefined) {
      if (typeof options !== "object" || options === null) return internalErrorResult(actionIdOf(action), ref, "invalid options");
      taint = options.taint;
      step = options.step;
      const usage = options.usage;
      const mode = options.budgets;
      if (usage !== undefined && !isUsageMap(usage)) return internalErrorResult(actionIdOf(action), ref, "options.usage must be a Map of claim ids to non-negative integer usage");
      if (mode !== undefined && mode !== "charge" && mode !== "forbid") return internalErrorResult(actionIdOf(action), ref, "options.budgets must be charge or forbid");
      if (usage !== undefined || mode !== undefined) budgets = { usage, forbid: mode === "forbid" };
      if (taint !== undefined && typeof taint !== "string") return internalErrorResult(actionIdOf(action), ref, "options.taint must be a string");
      if (step !== undefined && !(typeof step === "number" && Number.isSafeInteger(step) && step >= 0)) {
        return internalErrorResult(actionIdOf(action), ref, "options.step must be a non-negative integer");
      }
    }
    const parsed = parseAction(action);
    if (!parsed.ok) return malformedResult(parsed.actionId ?? "", ref, parsed.errors);
    return decide(ix, ref, parsed.action, now, taint, step, budgets, undefined);
  } catch {
    return internalErrorResult(actionIdOf(action), ref, "the verifier failed");
  }
}

/**
 * verify, and the budgeted claims the action charges with the chains they are charged through
 * (what a redemption consumes and writes receipts for). `charges` is empty unless the result is
 * PERMITTED. Never throws.
 */
export function verifyWithCharges(
  snapshot: Snapshot,
  action: unknown,
  now: number,
  options?: VerifyOptions,
): { result: VerifyResult; charges: readonly BudgetChargeDetail[] } {
  const out: BudgetChargeDetail[] = [];
  try {
    const ix = snapshotIndex(snapshot);
    const parsed = parseAction(action);
    if (ix === undefined || !parsed.ok || !Number.isSafeInteger(now) || (options !== undefined && (typeof options !== "object" || options === null))) {
      return { result: verify(snapshot, action, now, options), charges: out };
    }
    const usage = options?.usage;
    if (usage !== undefined && !isUsageMap(usage)) return { result: verify(snapshot, action, now, options), charges: out };
    const mode = options?.budgets;
    if (mode !== undefined && mode !== "charge" && mode !== "forbid") return { result: verify(snapshot, action, now, options), charges: out };
    const taint = options?.taint;
    const step = options?.step;
    if ((taint !== undefined && typeof taint !== "string") || (step !== undefined && !(typeof step === "number" && Number.isSafeInteger(step) && step >= 0))) {
      return { result: verify(snapshot, action, now, options), charges: out };
    }
    const result = decide(ix, safeRef(snapshot), parsed.action, now, taint, step, { usage, forbid: mode === "forbid" }, out);
    return { result, charges: result.permitted ? out : [] };
  } catch {
    return { result: internalErrorResult(actionIdOf(action), safeRef(snapshot), "the verifier failed"), charges: [] };
  }
}

/**
 * The budgeted claims an action could charge: every budgeted claim on a valid chain of a claim
 * covering one of its targets with the right. The server reads the usage of exactly these inside
 * the decision transaction and hands it to verify. Empty when the snapshot has no budgets, the
 * action does not parse or names an unknown actor. Never throws.
 */
export function budgetedClaimsFor(snapshot: Snapshot, action: unknown, now: number): string[] {
  try {
    const ix = snapshotIndex(snapshot);
    if (ix === undefined || !ix.hasBudgets || !Number.isSafeInteger(now)) return [];
    const parsed = parseAction(action);
    if (!parsed.ok) return [];
    const a = parsed.action;
    const refs: References = { resolved: [], errors: [] };
    const lists: [Op, Target[]][] = [
      ["read", targetsOf(ix, "reads", a.reads, refs)],
      ["write", targetsOf(ix, "writes", a.writes, refs)],
      ["delegate", targetsOf(ix, "delegates", a.delegates, refs)],
    ];
    const hi = ix.holders.get(a.actor);
    if (hi === undefined) return [];
    const found = new Set<string>();
    const seenNodes = new Set<ClaimNode>();
    const stack: ClaimNode[] = [];
    for (const [op, targets] of lists) {
      for (const t of targets) {
        if (t.rn === undefined) continue;
        const push = (list: readonly ClaimNode[] | undefined): void => {
          if (list !== undefined) for (const n of list) if (hasRight(n.claim, op) && now <= n.horizon) stack.push(n);
        };
        push(hi.byResource.get(t.rn.resource.id));
        for (const anc of t.ancestors) push(hi.byScope.get(anc));
      }
    }
    while (stack.length > 0) {
      const n = stack.pop() as ClaimNode;
      if (seenNodes.has(n)) continue;
      seenNodes.add(n);
      if (n.claim.budget !== undefined) found.add(n.claim.id);
      for (const p of n.supporters) if (now <= p.horizon) stack.push(p);
    }
    return [...found].sort();
  } catch {
    return [];
  }
}

/** A Map of claim id to well-formed usage: anything else is refused (fail closed), never read as "no use". */
function isUsageMap(v: unknown): v is ReadonlyMap<string, BudgetUsage> {
  if (!(v instanceof Map)) return false;
  for (const [k, u] of v as Map<unknown, unknown>) if (typeof k !== "string" || !isBudgetUsage(u)) return false;
  return true;
}

/** The budget inputs of one decision. */
interface BudgetContext {
  readonly usage: ReadonlyMap<string, BudgetUsage> | undefined;
  readonly forbid: boolean;
}

function usageOf(ctx: BudgetContext | undefined, id: string): BudgetUsage {
  const u = ctx?.usage?.get(id);
  return u !== undefined && isBudgetUsage(u) ? u : NO_USAGE;
}

/** Why a budgeted claim cannot take one more use of this action, or null when it can. */
function claimShortfall(ctx: BudgetContext | undefined, node: ClaimNode, cost: number | undefined): string | null {
  const b = node.claim.budget;
  if (b === undefined) return null;
  if (ctx?.forbid === true) return "a plan cannot use budgeted authority (verify and redeem each action on its own)";
  return budgetShortfall(b, usageOf(ctx, node.claim.id), cost);
}

/**
 * A chain from `node` up to a human root claim, every link valid at `now` and every budgeted
 * claim on it able to take one more use: the first such chain in a fixed order (supporters by
 * claim id), or undefined. `failed` remembers, per claim, the largest remaining depth at which no
 * chain was found, so a shared ancestor is explored once per depth, not once per path.
 */
function affordableChain(
  node: ClaimNode,
  now: number,
  ctx: BudgetContext | undefined,
  cost: number | undefined,
  depth: number,
  onPath: Set<ClaimNode>,
  failed: Map<ClaimNode, number>,
): ClaimNode[] | undefined {
  if (now > node.horizon || depth < 0 || onPath.has(node)) return undefined;
  const f = failed.get(node);
  if (f !== undefined && f >= depth) return undefined;
  if (claimShortfall(ctx, node, cost) !== null) {
    failed.set(node, Number.MAX_SAFE_INTEGER);
    return undefined;
  }
  if (node.claim.grantor === undefined) return node.holderKind === "HUMAN" && now <= node.local ? [node] : undefined;
  onPath.add(node);
  const ups = [...node.supporters].sort((a, b) => (a.claim.id < b.claim.id ? -1 : a.claim.id > b.claim.id ? 1 : 0));
  for (const p of ups) {
    const rest = affordableChain(p, now, ctx, cost, depth - 1, onPath, failed);
    if (rest !== undefined) {
      onPath.delete(node);
      return [node, ...rest];
    }
  }
  onPath.delete(node);
  failed.set(node, Math.max(f ?? -1, depth));
  return undefined;
}

/** The first budgeted claim (walking the first valid chain of `node`) that cannot take one more use. */
function firstShortfall(node: ClaimNode, now: number, ctx: BudgetContext | undefined, cost: number | undefined): { node: ClaimNode; why: string } | undefined {
  let n: ClaimNode | undefined = node;
  const seenHere = new Set<ClaimNode>();
  while (n !== undefined && !seenHere.has(n)) {
    seenHere.add(n);
    const why = claimShortfall(ctx, n, cost);
    if (why !== null) return { node: n, why };
    n = [...n.supporters].sort((a, b) => (a.claim.id < b.claim.id ? -1 : 1)).find((p) => now <= p.horizon);
  }
  return undefined;
}

/** Best-effort actionId of unparsed input, for citing it in a refusal. */
function actionIdOf(action: unknown): string {
  const parsed = parseAction(action);
  return parsed.ok ? parsed.action.actionId : (parsed.actionId ?? "");
}

interface Coverage {
  /** Some covering claim with the right is valid on its own. */
  anyLocal: boolean;
  /** Best valid (chain-backed) covering claim, or undefined. */
  best: ClaimNode | undefined;
}

function scanList(list: readonly ClaimNode[] | undefined, op: Op, now: number, acc: Coverage): void {
  if (list === undefined) return;
  for (const node of list) {
    if (!hasRight(node.claim, op) || now > node.local) continue;
    acc.anyLocal = true;
    if (now <= node.horizon && (acc.best === undefined || node.claim.confidence > acc.best.claim.confidence)) acc.best = node;
  }
}

/**
 * What one entry of reads/writes/delegates names: a registered resource (by id) or an object
 * (by reference) together with the resource it resolved to. Claims by id cover it through `rn`;
 * scope claims through `ancestors` — the resource's scope ancestors for an id, the canonical
 * path's for an object (which include the resolved resource's scope and all above it).
 */
interface Target {
  /** As written in the action: cited in messages and in `violation.resource`. */
  readonly label: string;
  /** The resource (itself, or the one an object resolved to); undefined = unknown/unresolved. */
  readonly rn: ResourceNode | undefined;
  readonly ancestors: readonly string[];
  /** The scope policy rules are matched against: the resource's scope, or the object's path. */
  readonly policyScope: string | undefined;
}

/** The claims of one holder that cover a target with a right, via its resource and its scope ancestors. */
function coverage(hi: HolderIndex | undefined, t: Target, op: Op, now: number): Coverage {
  const acc: Coverage = { anyLocal: false, best: undefined };
  if (hi === undefined || t.rn === undefined) return acc;
  scanList(hi.byResource.get(t.rn.resource.id), op, now, acc);
  for (const a of t.ancestors) scanList(hi.byScope.get(a), op, now, acc);
  return acc;
}

/** Holders on the valid grant chains of the actor's valid write claims over a target. */
function chainHolders(ix: SnapshotIndex, actor: string, rn: ResourceNode, ancestors: readonly string[], now: number): Set<string> {
  const holders = new Set<string>([actor]);
  const hi = ix.holders.get(actor);
  const stack: ClaimNode[] = [];
  const seen = new Set<ClaimNode>();
  const start = (list: readonly ClaimNode[] | undefined): void => {
    if (list === undefined) return;
    for (const n of list) if (n.claim.canWrite && now <= n.horizon) stack.push(n);
  };
  if (hi !== undefined) {
    start(hi.byResource.get(rn.resource.id));
    for (const a of ancestors) start(hi.byScope.get(a));
  }
  while (stack.length > 0) {
    const n = stack.pop() as ClaimNode;
    if (seen.has(n)) continue;
    seen.add(n);
    holders.add(n.claim.holder);
    for (const p of n.supporters) if (now <= p.horizon) stack.push(p);
  }
  return holders;
}

/** Other holders of a valid write claim over the resource, not on the actor's own chains. */
function otherWriters(ix: SnapshotIndex, actor: string, rn: ResourceNode, ancestors: readonly string[], now: number): string[] {
  const chain = chainHolders(ix, actor, rn, ancestors, now);
  const found = new Set<string>();
  const scan = (list: readonly ClaimNode[] | undefined): void => {
    if (list === undefined) return;
    for (const n of list) if (now <= n.horizon && !chain.has(n.claim.holder)) found.add(n.claim.holder);
  };
  scan(ix.writersByResource.get(rn.resource.id));
  for (const a of ancestors) scan(ix.writersByScope.get(a));
  return [...found].sort();
}

/** The references of one action: each distinct one as resolved, and why any did not canonicalize. */
interface References {
  readonly resolved: ResolvedReference[];
  readonly errors: string[];
  /** Written references already in `resolved`, once there are enough for a scan to cost more. */
  seen?: Set<string>;
}

function seen(refs: References, entry: string): boolean {
  const list = refs.resolved;
  if (refs.seen === undefined) {
    for (let i = 0; i < list.length; i++) if ((list[i] as ResolvedReference).ref === entry) return true;
    if (list.length >= 8) refs.seen = new Set(list.map((r) => r.ref)).add(entry);
    return false;
  }
  if (refs.seen.has(entry)) return true;
  refs.seen.add(entry);
  return false;
}

const NO_ANCESTORS: readonly string[] = Object.freeze([]);

/**
 * The targets of one list of the action. Top-level and loop-based on purpose: this runs on every
 * decision, and a closure per call costs more than the work for an id.
 */
function targetsOf(ix: SnapshotIndex, name: string, list: readonly string[], refs: References): Target[] {
  const out = new Array<Target>(list.length);
  for (let i = 0; i < list.length; i++) {
    const entry = list[i] as string;
    if (!isObjectReference(entry)) {
      const rn = ix.resources.get(entry);
      out[i] = { label: entry, rn, ancestors: rn === undefined ? NO_ANCESTORS : rn.ancestors, policyScope: rn?.resource.scope };
      continue;
    }
    const c = canonicalizeReference(entry);
    if (!c.ok) {
      refs.errors.push(`${name}[${i}] ${quote(entry)} is not a valid object reference: ${c.reason}`);
      out[i] = { label: entry, rn: undefined, ancestors: NO_ANCESTORS, policyScope: undefined };
      continue;
    }
    const hit = resolveObject(ix, c.canonical);
    const rn = hit?.rn;
    if (!seen(refs, entry)) {
      refs.resolved.push(rn === undefined ? { ref: entry, canonical: c.canonical } : { ref: entry, canonical: c.canonical, resource: rn.resource.id });
    }
    out[i] = { label: entry, rn, ancestors: hit === undefined ? NO_ANCESTORS : hit.ancestors, policyScope: c.canonical };
  }
  return out;
}

function decide(
  ix: SnapshotIndex,
  ref: SnapshotRef,
  action: Action,
  now: number,
  taintIn: string | undefined,
  step: number | undefined,
  budgetCtx: BudgetContext | undefined,
  chargesOut: BudgetChargeDetail[] | undefined,
): VerifyResult {
  // 0. Object references: canonicalize and resolve every entry first; one that does not
  // canonicalize makes the whole action malformed, with the reason.
  const refs: References = { resolved: [], errors: [] };
  const reads = targetsOf(ix, "reads", action.reads, refs);
  const writes = targetsOf(ix, "writes", action.writes, refs);
  const delegates = targetsOf(ix, "delegates", action.delegates, refs);
  const resolved = refs.resolved;
  if (refs.errors.length > 0) return malformedResult(action.actionId, ref, refs.errors);

  const actor = action.actor;
  const entity = ix.entities.get(actor);
  if (entity === undefined) {
    return malformedResult(action.actionId, ref, [`actor ${JSON.stringify(actor)} is not a known entity`]);
  }
  const isMachine = entity.kind === "MACHINE";
  const owner = isMachine ? ix.ownerOf.get(actor) : undefined;
  const violations: Violation[] = [];
  const warnings: Warning[] = [];
  let requiresHumanArbitration = false;
  let confidence = 1;

  // 1. Flags, fixed order, for every actor: no argument or identity excuses them.
  for (const flag of FLAGS) {
    if (action[flag]) {
      violations.push({
        code: "FORBIDDEN_FLAG",
        axiom: FLAG_AXIOMS[flag],
        message: `FORBIDDEN (${FLAG_LABELS[flag]}): ${actor} set ${flag}`,
        flag,
      });
    }
  }

  if (isMachine) {
    // 2. Kill switch.
    if (isMachineHalted(ix, actor)) {
      const why = ix.haltedMachines.has(actor)
        ? "it is halted"
        : owner !== undefined && ix.haltedOwners.has(owner)
          ? `every machine of ${owner} is halted`
          : "every machine is halted";
      violations.push({
        code: "HALTED",
        axiom: "CORRIGIBILITY",
        message: `HALTED: ${actor} may not act until resumed (${why})`,
      });
    }
    // 3. A4.
    if (owner === undefined) {
      violations.push({
        code: "NO_OWNER",
        axiom: "A4",
        message: `A4 violation: ${actor} has no registered human owner. An ownerless machine is not permitted to act.`,
      });
    }
    // 4. A6.
    for (const human of action.governsHumans) {
      violations.push({
        code: "GOVERNS_HUMAN",
        axiom: "A6",
        message: `A6: ${actor} cannot govern human ${human} (A6: machine has no ownership or dominion over any person).`,
        human,
      });
    }
  }

  // 5. Authority, per resource. With budgets in the registry, the claim used for a target is the
  // best (by confidence, then id) covering claim with a chain whose every budgeted claim can take
  // one more use; charged: each budgeted claim on the chosen chains, once per action.
  const charged = new Map<string, BudgetChargeDetail>();
  const holder = ix.holders.get(actor);
  const ownerIndex = owner !== undefined ? ix.holders.get(owner) : undefined;
  const check = (op: Op, targets: readonly Target[]): void => {
    for (const t of targets) {
      const id = t.label;
      const rn = t.rn;
      if (op === "read" && rn !== undefined && rn.resource.isPublic) continue; // confidence 1
      const cov = coverage(holder, t, op, now);
      const permittedHere = cov.best !== undefined;
      if (!permittedHere && (!isMachine || !cov.anyLocal)) {
        violations.push({
          code: DENIED_CODE[op],
          axiom: "A7",
          message: `${DENIED_WORD[op]} on ${id}: ${actor} holds no valid ${op} claim`,
          resource: id,
        });
        confidence = 0;
        continue;
      }
      if (!permittedHere) {
        violations.push({
          code: "NOT_DELEGATED_BY_OWNER",
          axiom: "A7",
          message:
            owner === undefined
              ? `NOT DELEGATED BY OWNER on ${id}: ${actor}'s ${op} claim cannot trace back to an owner; ${actor} has none`
              : `NOT DELEGATED BY OWNER on ${id}: ${actor}'s ${op} claim does not trace back through valid grants to its owner ${owner}`,
          resource: id,
        });
        if (owner !== undefined && coverage(ownerIndex, t, op, now).best === undefined) {
          violations.push({
            code: "OUTSIDE_OWNER_SCOPE",
            axiom: "A5",
            message: `A5 violation on ${id}: ${actor}'s owner ${owner} holds no valid ${op} right over it, so ${actor} may not ${op} it`,
            resource: id,
          });
        }
        confidence = 0;
        continue;
      }
      let best = cov.best as ClaimNode;
      if (ix.hasBudgets) {
        const chosen = affordable(holder, t, op, now, budgetCtx, action.cost);
        if (chosen === undefined) {
          const short = firstShortfall(best, now, budgetCtx, action.cost);
          const g = short?.node.claim;
          violations.push({
            code: "BUDGET_EXHAUSTED",
            axiom: "BUDGET",
            message:
              g === undefined
                ? `BUDGET EXHAUSTED on ${id}: no chain of ${actor}'s ${op} claims has budget left for this action`
                : `BUDGET EXHAUSTED on ${id}: grant ${g.id} (held by ${g.holder}) — ${short?.why ?? "no use left"}`,
            resource: id,
          });
          confidence = 0;
          continue;
        }
        best = chosen[0] as ClaimNode;
        const chain = chosen.map((n) => n.claim.id);
        for (const n of chosen) {
          const b = n.claim.budget;
          if (b !== undefined && !charged.has(n.claim.id)) charged.set(n.claim.id, { grant: n.claim.id, chain, budget: b, usage: usageOf(budgetCtx, n.claim.id) });
        }
      }
      const c = best.claim.confidence;
      if (c < confidence) confidence = c;
      if (c < CONTESTED_THRESHOLD && op !== "delegate" && rn !== undefined) {
        if (op === "read") {
          warnings.push({
            code: "CONTESTED_READ",
            message: `READ on ${id} allowed but contested (confidence=${c.toFixed(2)}). Log this access.`,
            resource: id,
          });
        } else {
          warnings.push({
            code: "CONTESTED_WRITE",
            message: `WRITE on ${id} contested (confidence=${c.toFixed(2)}). Human confirmation recommended.`,
            resource: id,
          });
          for (const other of otherWriters(ix, actor, rn, t.ancestors, now)) {
            requiresHumanArbitration = true;
            warnings.push({
              code: "WRITE_CONFLICT",
              message: `Conflict on ${id}: conflicting write claims from ${actor} and ${other}`,
              resource: id,
            });
          }
        }
      }
    }
  };
  check("read", reads);
  check("write", writes);
  check("delegate", delegates);

  // 6a. Information flow: taint = join(carried taint, labels of this action's reads).
  let taint = joinLabels(ix.lattice, taintIn, undefined);
  for (const t of reads) taint = joinLabels(ix.lattice, taint, t.rn?.resource.ifcLabel);
  if (sourceRank(ix.lattice, taint) > 0) {
    for (const t of writes) {
      const id = t.label;
      const sink = t.rn?.resource.ifcLabel;
      if (isDownwardFlow(ix.lattice, taint, sink)) {
        const sinkLabel = sink ?? `${ix.lattice[0] ?? ""} (unlabeled)`;
        violations.push({
          code: "IFC_DOWNWARD_FLOW",
          axiom: "IFC",
          message: `IFC downward flow${step !== undefined ? ` at step ${step}` : ""}: taint=${taint} write_label=${sinkLabel} (${actor} would write ${id})`,
          resource: id,
          ...(step !== undefined ? { step } : {}),
        });
      }
    }
  }

  // 6b. Policy rules: can only add denials. Shadow rules are only reported (issue 12); with none in
  // the snapshot (the usual case) nothing below costs more than it did before they existed.
  const enforced = ix.policies;
  const shadows = ix.shadowPolicies;
  const found = shadows.length > 0 ? new Map<string, boolean>() : undefined;
  if (enforced.length > 0 || found !== undefined) {
    const pass = (op: Op, targets: readonly Target[]): void => {
      for (const t of targets) {
        const id = t.label;
        const rule = enforced.length > 0 ? decidingRule(enforced, actor, op, t.policyScope) : undefined;
        if (found !== undefined) foldShadowPair(shadows, rule, actor, op, t.policyScope, found);
        if (rule === undefined || rule.effect !== "deny") continue;
        violations.push({
          code: "POLICY_DENIED",
          axiom: "POLICY",
          message: `POLICY DENIED by rule ${rule.id} (priority ${rule.priority}): ${actor} may not ${op} ${id}${rule.description !== undefined ? ` — ${rule.description}` : ""}`,
          resource: id,
        });
      }
    };
    pass("read", reads);
    pass("write", writes);
    pass("delegate", delegates);
  }

  let budgets: BudgetCharge[] | undefined;
  if (charged.size > 0) {
    const list = [...charged.values()].sort((a, b) => (a.grant < b.grant ? -1 : 1));
    if (chargesOut !== undefined) chargesOut.push(...list);
    budgets = list.map((d) => ({ grant: d.grant, remaining: remainingAfter(d.budget, d.usage, action.cost) }));
  }
  return {
    actionId: action.actionId,
    permitted: violations.length === 0,
    violations,
    warnings,
    confidence,
    requiresHumanArbitration,
    manipulationScore: action.argument === undefined ? 0 : detectManipulation(action.argument).score,
    snapshot: ref,
    ...(resolved.length > 0 ? { resolved } : {}),
    ...(budgets !== undefined ? { budgets } : {}),
    ...(found !== undefined && found.size > 0 ? { shadow: shadowVerdictList(found) } : {}),
  };
}

/**
 * The covering claim to use for a target under budgets, with its chain: of the actor's valid
 * claims covering the target with the right, the most confident (then lowest id) that has an
 * affordable chain (see affordableChain).
 */
function affordable(
  hi: HolderIndex | undefined,
  t: Target,
  op: Op,
  now: number,
  ctx: BudgetContext | undefined,
  cost: number | undefined,
): ClaimNode[] | undefined {
  if (hi === undefined || t.rn === undefined) return undefined;
  const candidates: ClaimNode[] = [];
  const collect = (list: readonly ClaimNode[] | undefined): void => {
    if (list !== undefined) for (const n of list) if (hasRight(n.claim, op) && now <= n.local && now <= n.horizon) candidates.push(n);
  };
  collect(hi.byResource.get(t.rn.resource.id));
  for (const a of t.ancestors) collect(hi.byScope.get(a));
  candidates.sort((a, b) => b.claim.confidence - a.claim.confidence || (a.claim.id < b.claim.id ? -1 : a.claim.id > b.claim.id ? 1 : 0));
  const failed = new Map<ClaimNode, number>();
  for (const n of candidates) {
    const chain = affordableChain(n, now, ctx, cost, MAX_CHAIN_DEPTH, new Set(), failed);
    if (chain !== undefined) return chain;
  }
  return undefined;
}
