/**
 * The console's what-if helpers: a change set applied to a hand-built registry gives the registry
 * the server's change functions would leave, and the browser's replay of it gives exactly the
 * flips the kernel's replayDecisions gives on that registry built by hand; the audit page as
 * replay items; agreement with the server's answer; the filters and the preview sentence.
 */
import { describe, expect, it } from "vitest";
import { parseAction } from "@/lib/kernel/action";
import { replayDecisions, type ReplayItem } from "@/lib/kernel/simulate";
import { buildSnapshot } from "@/lib/kernel/snapshot";
import type { Claim, RegistryData } from "@/lib/kernel/types";
import {
  applyChanges,
  compareWithServer,
  describeChange,
  filterFlips,
  flipFacets,
  previewSentence,
  promotionChanges,
  serverSentence,
  proposalChanges,
  replayItems,
  replayLocally,
  rulesAsPolicies,
  withRules,
  type ListedRule,
} from "../what-if";

const NOW = Date.parse("2026-12-07T12:00:00.000Z");
const OWNER = "alice";

const root = (id: string, resource: string): Claim => ({ id, holder: OWNER, resource, canRead: true, canWrite: true, canDelegate: true, confidence: 1 });
const grant = (id: string, holder: string, resource: string, rights: { r?: boolean; w?: boolean } = { r: true }): Claim => ({
  id,
  holder,
  resource,
  canRead: rights.r ?? false,
  canWrite: rights.w ?? false,
  canDelegate: false,
  confidence: 1,
  grantor: OWNER,
});

const REGISTRY: RegistryData = {
  version: 7,
  entities: [
    { id: OWNER, kind: "HUMAN", displayName: "Alice" },
    { id: "research-bot", kind: "MACHINE", displayName: "Research bot" },
    { id: "writer-bot", kind: "MACHINE", displayName: "Writer bot" },
  ],
  machineOwners: [
    { machine: "research-bot", owner: OWNER },
    { machine: "writer-bot", owner: OWNER },
  ],
  resources: [
    { id: "papers", type: "file", scope: "/data/alice/papers", isPublic: false, owner: OWNER },
    { id: "drafts", type: "file", scope: "/data/alice/drafts", isPublic: false, owner: OWNER },
  ],
  claims: [root("c-root-papers", "papers"), root("c-root-drafts", "drafts"), grant("g-research", "research-bot", "papers"), grant("g-writer", "writer-bot", "drafts", { r: true, w: true })],
  halts: [],
};

function action(actionId: string, actor: string, fields: { reads?: string[]; writes?: string[] }) {
  const p = parseAction({ actionId, actor, ...fields });
  if (!p.ok) throw new Error(`test action ${actionId} does not parse`);
  return p.action;
}

/** Five logged decisions: research-bot reads papers three times (and drafts once, blocked), writer-bot writes drafts. */
const ITEMS: ReplayItem[] = [
  { auditSeq: 10, actionId: "r1", machine: "research-bot", action: action("r1", "research-bot", { reads: ["papers"] }) },
  { auditSeq: 11, actionId: "w1", machine: "writer-bot", action: action("w1", "writer-bot", { writes: ["drafts"] }) },
  { auditSeq: 12, actionId: "r2", machine: "research-bot", action: action("r2", "research-bot", { reads: ["papers"] }) },
  { auditSeq: 13, actionId: "r3", machine: "research-bot", action: action("r3", "research-bot", { reads: ["drafts"] }) },
  { auditSeq: 14, actionId: "r4", machine: "research-bot", action: action("r4", "research-bot", { reads: ["papers"] }) },
];

const opts = { viewer: OWNER, now: NOW };

function kernelFlips(proposed: RegistryData) {
  return replayDecisions(buildSnapshot(REGISTRY), buildSnapshot(proposed), ITEMS, NOW);
}

function replayed(changes: Parameters<typeof applyChanges>[1]) {
  const r = replayLocally(REGISTRY, changes, ITEMS, opts);
  if (!r.ok) throw new Error(r.error);
  return r;
}

describe("applyChanges and the browser's replay", () => {
  it("a revocation gives the flips of the kernel on the registry without that grant", () => {
    const applied = applyChanges(REGISTRY, [{ op: "revoke", grant: "g-research" }], opts);
    expect(applied.ok).toBe(true);
    if (!applied.ok) return;
    expect(applied.registry.claims.find((c) => c.id === "g-research")?.revokedAt).toBe(NOW);
    // The original is untouched.
    expect(REGISTRY.claims.find((c) => c.id === "g-research")?.revokedAt).toBeUndefined();

    const byHand: RegistryData = { ...REGISTRY, claims: REGISTRY.claims.filter((c) => c.id !== "g-research") };
    const want = kernelFlips(byHand);
    const got = replayed([{ op: "revoke", grant: "g-research" }]);
    expect(got.result.flips).toEqual(want.flips);
    expect(got.result.flips.map((f) => f.actionId)).toEqual(["r1", "r2", "r4"]);
    expect(got.result.counts).toEqual({ byMachine: { "research-bot": 3 }, byCode: { READ_DENIED: 3 }, blocked: 3, permitted: 0 });
    expect(got.result.replayed).toBe(5);
    expect(got.perMachine).toEqual({ "research-bot": 4, "writer-bot": 1 });
    for (const f of got.result.flips) {
      expect(f.before).toEqual({ permitted: true, codes: [] });
      expect(f.after.permitted).toBe(false);
      expect(f.after.codes).toContain("READ_DENIED");
    }
  });

  it("a halt blocks every permitted action of that machine only; a resume undoes it", () => {
    const halted = replayed([{ op: "halt", machine: "writer-bot" }]);
    expect(halted.result.flips.map((f) => f.actionId)).toEqual(["w1"]);
    expect(halted.result.flips[0]!.after.codes).toContain("HALTED");
    expect(halted.result.flips).toEqual(kernelFlips({ ...REGISTRY, halts: [{ kind: "machine", target: "writer-bot" }] }).flips);

    const haltedRegistry: RegistryData = { ...REGISTRY, halts: [{ kind: "machine", target: "writer-bot" }] };
    const resumed = replayLocally(haltedRegistry, [{ op: "resume", machine: "writer-bot" }], ITEMS, opts);
    expect(resumed.ok && resumed.result.flips.map((f) => [f.actionId, f.before.permitted, f.after.permitted])).toEqual([["w1", false, true]]);
    // Halting and resuming in one set changes nothing.
    expect(replayed([{ op: "halt", machine: "writer-bot" }, { op: "resume", machine: "writer-bot" }]).result.flips).toEqual([]);
  });

  it("a grant the kernel accepts permits what it was missing; one it refuses fails the set with checkGrant's reasons", () => {
    const g = replayed([{ op: "grant", holder: "research-bot", resource: "drafts", canRead: true, canWrite: false, canDelegate: false }]);
    expect(g.result.flips.map((f) => f.actionId)).toEqual(["r3"]);
    expect(g.result.counts.permitted).toBe(1);
    expect(g.result.counts.blocked).toBe(0);

    // A machine that holds read without delegate cannot pass it on.
    const refused = applyChanges(REGISTRY, [{ op: "grant", holder: "writer-bot", grantor: "research-bot", resource: "papers", canRead: true, canWrite: false, canDelegate: false }], opts);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.refusals?.map((v) => v.code)).toContain("GRANTOR_LACKS_RIGHT");

    // The operator must name the grantor.
    expect(applyChanges(REGISTRY, [{ op: "grant", holder: "research-bot", resource: "drafts", canRead: true, canWrite: false, canDelegate: false }], { viewer: null, now: NOW }).ok).toBe(false);
  });

  it("removing a resource removes every claim on it by id; unknown names fail the set", () => {
    const applied = applyChanges(REGISTRY, [{ op: "removeResource", resource: "papers" }], opts);
    expect(applied.ok).toBe(true);
    if (!applied.ok) return;
    expect(applied.registry.resources.map((r) => r.id)).toEqual(["drafts"]);
    expect(applied.registry.claims.some((c) => c.resource === "papers")).toBe(false);
    expect(replayed([{ op: "removeResource", resource: "papers" }]).result.flips.map((f) => f.actionId)).toEqual(["r1", "r2", "r4"]);

    expect(applyChanges(REGISTRY, [{ op: "revoke", grant: "nope" }], opts)).toMatchObject({ ok: false });
    expect(applyChanges(REGISTRY, [{ op: "halt", machine: "alice" }], opts)).toMatchObject({ ok: false });
    expect(applyChanges(REGISTRY, [{ op: "removeRule", rule: "nope" }], opts)).toMatchObject({ ok: false });
  });

  it("an added resource comes with its owner's root claim", () => {
    const applied = applyChanges(REGISTRY, [{ op: "addResource", id: "notes", type: "file", scope: "/data/alice/notes" }], opts);
    expect(applied.ok).toBe(true);
    if (!applied.ok) return;
    expect(applied.registry.resources.find((r) => r.id === "notes")).toMatchObject({ owner: OWNER, isPublic: false });
    expect(applied.registry.claims.find((c) => c.resource === "notes")).toMatchObject({ holder: OWNER, canRead: true, canWrite: true, canDelegate: true });
  });

  it("an enforced deny rule flips what it matches; the same rule in shadow flips nothing", () => {
    const rule = { op: "addRule" as const, priority: 100, effect: "deny" as const, operations: ["read" as const], actorPattern: "research-*", scope: "/data/alice/papers" };
    const enforced = replayed([{ ...rule, mode: "enforce" }]);
    expect(enforced.result.flips.map((f) => f.actionId)).toEqual(["r1", "r2", "r4"]);
    expect(enforced.result.counts.byCode).toEqual({ POLICY_DENIED: 3 });
    expect(replayed([{ ...rule, mode: "shadow" }]).result.flips).toEqual([]);

    // Removing an enforced rule lifts its denials.
    const withRule = withRules(REGISTRY, [listedRule({ id: "rul_1", mode: "enforce" })]);
    const lifted = replayLocally(withRule, [{ op: "removeRule", rule: "rul_1" }], ITEMS, opts);
    expect(lifted.ok && lifted.result.flips.map((f) => [f.actionId, f.after.permitted])).toEqual([
      ["r1", true],
      ["r2", true],
      ["r4", true],
    ]);
  });
});

function listedRule(over: Partial<ListedRule>): ListedRule {
  return {
    id: "rul_x",
    priority: 100,
    effect: "deny",
    operations: ["read"],
    actorPattern: "research-*",
    scope: "/data/alice/papers",
    description: null,
    mode: "enforce",
    createdAt: "2026-12-07T00:00:00.000Z",
    shadowReport: null,
    ...over,
  };
}

describe("promotionChanges", () => {
  it("replays a shadow rule as if enforced: exactly the denials the shadow rule reports", () => {
    const shadow = listedRule({ id: "rul_shadow", mode: "shadow", description: "try it" });
    const registry = withRules(REGISTRY, [shadow]);
    // In shadow, nothing is blocked by it; the kernel reports what it would deny.
    const snap = buildSnapshot(registry);
    expect(replayDecisions(snap, snap, ITEMS, NOW).flips).toEqual([]);
    const changes = promotionChanges(shadow);
    expect(changes).toEqual([
      { op: "removeRule", rule: "rul_shadow" },
      { op: "addRule", id: "rul_shadow", priority: 100, effect: "deny", operations: ["read"], actorPattern: "research-*", scope: "/data/alice/papers", description: "try it", mode: "enforce" },
    ]);
    const promoted = replayLocally(registry, changes, ITEMS, opts);
    expect(promoted.ok).toBe(true);
    if (!promoted.ok) return;
    expect(promoted.result.flips.map((f) => f.actionId)).toEqual(["r1", "r2", "r4"]);
    expect(promoted.result.counts.byCode).toEqual({ POLICY_DENIED: 3 });
    // The same as the kernel on the registry with the rule enforced, built by hand.
    const byHand = withRules(REGISTRY, [{ ...shadow, mode: "enforce" }]);
    expect(promoted.result.flips).toEqual(replayDecisions(snap, buildSnapshot(byHand), ITEMS, NOW).flips);
  });
});

describe("withRules / rulesAsPolicies", () => {
  it("puts GET /rules into the registry as the kernel's rules: enforce has no mode, shadow keeps it", () => {
    const policies = rulesAsPolicies([listedRule({ id: "a", mode: "enforce", description: "no" }), listedRule({ id: "b", mode: "shadow" })]);
    expect(policies[0]).toEqual({ id: "a", priority: 100, effect: "deny", operations: ["read"], actorPattern: "research-*", scope: "/data/alice/papers", description: "no" });
    expect(policies[1]).toMatchObject({ id: "b", mode: "shadow" });
    expect(policies[1]).not.toHaveProperty("description");
    expect(withRules(REGISTRY, [])).toBe(REGISTRY);
    expect(() => buildSnapshot(withRules(REGISTRY, [listedRule({ mode: "shadow" })]))).not.toThrow();
  });
});

describe("replayItems", () => {
  it("reads decision entries newest-first into items oldest-first, skipping those without an action", () => {
    const entries = [
      { seq: 30, payload: { kind: "decision", record: { actionId: "c", actor: "m" }, action: { actionId: "c" } } },
      { seq: 29, payload: { kind: "authority", op: "grant" } },
      { seq: 28, payload: { kind: "decision", record: { actionId: "old", actor: "m" } } },
      { seq: 27, payload: { kind: "decision", record: { actionId: "a", actor: "n" }, action: { actionId: "a" } } },
    ];
    expect(replayItems(entries)).toEqual([
      { auditSeq: 27, actionId: "a", machine: "n", action: { actionId: "a" } },
      { auditSeq: 30, actionId: "c", machine: "m", action: { actionId: "c" } },
    ]);
  });
});

describe("compareWithServer", () => {
  it("agrees with the same answer and names what differs otherwise", () => {
    const local = replayed([{ op: "revoke", grant: "g-research" }]).result;
    expect(compareWithServer(local, { replayed: local.replayed, flips: local.flips, counts: local.counts })).toEqual({ agree: true, differences: [] });
    const fewer = local.flips.slice(1);
    const server = { replayed: 6, flips: fewer, counts: { ...local.counts, blocked: 2, byMachine: { "research-bot": 2 } } };
    const c = compareWithServer(local, server);
    expect(c.agree).toBe(false);
    expect(c.differences).toEqual(expect.arrayContaining(["replayed 6 decisions, the browser 5", "blocked 2, the browser 3"]));
  });
});

describe("filters and words", () => {
  const halt = replayed([{ op: "halt", machine: "research-bot" }, { op: "grant", holder: "writer-bot", resource: "papers", canRead: true, canWrite: false, canDelegate: false }]);
  it("filters flips by machine, direction and code", () => {
    const flips = halt.result.flips;
    expect(flips.map((f) => f.actionId)).toEqual(["r1", "r2", "r4"]);
    expect(filterFlips(flips, { machine: "writer-bot", direction: "", code: "" })).toEqual([]);
    expect(filterFlips(flips, { machine: "research-bot", direction: "blocked", code: "HALTED" })).toHaveLength(3);
    expect(filterFlips(flips, { machine: "", direction: "permitted", code: "" })).toEqual([]);
    expect(flipFacets(flips)).toEqual({ machines: ["research-bot"], codes: ["HALTED"] });

    const both = replayed([{ op: "revoke", grant: "g-research" }, { op: "grant", holder: "research-bot", resource: "drafts", canRead: true, canWrite: false, canDelegate: false }]).result.flips;
    expect(filterFlips(both, { machine: "", direction: "permitted", code: "" }).map((f) => f.actionId)).toEqual(["r3"]);
    expect(filterFlips(both, { machine: "", direction: "", code: "READ_DENIED" }).map((f) => f.actionId)).toEqual(["r1", "r2", "r3", "r4"]);
  });

  it("says what the change would have done, per machine, in one sentence", () => {
    const r = replayed([{ op: "revoke", grant: "g-research" }]);
    const name = (id: string) => REGISTRY.entities.find((e) => e.id === id)?.displayName ?? id;
    expect(previewSentence("Revoking this grant", r.result.flips, r.perMachine, r.result.replayed, name)).toBe("Revoking this grant would have blocked 3 of Research bot's last 4 actions.");
    expect(previewSentence("Halting it", [], {}, 5)).toBe("Halting it would have changed none of the outcomes of the last 5 decisions of your machines.");
    expect(previewSentence("Halting it", [], {}, 0)).toMatch(/nothing/);
    const g = replayed([{ op: "grant", holder: "research-bot", resource: "drafts", canRead: true, canWrite: false, canDelegate: false }]);
    expect(previewSentence("Approving", g.result.flips, g.perMachine, g.result.replayed)).toBe("Approving would have permitted 1 of research-bot's last 4 actions that was blocked.");
  });

  it("says the server's answer from its signed counts", () => {
    const r = replayed([{ op: "revoke", grant: "g-research" }]).result;
    expect(serverSentence("Revoking this grant", r)).toBe("Revoking this grant would have blocked 3 of the 5 decisions the server replayed (research-bot: 3).");
    expect(serverSentence("Halting it", { replayed: 1, counts: { blocked: 0, permitted: 0, byMachine: {}, byCode: {} } })).toBe(
      "Halting it would have changed none of the outcomes of the 1 decision the server replayed.",
    );
    expect(serverSentence("Approving", { replayed: 2, counts: { blocked: 1, permitted: 1, byMachine: { a: 1, b: 1 }, byCode: {} } }, (id) => id.toUpperCase())).toBe(
      "Approving would have blocked 1 and permitted 1 that was blocked of the 2 decisions the server replayed (A: 1, B: 1).",
    );
  });

  it("turns an approval's proposals into grant changes and every change into words", () => {
    const changes = proposalChanges([{ holder: "m", grantor: OWNER, scope: "/data/x.csv", canRead: true, canWrite: false, canDelegate: false, expiresAt: NOW }]);
    expect(changes).toEqual([{ op: "grant", holder: "m", grantor: OWNER, scope: "/data/x.csv", canRead: true, canWrite: false, canDelegate: false, expiresAt: "2026-12-07T12:00:00.000Z" }]);
    expect(describeChange(changes[0]!)).toBe(`grant read on scope /data/x.csv to m (from ${OWNER})`);
    expect(describeChange({ op: "revoke", grant: "g1" })).toBe("revoke grant g1");
    expect(describeChange({ op: "halt", machine: "m" })).toBe("halt machine m");
  });
});
