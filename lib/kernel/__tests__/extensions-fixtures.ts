/** A small registry for the extension tests: two owners, their machines, an ownerless machine. */
import type { Claim, RegistryData } from "../types";

export const T0 = Date.UTC(2025, 5, 1);

const claim = (c: Partial<Claim> & Pick<Claim, "id" | "holder">): Claim => ({
  canRead: true,
  canWrite: false,
  canDelegate: false,
  confidence: 1,
  ...c,
});

export function baseRegistry(extra: Partial<RegistryData> = {}): RegistryData {
  return {
    version: 1,
    entities: [
      { id: "alice", kind: "HUMAN", displayName: "Alice" },
      { id: "bob", kind: "HUMAN", displayName: "Bob" },
      { id: "carol", kind: "HUMAN", displayName: "Carol" },
      { id: "bot", kind: "MACHINE", displayName: "ResearchBot" },
      { id: "bot2", kind: "MACHINE", displayName: "HelperBot" },
      { id: "bobbot", kind: "MACHINE", displayName: "Bob's bot" },
      { id: "orphan", kind: "MACHINE", displayName: "Nobody's bot" },
    ],
    machineOwners: [
      { machine: "bot", owner: "alice" },
      { machine: "bot2", owner: "alice" },
      { machine: "bobbot", owner: "bob" },
    ],
    resources: [
      { id: "alice-data", type: "dataset", scope: "/data/alice", isPublic: false },
      { id: "report.txt", type: "file", scope: "/outputs", isPublic: false },
      { id: "bob-private", type: "dataset", scope: "/data/bob", isPublic: false },
      { id: "shared-doc", type: "file", scope: "/shared/doc", isPublic: false },
    ],
    claims: [
      claim({ id: "c-alice-data", holder: "alice", resource: "alice-data", canWrite: true, canDelegate: true }),
      claim({ id: "c-alice-report", holder: "alice", resource: "report.txt", canWrite: true, canDelegate: true }),
      claim({ id: "c-bob-data", holder: "bob", resource: "bob-private" }),
      claim({ id: "c-bot-data", holder: "bot", resource: "alice-data", grantor: "alice" }),
      claim({ id: "c-bot-report", holder: "bot", resource: "report.txt", canWrite: true, grantor: "alice" }),
      // Two humans both claim to own /shared: a write conflict.
      claim({ id: "c-alice-shared", holder: "alice", scope: "/shared", canWrite: true, canDelegate: true }),
      claim({ id: "c-bob-shared", holder: "bob", resource: "shared-doc", canWrite: true, confidence: 0.9 }),
      // Alice shares /shared with carol: sharing, not a dispute.
      claim({ id: "c-carol-shared", holder: "carol", scope: "/shared", canWrite: true, grantor: "alice" }),
    ],
    halts: [],
    ...extra,
  };
}
