import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { buildAuditEntry, buildCheckpoint, type AuditEntry, type AuditPayload, type JsonValue } from "../audit";
import { serializeAuditExport, verifyAuditExport } from "../audit-export";
import { budgetShortfall, remainingAfter } from "../budget";
import { canonicalJson } from "../canonical";
import { checkBudgetReceipts, parseBudgetReceipt, scanBudgetReceipts, type BudgetReceipt } from "../receipts";
import { signBytes } from "../signing";
import type { Budget } from "../types";
import { KEY_ID_A, NOW, PUBLIC_A, SECRET_A } from "./evidence-fixtures";

// checkBudgetReceipts reads what entries say, not their signatures: a constant signature keeps
// the property runs fast. The export tests at the end sign for real.
const NO_SIGNATURE = () => "0".repeat(128);

type Step = { readonly payload: AuditPayload; readonly at?: number | undefined };

function chain(steps: readonly Step[], sign: (b: Uint8Array) => string = NO_SIGNATURE): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const s of steps) out.push(buildAuditEntry(out.at(-1) ?? null, s.payload, sign, KEY_ID_A, s.at === undefined ? {} : { now: s.at }));
  return out;
}

/** A Budget (an interface with optional members) as the JSON data a payload holds. */
const asJson = (b: Budget | null) => b as unknown as JsonValue;
const claim = (id: string, budget: Budget | null) => ({ id, holder: "bot", resource: "report.txt", canRead: true, canWrite: true, canDelegate: false, grantor: "alice", budget: asJson(budget) });
const grantEntry = (id: string, budget: Budget | null, at = NOW): Step => ({
  payload: { kind: "authority", op: "grant", by: "alice", data: { claim: claim(id, budget), registryVersion: 2 } },
  at,
});
const budgetEntry = (id: string, budget: Budget | null, previous: Budget | null, at: number): Step => ({
  payload: { kind: "authority", op: "budget", by: "alice", data: { claim: id, budget: asJson(budget), previous: asJson(previous), registryVersion: 3 } },
  at,
});
const redeem = (receipts: readonly BudgetReceipt[] | unknown, at: number | undefined, n = 0): Step => ({
  payload: { kind: "system", op: "redeem", machine: "bot", nonce: `${n}`.padStart(32, "0"), actionId: `a${n}`, actionDigest: "ab".repeat(32), decisionSeq: 1, receipts: receipts as never },
  at,
});

/**
 * An honest server: charges each grant through the kernel's own budgetShortfall/remainingAfter
 * (a second implementation of the rules the checker replays) and refuses a use that does not fit.
 */
class HonestLedger {
  readonly #used = new Map<string, { uses: number; cost: number; times: number[] }>();

  charge(grants: readonly { grant: string; budget: Budget; chain?: readonly string[] }[], cost: number, at: number): BudgetReceipt[] | null {
    const out: BudgetReceipt[] = [];
    for (const g of grants) {
      const u = this.#used.get(g.grant) ?? { uses: 0, cost: 0, times: [] };
      const inWindow = g.budget.rate === undefined ? 0 : u.times.filter((t) => t > at - g.budget.rate!.seconds * 1000 && t <= at).length;
      const usage = { uses: u.uses, cost: u.cost, inWindow };
      if (budgetShortfall(g.budget, usage, cost) !== null) return null;
      out.push({ grant: g.grant, chain: g.chain ?? [g.grant], use: u.uses + 1, cost, budget: g.budget, remaining: remainingAfter(g.budget, usage, cost) });
    }
    for (const r of out) {
      const u = this.#used.get(r.grant) ?? { uses: 0, cost: 0, times: [] };
      this.#used.set(r.grant, { uses: u.uses + 1, cost: u.cost + r.cost, times: [...u.times, at] });
    }
    return out;
  }
}

/** A receipt with the figures an honest server would write for a use after `before` uses. */
const receipt = (grant: string, budget: Budget, use: number, extra: Partial<BudgetReceipt> = {}): BudgetReceipt => ({
  grant,
  chain: [grant],
  use,
  cost: 0,
  budget,
  remaining: remainingAfter(budget, { uses: use - 1, cost: 0, inWindow: 0 }, 0),
  ...extra,
});

describe("checkBudgetReceipts: receipts that replay exactly", () => {
  it("two uses of a budget of two pass; the count is reported", () => {
    const b = { maxUses: 2 };
    const log = chain([grantEntry("g1", b), redeem([receipt("g1", b, 1)], NOW + 1000, 1), redeem([receipt("g1", b, 2)], NOW + 2000, 2)]);
    expect(checkBudgetReceipts(log)).toBeUndefined();
    expect(scanBudgetReceipts(log)).toEqual({ receipts: 2 });
  });

  it("a log without receipts has nothing to check", () => {
    const log = chain([grantEntry("g1", null), { payload: { kind: "system", op: "redeem", machine: "bot", nonce: "0".repeat(32), actionId: "a", actionDigest: "ab".repeat(32), decisionSeq: 0 } }]);
    expect(scanBudgetReceipts(log)).toEqual({ receipts: 0 });
    expect(scanBudgetReceipts([])).toEqual({ receipts: 0 });
  });

  it("one redemption charging a grant and its budgeted ancestor: each counts on its own", () => {
    const child = { maxUses: 1 };
    const root = { maxUses: 5, maxCost: 100 };
    const ledger = new HonestLedger();
    const on = (cost: number, at: number) =>
      ledger.charge(
        [
          { grant: "g-child", budget: child, chain: ["g-child", "g-root"] },
          { grant: "g-root", budget: root, chain: ["g-child", "g-root"] },
        ],
        cost,
        at,
      );
    const first = on(30, NOW + 1)!;
    expect(first.map((r) => r.remaining)).toEqual([{ uses: 0 }, { cost: 70, uses: 4 }]);
    expect(on(30, NOW + 2)).toBeNull(); // the child's single use is spent
    const log = chain([grantEntry("g-root", root), grantEntry("g-child", child), redeem(first, NOW + 1)]);
    expect(checkBudgetReceipts(log)).toBeUndefined();
  });

  it("a budget changed by op budget (or raised while approving) applies from then on; uses keep counting", () => {
    const small = { maxUses: 1 };
    const big = { maxUses: 3 };
    const log = chain([
      grantEntry("g1", small),
      redeem([receipt("g1", small, 1)], NOW + 1, 1),
      budgetEntry("g1", big, small, NOW + 2),
      redeem([receipt("g1", big, 2)], NOW + 3, 2),
      { payload: { kind: "authority", op: "approve", by: "alice", data: { approval: "apr1", grants: [], budgets: [{ claim: "g1", budget: { maxUses: 4 }, previous: asJson(big) }] } }, at: NOW + 4 },
      redeem([receipt("g1", { maxUses: 4 }, 3)], NOW + 5, 3),
    ]);
    expect(checkBudgetReceipts(log)).toBeUndefined();
  });

  it("the rate window slides: (t - seconds, t], the use exactly one window later fits", () => {
    const b = { rate: { uses: 2, seconds: 60 } };
    const ledger = new HonestLedger();
    const steps: Step[] = [grantEntry("g1", b)];
    for (const [i, at] of [NOW, NOW + 1000, NOW + 60_000, NOW + 61_000].entries()) {
      const r = ledger.charge([{ grant: "g1", budget: b }], 0, at);
      expect(r, `use at +${at - NOW} ms`).not.toBeNull();
      steps.push(redeem(r, at, i));
    }
    expect(checkBudgetReceipts(chain(steps))).toBeUndefined();
  });

  it("log order is not time order across replicas: the window counts by recordedAt", () => {
    const b = { rate: { uses: 1, seconds: 10 } };
    // seq order: t+20s, then t (a replica with a slow clock); 20 s apart, so each window holds one use.
    const r1 = receipt("g1", b, 1, { remaining: { window: 0 } });
    const r2 = receipt("g1", b, 2, { remaining: { window: 0 } });
    expect(checkBudgetReceipts(chain([redeem([r1], NOW + 20_000, 1), redeem([r2], NOW, 2)]))).toBeUndefined();
  });
});

describe("checkBudgetReceipts: what it catches, naming the grant", () => {
  const b2 = { maxUses: 2 };
  const problemOf = (steps: Step[]) => checkBudgetReceipts(chain(steps));

  it("a third use of a budget of two (use 3 beyond maxUses 2)", () => {
    const p = problemOf([grantEntry("g1", b2), redeem([receipt("g1", b2, 1)], NOW + 1, 1), redeem([receipt("g1", b2, 2)], NOW + 2, 2), redeem([receipt("g1", b2, 3, { remaining: { uses: 0 } })], NOW + 3, 3)]);
    expect(p).toMatchObject({ seq: 3, grant: "g1" });
    expect(p?.message).toContain("maxUses of 2");
  });

  it("a gap or a repeat in the use numbers", () => {
    const b = { maxUses: 10 };
    expect(problemOf([redeem([receipt("g1", b, 1)], NOW, 1), redeem([receipt("g1", b, 3)], NOW + 1, 2)])).toMatchObject({ seq: 1, grant: "g1" });
    expect(problemOf([redeem([receipt("g1", b, 1)], NOW, 1), redeem([receipt("g1", b, 1)], NOW + 1, 2)])).toMatchObject({ seq: 1, grant: "g1" });
    expect(problemOf([redeem([receipt("g1", b, 2)], NOW, 1)])?.message).toContain("use 1 was next");
  });

  it("the running cost beyond maxCost", () => {
    const b = { maxCost: 100 };
    const p = problemOf([
      redeem([receipt("g1", b, 1, { cost: 60, remaining: { cost: 40 } })], NOW, 1),
      redeem([receipt("g1", b, 2, { cost: 60, remaining: { cost: 0 } })], NOW + 1, 2),
    ]);
    expect(p).toMatchObject({ seq: 1, grant: "g1" });
    expect(p?.message).toContain("cost to 120, beyond its maxCost of 100");
  });

  it("a rate window exceeded", () => {
    const b = { rate: { uses: 2, seconds: 60 } };
    const at = [NOW, NOW + 1000, NOW + 59_999];
    const p = problemOf(at.map((t, i) => redeem([receipt("g1", b, i + 1, { remaining: { window: Math.max(0, 1 - i) } })], t, i)));
    expect(p).toMatchObject({ seq: 2, grant: "g1" });
    expect(p?.message).toContain("3 uses within 60 s");
  });

  it("a remainder that lies (uses, cost or window)", () => {
    const b = { maxUses: 5, maxCost: 10, rate: { uses: 3, seconds: 60 } };
    const honest = receipt("g1", b, 1, { cost: 4, remaining: { cost: 6, uses: 4, window: 2 } });
    expect(problemOf([redeem([honest], NOW, 1)])).toBeUndefined();
    for (const remaining of [{ cost: 6, uses: 5, window: 2 }, { cost: 10, uses: 4, window: 2 }, { cost: 6, uses: 4, window: 3 }, { cost: 6, uses: 4 }, { cost: 6, uses: 4, window: 2, extra: 1 }]) {
      expect(problemOf([redeem([{ ...honest, remaining }], NOW, 1)]), JSON.stringify(remaining)).toMatchObject({ seq: 0 });
    }
  });

  it("a receipt whose budget is not the one the grant entry (or the latest change) set", () => {
    const p = problemOf([grantEntry("g1", b2), redeem([receipt("g1", { maxUses: 5 }, 1)], NOW + 1, 1)]);
    expect(p).toMatchObject({ seq: 1, grant: "g1" });
    expect(p?.message).toContain("set at seq 0");
    // After a change, the old budget no longer matches; after removing the budget, no receipt does.
    expect(problemOf([grantEntry("g1", b2), budgetEntry("g1", { maxUses: 9 }, b2, NOW + 1), redeem([receipt("g1", b2, 1)], NOW + 2, 1)])).toMatchObject({ seq: 2 });
    expect(problemOf([grantEntry("g1", b2), budgetEntry("g1", null, b2, NOW + 1), redeem([receipt("g1", b2, 1)], NOW + 2, 1)])?.message).toContain("none (unlimited)");
    // Member order is not a difference: budgets compare as canonical JSON.
    const mixed = { rate: { seconds: 60, uses: 2 }, maxUses: 2 } as Budget;
    const r = receipt("g1", { maxUses: 2, rate: { uses: 2, seconds: 60 } }, 1, { remaining: { uses: 1, window: 1 } });
    expect(problemOf([grantEntry("g1", mixed), redeem([r], NOW + 1, 1)])).toBeUndefined();
  });

  it("a grant charged twice by one redemption", () => {
    const b = { maxUses: 5 };
    const p = problemOf([redeem([receipt("g1", b, 1), receipt("g1", b, 2)], NOW, 1)]);
    expect(p).toMatchObject({ seq: 0, grant: "g1" });
    expect(p?.message).toContain("two receipts in one redemption");
  });

  it("the first problem in log order wins", () => {
    const b = { maxUses: 1 };
    const p = problemOf([redeem([receipt("g1", b, 1)], NOW, 1), redeem([receipt("g2", b, 2)], NOW + 1, 2), redeem([receipt("g1", b, 2)], NOW + 2, 3)]);
    expect(p).toMatchObject({ seq: 1, grant: "g2" });
  });
});

describe("checkBudgetReceipts: malformed input is a problem, never an exception", () => {
  const b = { maxUses: 5 };
  const good = receipt("g1", b, 1);
  const bad: [string, unknown][] = [
    ["missing use", { ...good, use: undefined }],
    ["unknown member", { ...good, note: "x" }],
    ["use 0", { ...good, use: 0 }],
    ["fractional use", { ...good, use: 1.5 }],
    ["negative cost", { ...good, cost: -1 }],
    ["cost beyond MAX_COST", { ...good, cost: 1e13 }],
    ["empty chain", { ...good, chain: [] }],
    ["chain not through the grant", { ...good, chain: ["other"] }],
    ["chain naming a claim twice", { ...good, chain: ["g1", "g1"] }],
    ["grant with a newline", { ...good, grant: "g\n1", chain: ["g\n1"] }],
    ["empty budget", { ...good, budget: {} }],
    ["budget with an unknown member", { ...good, budget: { maxUses: 5, maxSpeed: 1 } }],
    ["negative remaining", { ...good, remaining: { uses: -1 } }],
    ["remaining not an object", { ...good, remaining: 4 }],
    ["a receipt that is a list", [good]],
    ["null", null],
  ];
  for (const [name, r] of bad) {
    it(name, () => {
      const p = checkBudgetReceipts(chain([redeem([r], NOW, 1)]));
      expect(p).toMatchObject({ seq: 0 });
    });
  }

  it("receipts that are not a list, and a redemption with receipts but no recordedAt", () => {
    expect(checkBudgetReceipts(chain([redeem({ 0: good }, NOW, 1)]))).toMatchObject({ seq: 0 });
    expect(checkBudgetReceipts(chain([redeem([good], undefined, 1)]))?.message).toContain("no recordedAt");
    // An empty list charges nothing and needs no time.
    expect(checkBudgetReceipts(chain([redeem([], undefined, 1)]))).toBeUndefined();
  });

  it("an authority entry that sets a malformed budget", () => {
    expect(checkBudgetReceipts(chain([grantEntry("g1", { maxUses: 0 })]))).toMatchObject({ seq: 0 });
    expect(checkBudgetReceipts(chain([{ payload: { kind: "authority", op: "budget", by: "alice", data: { claim: "g1" } } }]))).toMatchObject({ seq: 0 });
    expect(checkBudgetReceipts(chain([{ payload: { kind: "authority", op: "approve", by: "alice", data: { budgets: [{ claim: "g1", budget: { rate: { uses: 1 } } }] } } }]))).toMatchObject({ seq: 0 });
    // Authority entries of other shapes (no budget member: logs from before budgets) set nothing.
    expect(checkBudgetReceipts(chain([{ payload: { kind: "authority", op: "grant", by: "alice", data: { claim: { id: "g1" } } } }, { payload: { kind: "authority", op: "revoke", by: "alice", data: { claim: "g1" } } }]))).toBeUndefined();
  });

  it("never throws, whatever it is given", () => {
    fc.assert(
      fc.property(fc.anything(), (x) => {
        expect(() => checkBudgetReceipts(x as never)).not.toThrow();
        expect(() => checkBudgetReceipts([{ seq: 0, payload: { kind: "system", op: "redeem", receipts: [x] }, recordedAt: "2025-06-01T12:00:00.000Z" }] as never)).not.toThrow();
        expect(parseBudgetReceipt(x).ok).toBe(false);
      }),
    );
  });

  it("is deterministic: the same entries give the same answer", () => {
    const log = chain([redeem([good], NOW, 1), redeem([good], NOW + 1, 2)]);
    expect(checkBudgetReceipts(log)).toEqual(checkBudgetReceipts(structuredClone(log)));
  });
});

describe("checkBudgetReceipts: properties", () => {
  const budgetArb: fc.Arbitrary<Budget> = fc
    .record(
      {
        maxUses: fc.integer({ min: 1, max: 12 }),
        maxCost: fc.integer({ min: 0, max: 200 }),
        rate: fc.record({ uses: fc.integer({ min: 1, max: 4 }), seconds: fc.integer({ min: 1, max: 30 }) }),
      },
      { requiredKeys: ["maxUses"] },
    )
    .map((b) => b as Budget);
  const attemptsArb = fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 20_000 }), cost: fc.integer({ min: 0, max: 40 }) }), { maxLength: 30 });

  it("random sequences of uses an honest server let through all replay", () => {
    fc.assert(
      fc.property(budgetArb, attemptsArb, (budget, attempts) => {
        const ledger = new HonestLedger();
        const steps: Step[] = [grantEntry("g1", budget)];
        let at = NOW;
        for (const [i, a] of attempts.entries()) {
          at += a.gapMs;
          const r = ledger.charge([{ grant: "g1", budget }], a.cost, at);
          if (r !== null) steps.push(redeem(r, at, i));
        }
        expect(checkBudgetReceipts(chain(steps))).toBeUndefined();
      }),
    );
  });

  it("one use beyond maxUses always fails, however the receipt is dressed up", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.option(fc.record({ uses: fc.integer({ min: 1, max: 4 }), seconds: fc.integer({ min: 1, max: 30 }) }), { nil: undefined }),
        fc.boolean(),
        (maxUses, rate, logBudget) => {
          const budget: Budget = rate === undefined ? { maxUses } : { maxUses, rate };
          const ledger = new HonestLedger();
          const steps: Step[] = logBudget ? [grantEntry("g1", budget)] : [];
          let at = NOW;
          for (let i = 0; i < maxUses; i++) {
            at += 31_000; // beyond any window: only maxUses limits
            const r = ledger.charge([{ grant: "g1", budget }], 0, at);
            expect(r).not.toBeNull();
            steps.push(redeem(r, at, i));
          }
          expect(checkBudgetReceipts(chain(steps))).toBeUndefined();
          at += 31_000;
          expect(ledger.charge([{ grant: "g1", budget }], 0, at)).toBeNull();
          // The receipt the server would have to sign: the next use number, the remainders clamped at 0.
          const extra = receipt("g1", budget, maxUses + 1, { remaining: remainingAfter(budget, { uses: maxUses, cost: 0, inWindow: 0 }, 0) });
          const p = checkBudgetReceipts(chain([...steps, redeem([extra], at, maxUses)]));
          expect(p).toMatchObject({ seq: steps.length, grant: "g1" });
        },
      ),
    );
  });
});

describe("verifyAuditExport: budget receipts", () => {
  const sign = (b: Uint8Array) => signBytes(b, SECRET_A);
  const KEYS = [{ keyId: KEY_ID_A, algorithm: "Ed25519" as const, publicKey: PUBLIC_A, status: "current" as const }];
  const exportOf = (entries: AuditEntry[]) =>
    serializeAuditExport({ keys: KEYS, entries, checkpoints: [buildCheckpoint(entries.map((e) => e.entryHash), { now: NOW, keyId: KEY_ID_A }, sign)] });
  const b = { maxUses: 1 };
  const steps = [grantEntry("g1", b), redeem([receipt("g1", b, 1)], NOW + 1, 1), redeem([receipt("g1", b, 2, { remaining: { uses: 0 } })], NOW + 2, 2)];

  it("reports BUDGET_EXCEEDED at the entry's line and seq, and counts the receipts", () => {
    expect(verifyAuditExport(exportOf(chain(steps.slice(0, 2), sign)))).toMatchObject({ ok: true, receipts: 1 });
    const s = verifyAuditExport(exportOf(chain(steps, sign)));
    expect(s).toMatchObject({ ok: false, entries: 3, receipts: 1, firstFailure: { code: "BUDGET_EXCEEDED", seq: 2, line: 4 } });
    expect(s.firstFailure?.what).toContain("grant g1");
  });

  it("integrity comes first: a broken chain is reported, not the budget", () => {
    const text = exportOf(chain(steps, sign));
    const lines = text.trimEnd().split("\n");
    const last = JSON.parse(lines[3]!) as Record<string, unknown>;
    lines[3] = canonicalJson({ ...last, signature: "1".repeat(128) });
    expect(verifyAuditExport(lines.join("\n") + "\n").firstFailure).toMatchObject({ code: "BAD_SIGNATURE", seq: 2 });
  });
});
