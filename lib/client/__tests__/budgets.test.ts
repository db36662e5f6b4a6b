/**
 * The console's budget helpers: what a budget and what is left of it read, the fraction left and
 * the ranking it gives, the draft <-> budget round trip (and its refusals), the raise offered for a
 * used-up budget, and the in-browser attenuation check of a changed budget.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RegistryDataJson } from "@/lib/contracts/console";
import { budgetWithin } from "@/lib/kernel/budget";
import type { Budget } from "@/lib/kernel/types";
import {
  EMPTY_DRAFT,
  actionCost,
  budgetRefusals,
  budgetSummary,
  closestToExhaustion,
  draftOf,
  fractionLeft,
  isRaise,
  leftText,
  parseDraft,
  suggestRaise,
  usedText,
  type GrantUsage,
} from "../budgets";

const usage = (uses: number, cost = 0, inWindow = 0, remaining: GrantUsage["remaining"] = {}): GrantUsage => ({ uses, cost, inWindow, remaining });

describe("budgetSummary, leftText, usedText", () => {
  it("names every member, with rate presets in words", () => {
    expect(budgetSummary(null)).toBe("unlimited");
    expect(budgetSummary({ maxUses: 1 })).toBe("1 use");
    expect(budgetSummary({ maxUses: 10, rate: { uses: 5, seconds: 60 }, maxCost: 100 })).toBe("10 uses · 5 per minute · cost 100");
    expect(budgetSummary({ rate: { uses: 2, seconds: 90 } })).toBe("2 per 90 s");
  });
  it("says what is left from the server's remaining", () => {
    expect(leftText({ maxUses: 10 }, usage(7, 0, 0, { uses: 3 }))).toBe("3/10 left");
    expect(leftText({ rate: { uses: 5, seconds: 3600 }, maxCost: 100 }, usage(9, 60, 3, { window: 2, cost: 40 }))).toBe("2/5 per hour left · cost 40/100 left");
    expect(usedText({ maxUses: 10, maxCost: 100 }, usage(2, 30))).toBe("2 uses · cost 30");
  });
  it("falls back to the usage when remaining lacks a member", () => {
    expect(leftText({ maxUses: 10 }, usage(4))).toBe("6/10 left");
  });
});

describe("fractionLeft and closestToExhaustion", () => {
  it("takes the smallest member", () => {
    expect(fractionLeft({ maxUses: 10 }, usage(7, 0, 0, { uses: 3 }))).toBeCloseTo(0.3);
    expect(fractionLeft({ maxUses: 10, maxCost: 100 }, usage(1, 90, 0, { uses: 9, cost: 10 }))).toBeCloseTo(0.1);
    expect(fractionLeft({ maxCost: 0 }, usage(0, 0, 0, { cost: 0 }))).toBe(0);
  });
  it("is always in [0, 1]", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 300 }), (max, used) => {
        const f = fractionLeft({ maxUses: max }, usage(used, 0, 0, { uses: Math.max(0, max - used) }));
        return f >= 0 && f <= 1;
      }),
    );
  });
  it("ranks budgeted, unrevoked grants by fraction left, then id, and keeps the top ones", () => {
    const g = (id: string, budget: Budget | null, u: GrantUsage | null, revokedAt: string | null = null) => ({ id, budget, usage: u, revokedAt });
    const ranked = closestToExhaustion(
      [
        g("a", { maxUses: 10 }, usage(5, 0, 0, { uses: 5 })),
        g("b", null, null),
        g("c", { maxUses: 2 }, usage(2, 0, 0, { uses: 0 })),
        g("d", { maxUses: 4 }, usage(4, 0, 0, { uses: 0 }), "2026-01-01T00:00:00.000Z"),
        g("e", { maxUses: 2 }, usage(1, 0, 0, { uses: 1 })),
        g("f", { maxUses: 2 }, usage(2, 0, 0, { uses: 0 })),
      ],
      3,
    );
    expect(ranked.map((r) => r.id)).toEqual(["c", "f", "a"]);
  });
});

describe("drafts", () => {
  it("round-trips every budget", () => {
    const budgetArb = fc
      .record(
        {
          maxUses: fc.integer({ min: 1, max: 1_000_000_000 }),
          rate: fc.record({ uses: fc.integer({ min: 1, max: 1_000_000_000 }), seconds: fc.constantFrom(1, 60, 90, 3600, 86_400, 31_536_000) }),
          maxCost: fc.integer({ min: 0, max: 1_000_000_000_000 }),
        },
        { requiredKeys: [] },
      )
      .filter((b) => Object.keys(b).length > 0);
    fc.assert(
      fc.property(budgetArb, (b) => {
        const back = parseDraft(draftOf(b));
        expect(back).toEqual({ ok: true, budget: b });
      }),
    );
  });
  it("reads an empty draft as no budget", () => {
    expect(parseDraft(EMPTY_DRAFT)).toEqual({ ok: true, budget: null });
    expect(parseDraft({ ...EMPTY_DRAFT, maxUses: "  " })).toEqual({ ok: true, budget: null });
  });
  it("refuses what the kernel refuses, before anything is sent", () => {
    for (const d of [
      { ...EMPTY_DRAFT, maxUses: "0" },
      { ...EMPTY_DRAFT, maxUses: "1.5" },
      { ...EMPTY_DRAFT, maxUses: "-1" },
      { ...EMPTY_DRAFT, maxUses: "1e3" },
      { ...EMPTY_DRAFT, rateUses: "2", ratePeriod: "custom" as const, rateSeconds: "" },
      { ...EMPTY_DRAFT, rateUses: "2", ratePeriod: "custom" as const, rateSeconds: "31536001" },
      { ...EMPTY_DRAFT, maxCost: "1000000000001" },
    ]) {
      expect(parseDraft(d).ok, JSON.stringify(d)).toBe(false);
    }
  });
  it("uses the rate presets", () => {
    expect(parseDraft({ ...EMPTY_DRAFT, rateUses: "3", ratePeriod: "day" })).toEqual({ ok: true, budget: { rate: { uses: 3, seconds: 86_400 } } });
  });
});

describe("suggestRaise", () => {
  it("doubles what is used up and keeps the rest", () => {
    expect(suggestRaise({ maxUses: 2, rate: { uses: 5, seconds: 60 } }, usage(2, 0, 1), undefined)).toEqual({ maxUses: 4, rate: { uses: 5, seconds: 60 } });
    expect(suggestRaise({ rate: { uses: 5, seconds: 60 } }, usage(9, 0, 5), undefined)).toEqual({ rate: { uses: 10, seconds: 60 } });
    expect(suggestRaise({ maxCost: 100 }, usage(3, 90), 250)).toEqual({ maxCost: 340 });
  });
  it("is always a raise the server accepts and fits the use that was refused", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (maxUses, used, maxCost, cost) => {
        const b: Budget = { maxUses, maxCost };
        const u = usage(used, used * 2);
        const next = suggestRaise(b, u, cost);
        return isRaise(b, next) && budgetWithin(b, next) && (next.maxUses ?? 0) >= used + 1 && (next.maxCost ?? 0) >= used * 2 + cost;
      }),
    );
  });
});

describe("actionCost", () => {
  it("reads a declared integer cost only", () => {
    expect(actionCost({ cost: 12 })).toBe(12);
    expect(actionCost({})).toBeUndefined();
    expect(actionCost({ cost: "12" })).toBeUndefined();
    expect(actionCost(null)).toBeUndefined();
    expect(actionCost(JSON.parse('{"__proto__": {"cost": 5}}'))).toBeUndefined();
  });
});

describe("budgetRefusals", () => {
  const registry = (rootBudget?: Budget, grantBudget?: Budget): RegistryDataJson => ({
    version: 1,
    entities: [
      { id: "alice", kind: "HUMAN", displayName: "Alice" },
      { id: "bot", kind: "MACHINE", displayName: "Bot" },
    ],
    machineOwners: [{ machine: "bot", owner: "alice" }],
    resources: [{ id: "r", type: "file", scope: "/d/r", isPublic: false, owner: "alice" }],
    claims: [
      { id: "root", holder: "alice", resource: "r", canRead: true, canWrite: true, canDelegate: true, confidence: 1, ...(rootBudget ? { budget: rootBudget } : {}) },
      { id: "g", holder: "bot", resource: "r", canRead: true, canWrite: false, canDelegate: false, confidence: 1, grantor: "alice", ...(grantBudget ? { budget: grantBudget } : {}) },
    ],
    halts: [],
  });
  it("accepts any budget under an unlimited grantor", () => {
    expect(budgetRefusals(registry(undefined, { maxUses: 2 }), new Map([["g", { maxUses: 3 }]]), 1000)).toEqual([]);
    expect(budgetRefusals(registry(undefined, { maxUses: 2 }), new Map([["g", null]]), 1000)).toEqual([]);
  });
  it("refuses a raise past the grantor's budget, and removing the budget under one", () => {
    const reg = registry({ maxUses: 5 }, { maxUses: 2 });
    expect(budgetRefusals(reg, new Map([["g", { maxUses: 6 }]]), 1000).map((v) => v.code)).toEqual(["EXCEEDS_GRANTOR_BUDGET"]);
    expect(budgetRefusals(reg, new Map([["g", null]]), 1000).map((v) => v.code)).toEqual(["EXCEEDS_GRANTOR_BUDGET"]);
    expect(budgetRefusals(reg, new Map([["g", { maxUses: 5 }]]), 1000)).toEqual([]);
  });
  it("sees the grantor's raise made in the same change", () => {
    const reg = registry({ maxUses: 5 }, { maxUses: 2 });
    const both = new Map<string, Budget | null>([
      ["root", { maxUses: 10 }],
      ["g", { maxUses: 8 }],
    ]);
    expect(budgetRefusals(reg, both, 1000)).toEqual([]);
  });
});
