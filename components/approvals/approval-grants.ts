/**
 * What approving a blocked action would grant, built from its missing grants and the owner's
 * choices: one narrow claim per target — a resource id as written, or, for an object reference,
 * exactly the object (a scope claim on its canonical path) unless the owner chose to widen to an
 * enclosing scope the server offered. The same targets feed the text the owner reads, the
 * kernel's checkGrant run in the browser before anything is sent, and the `widen` of the request.
 * A request blocked by a used-up budget (BUDGET_EXHAUSTED) is approved by raising that budget
 * instead: the owner's raises become the request's `raise`. Pure functions; no React.
 */
import { budgetSummary, draftOf, isRaise, parseDraft, suggestRaise, type BudgetDraft, type GrantUsage } from "@/lib/client/budgets";
import { budgetShortfall } from "@/lib/kernel/budget";
import type { GrantProposal } from "@/lib/kernel/grant";
import { canonicalizeReference, isObjectReference } from "@/lib/kernel/object-ref";
import type { Budget } from "@/lib/kernel/types";

export type Right = "read" | "write" | "delegate";

export interface WidenOption {
  readonly scope: string;
  /** Ids of the registered resources inside `scope`: what else widening would cover. */
  readonly covers: readonly string[];
}

/** One entry of Approval.missingGrants (lib/contracts MissingGrant); the object fields are optional. */
export interface MissingGrantView {
  readonly resource: string;
  readonly right: Right;
  readonly code: string;
  readonly canonical?: string | undefined;
  readonly resolvedTo?: string | undefined;
  readonly widenOptions?: readonly WidenOption[] | undefined;
}

/** One reference of the action that lacks rights, with everything the inbox shows about it. */
export interface ApprovalTarget {
  /** As written in the action (the `ref` of a widen choice). */
  readonly ref: string;
  readonly rights: ReadonlySet<Right>;
  readonly codes: readonly string[];
  /** Null for a registered resource id; the canonical path for an object reference. */
  readonly canonical: string | null;
  /** Why an object reference did not canonicalize in the browser (the server sent no canonical). */
  readonly invalid: string | null;
  readonly resolvedTo: string | null;
  readonly widenOptions: readonly WidenOption[];
}

/** Chosen enclosing scope per reference as written; a reference absent here is granted exactly. */
export type WidenChoice = Readonly<Record<string, string>>;

/**
 * Groups missing grants by reference, in order of first appearance. The canonical path is the
 * server's when it sent one, else the kernel's canonicalization of the entry here.
 */
export function approvalTargets(missing: readonly MissingGrantView[]): ApprovalTarget[] {
  const byRef = new Map<string, { rights: Set<Right>; codes: string[]; first: MissingGrantView }>();
  for (const m of missing) {
    const t = byRef.get(m.resource);
    if (t) {
      t.rights.add(m.right);
      if (!t.codes.includes(m.code)) t.codes.push(m.code);
    } else byRef.set(m.resource, { rights: new Set([m.right]), codes: [m.code], first: m });
  }
  return [...byRef].map(([ref, t]) => {
    const m = t.first;
    let canonical: string | null = m.canonical ?? null;
    let invalid: string | null = null;
    if (canonical === null && isObjectReference(ref)) {
      const c = canonicalizeReference(ref);
      if (c.ok) canonical = c.canonical;
      else invalid = c.reason;
    }
    return { ref, rights: t.rights, codes: t.codes, canonical, invalid, resolvedTo: m.resolvedTo ?? null, widenOptions: m.widenOptions ?? [] };
  });
}

/** The scope a target would be granted on (its canonical path, or the chosen enclosing scope); null for an id. */
export function grantedScope(t: ApprovalTarget, choice: WidenChoice): string | null {
  if (t.canonical === null) return null;
  const chosen = Object.hasOwn(choice, t.ref) ? choice[t.ref] : undefined;
  return chosen !== undefined && t.widenOptions.some((o) => o.scope === chosen) ? chosen : t.canonical;
}

/** The body's `widen`: only references the owner widened, each to a scope the server offered. */
export function widenRequest(targets: readonly ApprovalTarget[], choice: WidenChoice): { ref: string; scope: string }[] {
  const out: { ref: string; scope: string }[] = [];
  for (const t of targets) {
    const scope = grantedScope(t, choice);
    if (scope !== null && scope !== t.canonical) out.push({ ref: t.ref, scope });
  }
  return out;
}

const ORDER: readonly Right[] = ["read", "write", "delegate"];

function rightsText(rights: ReadonlySet<Right>): string {
  return ORDER.filter((r) => rights.has(r)).join(" + ");
}

/**
 * "read on exactly /data/alice/q3.csv, and write on report": what approving gives, per target.
 * An id reads as before ("write on report"); an object as "exactly <canonical>", or "every object
 * under <scope>" when widened.
 */
export function gainText(targets: readonly ApprovalTarget[], choice: WidenChoice): string {
  return targets
    .map((t) => {
      const scope = grantedScope(t, choice);
      const on = scope === null ? t.ref : scope === t.canonical ? `exactly ${scope}` : `every object under ${scope}`;
      return `${rightsText(t.rights)} on ${on}`;
    })
    .join(", and ");
}

/** "also covers every object under /data/alice, including resources: alice-data, alice-old". */
export function widenCoverText(option: WidenOption): string {
  const resources = option.covers.length > 0 ? `, including resources: ${option.covers.join(", ")}` : ", though no registered resource lies inside it yet";
  return `also covers every object under ${option.scope}${resources}`;
}

/**
 * The grants approving would create, as kernel proposals (grantor: the machine's owner), for the
 * browser's checkGrant. Targets granted on one scope are merged, as one claim can carry them.
 * An object reference that does not canonicalize yields no proposal (the server refuses it).
 */
export function grantProposals(
  targets: readonly ApprovalTarget[],
  choice: WidenChoice,
  who: { holder: string; grantor: string },
  expiresAt: number,
): GrantProposal[] {
  const merged = new Map<string, { key: { resource: string } | { scope: string }; rights: Set<Right> }>();
  for (const t of targets) {
    if (t.invalid !== null) continue;
    const scope = grantedScope(t, choice);
    const id = scope === null ? `r:${t.ref}` : `s:${scope}`;
    const entry = merged.get(id) ?? { key: scope === null ? { resource: t.ref } : { scope }, rights: new Set<Right>() };
    for (const r of t.rights) entry.rights.add(r);
    merged.set(id, entry);
  }
  return [...merged.values()].map(({ key, rights }) => ({
    holder: who.holder,
    grantor: who.grantor,
    ...key,
    canRead: rights.has("read"),
    canWrite: rights.has("write"),
    canDelegate: rights.has("delegate"),
    expiresAt,
  }));
}

// ------------------------------------------------------------------------------------------------
// Used-up budgets (issue 13): what approving raises
// ------------------------------------------------------------------------------------------------

/** One entry of Approval.exhaustedBudgets. */
export interface ExhaustedBudgetView {
  readonly grant: string;
  readonly holder: string;
  readonly budget: Budget;
  readonly usage: GrantUsage;
  readonly canRaise: boolean;
}

/** The owner's choice for one used-up budget: whether to raise it, and to what (as typed). */
export interface RaiseChoice {
  readonly on: boolean;
  readonly draft: BudgetDraft;
}

/** Until the owner edits it: raise what they may, to the larger budget suggestRaise offers. */
export function defaultRaise(e: ExhaustedBudgetView, cost: number | undefined): RaiseChoice {
  return { on: e.canRaise, draft: draftOf(suggestRaise(e.budget, e.usage, cost)) };
}

export interface RaisePlan {
  /** The body's `raise`: every chosen raise that parses and is a raise. */
  readonly raise: { grant: string; budget: Budget }[];
  /** Per grant, why its chosen raise cannot be sent (approving is blocked while any). */
  readonly problems: ReadonlyMap<string, string>;
  /** Per grant, why a raise that can be sent still leaves the blocked use unaffordable. */
  readonly shortfalls: ReadonlyMap<string, string>;
}

/**
 * The raises approving sends, from the owner's choices: only budgets they may raise and chose to,
 * each parsed by the kernel and no smaller than now on any member (the server refuses a lowering
 * here: lowering is done on the machines page). A raise that still does not fit one more use of
 * the action's cost is sent but flagged: the agent's retry would be refused again.
 */
export function raisePlan(exhausted: readonly ExhaustedBudgetView[], choices: ReadonlyMap<string, RaiseChoice>, cost: number | undefined): RaisePlan {
  const raise: { grant: string; budget: Budget }[] = [];
  const problems = new Map<string, string>();
  const shortfalls = new Map<string, string>();
  for (const e of exhausted) {
    const c = choices.get(e.grant) ?? defaultRaise(e, cost);
    if (!e.canRaise || !c.on) continue;
    const parsed = parseDraft(c.draft);
    if (!parsed.ok) problems.set(e.grant, parsed.error);
    else if (parsed.budget === null) problems.set(e.grant, "set the budget to raise it to (a budget is removed on the machines page)");
    else if (!isRaise(e.budget, parsed.budget)) problems.set(e.grant, `${budgetSummary(parsed.budget)} is smaller than the budget now (${budgetSummary(e.budget)}) on some member`);
    else {
      raise.push({ grant: e.grant, budget: parsed.budget });
      const short = budgetShortfall(parsed.budget, e.usage, cost);
      if (short !== null) shortfalls.set(e.grant, `still too small for this action: ${short}`);
    }
  }
  return { raise, problems, shortfalls };
}
