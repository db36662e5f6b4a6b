/**
 * The benchmarks' synthetic world (bench:kernel, bench:browser): a deterministic registry of a
 * given size, a fixed mix of agents' actions on it, and the what-if scenario both benches replay.
 * Pure (no Node built-ins), so it is bundled for the browser as it is.
 */
import type { ReplayItem } from "../lib/kernel/simulate";
import type { Claim, Entity, Halt, MachineOwner, RegistryData, Resource } from "../lib/kernel/types";

/** Deterministic PRNG (mulberry32) so every run measures the same registry and actions. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Size {
  readonly label: string;
  readonly resources: number;
  readonly humans: number;
  readonly machines: number;
}

export const SIZES: readonly Size[] = [
  { label: "200", resources: 200, humans: 20, machines: 40 },
  { label: "10,000", resources: 10_000, humans: 200, machines: 1_000 },
  { label: "100,000", resources: 100_000, humans: 1_000, machines: 10_000 },
];

export const NOW = Date.UTC(2025, 5, 1, 12);
const TYPES = ["file", "dataset", "database_table", "api_endpoint", "model_weights"] as const;

export interface World {
  readonly data: RegistryData;
  /** Resources owned by each human. */
  readonly owned: string[][];
  /** Resources delegated to each machine (read-only or read-write). */
  readonly delegated: { id: string; write: boolean }[][];
  readonly ownerOf: number[];
  readonly halted: Set<number>;
}

/**
 * Each human owns resources under /h<i>/p<k>/...: one root scope claim over their folder (read,
 * write, delegate) plus root claims on a tenth of their resources individually (as imported
 * ownership records would give). Each machine belongs to one human and gets ~10 resource
 * delegations (read, or read-write) and, for every fourth machine, a read delegation over a
 * whole project scope. A few claims are contested (confidence 0.7), a few grants expired or
 * revoked, and 1% of machines are halted.
 */
export function buildWorld(size: Size, seed: number): World {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const entities: Entity[] = [];
  const machineOwners: MachineOwner[] = [];
  const resources: Resource[] = [];
  const claims: Claim[] = [];
  const halts: Halt[] = [];
  const owned: string[][] = Array.from({ length: size.humans }, () => []);
  const delegated: { id: string; write: boolean }[][] = Array.from({ length: size.machines }, () => []);
  const ownerOf: number[] = [];
  const halted = new Set<number>();
  for (let h = 0; h < size.humans; h++) entities.push({ id: `h${h}`, kind: "HUMAN", displayName: `Human ${h}` });
  for (let m = 0; m < size.machines; m++) {
    const owner = m % size.humans;
    ownerOf.push(owner);
    entities.push({ id: `m${m}`, kind: "MACHINE", displayName: `Machine ${m}` });
    machineOwners.push({ machine: `m${m}`, owner: `h${owner}` });
  }
  for (let r = 0; r < size.resources; r++) {
    const owner = r % size.humans;
    const project = Math.floor(r / size.humans) % 8;
    const id = `r${r}`;
    resources.push({
      id,
      type: pick(TYPES),
      scope: `/h${owner}/p${project}/r${r}`,
      isPublic: rand() < 0.02,
      ...(rand() < 0.1 ? { ifcLabel: pick(["INTERNAL", "SECRET"]) } : {}),
    });
    owned[owner]!.push(id);
    if (r % 10 === 0) {
      claims.push({ id: `own-r${r}`, holder: `h${owner}`, resource: id, canRead: true, canWrite: true, canDelegate: true, confidence: rand() < 0.05 ? 0.7 : 1 });
    }
  }
  for (let h = 0; h < size.humans; h++) {
    claims.push({ id: `own-h${h}`, holder: `h${h}`, scope: `/h${h}`, canRead: true, canWrite: true, canDelegate: true, confidence: 1 });
  }
  let grant = 0;
  for (let m = 0; m < size.machines; m++) {
    const owner = ownerOf[m]!;
    const mine = owned[owner]!;
    for (let k = 0; k < 10 && mine.length > 0; k++) {
      const id = pick(mine);
      const write = rand() < 0.5;
      const roll = rand();
      claims.push({
        id: `g${grant++}`,
        holder: `m${m}`,
        resource: id,
        canRead: true,
        canWrite: write,
        canDelegate: false,
        confidence: roll < 0.03 ? 0.7 : 1,
        grantor: `h${owner}`,
        ...(roll > 0.98 ? { expiresAt: NOW - 1 } : roll > 0.96 ? { revokedAt: NOW - 1 } : {}),
      });
      if (roll <= 0.96) delegated[m]!.push({ id, write });
    }
    if (m % 4 === 0) {
      claims.push({ id: `g${grant++}`, holder: `m${m}`, scope: `/h${owner}/p${m % 8}`, canRead: true, canWrite: false, canDelegate: false, confidence: 1, grantor: `h${owner}` });
    }
    if (rand() < 0.01) {
      halts.push({ kind: "machine", target: `m${m}` });
      halted.add(m);
    }
  }
  return { data: { version: 1, entities, machineOwners, resources, claims, halts }, owned, delegated, ownerOf, halted };
}

/** ~60% actions that should pass, ~40% that must be blocked, as agents would send them. */
export function buildActions(world: World, size: Size, count: number, seed: number): Record<string, unknown>[] {
  const rand = rng(seed);
  const actions: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    let m = Math.floor(rand() * size.machines);
    while (world.halted.has(m) && rand() < 0.95) m = Math.floor(rand() * size.machines);
    const mine = world.delegated[m]!;
    const roll = rand();
    const base = { actionId: `a${i}`, actor: `m${m}` };
    if (roll < 0.6 && mine.length > 0) {
      const reads = [...new Set([mine[Math.floor(rand() * mine.length)]!.id, mine[Math.floor(rand() * mine.length)]!.id])];
      const writable = mine.filter((d) => d.write);
      const writes = writable.length > 0 && rand() < 0.5 ? [writable[Math.floor(rand() * writable.length)]!.id] : [];
      actions.push({ ...base, reads, writes, description: "summarise the quarterly report" });
    } else if (roll < 0.75) {
      // Reading another human's resource: A7.
      const other = (world.ownerOf[m]! + 1) % size.humans;
      const theirs = world.owned[other]!;
      actions.push({ ...base, reads: [theirs[Math.floor(rand() * theirs.length)]!] });
    } else if (roll < 0.85) {
      actions.push({ ...base, writes: [mine[0]?.id ?? "r0"], increases_machine_sovereignty: true, argument: "This is an emergency; the constraint must be suspended." });
    } else if (roll < 0.93) {
      actions.push({ ...base, reads: [`missing-${i}`] });
    } else {
      actions.push({ ...base, governsHumans: [`h${Math.floor(rand() * size.humans)}`] });
    }
  }
  return actions;
}

/**
 * The what-if scenario of both benches (issue 12): on `world`, a proposed registry that revokes
 * the root claims of a tenth of the owners and halts a twentieth more of the machines (20 and 50
 * on the 10,000-resource registry), and `count` logged actions to replay.
 */
export function replayScenario(world: World, size: Size, count: number): { proposed: RegistryData; items: ReplayItem[] } {
  const revoked = new Set(Array.from({ length: Math.floor(size.humans / 10) }, (_, h) => `own-h${h}`));
  const extraHalts = new Set(Array.from({ length: Math.floor(size.machines / 20) }, (_, i) => (i * 7 + 3) % size.machines).filter((m) => !world.halted.has(m)));
  const proposed: RegistryData = {
    ...world.data,
    version: 2,
    claims: world.data.claims.map((c) => (revoked.has(c.id) ? { ...c, revokedAt: NOW - 1 } : c)),
    halts: [...world.data.halts, ...[...extraHalts].map((m) => ({ kind: "machine" as const, target: `m${m}` }))],
  };
  const actions = buildActions(world, size, count, 11);
  const items = actions.map((a, i) => ({ auditSeq: i + 1, actionId: a.actionId as string, machine: a.actor as string, action: a }));
  return { proposed, items };
}
