/**
 * Budgets inside grants (issue 13): properties against naive reference implementations —
 * exhaustion exact at the boundary along chains of any depth, what is left, attenuation of
 * budgets in checkGrant — and the signed record's budgets. Vectors: vectors/budgets.json.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { budgetWithin, parseBudget } from "../budget";
import { canonicalJson } from "../canonical";
import { checkGrant } from "../grant";
import { verifyPlan } from "../plan";
import { buildDecisionRecord, decisionSigningBytes, isDecisionRecord, keyIdOf, publicKeyOf, signDecision, verifyDecision, verifyPermit } from "../signing";
import { buildSnapshot, registryContentJson } from "../snapshot";
import type { Budget, BudgetUsage, Claim, RegistryData } from "../types";
import { budgetedClaimsFor, verify, verifyWithCharges } from "../verify";

const NOW = 10_000;
const MACHINES = ["m0", "m1", "m2", "m3", "m4"];

/** alice's root claim on /d, then m0 <- alice, m1 <- m0, ...: one chain of `depth` grants. */
function chainRegistry(budgets: readonly (Budget | undefined)[]): RegistryData {
  const claims: Claim[] = [{ id: "c-root", holder: "alice", scope: "/d", canRead: true, canWrite: true, canDelegate: true, confidence: 1, ...(budgets[0] ? { budget: budgets[0] } : {}) }];
  for (let i = 1; i < budgets.length; i++) {
    const b = budgets[i];
    claims.push({ id: `c-${i}`, holder: MACHINES[i - 1] as string, scope: "/d", canRead: true, canWrite: false, canDelegate: true, confidence: 1, grantor: i === 1 ? "alice" : (MACHINES[i - 2] as string), ...(b ? { budget: b } : {}) });
  }
  return {
    version: 1,
    entities: [{ id: "alice", kind: "HUMAN", displayName: "Alice" }, ...MACHINES.map((m) => ({ id: m, kind: "MACHINE" as const, displayName: m }))],
    machineOwners: MACHINES.map((m) => ({ machine: m, owner: "alice" })),
    resources: [{ id: "r", type: "file", scope: "/d/r", isPublic: false }],
    claims,
    halts: [],
  };
}

const budgetArb: fc.Arbitrary<Budget | undefined> = fc.option(
  fc.record({ maxUses: fc.integer({ min: 1, max: 6 }) }, { requiredKeys: ["maxUses"] }),
  { nil: undefined },
);

describe("budgets along chains (property, naive reference)", () => {
  it("permitted iff every budgeted claim on the chain has a use left; remaining is exact (1000 runs)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((depth) =>
          fc.tuple(fc.array(budgetArb, { minLength: depth + 1, maxLength: depth + 1 }), fc.array(fc.integer({ min: 0, max: 7 }), { minLength: depth + 1, maxLength: depth + 1 })),
        ),
        ([budgets, uses]) => {
          const snap = buildSnapshot(chainRegistry(budgets));
          const actor = MACHINES[budgets.length - 2] as string;
          const ids = budgets.map((_, i) => (i === 0 ? "c-root" : `c-${i}`));
          const usage = new Map<string, BudgetUsage>(ids.map((id, i) => [id, { uses: uses[i] as number, cost: 0, inWindow: 0 }]));
          const action = { actionId: "a", actor, reads: ["r"] };
          const r = verify(snap, action, NOW, { usage });
          // Naive: every link with a budget must have uses < maxUses.
          const fits = budgets.every((b, i) => b?.maxUses === undefined || (uses[i] as number) < b.maxUses);
          expect(r.permitted).toBe(fits);
          if (fits) {
            const expected = budgets
              .map((b, i) => (b?.maxUses === undefined ? undefined : { grant: ids[i] as string, remaining: { uses: b.maxUses - (uses[i] as number) - 1 } }))
              .filter((x) => x !== undefined)
              .sort((a, b) => (a.grant < b.grant ? -1 : 1));
            expect(r.budgets ?? []).toEqual(expected);
            const { charges } = verifyWithCharges(snap, action, NOW, { usage });
            expect(charges.map((c) => c.grant)).toEqual(expected.map((e) => e.grant));
            // Each charge's chain runs from the actor's claim to alice's root.
            for (const c of charges) expect(c.chain).toEqual([...ids].reverse());
          } else {
            expect(r.violations.map((v) => v.code)).toEqual(["BUDGET_EXHAUSTED"]);
          }
          // The server reads the usage of exactly the budgeted claims on the chain.
          expect(budgetedClaimsFor(snap, action, NOW)).toEqual(ids.filter((_, i) => budgets[i] !== undefined).sort());
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("one more use past the boundary is always refused, for uses, cost and rate (500 runs)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 50 }), (max, cost, rate) => {
        const budget: Budget = { maxUses: max, maxCost: max * 10, rate: { uses: rate, seconds: 60 } };
        const snap = buildSnapshot(chainRegistry([undefined, budget]));
        const at = (u: BudgetUsage, c: number) => verify(snap, { actionId: "a", actor: "m0", reads: ["r"], cost: c }, NOW, { usage: new Map([["c-1", u]]) }).permitted;
        const c = Math.min(cost, max * 10);
        expect(at({ uses: max - 1, cost: 0, inWindow: 0 }, 0)).toBe(true);
        expect(at({ uses: max, cost: 0, inWindow: 0 }, 0)).toBe(false);
        expect(at({ uses: 0, cost: max * 10 - c, inWindow: 0 }, c)).toBe(true);
        expect(at({ uses: 0, cost: max * 10 - c + 1, inWindow: 0 }, c)).toBe(false);
        expect(at({ uses: 0, cost: 0, inWindow: rate - 1 }, 0)).toBe(true);
        expect(at({ uses: 0, cost: 0, inWindow: rate }, 0)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it("a plan never uses budgeted authority", () => {
    const snap = buildSnapshot(chainRegistry([undefined, { maxUses: 100 }]));
    const plan = verifyPlan(snap, [{ actionId: "p", actor: "m0", reads: ["r"] }], NOW);
    expect(plan.permitted).toBe(false);
    expect(plan.steps[0]?.violations.map((v) => v.code)).toEqual(["BUDGET_EXHAUSTED"]);
  });

  it("bad usage input fails closed (INTERNAL_ERROR), never permits", () => {
    const snap = buildSnapshot(chainRegistry([undefined, { maxUses: 1 }]));
    const r = verify(snap, { actionId: "a", actor: "m0", reads: ["r"] }, NOW, { usage: { "c-1": { uses: 5 } } as never });
    expect(r.permitted).toBe(false);
    expect(r.violations[0]?.code).toBe("INTERNAL_ERROR");
    // A malformed figure inside a Map is refused too, never read as "no use yet".
    const odd = verify(snap, { actionId: "a", actor: "m0", reads: ["r"] }, NOW, { usage: new Map([["c-1", { uses: -3, cost: 0, inWindow: 0 }]]) });
    expect(odd.permitted).toBe(false);
    expect(odd.violations[0]?.code).toBe("INTERNAL_ERROR");
  });
});

/** Naive attenuation order, member by member. */
function naiveWithin(inner: Budget | undefined, outer: Budget | undefined): boolean {
  if (!outer) return true;
  if (!inner) return false;
  const le = (a: number | undefined, b: number | undefined) => b === undefined || (a !== undefined && a <= b);
  const rateOk = !outer.rate || (inner.rate !== undefined && inner.rate.uses <= outer.rate.uses && inner.rate.seconds >= outer.rate.seconds);
  return le(inner.maxUses, outer.maxUses) && le(inner.maxCost, outer.maxCost) && rateOk;
}

const fullBudget: fc.Arbitrary<Budget | undefined> = fc.option(
  fc
    .record(
      {
        maxUses: fc.integer({ min: 1, max: 20 }),
        maxCost: fc.integer({ min: 0, max: 20 }),
        rate: fc.record({ uses: fc.integer({ min: 1, max: 20 }), seconds: fc.integer({ min: 1, max: 20 }) }),
      },
      { requiredKeys: [] },
    )
    .filter((b) => Object.keys(b).length > 0),
  { nil: undefined },
);

describe("attenuation of budgets (property)", () => {
  it("checkGrant accepts a sub-delegation iff its budget fits the grantor's (1000 runs)", () => {
    fc.assert(
      fc.property(fullBudget, fullBudget, (outer, inner) => {
        const snap = buildSnapshot(chainRegistry([undefined, outer]));
        const check = checkGrant(snap, { holder: "m1", grantor: "m0", resource: "r", canRead: true, canWrite: false, canDelegate: false, ...(inner ? { budget: inner } : {}) }, NOW);
        const fits = naiveWithin(inner, outer);
        expect(budgetWithin(inner, outer)).toBe(fits);
        expect(check.ok).toBe(fits);
        if (!fits) expect(check.violations.map((v) => v.code)).toEqual(["EXCEEDS_GRANTOR_BUDGET"]);
      }),
      { numRuns: 1000 },
    );
  });

  it("parseBudget round-trips canonical budgets and refuses everything else", () => {
    fc.assert(
      fc.property(fullBudget, (b) => {
        if (b === undefined) return;
        const parsed = parseBudget(JSON.parse(JSON.stringify(b)));
        expect(parsed.ok).toBe(true);
        if (parsed.ok) expect(canonicalJson(parsed.budget)).toBe(canonicalJson(b));
      }),
    );
    for (const bad of [{}, { maxUses: 0 }, { maxUses: 1.5 }, { maxCost: -1 }, { rate: { uses: 1 } }, { rate: { uses: 1, seconds: 0 } }, { maxUses: 1, extra: 1 }, [], null, "5", { __proto__: { maxUses: 1 } }]) {
      expect(parseBudget(bad).ok).toBe(false);
    }
  });
});

describe("budgets in the registry digest and the signed record", () => {
  it("the fast digest serialiser equals canonicalJson for registries with budgets", () => {
    const data = buildSnapshot(chainRegistry([{ maxCost: 5, rate: { uses: 2, seconds: 9 } }, { maxUses: 3 }, undefined])).data;
    const { version: _v, ...content } = data;
    expect(registryContentJson(data)).toBe(canonicalJson(content));
    // And a registry without budgets keeps its digest: the claim text has no budget member.
    expect(registryContentJson(buildSnapshot(chainRegistry([undefined, undefined])).data)).not.toContain("budget");
  });

  const secret = new Uint8Array(32).fill(7);
  const keyId = keyIdOf(publicKeyOf(secret));
  const snap = buildSnapshot(chainRegistry([undefined, { maxUses: 3 }]));
  const action = { actionId: "a", actor: "m0", reads: ["r"] };

  it("a permit carries what is left, signed; altering it breaks the signature", () => {
    const result = verify(snap, action, NOW, { usage: new Map([["c-1", { uses: 1, cost: 0, inWindow: 0 }]]) });
    const record = buildDecisionRecord({ mode: "live", now: NOW, nonce: "ab".repeat(16), keyId, auditSeq: 4, action: { ...action, reads: ["r"], writes: [], delegates: [], governsHumans: [] } as never, result });
    expect(record.budgets).toEqual([{ grant: "c-1", remaining: { uses: 1 } }]);
    expect(new TextDecoder().decode(decisionSigningBytes(record))).toContain('"budgets":[{"grant":"c-1","remaining":{"uses":1}}]');
    const sig = signDecision(record, secret);
    expect(verifyDecision(record, sig, publicKeyOf(secret))).toBe(true);
    expect(verifyPermit(record, sig, publicKeyOf(secret), { now: NOW, expectedActor: "m0" }).ok).toBe(true);
    const forged = { ...record, budgets: [{ grant: "c-1", remaining: { uses: 99 } }] };
    expect(verifyDecision(forged, sig, publicKeyOf(secret))).toBe(false);
  });

  it("budgets are refused on a blocked record, unsorted, repeated or negative", () => {
    const result = verify(snap, action, NOW);
    const base = buildDecisionRecord({ mode: "live", now: NOW, nonce: "cd".repeat(16), keyId, auditSeq: 5, action: { ...action, writes: [], delegates: [], governsHumans: [] } as never, result });
    expect(isDecisionRecord(base)).toBe(true);
    expect(base.budgets).toEqual([{ grant: "c-1", remaining: { uses: 2 } }]);
    const { expiresAt: _e, budgets: _b, ...blocked } = { ...base, permitted: false, violations: [{ code: "READ_DENIED", axiom: "A7", message: "x" }] };
    expect(isDecisionRecord({ ...blocked })).toBe(true);
    expect(isDecisionRecord({ ...blocked, budgets: base.budgets })).toBe(false);
    const two = [
      { grant: "b", remaining: { uses: 1 } },
      { grant: "a", remaining: { uses: 1 } },
    ];
    expect(isDecisionRecord({ ...base, budgets: two })).toBe(false);
    expect(isDecisionRecord({ ...base, budgets: [two[1], two[1]] })).toBe(false);
    expect(isDecisionRecord({ ...base, budgets: [{ grant: "a", remaining: { uses: -1 } }] })).toBe(false);
    expect(isDecisionRecord({ ...base, budgets: [{ grant: "a", remaining: {} }] })).toBe(false);
    expect(isDecisionRecord({ ...base, budgets: [] })).toBe(false);
  });
});
