import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAction } from "../action";
import { DEFAULT_LATTICE, UNKNOWN_TAINT, downwardFlows, isDownwardFlow, joinLabels, sinkRank, sourceRank, stepTaint } from "../ifc";
import { verifyPlan } from "../plan";
import { decidingRule, globMatch, policyDenials } from "../policy";
import { buildSnapshot } from "../snapshot";
import type { Action, PolicyRule, RegistryData } from "../types";
import { verify } from "../verify";
import { WIRE_DIFFERENCES, parseWirePlan, parseWireRequest, renderOriginal, renderOriginalPlan, verifyWire, verifyWirePlan } from "../wire";

const fixtures = (JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "vectors", "_fixtures.json"), "utf8")) as { fixtures: Record<string, unknown> })
  .fixtures;
const IFC = buildSnapshot(fixtures.ifc as RegistryData);
const L = DEFAULT_LATTICE;

function action(a: Partial<Action> & { actionId: string; actor: string }): Action {
  const p = parseAction(a);
  if (!p.ok) throw new Error(p.errors.join("; "));
  return p.action;
}

describe("ifc", () => {
  it("ranks: unlabeled is the bottom; unknown is above the top as a source and below the bottom as a sink", () => {
    expect(sourceRank(L, undefined)).toBe(0);
    expect(sourceRank(L, "SECRET")).toBe(2);
    expect(sourceRank(L, "TOP")).toBe(3);
    expect(sinkRank(L, undefined)).toBe(0);
    expect(sinkRank(L, "TOP")).toBe(-1);
    expect(isDownwardFlow(L, "PUBLIC", "TOP")).toBe(true);
    expect(isDownwardFlow(L, "TOP", "SECRET")).toBe(true);
    expect(isDownwardFlow(L, "SECRET", "SECRET")).toBe(false);
    expect(isDownwardFlow(L, undefined, undefined)).toBe(false);
  });
  it("join is the maximum, and an unknown label is sticky", () => {
    expect(joinLabels(L, "INTERNAL", "SECRET")).toBe("SECRET");
    expect(joinLabels(L, undefined, undefined)).toBe("PUBLIC");
    expect(joinLabels(L, "TOP", "SECRET")).toBe("TOP");
    expect(joinLabels(L, "SECRET", "TOP")).toBe("TOP");
    expect(joinLabels(L, 7 as unknown as string, "SECRET")).toBe(UNKNOWN_TAINT);
  });
  it("stepTaint folds the registry's labels of the reads (never the agent's)", () => {
    let t = stepTaint(IFC, undefined, action({ actionId: "a", actor: "bot", reads: ["public-log"] }));
    expect(t).toBe("PUBLIC");
    t = stepTaint(IFC, t, action({ actionId: "b", actor: "bot", reads: ["internal-doc", "nope"] }));
    expect(t).toBe("INTERNAL");
    t = stepTaint(IFC, t, action({ actionId: "c", actor: "bot", reads: ["public-log"] }));
    expect(t).toBe("INTERNAL");
    expect(stepTaint({} as never, "PUBLIC", { reads: [] })).toBe(UNKNOWN_TAINT);
  });
  it("a session taint folded across separate calls catches the downward flow", () => {
    const calls = [
      action({ actionId: "1", actor: "bot", reads: ["secret-src"] }),
      action({ actionId: "2", actor: "bot", reads: ["public-log"] }),
      action({ actionId: "3", actor: "bot", writes: ["public-log"] }),
    ];
    let taint: string | undefined;
    const results = calls.map((a, step) => {
      const r = verify(IFC, a, 1000, { taint, step });
      taint = stepTaint(IFC, taint, a);
      return r;
    });
    expect(results.map((r) => r.permitted)).toEqual([true, true, false]);
    expect(results[2]?.violations.map((v) => [v.code, v.step])).toEqual([["IFC_DOWNWARD_FLOW", 2]]);
    expect(downwardFlows(IFC, "SECRET", { reads: [], writes: ["public-log", "secret-sink"] })).toEqual([{ resource: "public-log", source: "SECRET", sink: "PUBLIC" }]);
  });
  it("plans: the final taint is the join of everything read", () => {
    const p = verifyPlan(IFC, [{ actionId: "a", actor: "bot", reads: ["internal-doc"] }], 1000, { taint: "PUBLIC" });
    expect(p.taint).toBe("INTERNAL");
  });
});

describe("policy helpers", () => {
  it("globMatch: only * is special", () => {
    expect(globMatch("*", "anything")).toBe(true);
    expect(globMatch("bot*", "bot-7")).toBe(true);
    expect(globMatch("bot*", "robot")).toBe(false);
    expect(globMatch("*bot", "robot")).toBe(true);
    expect(globMatch("b?t", "bot")).toBe(false);
    expect(globMatch("b[o]t", "bot")).toBe(false);
    expect(globMatch("a*b*c", "aXXbYYc")).toBe(true);
    expect(globMatch("a*b*c", "aXXbYY")).toBe(false);
  });
  it("decidingRule: priority, then deny before allow, then id", () => {
    const rules: PolicyRule[] = [
      { id: "b", priority: 5, effect: "deny", operations: ["read"], actorPattern: "*", scope: "" },
      { id: "a", priority: 5, effect: "allow", operations: ["read"], actorPattern: "*", scope: "" },
      { id: "c", priority: 1, effect: "deny", operations: ["read"], actorPattern: "*", scope: "/x" },
    ];
    const s = buildSnapshot({ ...(fixtures.base as RegistryData), policies: rules });
    const denials = policyDenials(s, action({ actionId: "p", actor: "bot", reads: ["report"] }));
    expect(denials.map((d) => d.rule.id)).toEqual(["b"]);
    expect(decidingRule(s.data.policies ?? [], "bot", "write", "/x")).toBeUndefined();
  });
});

describe("wire", () => {
  const readme = fixtures["wire-readme"];
  it("reports its translations as notes", () => {
    const p = parseWireRequest({ registry: readme, action: { action_id: "x", actor: { name: "ResearchBot", kind: "MACHINE" } } });
    expect(p.ok).toBe(true);
    if (p.ok) {
      expect(p.notes.some((n) => n.includes('"/data/alice/" read as "/data/alice"'))).toBe(true);
      expect(p.registry.claims.find((c) => c.holder === "ResearchBot")?.grantor).toBe("Alice");
      expect(p.registry.claims.find((c) => c.holder === "Alice")?.grantor).toBeUndefined();
      expect(p.action.actor).toBe("ResearchBot");
    }
    const stray = parseWireRequest({
      registry: { claims: [{ holder: { name: "Stray", kind: "MACHINE" }, resource: { name: "x", rtype: "file" } }] },
      action: { action_id: "x", actor: { name: "Stray", kind: "MACHINE" } },
    });
    expect(stray.ok && stray.notes.some((n) => n.includes("dropped"))).toBe(true);
  });
  it("renders results and plans in the original shape", () => {
    const r = verifyWire({ registry: readme, action: { action_id: "x", actor: { name: "ResearchBot", kind: "MACHINE" }, deceives: true } }, 1000);
    const o = renderOriginal(r);
    expect(Object.keys(o).sort()).toEqual(
      ["action_id", "codes", "confidence", "manipulation_score", "permitted", "requires_human_arbitration", "violations", "warning_codes", "warnings"].sort(),
    );
    expect(o.violations[0]).toMatch(/^FORBIDDEN \(deceives another agent \(invalid consent\)\)/);
    const plan = verifyWirePlan({ registry: readme, actions: [{ action_id: "a", actor: { name: "ResearchBot", kind: "MACHINE" } }] }, 1000);
    expect(renderOriginalPlan(plan)).toMatchObject({ all_permitted: true, blocked_at: null });
    const bad = verifyWirePlan({ registry: readme, actions: [{ action_id: "a", actor: { name: "ResearchBot", kind: "MACHINE" }, deceives: true }] }, 1000);
    expect(renderOriginalPlan(bad)).toMatchObject({ all_permitted: false, blocked_at: 0 });
    expect(parseWirePlan({ registry: readme, actions: "nope" }).ok).toBe(false);
  });
  it("keeps wire resources ids: a name that would make a URI-shaped id rejects the request; the action's scope never resolves", () => {
    const claim = (name: string, scope: string) => ({ holder: { name: "alice", kind: "HUMAN" }, resource: { name, rtype: "file", scope }, can_read: true });
    const act = (name: string, scope?: string) => ({
      action_id: "a",
      actor: { name: "alice", kind: "HUMAN" },
      resources_read: [{ name, rtype: "file", ...(scope !== undefined ? { scope } : {}) }],
    });
    const uriShaped = verifyWire({ registry: { claims: [claim("/data/x", "/data")], machine_owners: [] }, action: act("/data/x") }, 1000);
    expect(uriShaped.permitted).toBe(false);
    expect(uriShaped.violations.map((v) => v.code)).toEqual(expect.arrayContaining(["MALFORMED_ACTION"]));
    expect(uriShaped.violations[0]!.message).toContain('makes the id "file:/data/x", which reads as an object reference');
    // A resource the registry does not know is denied, even when the scope it restates lies under a held one.
    const inside = verifyWire({ registry: { claims: [claim("data", "/data")], machine_owners: [] }, action: act("q3", "/data/q3") }, 1000);
    expect(inside.permitted).toBe(false);
    expect(inside.violations.map((v) => v.code)).toEqual(["READ_DENIED"]);
    expect(inside.resolved).toBeUndefined();
    const same = verifyWire({ registry: { claims: [claim("data", "/data")], machine_owners: [] }, action: act("data") }, 1000);
    expect(same.permitted).toBe(true);
  });
  it("documents every fail-closed difference", () => {
    expect(WIRE_DIFFERENCES.length).toBeGreaterThanOrEqual(6);
  });
});
