/**
 * Budgets inside grants (issue 13), the console's half: how a budget and what is left of it read,
 * the fraction left that ranks budgets by how close they are to exhaustion, the editable draft
 * behind the budget fields of a form, the larger budget the inbox offers when one is used up, and
 * the kernel's attenuation check of a changed budget run in the browser. Pure functions; no React.
 */
import type { RegistryDataJson } from "@/lib/contracts/console";
import { budgetWithin, parseBudget } from "@/lib/kernel/budget";
import { checkGrant, type GrantRefusal } from "@/lib/kernel/grant";
import { buildSnapshot, type Snapshot } from "@/lib/kernel/snapshot";
import { MAX_BUDGET_USES, MAX_COST, type Budget, type BudgetRemaining } from "@/lib/kernel/types";

/** A grant's usage as the API reports it (lib/contracts BudgetUsage). */
export interface GrantUsage {
  readonly uses: number;
  readonly cost: number;
  readonly inWindow: number;
  readonly remaining: BudgetRemaining;
}

export const RATE_PERIODS = [
  { key: "minute", label: "per minute", seconds: 60 },
  { key: "hour", label: "per hour", seconds: 3600 },
  { key: "day", label: "per day", seconds: 86_400 },
] as const;
export type RatePeriod = (typeof RATE_PERIODS)[number]["key"] | "custom";

/** "5 per minute", "5 per 90 s". */
export function rateText(rate: { uses: number; seconds: number }): string {
  const preset = RATE_PERIODS.find((p) => p.seconds === rate.seconds);
  return `${rate.uses} ${preset ? preset.label : `per ${rate.seconds} s`}`;
}

/** "10 uses · 5 per minute · cost 100"; "unlimited" without a budget. */
export function budgetSummary(b: Budget | null | undefined): string {
  if (!b) return "unlimited";
  const parts: string[] = [];
  if (b.maxUses !== undefined) parts.push(`${b.maxUses} use${b.maxUses === 1 ? "" : "s"}`);
  if (b.rate !== undefined) parts.push(rateText(b.rate));
  if (b.maxCost !== undefined) parts.push(`cost ${b.maxCost}`);
  return parts.join(" · ");
}

/**
 * What is left, member by member: "3/10 left", "2/5 per minute left", "cost 40/100 left". The
 * server's `remaining` is what is left now (before any further use).
 */
export function leftParts(b: Budget, u: GrantUsage): string[] {
  const parts: string[] = [];
  if (b.maxUses !== undefined) parts.push(`${u.remaining.uses ?? Math.max(0, b.maxUses - u.uses)}/${b.maxUses} left`);
  if (b.rate !== undefined) parts.push(`${u.remaining.window ?? Math.max(0, b.rate.uses - u.inWindow)}/${rateText(b.rate)} left`);
  if (b.maxCost !== undefined) parts.push(`cost ${u.remaining.cost ?? Math.max(0, b.maxCost - u.cost)}/${b.maxCost} left`);
  return parts;
}

export function leftText(b: Budget, u: GrantUsage): string {
  return leftParts(b, u).join(" · ");
}

/** "2 uses · cost 30 · 1 in the window": what has been used. */
export function usedText(b: Budget, u: GrantUsage): string {
  const parts = [`${u.uses} use${u.uses === 1 ? "" : "s"}`];
  if (b.maxCost !== undefined) parts.push(`cost ${u.cost}`);
  if (b.rate !== undefined) parts.push(`${u.inWindow} in the window`);
  return parts.join(" · ");
}

/**
 * The smallest fraction left over the budget's members (uses, cost, window), in [0, 1]. A
 * maxCost of 0 counts as nothing left: no action that declares a cost fits it.
 */
export function fractionLeft(b: Budget, u: GrantUsage): number {
  const fractions: number[] = [];
  const of = (left: number, max: number) => (max <= 0 ? 0 : Math.min(1, Math.max(0, left / max)));
  if (b.maxUses !== undefined) fractions.push(of(u.remaining.uses ?? b.maxUses - u.uses, b.maxUses));
  if (b.rate !== undefined) fractions.push(of(u.remaining.window ?? b.rate.uses - u.inWindow, b.rate.uses));
  if (b.maxCost !== undefined) fractions.push(of(u.remaining.cost ?? b.maxCost - u.cost, b.maxCost));
  return fractions.length === 0 ? 1 : Math.min(...fractions);
}

/** Budgeted grants ordered by the smallest fraction left, then by id (a stable order for ties). */
export function closestToExhaustion<G extends { id: string; revokedAt: string | null; budget: Budget | null; usage: GrantUsage | null }>(
  grants: readonly G[],
  limit = 10,
): (G & { budget: Budget; usage: GrantUsage; fraction: number })[] {
  const out: (G & { budget: Budget; usage: GrantUsage; fraction: number })[] = [];
  for (const g of grants) {
    if (g.revokedAt !== null || g.budget === null || g.usage === null) continue;
    out.push({ ...g, budget: g.budget, usage: g.usage, fraction: fractionLeft(g.budget, g.usage) });
  }
  out.sort((a, b) => a.fraction - b.fraction || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return out.slice(0, limit);
}

// ------------------------------------------------------------------------------------------------
// The editable form of a budget
// ------------------------------------------------------------------------------------------------

/** The budget fields of a form, as typed: an empty field is no ceiling on that member. */
export interface BudgetDraft {
  readonly maxUses: string;
  readonly rateUses: string;
  readonly ratePeriod: RatePeriod;
  /** Used when ratePeriod is "custom". */
  readonly rateSeconds: string;
  readonly maxCost: string;
}

export const EMPTY_DRAFT: BudgetDraft = { maxUses: "", rateUses: "", ratePeriod: "hour", rateSeconds: "", maxCost: "" };

export function draftOf(b: Budget | null | undefined): BudgetDraft {
  if (!b) return EMPTY_DRAFT;
  const preset = b.rate ? RATE_PERIODS.find((p) => p.seconds === b.rate?.seconds) : undefined;
  return {
    maxUses: b.maxUses !== undefined ? String(b.maxUses) : "",
    rateUses: b.rate ? String(b.rate.uses) : "",
    ratePeriod: b.rate ? (preset?.key ?? "custom") : "hour",
    rateSeconds: b.rate && !preset ? String(b.rate.seconds) : "",
    maxCost: b.maxCost !== undefined ? String(b.maxCost) : "",
  };
}

export function isDraftEmpty(d: BudgetDraft): boolean {
  return d.maxUses.trim() === "" && d.rateUses.trim() === "" && d.maxCost.trim() === "";
}

const DIGITS = /^\d{1,16}$/;

/**
 * The budget a draft stands for: null when every field is empty (no budget); the kernel's
 * parseBudget decides the rest, so the form refuses exactly what the server would.
 */
export function parseDraft(d: BudgetDraft): { ok: true; budget: Budget | null } | { ok: false; error: string } {
  if (isDraftEmpty(d)) return { ok: true, budget: null };
  const raw: { maxUses?: number; rate?: { uses: number; seconds: number }; maxCost?: number } = {};
  const int = (text: string, what: string): number | string => (DIGITS.test(text.trim()) ? Number(text.trim()) : `${what} must be a whole number`);
  if (d.maxUses.trim() !== "") {
    const v = int(d.maxUses, "max uses");
    if (typeof v === "string") return { ok: false, error: v };
    raw.maxUses = v;
  }
  if (d.rateUses.trim() !== "") {
    const uses = int(d.rateUses, "the rate's uses");
    if (typeof uses === "string") return { ok: false, error: uses };
    const preset = RATE_PERIODS.find((p) => p.key === d.ratePeriod);
    const seconds = preset ? preset.seconds : int(d.rateSeconds, "the rate's seconds");
    if (typeof seconds === "string") return { ok: false, error: seconds };
    raw.rate = { uses, seconds };
  }
  if (d.maxCost.trim() !== "") {
    const v = int(d.maxCost, "max cost");
    if (typeof v === "string") return { ok: false, error: v };
    raw.maxCost = v;
  }
  const parsed = parseBudget(raw);
  return parsed.ok ? { ok: true, budget: parsed.budget } : { ok: false, error: parsed.errors.join("; ").replace(/^budget\./, "") };
}

/**
 * A larger budget to offer when `b` is used up: every member that cannot take one more use (of
 * `cost`) doubled — a cost ceiling at least to what this use needs — the others as they are.
 * Never smaller than `b` on any member, so the server accepts it as a raise.
 */
export function suggestRaise(b: Budget, u: GrantUsage, cost: number | undefined): Budget {
  const out: { maxUses?: number; rate?: { uses: number; seconds: number }; maxCost?: number } = {};
  if (b.maxUses !== undefined) out.maxUses = u.uses + 1 > b.maxUses ? Math.min(MAX_BUDGET_USES, Math.max(b.maxUses * 2, u.uses + 1)) : b.maxUses;
  if (b.rate !== undefined) out.rate = u.inWindow + 1 > b.rate.uses ? { uses: Math.min(MAX_BUDGET_USES, b.rate.uses * 2), seconds: b.rate.seconds } : { ...b.rate };
  if (b.maxCost !== undefined) {
    const needed = u.cost + (cost ?? 0);
    out.maxCost = needed > b.maxCost ? Math.min(MAX_COST, Math.max(b.maxCost * 2, needed)) : b.maxCost;
  }
  return out;
}

/** Whether `next` is a raise of `current`: no smaller on any member `current` has. */
export function isRaise(current: Budget, next: Budget): boolean {
  return budgetWithin(current, next);
}

/** The `cost` an action declares, read from the approval's action (unknown JSON). */
export function actionCost(action: unknown): number | undefined {
  if (typeof action !== "object" || action === null || !Object.hasOwn(action, "cost")) return undefined;
  const c = (action as { cost?: unknown }).cost;
  return typeof c === "number" && Number.isSafeInteger(c) && c >= 0 ? c : undefined;
}

// ------------------------------------------------------------------------------------------------
// The kernel's attenuation check of a changed budget, in the browser
// ------------------------------------------------------------------------------------------------

/** A copy of the registry with the given claims' budgets replaced (null removes one). */
export function withBudgets(reg: RegistryDataJson, budgets: ReadonlyMap<string, Budget | null>): RegistryDataJson {
  return {
    ...reg,
    claims: reg.claims.map((c) => {
      if (!budgets.has(c.id)) return c;
      const b = budgets.get(c.id) ?? null;
      const next = { ...c };
      delete next.budget;
      return b === null ? next : { ...next, budget: { ...b, ...(b.rate ? { rate: { ...b.rate } } : {}) } };
    }),
  };
}

/**
 * EXCEEDS_GRANTOR_BUDGET refusals of setting these budgets, as the server's writeBudget checks
 * them: each delegated claim, with its new budget, re-proposed to checkGrant against the registry
 * with every change applied (so raising a grantor's budget and its grant together is seen as the
 * server sees it). Root claims have no grantor to fit. Only budget refusals are reported: the
 * other rules were checked when the grant was written. Never throws; a registry that does not
 * build yields no refusals (the server decides).
 */
export function budgetRefusals(reg: RegistryDataJson, budgets: ReadonlyMap<string, Budget | null>, now: number): GrantRefusal[] {
  let snapshot: Snapshot;
  try {
    snapshot = buildSnapshot(withBudgets(reg, budgets));
  } catch {
    return [];
  }
  const out: GrantRefusal[] = [];
  for (const [id, budget] of budgets) {
    const c = snapshot.claim(id);
    if (!c || c.grantor === undefined) continue;
    const check = checkGrant(
      snapshot,
      {
        holder: c.holder,
        grantor: c.grantor,
        ...(c.resource !== undefined ? { resource: c.resource } : { scope: c.scope }),
        canRead: c.canRead,
        canWrite: c.canWrite,
        canDelegate: c.canDelegate,
        confidence: c.confidence,
        ...(c.expiresAt !== undefined ? { expiresAt: c.expiresAt } : {}),
        ...(budget !== null ? { budget } : {}),
      },
      now,
    );
    out.push(...check.violations.filter((v) => v.code === "EXCEEDS_GRANTOR_BUDGET"));
  }
  return out;
}

/**
 * Whether the viewer may set a grant's budget, as the server decides it (lib/server maySetBudget):
 * for a delegated grant, whoever speaks for its grantor (the grantor, or the owner of a machine
 * grantor); for a root claim, its holder. `mine` is the viewer and their machines; null for the
 * operator, who may set any. The server decides again; this only spares a doomed request.
 */
export function maySetBudget(mine: ReadonlySet<string> | null, g: { grantor: string | null; holder: string }): boolean {
  if (mine === null) return true;
  return g.grantor !== null ? mine.has(g.grantor) : mine.has(g.holder);
}
