/**
 * Budget receipts in an exported audit log (issue 13): the auditor's check that the uses the server
 * recorded never went beyond the budgets the owners set.
 *
 * A successful redemption that charged budgeted claims carries `receipts` in its entry (payload
 * `{ kind: "system", op: "redeem", ..., receipts }`), one per claim charged, each with that claim's
 * use number, the cost charged, the budget in force and what the server says is left. The chain
 * and the signatures (audit.ts, audit-export.ts) prove the entries are the server's and complete;
 * this file checks what they say: replaying the receipts of each grant in log order must give
 * exactly the counts the receipts state, and never a count beyond the budget. A server that let a
 * fourth use through a budget of three has to sign a receipt that says so, or skip a use number,
 * or lie about the budget — each of which is caught here.
 *
 * Budget changes are authority entries; when the export holds one for a grant, every later receipt
 * of that grant must carry exactly the budget it set (the latest such entry before the receipt).
 * A grant whose budget no entry of the export sets (for example one created by a path that does not
 * log its claim) is checked against the budget its receipts state.
 */
import type { AuditEntry } from "./audit";
import { parseBudget } from "./budget";
import { canonicalJson } from "./canonical";
import { idProblem, MAX_CHAIN_DEPTH, readArray, readPlainObject } from "./internal";
import { parseIso } from "./iso-time";
import { isBudgetRemaining } from "./signing";
import { MAX_COST, type Budget, type BudgetRemaining } from "./types";

/** One receipt of a redemption entry: one use of one budgeted claim. */
export interface BudgetReceipt {
  /** The budgeted claim charged. */
  readonly grant: string;
  /** Claim ids from the actor's claim up to the root claim, through `grant`. */
  readonly chain: readonly string[];
  /** This grant's use number: 1, 2, 3, ... in log order, without gaps. */
  readonly use: number;
  /** Cost charged by this use (0 when the action declares none). */
  readonly cost: number;
  /** The budget in force for the grant at this use. */
  readonly budget: Budget;
  /** What is left of `budget` after this use: only the members it has. */
  readonly remaining: BudgetRemaining;
}

/** The first thing wrong with the receipts of an export: the entry, the grant when known, why. */
export interface ReceiptProblem {
  readonly seq: number;
  readonly grant?: string;
  readonly message: string;
}

/** What scanBudgetReceipts found: how many receipts it checked, and the first problem if any. */
export interface ReceiptScan {
  /** Receipts checked (before the problem, if any). */
  readonly receipts: number;
  readonly problem?: ReceiptProblem;
}

/** More receipts than this in one entry is not a redemption the server could have made. */
export const MAX_RECEIPTS_PER_ENTRY = 4096;

const RECEIPT_KEYS: ReadonlySet<string> = new Set(["grant", "chain", "use", "cost", "budget", "remaining"]);

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Parses one receipt strictly: exactly the six members, `grant` and every `chain` element ids, the
 * chain non-empty, without repeats, at most MAX_CHAIN_DEPTH + 1 long and passing through `grant`,
 * `use` an integer >= 1, `cost` an integer in 0..MAX_COST, `budget` a budget (parseBudget),
 * `remaining` non-negative integers among uses, cost and window. Returns the receipt with the
 * budget in canonical form, or the first problem. Never throws.
 */
export function parseBudgetReceipt(input: unknown, what = "receipt"): Parsed<BudgetReceipt> {
  const read = readPlainObject(input, what, 8);
  if (!read.ok) return read;
  const f = read.value;
  for (const k of f.keys()) if (!RECEIPT_KEYS.has(k)) return { ok: false, error: `${what} has unknown field ${JSON.stringify(k.slice(0, 64))}` };
  const grant = f.get("grant");
  const grantProblem = idProblem(grant);
  if (grantProblem !== null) return { ok: false, error: `${what}.grant ${grantProblem}` };
  const g = grant as string;
  const chainRead = readArray(f.get("chain"), `${what}.chain`, MAX_CHAIN_DEPTH + 1);
  if (!chainRead.ok) return chainRead;
  const chain = chainRead.value;
  if (chain.length === 0) return { ok: false, error: `${what}.chain must not be empty` };
  const seen = new Set<string>();
  for (const [i, id] of chain.entries()) {
    const p = idProblem(id);
    if (p !== null) return { ok: false, error: `${what}.chain[${i}] ${p}` };
    if (seen.has(id as string)) return { ok: false, error: `${what}.chain names ${id as string} twice` };
    seen.add(id as string);
  }
  if (!seen.has(g)) return { ok: false, error: `${what}.chain does not pass through its grant ${g}` };
  const use = f.get("use");
  if (!(typeof use === "number" && Number.isSafeInteger(use) && use >= 1)) return { ok: false, error: `${what}.use must be an integer >= 1` };
  const cost = f.get("cost");
  if (!(typeof cost === "number" && Number.isSafeInteger(cost) && cost >= 0 && cost <= MAX_COST)) {
    return { ok: false, error: `${what}.cost must be an integer in 0..${MAX_COST}` };
  }
  const budget = parseBudget(f.get("budget"), `${what}.budget`);
  if (!budget.ok) return { ok: false, error: budget.errors.join("; ") };
  const remaining = f.get("remaining");
  if (!isBudgetRemaining(remaining)) return { ok: false, error: `${what}.remaining must hold non-negative integers among uses, cost and window` };
  return { ok: true, value: { grant: g, chain: chain as string[], use, cost, budget: budget.budget, remaining: copyRemaining(remaining) } };
}

function copyRemaining(r: BudgetRemaining): BudgetRemaining {
  const out: { cost?: number; uses?: number; window?: number } = {};
  if (r.cost !== undefined) out.cost = r.cost;
  if (r.uses !== undefined) out.uses = r.uses;
  if (r.window !== undefined) out.window = r.window;
  return out;
}

/** A budget as set by an authority entry: null = unlimited. */
type Setting = { readonly claim: string; readonly budget: Budget | null };

function readSetting(claim: unknown, budget: unknown, what: string): Parsed<Setting> {
  const p = idProblem(claim);
  if (p !== null) return { ok: false, error: `${what} claim id ${p}` };
  if (budget === null) return { ok: true, value: { claim: claim as string, budget: null } };
  const b = parseBudget(budget, `${what} budget`);
  return b.ok ? { ok: true, value: { claim: claim as string, budget: b.budget } } : { ok: false, error: b.errors.join("; ") };
}

/**
 * The budgets an authority payload sets, in the shapes of the contract: any op whose `data.claim`
 * is a claim object with `id` and `budget` (grant, root claim), op "budget" with
 * `data: { claim: id, budget, previous }`, and `data.budgets: [{ claim: id, budget, previous }]`
 * (budgets raised while approving). A payload of another shape sets none; one of these shapes with
 * a malformed budget is a problem, because the receipts after it could not be checked against it.
 */
function settingsOf(payload: Map<string, unknown>): Parsed<Setting[]> {
  const op = payload.get("op");
  const data = readPlainObject(payload.get("data"), "data");
  if (!data.ok) return { ok: true, value: [] };
  const d = data.value;
  const out: Setting[] = [];
  const claim = d.get("claim");
  if (op === "budget") {
    if (!d.has("budget")) return { ok: false, error: `a budget change names no budget` };
    const s = readSetting(claim, d.get("budget"), "a budget change's");
    if (!s.ok) return s;
    out.push(s.value);
  } else if (typeof claim === "object" && claim !== null) {
    const c = readPlainObject(claim, "data.claim");
    if (c.ok && c.value.has("id") && c.value.has("budget")) {
      // A fixed phrase, not the op: the message is printed, and an op could hold a newline.
      const s = readSetting(c.value.get("id"), c.value.get("budget"), "an authority entry's");
      if (!s.ok) return s;
      out.push(s.value);
    }
  }
  if (d.has("budgets")) {
    const list = readArray(d.get("budgets"), "data.budgets", MAX_RECEIPTS_PER_ENTRY);
    if (!list.ok) return list;
    for (const item of list.value) {
      const r = readPlainObject(item, "data.budgets[]");
      if (!r.ok) return r;
      if (!r.value.has("budget")) return { ok: false, error: "a raised budget names no budget" };
      const s = readSetting(r.value.get("claim"), r.value.get("budget"), "a raised");
      if (!s.ok) return s;
      out.push(s.value);
    }
  }
  return { ok: true, value: out };
}

/** Number of elements of the ascending `sorted` that are <= x. */
function countAtMost(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(sorted: number[], x: number): void {
  const at = countAtMost(sorted, x);
  if (at === sorted.length) sorted.push(x);
  else sorted.splice(at, 0, x);
}

/** What the log so far says about one grant. */
interface GrantState {
  uses: number;
  cost: number;
  /** recordedAt (ms) of every receipt so far, ascending (log order need not be time order across replicas). */
  readonly times: number[];
}

const show = (b: Budget | null): string => (b === null ? "none (unlimited)" : canonicalJson(b));

/**
 * Replays the budget receipts of `entries` (an export's entries in log order) and returns how many
 * it checked and the first problem. Per grant, in log order: every receipt well-formed
 * (parseBudgetReceipt), a grant at most once per entry, use numbers exactly 1, 2, 3, ...; the
 * receipt's budget equal to the one the latest earlier authority entry set for the grant (when the
 * export holds one); use <= maxUses; the running sum of cost <= maxCost; for a rate {uses, seconds},
 * the grant's receipts recorded in (t - seconds·1000, t] (t = the entry's recordedAt, required on
 * every entry with receipts) at most `uses`; and `remaining` exactly maxUses - use, maxCost - the
 * running cost and rate.uses - that count, for the members the budget has. Total: never throws;
 * input it cannot read is a problem of the entry being read.
 */
export function scanBudgetReceipts(entries: readonly AuditEntry[]): ReceiptScan {
  const grants = new Map<string, GrantState>();
  const inForce = new Map<string, { readonly budget: Budget | null; readonly seq: number }>();
  let receipts = 0;
  let seq = -1;
  const fail = (message: string, grant?: string): ReceiptScan => ({ receipts, problem: { seq, ...(grant !== undefined ? { grant } : {}), message } });
  try {
    const list = readArray(entries, "entries", Number.MAX_SAFE_INTEGER);
    if (!list.ok) return fail(list.error);
    for (const item of list.value) {
      const entry = readPlainObject(item, "entry");
      if (!entry.ok) return fail(entry.error);
      const s = entry.value.get("seq");
      seq = typeof s === "number" && Number.isSafeInteger(s) ? s : seq + 1;
      const payloadRead = readPlainObject(entry.value.get("payload"), "payload");
      if (!payloadRead.ok) return fail(payloadRead.error);
      const payload = payloadRead.value;
      const kind = payload.get("kind");
      if (kind === "authority") {
        const settings = settingsOf(payload);
        if (!settings.ok) return fail(settings.error);
        for (const st of settings.value) inForce.set(st.claim, { budget: st.budget, seq });
        continue;
      }
      if (kind !== "system" || payload.get("op") !== "redeem" || !payload.has("receipts")) continue;
      const raw = readArray(payload.get("receipts"), "receipts", MAX_RECEIPTS_PER_ENTRY);
      if (!raw.ok) return fail(raw.error);
      if (raw.value.length === 0) continue;
      const t = parseIso(entry.value.get("recordedAt"));
      if (t === undefined) return fail("a redemption with budget receipts has no recordedAt (rate windows are counted by it)");
      const inEntry = new Set<string>();
      for (const [i, r] of raw.value.entries()) {
        const parsed = parseBudgetReceipt(r, `receipts[${i}]`);
        if (!parsed.ok) return fail(parsed.error);
        const rc = parsed.value;
        const g = rc.grant;
        if (inEntry.has(g)) return fail(`grant ${g} has two receipts in one redemption (a use charges a grant once)`, g);
        inEntry.add(g);
        const state = grants.get(g) ?? { uses: 0, cost: 0, times: [] };
        if (rc.use !== state.uses + 1) {
          return fail(`grant ${g}: use ${rc.use} where use ${state.uses + 1} was next (uses are numbered 1, 2, 3, ... without gaps or repeats)`, g);
        }
        const set = inForce.get(g);
        if (set !== undefined && (set.budget === null || canonicalJson(set.budget) !== canonicalJson(rc.budget))) {
          return fail(`grant ${g}: the receipt states budget ${show(rc.budget)}, but the budget in force (set at seq ${set.seq}) is ${show(set.budget)}`, g);
        }
        const b = rc.budget;
        if (b.maxUses !== undefined && rc.use > b.maxUses) return fail(`grant ${g}: use ${rc.use} is beyond its maxUses of ${b.maxUses}`, g);
        const cost = state.cost + rc.cost;
        if (b.maxCost !== undefined && cost > b.maxCost) {
          return fail(`grant ${g}: use ${rc.use} brings its cost to ${cost}, beyond its maxCost of ${b.maxCost}`, g);
        }
        let inWindow = 0;
        if (b.rate !== undefined) {
          inWindow = countAtMost(state.times, t) - countAtMost(state.times, t - b.rate.seconds * 1000) + 1;
          if (inWindow > b.rate.uses) {
            return fail(`grant ${g}: use ${rc.use} makes ${inWindow} uses within ${b.rate.seconds} s, beyond its rate of ${b.rate.uses} per ${b.rate.seconds} s`, g);
          }
        }
        const expected: { cost?: number; uses?: number; window?: number } = {};
        if (b.maxCost !== undefined) expected.cost = b.maxCost - cost;
        if (b.maxUses !== undefined) expected.uses = b.maxUses - rc.use;
        if (b.rate !== undefined) expected.window = b.rate.uses - inWindow;
        if (canonicalJson(rc.remaining) !== canonicalJson(expected)) {
          return fail(`grant ${g}: the receipt says ${canonicalJson(rc.remaining)} is left, the budget and the uses so far leave ${canonicalJson(expected)}`, g);
        }
        state.uses = rc.use;
        state.cost = cost;
        insertSorted(state.times, t);
        grants.set(g, state);
        receipts += 1;
      }
    }
    return { receipts };
  } catch {
    return fail("the entries could not be read");
  }
}

/**
 * The first problem with the budget receipts of `entries` (see scanBudgetReceipts for the rules),
 * or undefined when every receipt replays exactly. Never throws.
 */
export function checkBudgetReceipts(entries: readonly AuditEntry[]): ReceiptProblem | undefined {
  return scanBudgetReceipts(entries).problem;
}
