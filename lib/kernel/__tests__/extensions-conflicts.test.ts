import { describe, expect, it } from "vitest";
import {
  claimChanges,
  detectConflicts,
  emptyConflictQueue,
  enqueueConflicts,
  reopenConflict,
  resolveConflict,
  suggestResolution,
  type WriteConflict,
} from "../extensions/conflicts";
import { buildSnapshot } from "../snapshot";
import type { Claim, RegistryData } from "../types";
import { T0, baseRegistry } from "./extensions-fixtures";

const snapshot = buildSnapshot(baseRegistry());
const w = (c: Partial<Claim> & Pick<Claim, "id" | "holder">): Claim => ({
  canRead: true,
  canWrite: true,
  canDelegate: false,
  confidence: 1,
  ...c,
});
const withClaims = (claims: Claim[], reg: RegistryData = baseRegistry()) => buildSnapshot({ ...reg, claims: [...reg.claims, ...claims] });

describe("detectConflicts", () => {
  it("finds overlapping write claims between different humans, each pair once", () => {
    expect(detectConflicts(snapshot, T0)).toEqual([
      {
        id: "conflict:c-alice-shared|c-bob-shared",
        claims: ["c-alice-shared", "c-bob-shared"],
        holders: ["alice", "bob"],
        confidences: [1, 0.9],
        overlap: { resource: "shared-doc" },
      },
    ]);
  });

  it("delegated rights are never queued on their own (carol's write comes from alice)", () => {
    const ids = detectConflicts(snapshot, T0).flatMap((c) => c.claims);
    expect(ids).not.toContain("c-carol-shared");
  });

  it("same resource, nested scopes, and scope-vs-resource all overlap; disjoint scopes do not", () => {
    const s = withClaims([
      w({ id: "b-report", holder: "bob", resource: "report.txt" }),
      w({ id: "b-data", holder: "bob", scope: "/data" }),
      w({ id: "c-alice2", holder: "carol", scope: "/data/alice2" }),
    ]);
    const found = detectConflicts(s, T0).map((c) => [c.id, c.overlap]);
    expect(found).toEqual([
      ["conflict:b-data|c-alice-data", { resource: "alice-data" }],
      ["conflict:b-data|c-alice2", { scope: "/data/alice2" }],
      ["conflict:b-report|c-alice-report", { resource: "report.txt" }],
      ["conflict:c-alice-shared|c-bob-shared", { resource: "shared-doc" }],
    ]);
    // /data/alice and /data/alice2 are disjoint: carol's claim does not touch alice-data.
    expect(found.map(([id]) => id)).not.toContain("conflict:c-alice-data|c-alice2");
  });

  it("ignores read-only, machine, expired and revoked claims", () => {
    const s = withClaims([
      w({ id: "b-ro", holder: "bob", resource: "alice-data", canWrite: false }),
      w({ id: "b-old", holder: "bob", resource: "report.txt", expiresAt: T0 - 1 }),
      w({ id: "b-rev", holder: "bob", scope: "/data", revokedAt: T0 }),
    ]);
    expect(detectConflicts(s, T0).map((c) => c.id)).toEqual(["conflict:c-alice-shared|c-bob-shared"]);
    expect(detectConflicts(s, T0 - 2).map((c) => c.id)).toContain("conflict:b-old|c-alice-report");
  });

  it("is deterministic and returns [] for a bad time", () => {
    expect(detectConflicts(snapshot, T0)).toEqual(detectConflicts(snapshot, T0));
    expect(detectConflicts(snapshot, 0.5)).toEqual([]);
  });
});

describe("the queue", () => {
  const conflicts = detectConflicts(withClaims([w({ id: "b-report", holder: "bob", resource: "report.txt", confidence: 0.7 })]), T0);

  it("enqueues each conflict once, sorted, without mutating", () => {
    const q0 = emptyConflictQueue();
    const q1 = enqueueConflicts(q0, [...conflicts].reverse());
    expect(q0.pending).toEqual([]);
    expect(q1.pending.map((c) => c.id)).toEqual(conflicts.map((c) => c.id));
    expect(enqueueConflicts(q1, conflicts)).toBe(q1);
    expect(Object.isFrozen(q1.pending)).toBe(true);
  });

  it("suggests deterministically: higher confidence kept, else both lowered", () => {
    const [reportConflict, sharedConflict] = [conflicts[0]!, conflicts[1]!];
    expect(reportConflict.id).toBe("conflict:b-report|c-alice-report");
    expect(suggestResolution(reportConflict)).toEqual({ kind: "keep_one", keep: "c-alice-report" });
    expect(suggestResolution(sharedConflict)).toEqual({ kind: "keep_one", keep: "c-alice-shared" });
    const tie: WriteConflict = { ...sharedConflict, confidences: [1, 1] };
    expect(suggestResolution(tie)).toEqual({ kind: "lower_confidence", confidence: 0.5 });
    expect(suggestResolution(tie)).toEqual(suggestResolution(tie));
  });

  it("resolves: moves the conflict to resolved and returns an audit-ready record", () => {
    const s = withClaims([w({ id: "b-report", holder: "bob", resource: "report.txt", confidence: 0.7 })]);
    const q = enqueueConflicts(emptyConflictQueue(), conflicts);
    const id = conflicts[0]!.id;
    const out = resolveConflict(q, id, { kind: "keep_one", keep: "c-alice-report" }, { by: "bob", now: T0, snapshot: s });
    if (!out.ok) throw new Error(out.message);
    expect(out.record).toEqual({
      conflictId: id,
      claims: ["b-report", "c-alice-report"],
      holders: ["bob", "alice"],
      resolution: { kind: "keep_one", keep: "c-alice-report" },
      changes: [{ claim: "b-report", change: "revoke_write" }],
      by: "bob",
      resolvedAt: "2025-06-01T00:00:00.000Z",
    });
    expect(out.queue.pending.map((c) => c.id)).toEqual([conflicts[1]!.id]);
    expect(out.queue.resolved).toEqual([out.record]);
    expect(q.pending).toHaveLength(2);
    // Resolved conflicts are not re-queued silently, but can be re-opened explicitly.
    expect(enqueueConflicts(out.queue, conflicts).pending).toHaveLength(1);
    expect(reopenConflict(out.queue, conflicts[0]!).pending).toHaveLength(2);
  });

  it("refuses outsiders, unknown conflicts and bad resolutions", () => {
    const q = enqueueConflicts(emptyConflictQueue(), conflicts);
    const id = conflicts[1]!.id; // alice vs bob on shared-doc
    const opts = { by: "alice", now: T0, snapshot };
    const reason = (o: ReturnType<typeof resolveConflict>) => (o.ok ? "OK" : o.reason);
    expect(reason(resolveConflict(q, "conflict:nope", { kind: "keep_one", keep: "x" }, opts))).toBe("UNKNOWN_CONFLICT");
    expect(reason(resolveConflict(q, id, { kind: "keep_one", keep: "c-bob-shared" }, { ...opts, by: "carol" }))).toBe("NOT_A_PARTY");
    expect(reason(resolveConflict(q, id, { kind: "keep_one", keep: "c-bob-shared" }, { ...opts, by: "op", operators: ["op"] }))).toBe("OK");
    expect(reason(resolveConflict(q, id, { kind: "keep_one", keep: "c-carol-shared" }, opts))).toBe("BAD_RESOLUTION");
    expect(reason(resolveConflict(q, id, { kind: "lower_confidence", confidence: 0.8 }, opts))).toBe("BAD_RESOLUTION");
    expect(reason(resolveConflict(q, id, { kind: "lower_confidence", confidence: 0 }, opts))).toBe("BAD_RESOLUTION");
    expect(reason(resolveConflict(q, id, { kind: "teleport" } as never, opts))).toBe("BAD_RESOLUTION");
    expect(reason(resolveConflict(q, id, { kind: "keep_one", keep: "c-bob-shared" }, { ...opts, now: 1.5 }))).toBe("BAD_RESOLUTION");
  });

  it("lower_confidence never raises a confidence", () => {
    const c = conflicts[1]!;
    expect(claimChanges(c, { kind: "lower_confidence", confidence: 0.75 }, snapshot)).toEqual([
      { claim: "c-alice-shared", change: "set_confidence", confidence: 0.75 },
      { claim: "c-bob-shared", change: "set_confidence", confidence: 0.75 },
    ]);
    const low = { ...c, confidences: [0.6, 0.9] as const };
    expect(claimChanges(low, { kind: "lower_confidence", confidence: 0.7 }, snapshot)[0]).toEqual({
      claim: "c-alice-shared",
      change: "set_confidence",
      confidence: 0.6,
    });
  });

  it("split_scopes: disjoint scopes inside each claim's target", () => {
    const s = withClaims([w({ id: "b-shared", holder: "bob", scope: "/shared" })]);
    const c = detectConflicts(s, T0).find((x) => x.id === "conflict:b-shared|c-alice-shared")!;
    expect(c).toBeDefined();
    expect(
      claimChanges(c, { kind: "split_scopes", scopes: [{ claim: "b-shared", scope: "/shared/bob" }, { claim: "c-alice-shared", scope: "/shared/alice" }] }, s),
    ).toEqual([
      { claim: "b-shared", change: "set_scope", scope: "/shared/bob" },
      { claim: "c-alice-shared", change: "set_scope", scope: "/shared/alice" },
    ]);
    const bad = [
      [{ claim: "b-shared", scope: "/shared" }, { claim: "c-alice-shared", scope: "/shared/alice" }], // overlap
      [{ claim: "b-shared", scope: "/elsewhere" }, { claim: "c-alice-shared", scope: "/shared/alice" }], // outside
      [{ claim: "b-shared", scope: "/shared/a" }, { claim: "b-shared", scope: "/shared/b" }], // same claim twice
      [{ claim: "b-shared", scope: "/shared/a/" }, { claim: "c-alice-shared", scope: "/shared/b" }], // non-canonical
    ];
    for (const scopes of bad) expect(claimChanges(c, { kind: "split_scopes", scopes }, s)).toEqual([]);
    // A claim on a single resource cannot be split.
    const rc = conflicts[1]!;
    expect(claimChanges(rc, { kind: "split_scopes", scopes: [{ claim: "c-bob-shared", scope: "/shared/doc/x" }, { claim: "c-alice-shared", scope: "/shared/y" }] }, snapshot)).toEqual([]);
  });
});
