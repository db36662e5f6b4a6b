/**
 * Budgets inside grants (issue 13): the one parser of a budget, the attenuation order between two
 * budgets, and what is left of one. Pure; shared by the snapshot (claims), checkGrant (proposals),
 * verify (charges) and the audit-export verifier (receipts).
 */
import { readPlainObject } from "./internal";
import { MAX_BUDGET_USES, MAX_COST, MAX_RATE_SECONDS, type Budget, type BudgetRemaining, type BudgetUsage } from "./types";

const isIntIn = (v: unknown, lo: number, hi: number): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= lo && v <= hi;

/**
 * Parses a budget strictly: a plain object with at least one of maxUses (1..1e9), rate
 * ({ uses 1..1e9, seconds 1..31,536,000 }) and maxCost (0..1e12), integers only, no other key.
 * Returns the budget with members in canonical (RFC 8785) order, or the problems. Never throws.
 */
export function parseBudget(input: unknown, what = "budget"): { ok: true; budget: Budget } | { ok: false; errors: string[] } {
  const read = readPlainObject(input, what, 8);
  if (!read.ok) return { ok: false, errors: [read.error] };
  const f = read.value;
  const errors: string[] = [];
  for (const [k, v] of f) {
    if (k !== "maxUses" && k !== "rate" && k !== "maxCost") errors.push(`${what} has unknown field ${JSON.stringify(k.slice(0, 64))}`);
    else if (v === undefined) f.delete(k);
  }
  const maxUses = f.get("maxUses");
  const maxCost = f.get("maxCost");
  const rateIn = f.get("rate");
  if (maxUses !== undefined && !isIntIn(maxUses, 1, MAX_BUDGET_USES)) errors.push(`${what}.maxUses must be an integer in 1..${MAX_BUDGET_USES}`);
  if (maxCost !== undefined && !isIntIn(maxCost, 0, MAX_COST)) errors.push(`${what}.maxCost must be an integer in 0..${MAX_COST}`);
  let rate: { uses: number; seconds: number } | undefined;
  if (rateIn !== undefined) {
    const r = readPlainObject(rateIn, `${what}.rate`, 4);
    if (!r.ok) errors.push(r.error);
    else {
      for (const k of r.value.keys()) if (k !== "uses" && k !== "seconds") errors.push(`${what}.rate has unknown field ${JSON.stringify(k.slice(0, 64))}`);
      const uses = r.value.get("uses");
      const seconds = r.value.get("seconds");
      if (!isIntIn(uses, 1, MAX_BUDGET_USES)) errors.push(`${what}.rate.uses must be an integer in 1..${MAX_BUDGET_USES}`);
      if (!isIntIn(seconds, 1, MAX_RATE_SECONDS)) errors.push(`${what}.rate.seconds must be an integer in 1..${MAX_RATE_SECONDS}`);
      if (isIntIn(uses, 1, MAX_BUDGET_USES) && isIntIn(seconds, 1, MAX_RATE_SECONDS)) rate = { seconds, uses };
    }
  }
  if (errors.length === 0 && maxUses === undefined && maxCost === undefined && rateIn === undefined) {
    errors.push(`${what} must set at least one of maxUses, rate and maxCost`);
  }
  if (errors.length > 0) return { ok: false, errors };
  const budget: { maxCost?: number; maxUses?: number; rate?: { seconds: number; uses: number } } = {};
  if (maxCost !== undefined) budget.maxCost = maxCost as number;
  if (maxUses !== undefined) budget.maxUses = maxUses as number;
  if (rate !== undefined) budget.rate = rate;
  return { ok: true, budget: Object.freeze(budget) };
}

/**
 * True iff `inner` is no larger than `outer` on every member `outer` has: maxUses and maxCost
 * no greater (and present), and a rate {u', s'} inside {u, s} iff u' <= u and s' >= s (every
 * window of s lies inside one of s', so it holds at most u' <= u uses). `outer` undefined is no
 * ceiling; `inner` undefined is no ceiling either, so it fits only an unlimited `outer`.
 */
export function budgetWithin(inner: Budget | undefined, outer: Budget | undefined): boolean {
  if (outer === undefined) return true;
  if (inner === undefined) return false;
  if (outer.maxUses !== undefined && !(inner.maxUses !== undefined && inner.maxUses <= outer.maxUses)) return false;
  if (outer.maxCost !== undefined && !(inner.maxCost !== undefined && inner.maxCost <= outer.maxCost)) return false;
  if (outer.rate !== undefined) {
    const r = inner.rate;
    if (r === undefined || r.uses > outer.rate.uses || r.seconds < outer.rate.seconds) return false;
  }
  return true;
}

/** Why one more use of `cost` does not fit `budget` given `usage`, or null when it fits. */
export function budgetShortfall(budget: Budget, usage: BudgetUsage, cost: number | undefined): string | null {
  if (budget.maxUses !== undefined && usage.uses + 1 > budget.maxUses) return `all ${budget.maxUses} uses are spent`;
  if (budget.rate !== undefined && usage.inWindow + 1 > budget.rate.uses) {
    return `its rate of ${budget.rate.uses} per ${budget.rate.seconds} s is reached`;
  }
  if (budget.maxCost !== undefined) {
    if (cost === undefined) return `it limits cost (${budget.maxCost}) and the action declares none`;
    if (usage.cost + cost > budget.maxCost) return `${budget.maxCost - usage.cost} of its cost ${budget.maxCost} is left, the action costs ${cost}`;
  }
  return null;
}

/** What is left of `budget` after one more use of `cost` (members of the budget only, never negative). */
export function remainingAfter(budget: Budget, usage: BudgetUsage, cost: number | undefined): BudgetRemaining {
  const out: { cost?: number; uses?: number; window?: number } = {};
  if (budget.maxCost !== undefined) out.cost = Math.max(0, budget.maxCost - usage.cost - (cost ?? 0));
  if (budget.maxUses !== undefined) out.uses = Math.max(0, budget.maxUses - usage.uses - 1);
  if (budget.rate !== undefined) out.window = Math.max(0, budget.rate.uses - usage.inWindow - 1);
  return out;
}

/** No use recorded yet. */
export const NO_USAGE: BudgetUsage = Object.freeze({ uses: 0, cost: 0, inWindow: 0 });

/** A usage figure as the server reads it: non-negative safe integers. */
export function isBudgetUsage(v: unknown): v is BudgetUsage {
  if (typeof v !== "object" || v === null) return false;
  const u = v as Record<string, unknown>;
  return isIntIn(u.uses, 0, Number.MAX_SAFE_INTEGER) && isIntIn(u.cost, 0, Number.MAX_SAFE_INTEGER) && isIntIn(u.inWindow, 0, Number.MAX_SAFE_INTEGER);
}
