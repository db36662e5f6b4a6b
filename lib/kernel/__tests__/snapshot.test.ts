import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import canonicalize from "canonicalize";
import { REGISTRY_DIGEST_DOMAIN, SnapshotError, buildSnapshot } from "../snapshot";
import type { Claim, RegistryData } from "../types";
import { verify } from "../verify";

const fixtures = (JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "vectors", "_fixtures.json"), "utf8")) as { fixtures: Record<string, unknown> })
  .fixtures;
const BASE = fixtures.base as RegistryData;

describe("buildSnapshot", () => {
  it("normalises: sorted lists, explicit policies and lattice, frozen", () => {
    const s = buildSnapshot({ ...BASE, claims: [...BASE.claims].reverse() });
    expect(s.data.claims.map((c) => c.id)).toEqual([...BASE.claims.map((c) => c.id)].sort());
    expect(s.data.policies).toEqual([]);
    expect(s.data.lattice).toEqual(["PUBLIC", "INTERNAL", "SECRET"]);
    expect(s.lattice).toEqual(["PUBLIC", "INTERNAL", "SECRET"]);
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.data.claims[0])).toBe(true);
  });

  it("digest: content only, independent of order and version, sensitive to every change", () => {
    const a = buildSnapshot(BASE);
    const b = buildSnapshot({
      ...BASE,
      version: 99,
      entities: [...BASE.entities].reverse(),
      resources: [...BASE.resources].reverse(),
      claims: [...BASE.claims].reverse(),
      machineOwners: [...BASE.machineOwners].reverse(),
      policies: [],
      lattice: ["PUBLIC", "INTERNAL", "SECRET"],
    });
    expect(b.digest).toBe(a.digest);
    expect(b.version).toBe(99);
    expect(a.ref).toEqual({ version: 7, digest: a.digest });
    expect(a.digest).toMatch(/^[0-9a-f]{64}$/);
    const changed: RegistryData[] = [
      { ...BASE, claims: BASE.claims.map((c, i) => (i === 0 ? { ...c, canWrite: !c.canWrite } : c)) },
      { ...BASE, claims: BASE.claims.map((c, i) => (i === 0 ? { ...c, expiresAt: 5 } : c)) },
      { ...BASE, halts: [{ kind: "all" }] },
      { ...BASE, lattice: ["PUBLIC", "SECRET"] },
      { ...BASE, entities: BASE.entities.map((e, i) => (i === 0 ? { ...e, displayName: "Alicia" } : e)) },
    ];
    for (const d of changed) expect(buildSnapshot(d).digest).not.toBe(a.digest);
  });

  it("digest known answer (a change here changes every recorded decision's digest)", () => {
    const s = buildSnapshot({
      version: 1,
      entities: [{ id: "h", kind: "HUMAN", displayName: "H" }],
      machineOwners: [],
      resources: [{ id: "r", type: "file", scope: "/r", isPublic: false }],
      claims: [{ id: "c", holder: "h", resource: "r", canRead: true, canWrite: false, canDelegate: false, confidence: 1 }],
      halts: [],
    });
    expect(s.digest).toBe("838f4ef92b99e5b325976dcc86cfbe526c86b91926838303a52b0771aa1f18ca");
    // The bytes hashed are the domain prefix and the JCS text of the normalised content, as the
    // RFC authors' implementation writes it.
    const content = {
      claims: s.data.claims,
      entities: s.data.entities,
      halts: s.data.halts,
      lattice: s.data.lattice,
      machineOwners: s.data.machineOwners,
      policies: s.data.policies,
      resources: s.data.resources,
    };
    const expected = bytesToHex(sha256(new TextEncoder().encode(REGISTRY_DIGEST_DOMAIN + (canonicalize(content) as string))));
    expect(s.digest).toBe(expected);
  });

  it("throws SnapshotError with every issue, capped, for invalid data", () => {
    const bad = {
      ...BASE,
      entities: [...BASE.entities, ...Array.from({ length: 300 }, (_, i) => ({ id: "", kind: "ROBOT", displayName: i }))],
    };
    let err: unknown;
    try {
      buildSnapshot(bad as unknown as RegistryData);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SnapshotError);
    const se = err as SnapshotError;
    expect(se.code).toBe("INVALID_REGISTRY");
    expect(se.issues.length).toBe(101);
    expect(se.issues[100]).toMatch(/^… and \d+ more$/);
    expect(se.message).toContain("invalid registry");
  });

  it("lookups", () => {
    const s = buildSnapshot({ ...BASE, halts: [{ kind: "owner", target: "alice" }] });
    expect(s.entity("bot")?.kind).toBe("MACHINE");
    expect(s.ownerOf("bot")).toBe("alice");
    expect(s.ownerOf("orphan")).toBeUndefined();
    expect(s.machinesOf("alice")).toEqual(["bot", "bot2"]);
    expect(s.resource("report")?.type).toBe("file");
    expect(s.claim("bot-data")?.grantor).toBe("alice");
    expect(s.claimsOf("bot").map((c) => c.id)).toEqual(["bot-data", "bot-report"]);
    expect(s.isHalted("bot")).toBe(true);
    expect(s.isHalted("bobbot")).toBe(false);
    expect(s.isClaimValid("bot-data", 1000)).toBe(true);
    expect(s.isClaimValid("bot-data", 1.5)).toBe(false);
  });
});

describe("grant chains: depth bound and cycles", () => {
  function chainRegistry(links: number): RegistryData {
    const machines = Array.from({ length: links }, (_, i) => `m${i}`);
    const claims: Claim[] = [{ id: "root", holder: "h", resource: "r", canRead: true, canWrite: false, canDelegate: true, confidence: 1 }];
    machines.forEach((m, i) =>
      claims.push({ id: `c${i}`, holder: m, resource: "r", canRead: true, canWrite: false, canDelegate: true, confidence: 1, grantor: i === 0 ? "h" : `m${i - 1}` }),
    );
    return {
      version: 1,
      entities: [{ id: "h", kind: "HUMAN", displayName: "h" }, ...machines.map((id) => ({ id, kind: "MACHINE" as const, displayName: id }))],
      machineOwners: machines.map((machine) => ({ machine, owner: "h" })),
      resources: [{ id: "r", type: "file", scope: "/r", isPublic: false }],
      claims,
      halts: [],
    };
  }
  it("a chain of 32 grants is valid, a chain of 33 is not", () => {
    const s = buildSnapshot(chainRegistry(33));
    expect(s.isClaimValid("c31", 0)).toBe(true); // 32 grants: h -> m0 -> ... -> m31
    expect(s.isClaimValid("c32", 0)).toBe(false); // 33 grants
    expect(verify(s, { actionId: "a", actor: "m31", reads: ["r"] }, 0).permitted).toBe(true);
    expect(verify(s, { actionId: "a", actor: "m32", reads: ["r"] }, 0).violations.map((v) => v.code)).toEqual(["NOT_DELEGATED_BY_OWNER"]);
  });
  it("long registries of chains build quickly (the fixpoint is linear per round)", () => {
    const start = performance.now();
    const s = buildSnapshot(chainRegistry(2000));
    expect(s.isClaimValid("c31", 0)).toBe(true);
    expect(s.isClaimValid("c1999", 0)).toBe(false);
    expect(performance.now() - start).toBeLessThan(5000);
  });
});

describe("scale", () => {
  it("verification cost does not grow with the registry (100k resources, 10k machines)", () => {
    const H = 5000;
    const M = 10_000;
    const R = 100_000;
    const entities: RegistryData["entities"][number][] = [];
    const machineOwners: RegistryData["machineOwners"][number][] = [];
    const resources: RegistryData["resources"][number][] = [];
    const claims: Claim[] = [];
    for (let h = 0; h < H; h++) entities.push({ id: `h${h}`, kind: "HUMAN", displayName: `h${h}` });
    for (let m = 0; m < M; m++) {
      entities.push({ id: `m${m}`, kind: "MACHINE", displayName: `m${m}` });
      machineOwners.push({ machine: `m${m}`, owner: `h${m % H}` });
    }
    for (let r = 0; r < R; r++) {
      resources.push({ id: `r${r}`, type: "file", scope: `/u/h${r % H}/d${r % 7}`, isPublic: false });
      claims.push({ id: `rc${r}`, holder: `h${r % H}`, resource: `r${r}`, canRead: true, canWrite: true, canDelegate: true, confidence: 1 });
    }
    for (let h = 0; h < H; h++) {
      claims.push({ id: `sc${h}`, holder: `h${h}`, scope: `/u/h${h}`, canRead: true, canWrite: true, canDelegate: true, confidence: 1 });
    }
    for (let m = 0; m < M; m++) {
      claims.push({ id: `mc${m}`, holder: `m${m}`, scope: `/u/h${m % H}/d${m % 7}`, canRead: true, canWrite: true, canDelegate: false, confidence: 1, grantor: `h${m % H}` });
    }
    const t0 = performance.now();
    const big = buildSnapshot({ version: 1, entities, machineOwners, resources, claims, halts: [] });
    const buildMs = performance.now() - t0;
    const small = buildSnapshot({
      version: 1,
      entities: entities.filter((e) => e.id === "h5" || e.id === "m5"),
      machineOwners: [{ machine: "m5", owner: "h5" }],
      resources: resources.filter((r) => r.id === "r5" || r.id === "r35005"),
      claims: claims.filter((c) => ["rc5", "rc35005", "sc5", "mc5"].includes(c.id)),
      halts: [],
    });
    const action = { actionId: "a", actor: "m5", reads: ["r35005"], writes: ["r5"] };
    expect(verify(big, action, 0).permitted).toBe(true);
    expect(verify(small, action, 0).permitted).toBe(true);
    const median = (s: typeof big): number => {
      const samples: number[] = [];
      for (let k = 0; k < 15; k++) {
        const n = 2000;
        const t = performance.now();
        for (let i = 0; i < n; i++) verify(s, action, 0);
        samples.push(((performance.now() - t) * 1000) / n);
      }
      return samples.sort((x, y) => x - y)[7] as number;
    };
    median(small);
    const smallUs = median(small);
    const bigUs = median(big);
    console.log(`scale: build ${buildMs.toFixed(0)} ms for 100k resources / 115k claims; verify median ${bigUs.toFixed(2)} µs (vs ${smallUs.toFixed(2)} µs on a 2-resource registry)`);
    // Loose bounds: this is a sanity check, the bench measures precisely.
    expect(buildMs).toBeLessThan(15_000);
    expect(bigUs).toBeLessThan(Math.max(25, smallUs * 4));
  });
});
