import "server-only";
import { buildSnapshot, type Snapshot } from "../kernel/snapshot";
import type { Budget, Claim, PolicyRule, Entity, Halt, MachineOwner, RegistryData, Resource, ResourceType } from "../kernel/types";
import type { Db } from "./db/client";
import { ApiError } from "./errors";
import { log } from "./log";

/**
 * Registry snapshots: the database's ownership graph as the kernel's frozen snapshot, cached per
 * registry version. Every change of authority bumps the version in its own transaction
 * (bumpRegistryVersion), and every decision batch reads the version inside its transaction, so
 * every replica decides against the newest committed state — a halt takes effect on the very next
 * decision everywhere.
 */
export type Tx = Omit<Db, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

export class SnapshotUnavailableError extends Error {
  readonly code = "SNAPSHOT_UNAVAILABLE";
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "SnapshotUnavailableError";
  }
}

export async function readRegistryVersion(tx: Tx): Promise<number> {
  const row = await tx.registryState.findUnique({ where: { id: 1 } });
  return row?.version ?? 0;
}

/** Bumps the registry version; call inside the transaction that changes authority. */
export async function bumpRegistryVersion(tx: Tx): Promise<number> {
  const row = await tx.registryState.upsert({
    where: { id: 1 },
    create: { id: 1, version: 1, updatedAt: new Date() },
    update: { version: { increment: 1 }, updatedAt: new Date() },
  });
  return row.version;
}

type RuleRow = Awaited<ReturnType<Tx["policyRule"]["findUniqueOrThrow"]>>;

/** A stored rule as the kernel's RegistryData carries it (registry.ts). */
export function ruleData(r: RuleRow): PolicyRule {
  return {
    id: r.id,
    priority: r.priority,
    effect: r.effect as "allow" | "deny",
    operations: JSON.parse(r.operations) as ("read" | "write" | "delegate")[],
    actorPattern: r.actorPattern,
    scope: r.scope,
    ...(r.description !== null ? { description: r.description } : {}),
    ...(r.mode === "shadow" ? { mode: "shadow" as const } : {}),
  } as PolicyRule;
}

export async function loadRegistryData(tx: Tx, version: number): Promise<RegistryData> {
  const [entityRows, resourceRows, claimRows, haltRows, ruleRows] = await Promise.all([
    tx.entity.findMany({ orderBy: { id: "asc" } }),
    tx.resource.findMany({ orderBy: { id: "asc" } }),
    tx.claim.findMany({ orderBy: { id: "asc" } }),
    tx.halt.findMany({ where: { liftedAt: null }, orderBy: { id: "asc" } }),
    tx.policyRule.findMany({ orderBy: { id: "asc" } }),
  ]);
  const entities: Entity[] = entityRows.map((e) => ({ id: e.id, kind: e.kind as Entity["kind"], displayName: e.displayName }));
  const machineOwners: MachineOwner[] = entityRows
    .filter((e) => e.kind === "MACHINE" && e.ownerId)
    .map((e) => ({ machine: e.id, owner: e.ownerId! }));
  const resources: Resource[] = resourceRows.map((r) => ({
    id: r.id,
    type: r.type as ResourceType,
    scope: r.scope,
    isPublic: r.isPublic,
    ...(r.ifcLabel ? { ifcLabel: r.ifcLabel } : {}),
    ...(r.ownerId ? { owner: r.ownerId } : {}),
  }));
  const claims: Claim[] = claimRows.map((c) => ({
    id: c.id,
    holder: c.holderId,
    ...(c.resourceId !== null ? { resource: c.resourceId } : {}),
    ...(c.scope !== null ? { scope: c.scope } : {}),
    canRead: c.canRead,
    canWrite: c.canWrite,
    canDelegate: c.canDelegate,
    confidence: c.confidence,
    ...(c.expiresAt ? { expiresAt: c.expiresAt.getTime() } : {}),
    ...(c.grantorId ? { grantor: c.grantorId } : {}),
    ...(c.revokedAt ? { revokedAt: c.revokedAt.getTime() } : {}),
    // Stored as the kernel's canonical JSON; buildSnapshot validates it again (a bad one fails closed).
    ...(c.budget !== null ? { budget: JSON.parse(c.budget) as Budget } : {}),
  }));
  const halts: Halt[] = haltRows.map((h) =>
    h.kind === "all" ? { kind: "all" } : { kind: h.kind as "machine" | "owner", target: h.target ?? "" },
  );
  return { version, entities, machineOwners, resources, claims, halts, ...(ruleRows.length > 0 ? { policies: ruleRows.map(ruleData) } : {}) };
}

/**
 * Per module instance, deliberately not on globalThis: a snapshot is usable only by the kernel
 * copy that built it (buildSnapshot keeps its index in that copy's WeakMap), and under `npm start`
 * the server's lean path and Next's bundle each have their own copy. Each checks the version in
 * every transaction, so neither can decide against a stale registry; the cost is that a process
 * whose console routes need the snapshot holds it twice.
 */
const cache: { current: Snapshot | null } = { current: null };

/**
 * The snapshot for the registry version committed now, as seen by `tx`. Cached per version: a
 * decision costs one indexed read when nothing changed. Throws SnapshotUnavailableError when the
 * registry cannot be read or does not validate — the caller answers BLOCKED.
 */
export async function currentSnapshot(tx: Tx): Promise<Snapshot> {
  let version: number;
  try {
    version = await readRegistryVersion(tx);
  } catch (e) {
    throw new SnapshotUnavailableError("the registry version cannot be read", e);
  }
  const cached = cache.current;
  if (cached && cached.version === version) return cached;
  try {
    const snapshot = buildSnapshot(await loadRegistryData(tx, version));
    if (!cache.current || cache.current.version <= version) cache.current = snapshot;
    return snapshot;
  } catch (e) {
    log("error", "registry snapshot failed to load", { version, error: e });
    throw new SnapshotUnavailableError("the registry snapshot cannot be loaded", e);
  }
}

/** For tests and the fault-injection hooks: forget the cached snapshot. */
export function dropSnapshotCache(): void {
  cache.current = null;
}

export function snapshotUnavailable(): ApiError {
  return new ApiError("SERVICE_UNAVAILABLE", "the registry cannot be loaded; nothing is permitted");
}
