import { describe, expect, it } from "vitest";
import { ownerView } from "../../server/console";
import { resourceOwner, resourceOwners } from "../ownership";
import { buildSnapshot } from "../snapshot";
import type { Claim, RegistryData } from "../types";

const root = (id: string, holder: string, resource: string, extra: Partial<Claim> = {}): Claim => ({
  id,
  holder,
  resource,
  canRead: true,
  canWrite: true,
  canDelegate: true,
  confidence: 1,
  ...extra,
});

/** alice registered "disputed"; bob's root claim on it has the smaller id (the old browser rule's pick). */
const disputed: RegistryData = {
  version: 3,
  entities: [
    { id: "alice", kind: "HUMAN", displayName: "Alice" },
    { id: "bob", kind: "HUMAN", displayName: "Bob" },
  ],
  machineOwners: [],
  resources: [{ id: "disputed", type: "dataset", scope: "/data/alice", isPublic: false, owner: "alice" }],
  claims: [root("clm_a_zz", "alice", "disputed"), root("clm_0_bob", "bob", "disputed", { confidence: 0.6, canDelegate: false })],
  halts: [],
};

describe("resourceOwner (one rule for server and browser)", () => {
  it("names the registering human of a disputed resource, whatever the claims' order", () => {
    expect(resourceOwner(disputed, "disputed")).toBe("alice");
    const reversed = { ...disputed, claims: [...disputed.claims].reverse() };
    expect(resourceOwner(reversed, "disputed")).toBe("alice");
  });

  it("without a registering owner: the single root holder, and null (no guess) for a dispute", () => {
    const legacy = { resources: [{ id: "r" }, { id: "solo" }, { id: "none" }], claims: [root("1", "alice", "r"), root("2", "bob", "r"), root("3", "carol", "solo"), root("4", "dave", "none", { revokedAt: 5 })] };
    expect(resourceOwner(legacy, "r")).toBeNull();
    expect(resourceOwner(legacy, "solo")).toBe("carol");
    expect(resourceOwner(legacy, "none")).toBeNull();
    // A delegated claim never makes its holder an owner.
    expect(resourceOwner({ resources: [{ id: "d" }], claims: [root("5", "bot", "d", { grantor: "alice" })] }, "d")).toBeNull();
  });

  it("is total: unknown ids, __proto__ and junk entries give null, never a throw", () => {
    expect(resourceOwner(disputed, "__proto__")).toBeNull();
    expect(resourceOwner(disputed, "nope")).toBeNull();
    const junk = { resources: [null, 7, { id: 3 }, { id: "__proto__", owner: "x" }], claims: [null, "c"] } as unknown as Parameters<typeof resourceOwners>[0];
    expect(resourceOwner(junk, "__proto__")).toBe("x");
    expect(resourceOwners(null as unknown as Parameters<typeof resourceOwners>[0]).size).toBe(0);
  });

  it("the browser's registry view carries the owner, so both sides name the same one", () => {
    const snapshot = buildSnapshot(disputed);
    const { registry } = ownerView(snapshot, "bob");
    expect(registry.resources.map((r) => r.owner)).toEqual(["alice"]);
    expect(resourceOwner(registry, "disputed")).toBe(resourceOwner(snapshot.data, "disputed"));
  });

  it("the owner enters the digest only when present: existing registries keep theirs", () => {
    const { owner: _owner, ...bare } = disputed.resources[0]!;
    const without = buildSnapshot({ ...disputed, resources: [bare] });
    const withOwner = buildSnapshot(disputed);
    expect(without.digest).not.toBe(withOwner.digest);
    expect(buildSnapshot({ ...disputed, resources: [{ ...bare, owner: undefined }] }).digest).toBe(without.digest);
    expect(() => buildSnapshot({ ...disputed, resources: [{ ...bare, owner: 7 as unknown as string }] })).toThrow(/owner/);
  });
});
