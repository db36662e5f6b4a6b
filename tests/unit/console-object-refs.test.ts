/**
 * The console's pure helpers for object references (issue 10): what the approvals inbox would
 * grant and send, how the playground reads its entry lists, how audit records are read, and the
 * graph's "reach" answers and scope-claim placement — all decided by the kernel's own functions.
 */
import { describe, expect, it } from "vitest";
import {
  approvalTargets,
  gainText,
  grantProposals,
  grantedScope,
  widenCoverText,
  widenRequest,
  type MissingGrantView,
} from "@/components/approvals/approval-grants";
import { containingResources, registryToGraph, resourceNodeId, scopeNodeId } from "@/components/graph/model";
import { reachOfObject, reachersOfObject } from "@/components/graph/reach";
import type { RegistryDataJson } from "@/lib/contracts/console";
import { readResolved, resolveReference, splitEntries } from "@/lib/client/object-refs";
import { checkGrant } from "@/lib/kernel/grant";
import { buildSnapshot } from "@/lib/kernel/snapshot";

const NOW = 1_800_000_000_000;

const REGISTRY: RegistryDataJson = {
  version: 3,
  entities: [
    { id: "alice", kind: "HUMAN", displayName: "Alice" },
    { id: "bob", kind: "HUMAN", displayName: "Bob" },
    { id: "bot", kind: "MACHINE", displayName: "Bot" },
  ],
  machineOwners: [{ machine: "bot", owner: "alice" }],
  resources: [
    { id: "alice-data", type: "file", scope: "/data/alice", isPublic: false },
    { id: "alice-2026", type: "file", scope: "/data/alice/2026", isPublic: false },
    { id: "bob-data", type: "file", scope: "/data/bob", isPublic: false },
  ],
  claims: [
    { id: "c1", holder: "alice", resource: "alice-data", canRead: true, canWrite: true, canDelegate: true, confidence: 1 },
    { id: "c2", holder: "alice", resource: "alice-2026", canRead: true, canWrite: true, canDelegate: true, confidence: 1 },
    { id: "c3", holder: "bob", resource: "bob-data", canRead: true, canWrite: true, canDelegate: true, confidence: 1 },
    { id: "c4", holder: "bot", scope: "/data/alice/2026/q3.csv", canRead: true, canWrite: false, canDelegate: false, confidence: 1, grantor: "alice" },
  ],
  halts: [],
};

const snapshot = buildSnapshot(REGISTRY);

describe("approval targets", () => {
  const missing: MissingGrantView[] = [
    { resource: "report", right: "write", code: "WRITE_DENIED" },
    {
      resource: "file:///data/alice/2026/q4.csv",
      right: "read",
      code: "READ_DENIED",
      canonical: "/data/alice/2026/q4.csv",
      resolvedTo: "alice-2026",
      widenOptions: [
        { scope: "/data/alice/2026", covers: ["alice-2026"] },
        { scope: "/data/alice", covers: ["alice-data", "alice-2026"] },
      ],
    },
    { resource: "file:///data/alice/2026/q4.csv", right: "write", code: "WRITE_DENIED" },
  ];
  const targets = approvalTargets(missing);

  it("groups rights per reference as written and keeps ids as they were", () => {
    expect(targets.map((t) => [t.ref, [...t.rights], t.canonical])).toEqual([
      ["report", ["write"], null],
      ["file:///data/alice/2026/q4.csv", ["read", "write"], "/data/alice/2026/q4.csv"],
    ]);
    expect(gainText(targets, {})).toBe("write on report, and read + write on exactly /data/alice/2026/q4.csv");
  });

  it("grants exactly the object by default and sends no widen", () => {
    expect(widenRequest(targets, {})).toEqual([]);
    const proposals = grantProposals(targets, {}, { holder: "bot", grantor: "alice" }, NOW + 1000);
    expect(proposals).toEqual([
      { holder: "bot", grantor: "alice", resource: "report", canRead: false, canWrite: true, canDelegate: false, expiresAt: NOW + 1000 },
      { holder: "bot", grantor: "alice", scope: "/data/alice/2026/q4.csv", canRead: true, canWrite: true, canDelegate: false, expiresAt: NOW + 1000 },
    ]);
  });

  it("widens only to a scope the server offered", () => {
    const ref = "file:///data/alice/2026/q4.csv";
    expect(widenRequest(targets, { [ref]: "/data/alice" })).toEqual([{ ref, scope: "/data/alice" }]);
    expect(gainText(targets, { [ref]: "/data/alice" })).toContain("read + write on every object under /data/alice");
    // A scope the server did not offer (or a choice for an id) is ignored, never sent.
    expect(widenRequest(targets, { [ref]: "/data", report: "/x" })).toEqual([]);
    expect(grantedScope(targets[1]!, { [ref]: "/" })).toBe("/data/alice/2026/q4.csv");
  });

  it("says what widening would also cover", () => {
    expect(widenCoverText({ scope: "/data/alice", covers: ["alice-data", "alice-2026"] })).toBe(
      "also covers every object under /data/alice, including resources: alice-data, alice-2026",
    );
    expect(widenCoverText({ scope: "/data/alice/x", covers: [] })).toContain("no registered resource");
  });

  it("canonicalizes in the browser when the server sent no canonical, and flags what does not canonicalize", () => {
    const [ok, bad] = approvalTargets([
      { resource: "https://API.Example.com:443/a", right: "read", code: "READ_DENIED" },
      { resource: "/data/alice/../bob", right: "read", code: "READ_DENIED" },
    ]);
    expect(ok!.canonical).toBe("/https/api.example.com/a");
    expect(bad!.canonical).toBeNull();
    expect(bad!.invalid).toMatch(/\.\./);
    expect(grantProposals([bad!], {}, { holder: "bot", grantor: "alice" }, NOW + 1)).toEqual([]);
  });

  it("feeds the kernel's checkGrant: the owner may grant inside her folder, not inside bob's", () => {
    const mine = grantProposals(approvalTargets([{ resource: "/data/alice/new.txt", right: "read", code: "READ_DENIED" }]), {}, { holder: "bot", grantor: "alice" }, NOW + 60_000);
    expect(checkGrant(snapshot, mine[0]!, NOW).ok).toBe(true);
    const theirs = grantProposals(approvalTargets([{ resource: "/data/bob/x.txt", right: "read", code: "READ_DENIED" }]), {}, { holder: "bot", grantor: "alice" }, NOW + 60_000);
    expect(checkGrant(snapshot, theirs[0]!, NOW).ok).toBe(false);
  });
});

describe("entries and records", () => {
  it("splits ids on commas and spaces but takes a reference line whole", () => {
    expect(splitEntries("a, b c\n/data/my docs/x,y.txt\n\n  https://h/p  \nmailto:bob@example.com")).toEqual([
      "a",
      "b",
      "c",
      "/data/my docs/x,y.txt",
      "https://h/p",
      "mailto:bob@example.com",
    ]);
  });

  it("reads resolved from a record and skips malformed entries", () => {
    expect(readResolved({ resolved: [{ ref: "/a", canonical: "/a", resource: "r" }, { ref: "/b", canonical: "/b" }, { ref: 1 }, null] })).toEqual([
      { ref: "/a", canonical: "/a", resource: "r" },
      { ref: "/b", canonical: "/b" },
    ]);
    expect(readResolved({ resolved: "nope" })).toEqual([]);
    expect(readResolved(null)).toEqual([]);
    const getter = { get resolved() { throw new Error("must not run"); } };
    expect(readResolved(getter)).toEqual([]);
  });

  it("resolves a reference by the kernel's rule: the most specific containing resource", () => {
    expect(resolveReference(snapshot, "file:///data/alice/2026/q3.csv", "bot", NOW)).toEqual({
      ok: true,
      ref: "file:///data/alice/2026/q3.csv",
      canonical: "/data/alice/2026/q3.csv",
      resource: "alice-2026",
    });
    expect(resolveReference(snapshot, "/elsewhere/x", "bot", NOW)).toMatchObject({ ok: true, resource: null });
    expect(resolveReference(snapshot, "/data//x", "bot", NOW).ok).toBe(false);
  });
});

describe("graph: reach of objects and scope claims on resources", () => {
  const graph = registryToGraph(REGISTRY, null, snapshot, NOW);

  it("answers what a machine can do on one object, by verify", () => {
    const granted = reachOfObject(snapshot, graph, "bot", "/data/alice/2026/q3.csv", NOW);
    expect("error" in granted ? granted.error : granted.rows).toEqual([{ id: "/data/alice/2026/q3.csv", read: true, write: false }]);
    const sibling = reachOfObject(snapshot, graph, "bot", "/data/alice/2026/q4.csv", NOW);
    expect("error" in sibling ? sibling.error : [sibling.rows, sibling.object]).toEqual([[], { ref: "/data/alice/2026/q4.csv", canonical: "/data/alice/2026/q4.csv", resource: "alice-2026" }]);
    expect(reachOfObject(snapshot, graph, "bot", "/data/alice/./x", NOW)).toHaveProperty("error");
  });

  it("answers who can reach an object, and lights its resource and the scope claim", () => {
    const h = reachersOfObject(snapshot, REGISTRY, graph, "/data/alice/2026/q3.csv", NOW);
    if ("error" in h) throw new Error(h.error);
    expect(h.rows).toEqual([
      { id: "alice", read: true, write: true },
      { id: "bot", read: true, write: false },
    ]);
    expect(h.nodes.has(resourceNodeId("alice-2026"))).toBe(true);
    expect(h.nodes.has(scopeNodeId("/data/alice/2026/q3.csv"))).toBe(true);
    const other = reachersOfObject(snapshot, REGISTRY, graph, "/data/bob/q3.csv", NOW);
    expect("error" in other ? other.error : other.rows.map((r) => r.id)).toEqual(["bob"]);
  });

  it("shows a scope claim on the most specific resource containing it", () => {
    expect([...containingResources(REGISTRY, ["/data/alice/2026/q3.csv", "/data/alice/x", "/data/alice", "/nowhere"])]).toEqual([
      ["/data/alice/2026/q3.csv", ["alice-2026"]],
      ["/data/alice/x", ["alice-data"]],
      ["/data/alice", ["alice-data"]],
    ]);
    const node = (id: string) => graph.nodes.find((n) => n.id === resourceNodeId(id))!;
    expect(node("alice-2026").data.scopeClaims).toEqual(["/data/alice/2026/q3.csv"]);
    expect(node("alice-data").data.scopeClaims).toEqual([]);
    const contains = graph.edges.filter((e) => e.data.kind === "contains");
    expect(contains.map((e) => [e.source, e.target, e.label])).toEqual([[resourceNodeId("alice-2026"), scopeNodeId("/data/alice/2026/q3.csv"), "contains"]]);
  });
});
