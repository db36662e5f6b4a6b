import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { buildDecisionRecord, DECISION_DOMAIN, isDecisionRecord, signBytes, signDecision, signingBytes, verifyDecision, verifyPermit, verifyPlanDecision } from "../signing";
import {
  buildSimulationRecord,
  isSimulationRecord,
  replayDecisions,
  signSimulation,
  simulationSigningBytes,
  SIMULATION_DOMAIN,
  verifySimulation,
  type ReplayItem,
  type SimulationRecord,
} from "../simulate";
import { parseAction } from "../action";
import { buildSnapshot, SnapshotError } from "../snapshot";
import type { PolicyRule, RegistryData } from "../types";
import { verify } from "../verify";
import { actionSpecArb, materialise, materialiseAction, NOW, registrySpecArb } from "./arbitraries";
import { KEY_ID_A, PUBLIC_A, SECRET_A } from "./evidence-fixtures";

function parsed(raw: unknown) {
  const p = parseAction(raw);
  if (!p.ok) throw new Error("test action does not parse");
  return p.action;
}

/** The naive comparison: every action verified on both sides, a flip whenever one is permitted and the other not. */
function naiveFlips(current: RegistryData, proposed: RegistryData, items: readonly ReplayItem[]) {
  const a = buildSnapshot(current);
  const b = buildSnapshot(proposed);
  const out: { auditSeq: number; permitted: [boolean, boolean]; codes: [string, string] }[] = [];
  for (const item of items) {
    const x = verify(a, item.action, NOW);
    const y = verify(b, item.action, NOW);
    const cx = [...new Set(x.violations.map((v) => v.code))].join(",");
    const cy = [...new Set(y.violations.map((v) => v.code))].join(",");
    if (x.permitted !== y.permitted) out.push({ auditSeq: item.auditSeq, permitted: [x.permitted, y.permitted], codes: [cx, cy] });
  }
  return out;
}

const logArb = fc.record({
  current: registrySpecArb,
  proposed: registrySpecArb,
  actions: fc.array(actionSpecArb, { minLength: 1, maxLength: 12 }),
});

describe("what-if replay", () => {
  it("gives exactly the flips of a naive per-action comparison, with counts that add up", () => {
    fc.assert(
      fc.property(logArb, ({ current, proposed, actions }) => {
        const u = materialise(current);
        const p = materialise(proposed);
        const items: ReplayItem[] = actions.map((a, i) => {
          const action = materialiseAction(u, a, `act-${i}`);
          return { auditSeq: i + 1, actionId: action.actionId, machine: action.actor, action };
        });
        const got = replayDecisions(buildSnapshot(u.data), buildSnapshot(p.data), items, NOW);
        const want = naiveFlips(u.data, p.data, items);
        expect(got.replayed).toBe(items.length);
        expect(got.flips.map((f) => ({ auditSeq: f.auditSeq, permitted: [f.before.permitted, f.after.permitted], codes: [f.before.codes.join(","), f.after.codes.join(",")] }))).toEqual(want);
        const perMachine = Object.values(got.counts.byMachine).reduce((s, n) => s + n, 0);
        expect(perMachine).toBe(got.flips.length);
        expect(got.counts.blocked).toBe(want.filter((f) => f.permitted[0] && !f.permitted[1]).length);
        expect(got.counts.permitted).toBe(want.filter((f) => !f.permitted[0] && f.permitted[1]).length);
      }),
      { numRuns: 300 },
    );
  });

  it("finds no flip between a registry and a rebuilt copy of it", () => {
    fc.assert(
      fc.property(registrySpecArb, fc.array(actionSpecArb, { maxLength: 8 }), (spec, actions) => {
        const u = materialise(spec);
        const items = actions.map((a, i) => ({ auditSeq: i, actionId: `a${i}`, machine: "m0", action: materialiseAction(u, a, `a${i}`) }));
        expect(replayDecisions(buildSnapshot(u.data), buildSnapshot(structuredClone(u.data)), items, NOW).flips).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("replays a malformed logged action as MALFORMED_ACTION on both sides: never a flip", () => {
    const u = materialise({ chains: [], humans: 1, machines: 1, owners: [0, 0, 0, 0], resources: [{ scope: "/a", isPublic: false, label: undefined, type: "file" }], claims: [], halts: [], policies: [] });
    const halted = { ...u.data, halts: [{ kind: "all" as const }] };
    const items: ReplayItem[] = [{ auditSeq: 1, actionId: "x", machine: "m0", action: { actionId: "x", actor: "m0", reads: "not a list" } }];
    expect(replayDecisions(buildSnapshot(u.data), buildSnapshot(halted), items, NOW).flips).toEqual([]);
  });

  it("refuses a proposal the kernel refuses: the proposed registry is built by buildSnapshot, which throws", () => {
    const u = materialise({ chains: [], humans: 1, machines: 1, owners: [0, 0, 0, 0], resources: [{ scope: "/a", isPublic: false, label: undefined, type: "file" }], claims: [], halts: [], policies: [] });
    const bad = { ...u.data, claims: [{ id: "c-bad", holder: "nobody", resource: u.resources[0], canRead: true, canWrite: false, canDelegate: false, confidence: 1 }] };
    expect(() => buildSnapshot(bad as RegistryData)).toThrow(SnapshotError);
  });
});

const flip = { auditSeq: 7, actionId: "a-7", machine: "m0", before: { permitted: true, codes: [] }, after: { permitted: false, codes: ["HALTED"] } };
function record(over: Partial<Parameters<typeof buildSimulationRecord>[0]> = {}): SimulationRecord {
  return buildSimulationRecord({
    requestedBy: "owner:h0",
    changesDigest: "ab".repeat(32),
    current: { version: 3, digest: "cd".repeat(32) },
    proposed: { version: 4, digest: "ef".repeat(32) },
    window: { machines: ["m0"], last: 500 },
    replayed: 10,
    flips: [flip],
    counts: { byMachine: { m0: 1 }, byCode: { HALTED: 1 }, blocked: 1, permitted: 0 },
    now: NOW,
    nonce: "0123456789abcdef0123456789abcdef",
    keyId: KEY_ID_A,
    ...over,
  });
}

describe("simulation records", () => {
  it("sign and verify under their own domain, and any edit breaks the signature", () => {
    const r = record();
    const sig = signSimulation(r, SECRET_A);
    expect(verifySimulation(r, sig, PUBLIC_A)).toBe(true);
    const edited = JSON.parse(JSON.stringify(r)) as { flips: unknown[]; counts: { blocked: number } };
    edited.flips = [];
    edited.counts.blocked = 0;
    expect(verifySimulation(edited, sig, PUBLIC_A)).toBe(false);
    expect(Buffer.from(simulationSigningBytes(r)).toString("utf8").startsWith(SIMULATION_DOMAIN)).toBe(true);
  });

  it("never pass for a permit, a decision or a plan — under their signature or one over the decision domain", () => {
    const r = record();
    const sig = signSimulation(r, SECRET_A);
    const forged = signBytes(signingBytes(DECISION_DOMAIN, r), SECRET_A);
    for (const s of [sig, forged]) {
      expect(verifyDecision(r, s, PUBLIC_A)).toBe(false);
      expect(verifyPlanDecision(r, s, PUBLIC_A)).toBe(false);
      expect(verifyPermit(r, s, PUBLIC_A, { now: NOW })).toEqual({ ok: false, reason: "MALFORMED" });
    }
    expect(isDecisionRecord(r)).toBe(false);
  });

  it("a signed decision does not pass for a simulation", () => {
    const u = materialise({ chains: [], humans: 1, machines: 1, owners: [0, 0, 0, 0], resources: [{ scope: "/a", isPublic: false, label: undefined, type: "file" }], claims: [], halts: [], policies: [] });
    const action = parsed({ actionId: "a", actor: "h0", reads: [u.resources[0] as string] });
    const d = buildDecisionRecord({ mode: "stateless", now: NOW, nonce: "0123456789abcdef", keyId: KEY_ID_A, action, result: verify(buildSnapshot(u.data), action, NOW) });
    const sig = signDecision(d, SECRET_A);
    expect(verifyDecision(d, sig, PUBLIC_A)).toBe(true);
    expect(verifySimulation(d, sig, PUBLIC_A)).toBe(false);
  });

  it("refuses malformed records: unknown members, __proto__, counts that are not counts, more flips than replays", () => {
    const r = record();
    const json = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
    expect(isSimulationRecord(json)).toBe(true);
    expect(isSimulationRecord({ ...json, permitted: true })).toBe(false);
    expect(isSimulationRecord(JSON.parse(JSON.stringify(r).replace('"v":1', '"__proto__":{"x":1},"v":1')))).toBe(false);
    expect(isSimulationRecord({ ...json, counts: { ...(json.counts as object), blocked: -1 } })).toBe(false);
    expect(isSimulationRecord({ ...json, replayed: 0 })).toBe(false);
    expect(() => record({ nonce: "short" })).toThrow();
  });
});

describe("shadow rules", () => {
  /** The registry with every policy in `shadowIds` marked shadow. */
  const withModes = (data: RegistryData, shadowIds: ReadonlySet<string>): RegistryData => ({
    ...data,
    policies: (data.policies ?? []).map((p) => (shadowIds.has(p.id) ? { ...p, mode: "shadow" as const } : p)),
  });
  const withoutRules = (data: RegistryData, ids: ReadonlySet<string>): RegistryData => ({ ...data, policies: (data.policies ?? []).filter((p) => !ids.has(p.id)) });
  const deniedBy = (violations: readonly { code: string; message: string }[], id: string) => violations.some((v) => v.code === "POLICY_DENIED" && v.message.startsWith(`POLICY DENIED by rule ${id} `));

  it("deny nothing, and promoting one denies exactly the actions it reported wouldDeny for", () => {
    const policy = fc.record({
      priority: fc.nat({ max: 2 }),
      effect: fc.constantFrom("allow" as const, "deny" as const),
      ops: fc.subarray(["read", "write", "delegate"] as ("read" | "write" | "delegate")[], { minLength: 1 }),
      pattern: fc.constantFrom("*", "m*", "h0", "*1", "m2"),
      scope: fc.constantFrom("", "/", "/a", "/a/b", "/x"),
    });
    fc.assert(
      fc.property(registrySpecArb, fc.array(policy, { minLength: 1, maxLength: 4 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), actionSpecArb, (spec, policies, shadowMask, a) => {
        const u = materialise({ ...spec, policies });
        const ids = (u.data.policies ?? []).map((p) => p.id);
        const shadowIds = new Set(ids.filter((_, i) => shadowMask[i]));
        const action = materialiseAction(u, a);
        const shadowed = verify(buildSnapshot(withModes(u.data, shadowIds)), action, NOW);
        const without = verify(buildSnapshot(withoutRules(u.data, shadowIds)), action, NOW);
        // Denies nothing, shadows nothing: the answer is the one without the shadow rules.
        expect(shadowed.permitted).toBe(without.permitted);
        expect(shadowed.violations).toEqual(without.violations);
        const reported = new Map((shadowed.shadow ?? []).map((s) => [s.ruleId, s.wouldDeny]));
        for (const id of shadowIds) {
          // Promoting this one rule (the others stay shadow).
          const promoted = verify(buildSnapshot(withModes(u.data, new Set([...shadowIds].filter((x) => x !== id)))), action, NOW);
          expect(deniedBy(promoted.violations, id)).toBe(reported.get(id) === true);
        }
        for (const id of reported.keys()) expect(shadowIds.has(id)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("are signed in the decision record, sorted by rule id, and the record refuses them unsorted", () => {
    const u = materialise({ chains: [], humans: 1, machines: 0, owners: [0, 0, 0, 0], resources: [{ scope: "/a", isPublic: true, label: undefined, type: "file" }], claims: [], halts: [], policies: [] });
    const rules: PolicyRule[] = [
      { id: "z-deny", priority: 1, effect: "deny", operations: ["read"], actorPattern: "*", scope: "", mode: "shadow" },
      { id: "a-allow", priority: 1, effect: "allow", operations: ["read"], actorPattern: "h0", scope: "", mode: "shadow" },
    ];
    const snap = buildSnapshot({ ...u.data, policies: rules });
    const action = parsed({ actionId: "a", actor: "h0", reads: [u.resources[0] as string] });
    const result = verify(snap, action, NOW);
    expect(result.permitted).toBe(true);
    expect(result.shadow).toEqual([
      { ruleId: "a-allow", wouldDeny: false },
      { ruleId: "z-deny", wouldDeny: true },
    ]);
    const d = buildDecisionRecord({ mode: "stateless", now: NOW, nonce: "0123456789abcdef", keyId: KEY_ID_A, action, result });
    expect(d.shadow).toEqual(result.shadow);
    const sig = signDecision(d, SECRET_A);
    expect(verifyDecision({ ...d, shadow: [] }, sig, PUBLIC_A)).toBe(false);
    expect(isDecisionRecord({ ...d, shadow: [...(d.shadow ?? [])].reverse() })).toBe(false);
    expect(isDecisionRecord({ ...d, shadow: [{ ruleId: "a-allow", wouldDeny: "no" }] })).toBe(false);
  });

  it('have one spelling: mode "shadow" or absent; and registries without them keep their digest', () => {
    const u = materialise({ chains: [], humans: 1, machines: 0, owners: [0, 0, 0, 0], resources: [{ scope: "/a", isPublic: false, label: undefined, type: "file" }], claims: [], halts: [], policies: [] });
    const rule: PolicyRule = { id: "r1", priority: 0, effect: "deny", operations: ["read"], actorPattern: "*", scope: "" };
    expect(() => buildSnapshot({ ...u.data, policies: [{ ...rule, mode: "enforce" as never }] })).toThrow(SnapshotError);
    const enforced = buildSnapshot({ ...u.data, policies: [rule] });
    const shadow = buildSnapshot({ ...u.data, policies: [{ ...rule, mode: "shadow" }] });
    expect(shadow.ref.digest).not.toBe(enforced.ref.digest);
    expect(buildSnapshot({ ...u.data, policies: [{ ...rule }] }).ref.digest).toBe(enforced.ref.digest);
  });
});
