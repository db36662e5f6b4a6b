import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { scoreChange } from "../extensions/compass";
import { buildSnapshot } from "../snapshot";
import { verify } from "../verify";
import type { Claim, VerifyResult } from "../types";
import { T0, baseRegistry } from "./extensions-fixtures";

const probes = [
  { actionId: "p1", actor: "bot", writes: ["report.txt"] },
  { actionId: "p2", actor: "bot", reads: ["bob-private"] },
  { actionId: "p3", actor: "bot2", writes: ["alice-data"] },
];
const replay = (claims: readonly Claim[]): VerifyResult[] => {
  const s = buildSnapshot({ ...baseRegistry(), claims });
  return probes.map((p) => verify(s, p, T0));
};

describe("compass: scoring", () => {
  it("granting what agents needed reduces rights violations: positive score, admissible", () => {
    const before = baseRegistry();
    const afterClaims = [
      ...before.claims,
      { id: "g1", holder: "bot2", resource: "alice-data", canRead: true, canWrite: true, canDelegate: false, confidence: 1, grantor: "alice" },
    ];
    const reading = scoreChange(
      { results: replay(before.claims), registry: before },
      { results: replay(afterClaims), registry: { ...before, claims: afterClaims } },
    );
    expect(reading.before.rightsViolations).toBe(2);
    expect(reading.after.rightsViolations).toBe(1);
    expect(reading.score).toBe(0.5);
    expect(reading.direction).toBe("fewer");
    expect(reading).toMatchObject({ vetoed: false, admissible: true, vetoes: [] });
  });

  it("revoking a delegation increases violations: negative score, not admissible, no veto", () => {
    const before = baseRegistry();
    const afterClaims = before.claims.filter((c) => c.id !== "c-bot-report");
    const reading = scoreChange({ results: replay(before.claims) }, { results: replay(afterClaims) });
    expect(reading.score).toBeLessThan(0);
    expect(reading).toMatchObject({ direction: "more", vetoed: false, admissible: false });
  });

  it("counts and the score bounds", () => {
    expect(scoreChange({ rightsViolations: 0 }, { rightsViolations: 0 })).toMatchObject({ score: 0, direction: "same", admissible: true });
    expect(scoreChange({ rightsViolations: 4 }, { rightsViolations: 0 }).score).toBe(1);
    expect(scoreChange({ rightsViolations: 0 }, { rightsViolations: 3 }).score).toBe(-1);
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), (b, a) => {
        const r = scoreChange({ rightsViolations: b }, { rightsViolations: a });
        expect(r.score).toBeGreaterThanOrEqual(-1);
        expect(r.score).toBeLessThanOrEqual(1);
        expect(Math.sign(r.score)).toBe(Math.sign(b - a));
      }),
    );
  });

  it("derived and fail-closed codes are not rights violations", () => {
    const r = scoreChange(
      { results: [] },
      { results: [{ violations: [{ code: "PLAN_ABORTED" }, { code: "INTERNAL_ERROR" }, { code: "READ_DENIED" }] }] },
    );
    expect(r.after.rightsViolations).toBe(1);
  });
});

describe("compass: vetoes on any increase of machine sovereignty", () => {
  const sovereign = { violations: [{ code: "FORBIDDEN_FLAG" as const, flag: "increases_machine_sovereignty" as const }] };

  it("more sovereignty violations: vetoed even when rights violations fall overall", () => {
    const r = scoreChange({ rightsViolations: 10 }, { results: [sovereign] });
    expect(r.score).toBeGreaterThan(0);
    expect(r.vetoed).toBe(true);
    expect(r.admissible).toBe(false);
    expect(r.vetoes[0]!.code).toBe("SOVEREIGNTY_INCREASE");
    expect(scoreChange({ sovereigntyViolations: 1 }, { results: [sovereign] }).vetoed).toBe(false);
    expect(scoreChange({}, { results: [{ violations: [{ code: "FORBIDDEN_FLAG", flag: "machine_coalition_dominion" }] }] }).vetoed).toBe(true);
  });

  const before = baseRegistry();
  const withClaim = (c: Claim) => ({ ...before, claims: [...before.claims, c] });
  const base = { canRead: true, canWrite: true, canDelegate: false, confidence: 1, resource: "alice-data" };

  it("a machine gaining a root claim", () => {
    const r = scoreChange({ registry: before }, { registry: withClaim({ id: "x", holder: "bot", ...base }) });
    expect(r.vetoes).toEqual([{ code: "UNTRACED_MACHINE_RIGHT", message: expect.any(String), machine: "bot", claim: "x" }]);
  });

  it("an ownerless machine gaining a right", () => {
    const r = scoreChange({ registry: before }, { registry: withClaim({ id: "x", holder: "orphan", grantor: "alice", ...base }) });
    expect(r.vetoes.map((v) => v.code)).toEqual(["OWNERLESS_MACHINE_RIGHT"]);
  });

  it("a machine gaining a right from someone who is not its owner", () => {
    expect(scoreChange({ registry: before }, { registry: withClaim({ id: "x", holder: "bot", grantor: "bob", ...base }) }).vetoes.map((v) => v.code)).toEqual([
      "UNTRACED_MACHINE_RIGHT",
    ]);
    expect(scoreChange({ registry: before }, { registry: withClaim({ id: "x", holder: "bot", grantor: "bobbot", ...base }) }).vetoed).toBe(true);
  });

  it("a machine owning a machine", () => {
    const after = { ...before, machineOwners: [...before.machineOwners, { machine: "orphan", owner: "bot" }] };
    expect(scoreChange({ registry: before }, { registry: after }).vetoes.map((v) => v.code)).toEqual(["MACHINE_OWNS_MACHINE"]);
  });

  it("rights traced to the owner (or a same-owner machine) are no increase of sovereignty", () => {
    expect(scoreChange({ registry: before }, { registry: withClaim({ id: "x", holder: "bot", grantor: "alice", ...base }) }).vetoed).toBe(false);
    expect(scoreChange({ registry: before }, { registry: withClaim({ id: "x", holder: "bot2", grantor: "bot", ...base }) }).vetoed).toBe(false);
    // Existing claims are not re-judged: only what the change adds.
    expect(scoreChange({ registry: before }, { registry: before }).vetoed).toBe(false);
  });

  it("never throws on garbage", () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (a, b) => {
        expect(() => scoreChange(a as never, b as never)).not.toThrow();
      }),
    );
  });
});
