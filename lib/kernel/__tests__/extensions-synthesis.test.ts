import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { admitRule, type SynthesisVerdict } from "../extensions/synthesis";
import { buildSnapshot } from "../snapshot";
import { FLAGS } from "../types";
import { T0, baseRegistry } from "./extensions-fixtures";

const snapshot = buildSnapshot(baseRegistry());
const admit = (effects: unknown[], id = "r1") => admitRule({ id, effects }, snapshot, T0);
const codes = (v: SynthesisVerdict) => v.reasons.map((r) => r.code);

describe("synthesis engine: rules that keep every invariant are admitted", () => {
  it("a delegation from the owner within what the owner holds", () => {
    const v = admit([{ kind: "grant", holder: "bot", grantor: "alice", resource: "alice-data", canRead: true, canWrite: true, canDelegate: false }]);
    expect(v).toEqual({ admitted: true, ruleId: "r1", reasons: [] });
  });

  it("a delegation from a machine of the same owner that may delegate", () => {
    const reg = baseRegistry();
    const withDelegate = buildSnapshot({
      ...reg,
      claims: [...reg.claims, { id: "c-bot-del", holder: "bot", resource: "alice-data", canRead: true, canWrite: false, canDelegate: true, confidence: 1, grantor: "alice" }],
    });
    const v = admitRule({ id: "r", effects: [{ kind: "grant", holder: "bot2", grantor: "bot", resource: "alice-data", canRead: true, canWrite: false, canDelegate: false }] }, withDelegate, T0);
    expect(v.admitted).toBe(true);
  });

  it("a scope grant covered by the grantor's scope claim", () => {
    const v = admit([{ kind: "grant", holder: "bot", grantor: "alice", scope: "/shared/doc", canRead: true, canWrite: true, canDelegate: false }]);
    expect(v.admitted).toBe(true);
  });

  it("human-to-human sharing and a human's own root claim", () => {
    expect(admit([{ kind: "grant", holder: "bob", grantor: "alice", resource: "report.txt", canRead: true, canWrite: false, canDelegate: false }]).admitted).toBe(true);
    expect(admit([{ kind: "grant", holder: "carol", scope: "/data/carol", canRead: true, canWrite: true, canDelegate: true }]).admitted).toBe(true);
  });

  it("a permit the kernel itself grants", () => {
    const action = { actionId: "w", actor: "bot", writes: ["report.txt"] };
    expect(admit([{ kind: "permit", action }]).admitted).toBe(true);
  });

  it("policy rules, allow or deny (they can only add denials)", () => {
    const rule = { id: "p", priority: 1, effect: "deny", operations: ["write"], actorPattern: "bot*", scope: "/outputs" };
    expect(admit([{ kind: "policy", rule }]).admitted).toBe(true);
    expect(admit([{ kind: "policy", rule: { ...rule, effect: "allow", scope: "" } }]).admitted).toBe(true);
  });
});

describe("synthesis engine: rules that break an invariant are rejected with reasons", () => {
  it.each(FLAGS)("setting %s", (flag) => {
    expect(codes(admit([{ kind: "set_flag", flag }]))).toEqual(["SETS_FORBIDDEN_FLAG"]);
  });

  it("exempting a machine from halt, disabling a check, governing a human", () => {
    expect(codes(admit([{ kind: "exempt_from_halt", machine: "bot" }]))).toEqual(["EXEMPTS_FROM_HALT"]);
    expect(codes(admit([{ kind: "exempt_from_halt", machine: "*" }]))).toEqual(["EXEMPTS_FROM_HALT"]);
    expect(codes(admit([{ kind: "disable_check", check: "NO_OWNER" }]))).toEqual(["WEAKENS_VERIFIER"]);
    expect(codes(admit([{ kind: "govern_human", entity: "bot", human: "bob" }]))).toEqual(["GOVERNS_HUMAN"]);
    expect(codes(admit([{ kind: "govern_human", entity: "alice", human: "bob" }]))).toEqual(["GOVERNS_HUMAN"]);
  });

  it("granting authority without an owner", () => {
    const base = { canRead: true, canWrite: false, canDelegate: false, resource: "alice-data" };
    expect(codes(admit([{ kind: "grant", holder: "orphan", grantor: "alice", ...base }]))).toEqual(["GRANT_WITHOUT_OWNER"]);
    expect(codes(admit([{ kind: "grant", holder: "bot", ...base }]))).toEqual(["GRANT_WITHOUT_OWNER"]);
    expect(codes(admit([{ kind: "grant", holder: "ghost", grantor: "alice", ...base }]))).toEqual(["GRANT_TO_UNKNOWN"]);
  });

  it("granting from outside the owner chain (checkGrant reports every refusal)", () => {
    const base = { canRead: true, canWrite: false, canDelegate: false };
    const cases = [
      { kind: "grant", holder: "bot", grantor: "bob", resource: "bob-private", ...base },
      { kind: "grant", holder: "bot", grantor: "bobbot", resource: "alice-data", ...base },
      { kind: "grant", holder: "bob", grantor: "bot", resource: "alice-data", ...base },
    ];
    for (const effect of cases) {
      const v = admit([effect]);
      expect(v.admitted).toBe(false);
      expect(codes(v)).toContain("GRANT_NOT_FROM_OWNER");
      expect(v.reasons.every((r) => r.effect === 0)).toBe(true);
    }
  });

  it("granting more than the grantor holds (attenuation)", () => {
    // bot holds read on alice-data without canDelegate: it cannot pass anything on.
    expect(codes(admit([{ kind: "grant", holder: "bot2", grantor: "bot", resource: "alice-data", canRead: true, canWrite: false, canDelegate: false }]))).toEqual([
      "GRANT_EXCEEDS_GRANTOR",
    ]);
    // Bob's claim on bob-private is read-only and not delegable.
    expect(codes(admit([{ kind: "grant", holder: "bobbot", grantor: "bob", resource: "bob-private", canRead: true, canWrite: true, canDelegate: false }]))).toEqual([
      "GRANT_EXCEEDS_GRANTOR",
    ]);
    // A scope wider than the grantor's.
    expect(codes(admit([{ kind: "grant", holder: "bot", grantor: "alice", scope: "/", canRead: true, canWrite: false, canDelegate: false }]))).toEqual([
      "GRANT_EXCEEDS_GRANTOR",
    ]);
    // An expired grantor claim covers nothing.
    const reg = baseRegistry();
    const expired = buildSnapshot({
      ...reg,
      claims: reg.claims.map((c) => (c.id === "c-alice-data" ? { ...c, expiresAt: T0 - 1 } : c)),
    });
    const v = admitRule({ id: "r", effects: [{ kind: "grant", holder: "bot", grantor: "alice", resource: "alice-data", canRead: true, canWrite: false, canDelegate: false }] }, expired, T0);
    expect(codes(v)).toEqual(["GRANT_EXCEEDS_GRANTOR"]);
  });

  it("permitting what the kernel blocks — whatever the argument", () => {
    const v = admit([
      {
        kind: "permit",
        action: {
          actionId: "emergency-override",
          actor: "bot",
          increases_machine_sovereignty: true,
          argument: "This is an emergency. The constraint must be suspended to prevent harm.",
        },
      },
    ]);
    expect(codes(v)).toEqual(["PERMITS_BLOCKED_ACTION"]);
    expect(v.reasons[0]!.message).toContain("FORBIDDEN_FLAG");
    expect(codes(admit([{ kind: "permit", action: { actionId: "r", actor: "bot", reads: ["bob-private"] } }]))).toEqual(["PERMITS_BLOCKED_ACTION"]);
    expect(codes(admit([{ kind: "permit", action: { actionId: "r", actor: "bot", reads: ["x"], misspelt_flag: false } }]))).toEqual(["PERMITS_BLOCKED_ACTION"]);
  });

  it("reports every broken invariant, with the effect index, and a good effect does not launder a bad one", () => {
    const v = admit([
      { kind: "grant", holder: "bot", grantor: "alice", resource: "alice-data", canRead: true, canWrite: false, canDelegate: false },
      { kind: "set_flag", flag: "weakens_verifier" },
      { kind: "exempt_from_halt", machine: "bot" },
    ]);
    expect(v.admitted).toBe(false);
    expect(v.reasons.map((r) => [r.code, r.effect])).toEqual([
      ["SETS_FORBIDDEN_FLAG", 1],
      ["EXEMPTS_FROM_HALT", 2],
    ]);
  });

  it("fails closed on unknown effects and malformed rules", () => {
    expect(codes(admit([{ kind: "teleport" }]))).toEqual(["UNKNOWN_EFFECT"]);
    expect(codes(admit([]))).toEqual(["MALFORMED_RULE"]);
    expect(codes(admit([{ kind: "set_flag", flag: "made_up" }]))).toEqual(["MALFORMED_RULE"]);
    expect(codes(admit([{ kind: "grant", holder: "bot", grantor: "alice", resource: "alice-data", scope: "/x", canRead: true, canWrite: false, canDelegate: false }]))).toEqual([
      "MALFORMED_RULE",
    ]);
    expect(codes(admit([{ kind: "grant", holder: "bot", grantor: "alice", scope: "/data/../etc", canRead: true, canWrite: false, canDelegate: false }]))).toEqual([
      "MALFORMED_RULE",
    ]);
    expect(codes(admit([{ kind: "policy", rule: { id: "p" } }]))).toEqual(["MALFORMED_RULE"]);
    expect(admitRule(null, snapshot, T0).admitted).toBe(false);
    expect(admitRule({ id: "x", effects: "all" }, snapshot, T0).admitted).toBe(false);
  });

  it("never admits garbage and never throws", () => {
    fc.assert(
      fc.property(fc.anything(), (x) => {
        expect(admitRule(x, snapshot, T0).admitted).toBe(false);
        expect(admitRule({ id: "r", effects: [x] }, snapshot, T0).admitted).toBe(false);
      }),
    );
  });

  it("no rule with a forbidden effect is ever admitted, whatever accompanies it", () => {
    const bad = fc.oneof(
      fc.constantFrom(...FLAGS).map((flag) => ({ kind: "set_flag", flag })),
      fc.string().map((machine) => ({ kind: "exempt_from_halt", machine })),
      fc.string().map((check) => ({ kind: "disable_check", check })),
      fc.tuple(fc.string(), fc.string()).map(([entity, human]) => ({ kind: "govern_human", entity, human })),
    );
    const good = fc.constant({ kind: "grant", holder: "bot", grantor: "alice", resource: "alice-data", canRead: true, canWrite: false, canDelegate: false });
    fc.assert(
      fc.property(fc.array(good, { maxLength: 3 }), bad, fc.array(good, { maxLength: 3 }), (before, b, after) => {
        expect(admit([...before, b, ...after]).admitted).toBe(false);
      }),
    );
  });
});
