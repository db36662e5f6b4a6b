import "server-only";
import { parseBudget, remainingAfter } from "../kernel/budget";
import { canonicalJson } from "../kernel/canonical";
import type { Budget, BudgetRemaining, BudgetUsage } from "../kernel/types";
import type { BudgetChargeDetail } from "../kernel/verify";
import type { Db } from "./db/client";
import type { Tx } from "./registry";

/**
 * Budgets inside grants (issue 13), the server's half: usage is read inside the decision
 * transaction and handed to the kernel; consumption happens at redemption, atomically with it.
 *
 * Consumption is a conditional UPDATE of the claim row (`usedUses < maxUses`, `usedCost <=
 * maxCost - cost`): on PostgreSQL the row lock it takes makes concurrent redemptions on any number
 * of replicas queue on that row and re-check the condition after the lock, so N redemptions
 * against a budget of K consume exactly min(N, K); on SQLite writers are serialised anyway. With
 * the row locked, the rate window is counted from BudgetUse rows (a sliding window: uses recorded
 * in (now - seconds, now]). Charges are taken in claim-id order, so two redemptions never wait on
 * each other's rows in opposite orders.
 */

/** The stored (canonical JSON) form of a budget; null for none. */
export function budgetColumn(budget: Budget | undefined | null): string | null {
  return budget === undefined || budget === null ? null : canonicalJson(budget);
}

/** A stored budget, parsed strictly; a row that does not parse fails the snapshot build as well. */
export function budgetOfColumn(text: string | null): Budget | null {
  if (text === null) return null;
  const parsed = parseBudget(JSON.parse(text) as unknown);
  if (!parsed.ok) throw new Error(`a stored budget does not parse: ${parsed.errors.join("; ")}`);
  return parsed.budget;
}

/** What is left of a budget now (before any further use). */
export function remainingNow(budget: Budget, usage: BudgetUsage): BudgetRemaining {
  const r: { cost?: number; uses?: number; window?: number } = {};
  if (budget.maxCost !== undefined) r.cost = Math.max(0, budget.maxCost - usage.cost);
  if (budget.maxUses !== undefined) r.uses = Math.max(0, budget.maxUses - usage.uses);
  if (budget.rate !== undefined) r.window = Math.max(0, budget.rate.uses - usage.inWindow);
  return r;
}

/** A grant's usage as the API shows it. */
export function usageOut(budget: Budget, usage: BudgetUsage) {
  return { uses: usage.uses, cost: usage.cost, inWindow: usage.inWindow, remaining: remainingNow(budget, usage) };
}

/** Uses of `claimId` recorded in the sliding window of `seconds` ending at `now`. */
async function inWindow(tx: Tx | Db, claimId: string, seconds: number, now: number): Promise<number> {
  return tx.budgetUse.count({ where: { claimId, at: { gt: new Date(now - seconds * 1000), lte: new Date(now) } } });
}

/** The usage of the given budgeted claims, as `tx` sees it now (unknown ids are left out). */
export async function readUsage(tx: Tx | Db, ids: readonly string[], now: number): Promise<Map<string, BudgetUsage>> {
  const usage = new Map<string, BudgetUsage>();
  if (ids.length === 0) return usage;
  const rows = await tx.claim.findMany({ where: { id: { in: [...ids] } }, select: { id: true, budget: true, usedUses: true, usedCost: true } });
  for (const row of rows) {
    const budget = budgetOfColumn(row.budget);
    const windowCount = budget?.rate !== undefined ? await inWindow(tx, row.id, budget.rate.seconds, now) : 0;
    usage.set(row.id, { uses: row.usedUses, cost: Number(row.usedCost), inWindow: windowCount });
  }
  return usage;
}

/** One signed receipt of a use (in the redemption's audit entry). */
export interface Receipt {
  grant: string;
  chain: string[];
  use: number;
  cost: number;
  budget: Budget;
  remaining: BudgetRemaining;
}

/** A charge that no longer fits when it is taken: the transaction must roll back. */
export class BudgetExhaustedError extends Error {
  constructor(readonly grant: string) {
    super(`the budget of grant ${grant} is used up`);
    this.name = "BudgetExhaustedError";
  }
}

/**
 * Takes one use (and `cost`) from each charged claim, in claim-id order, inside the redemption's
 * transaction; writes the BudgetUse rows; returns the receipts. Throws BudgetExhaustedError when a
 * claim has no use left at the moment its row is locked (the caller rolls everything back).
 */
export async function consumeBudgets(
  tx: Tx,
  charges: readonly BudgetChargeDetail[],
  cost: number,
  now: number,
  nonce: string,
  auditSeq: number,
): Promise<Receipt[]> {
  const receipts: Receipt[] = [];
  const sorted = [...charges].sort((a, b) => (a.grant < b.grant ? -1 : a.grant > b.grant ? 1 : 0));
  for (const charge of sorted) {
    const { budget, grant } = charge;
    const where: Record<string, unknown> = { id: grant };
    if (budget.maxUses !== undefined) where.usedUses = { lt: budget.maxUses };
    if (budget.maxCost !== undefined) {
      if (cost > budget.maxCost) throw new BudgetExhaustedError(grant);
      where.usedCost = { lte: BigInt(budget.maxCost - cost) };
    }
    // The budget itself is part of the condition: a budget lowered since the snapshot was read is
    // not consumed against the old one.
    where.budget = canonicalJson(budget);
    const { count } = await tx.claim.updateMany({ where, data: { usedUses: { increment: 1 }, usedCost: { increment: BigInt(cost) } } });
    if (count !== 1) throw new BudgetExhaustedError(grant);
    const row = await tx.claim.findUniqueOrThrow({ where: { id: grant }, select: { usedUses: true, usedCost: true } });
    let windowAfter = 0;
    if (budget.rate !== undefined) {
      windowAfter = (await inWindow(tx, grant, budget.rate.seconds, now)) + 1;
      if (windowAfter > budget.rate.uses) throw new BudgetExhaustedError(grant);
    }
    await tx.budgetUse.create({ data: { claimId: grant, use: row.usedUses, cost: BigInt(cost), at: new Date(now), nonce, auditSeq } });
    const before: BudgetUsage = { uses: row.usedUses - 1, cost: Number(row.usedCost) - cost, inWindow: windowAfter - 1 };
    receipts.push({ grant, chain: [...charge.chain], use: row.usedUses, cost, budget, remaining: remainingAfter(budget, before, cost) });
  }
  return receipts;
}
