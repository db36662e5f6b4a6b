/**
 * fast-check arbitraries for the kernel: small random universes (humans, machines, owners,
 * resources in a scope tree, claims with random grantors, rights, expiries, revocations,
 * confidences, halts, policies) and actions over them. Shared by the quick property tests and
 * the long-run fuzz script (bench/kernel-fuzz.ts).
 *
 * Specs are generated as indices and materialised into valid RegistryData, so every generated
 * registry builds; invalid registries are the bad-input corpus's business.
 */
import fc from "fast-check";
import { refScopeContains } from "./reference";
import { FLAGS, type Action, type Claim, type Flag, type Halt, type PolicyRule, type RegistryData, type Resource } from "../types";

export const NOW = 1_000_000;
export const SCOPES = ["", "/", "/a", "/a/b", "/a/b/c", "/a2", "/x"] as const;
export const LABELS = [undefined, undefined, "PUBLIC", "INTERNAL", "SECRET"] as const;
const TYPES = ["file", "dataset", "api_endpoint"] as const;

export interface ClaimSpec {
  holder: number;
  target: { resource: number } | { scope: string };
  canRead: boolean;
  canWrite: boolean;
  canDelegate: boolean;
  confidence: number;
  expires: number | undefined;
  revoked: number | undefined;
  /** "owner": the holder's owner (machines) or a root (humans); "root": no grantor for humans; a number: that entity. */
  grantor: "owner" | "root" | number;
  /** Also give the grantor a root claim that backs this one (when the grantor is a human). */
  backed: boolean;
}

/** A deliberate grant chain, so that deep (valid and broken) chains are common. */
export interface ChainSpec {
  /** Entity indices, top (root) first. */
  links: number[];
  target: { resource: number } | { scope: string };
  canRead: boolean;
  canWrite: boolean;
  /** none, or break link k by expiring, revoking, dropping canDelegate or widening rights. */
  tamper: { kind: "none" } | { kind: "expire" | "revoke" | "nodelegate" | "widen"; at: number };
  /** Order the links as a well-formed chain: humans first, then machines of the last human. */
  coherent: boolean;
  /** Confidence of the last link. */
  confidence: number;
}

export interface RegistrySpec {
  chains: ChainSpec[];
  humans: number;
  machines: number;
  owners: number[];
  resources: { scope: string; isPublic: boolean; label: string | undefined; type: string }[];
  claims: ClaimSpec[];
  halts: { kind: "machine" | "owner" | "all"; target: number }[];
  policies: { priority: number; effect: "allow" | "deny"; ops: ("read" | "write" | "delegate")[]; pattern: string; scope: string }[];
}

export const claimSpecArb: fc.Arbitrary<ClaimSpec> = fc.record({
  holder: fc.nat({ max: 6 }),
  target: fc.oneof(
    { weight: 3, arbitrary: fc.record({ resource: fc.nat({ max: 4 }) }) },
    { weight: 2, arbitrary: fc.record({ scope: fc.constantFrom(...SCOPES) }) },
  ),
  canRead: fc.boolean(),
  canWrite: fc.boolean(),
  canDelegate: fc.boolean(),
  confidence: fc.constantFrom(1, 1, 1, 0.9, 0.5, 0),
  expires: fc.constantFrom(undefined, undefined, undefined, -5, 0, 5),
  revoked: fc.constantFrom(undefined, undefined, undefined, undefined, -5, 0, 5),
  grantor: fc.oneof(
    { weight: 4, arbitrary: fc.constant("owner" as const) },
    { weight: 2, arbitrary: fc.constant("root" as const) },
    { weight: 3, arbitrary: fc.nat({ max: 6 }) },
  ),
  backed: fc.boolean(),
});

export const chainSpecArb: fc.Arbitrary<ChainSpec> = fc.record({
  links: fc.array(fc.nat({ max: 6 }), { minLength: 2, maxLength: 6, size: "max" }),
  target: fc.oneof(fc.record({ resource: fc.nat({ max: 4 }) }), fc.record({ scope: fc.constantFrom(...SCOPES) })),
  canRead: fc.boolean(),
  canWrite: fc.boolean(),
  tamper: fc.oneof(
    { weight: 3, arbitrary: fc.constant({ kind: "none" as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom("expire" as const, "revoke" as const, "nodelegate" as const, "widen" as const), at: fc.nat({ max: 5 }) }) },
  ),
  coherent: fc.boolean(),
  confidence: fc.constantFrom(1, 1, 0.5),
});

export const registrySpecArb: fc.Arbitrary<RegistrySpec> = fc.record({
  chains: fc.array(chainSpecArb, { maxLength: 3 }),
  humans: fc.integer({ min: 1, max: 3 }),
  machines: fc.integer({ min: 0, max: 4 }),
  owners: fc.array(fc.integer({ min: -1, max: 2 }), { minLength: 4, maxLength: 4 }),
  resources: fc.array(
    fc.record({
      scope: fc.constantFrom(...SCOPES),
      isPublic: fc.constantFrom(false, false, false, true),
      label: fc.constantFrom(...LABELS),
      type: fc.constantFrom(...TYPES),
    }),
    { minLength: 1, maxLength: 5 },
  ),
  claims: fc.array(claimSpecArb, { maxLength: 18 }),
  halts: fc.oneof(
    { weight: 4, arbitrary: fc.constant([] as { kind: "machine" | "owner" | "all"; target: number }[]) },
    { weight: 1, arbitrary: fc.array(fc.record({ kind: fc.constantFrom("machine" as const, "owner" as const, "all" as const), target: fc.nat({ max: 6 }) }), { minLength: 1, maxLength: 2 }) },
  ),
  policies: fc.oneof(
    { weight: 3, arbitrary: fc.constant([] as RegistrySpec["policies"]) },
    { weight: 1, arbitrary: fc.array(
    fc.record({
      priority: fc.nat({ max: 2 }),
      effect: fc.constantFrom("allow" as const, "deny" as const),
      ops: fc.subarray(["read", "write", "delegate"] as ("read" | "write" | "delegate")[], { minLength: 1 }),
      pattern: fc.constantFrom("*", "m*", "h0", "*1", "m2"),
      scope: fc.constantFrom(...SCOPES),
    }),
    { minLength: 1, maxLength: 2 },
  ) },
  ),
});

export interface Universe {
  data: RegistryData;
  humans: string[];
  machines: string[];
  entities: string[];
  resources: string[];
}

/** Turns a spec into valid registry data. */
export function materialise(spec: RegistrySpec, now = NOW): Universe {
  const humans = Array.from({ length: spec.humans }, (_, i) => `h${i}`);
  const machines = Array.from({ length: spec.machines }, (_, i) => `m${i}`);
  const entities = [...humans, ...machines];
  const ownerOf = new Map<string, string>();
  machines.forEach((m, i) => {
    const o = spec.owners[i] ?? -1;
    if (o >= 0) ownerOf.set(m, humans[o % humans.length] as string);
  });
  const resources: Resource[] = spec.resources.map((r, i) => ({
    id: `r${i}`,
    type: r.type as Resource["type"],
    scope: r.scope,
    isPublic: r.isPublic,
    ...(r.label !== undefined ? { ifcLabel: r.label } : {}),
  }));
  const backing: Claim[] = [];
  const claims: Claim[] = spec.claims.map((c, i) => {
    const holder = entities[c.holder % entities.length] as string;
    const isMachine = holder.startsWith("m");
    let grantor: string | undefined;
    if (typeof c.grantor === "number") grantor = entities[c.grantor % entities.length];
    else if (isMachine) grantor = ownerOf.get(holder) ?? humans[0];
    else grantor = undefined;
    // A machine never holds a root claim; a human may still get a grantor from the number branch.
    if (isMachine && grantor === undefined) grantor = humans[0];
    const target = "resource" in c.target ? { resource: `r${c.target.resource % resources.length}` } : { scope: c.target.scope };
    if (c.backed && grantor !== undefined && grantor.startsWith("h")) {
      backing.push({ id: `b${i}`, holder: grantor, ...target, canRead: c.canRead, canWrite: c.canWrite, canDelegate: true, confidence: 1 });
    }
    return {
      id: `c${i}`,
      holder,
      ...target,
      canRead: c.canRead,
      canWrite: c.canWrite,
      canDelegate: c.canDelegate,
      confidence: c.confidence,
      ...(c.expires !== undefined ? { expiresAt: now + c.expires } : {}),
      ...(grantor !== undefined ? { grantor } : {}),
      ...(c.revoked !== undefined ? { revokedAt: now + c.revoked } : {}),
    };
  });
  claims.push(...backing);
  spec.chains.forEach((ch, k) => {
    // Prefer machines' real owners at the machine end so that valid chains are common.
    let holders = ch.links.map((l) => entities[l % entities.length] as string);
    if (ch.coherent) {
      const hs = holders.filter((h) => h.startsWith("h"));
      const lastHuman = hs[hs.length - 1] ?? humans[0];
      const own = machines.filter((m) => ownerOf.get(m) === lastHuman);
      const ms = holders.filter((h) => h.startsWith("m")).map((m, i) => (own.length > 0 ? (own[(Number(m.slice(1)) + i) % own.length] as string) : m));
      holders = [...(hs.length > 0 ? hs : [lastHuman as string]), ...ms];
    }
    const target = "resource" in ch.target ? { resource: `r${ch.target.resource % resources.length}` } : { scope: ch.target.scope };
    holders.forEach((holder, j) => {
      const prev = j === 0 ? undefined : holders[j - 1];
      let grantor = prev;
      if (j === 0 && holder.startsWith("m")) grantor = ownerOf.get(holder) ?? humans[0];
      const t = ch.tamper;
      const hit = t.kind !== "none" && t.at % holders.length === j;
      const last = j === holders.length - 1;
      claims.push({
        id: `k${k}-${j}`,
        holder,
        ...target,
        canRead: ch.canRead || (hit && t.kind === "widen" && last),
        canWrite: ch.canWrite || (hit && t.kind === "widen"),
        canDelegate: !(hit && t.kind === "nodelegate") && (!last || j % 2 === 0),
        confidence: last ? ch.confidence : 1,
        ...(hit && t.kind === "expire" ? { expiresAt: now - 1 } : {}),
        ...(grantor !== undefined && grantor !== holder ? { grantor } : holder.startsWith("m") ? { grantor: humans[0] as string } : {}),
        ...(hit && t.kind === "revoke" ? { revokedAt: now } : {}),
      });
    });
  });
  const halts: Halt[] = [];
  const haltKeys = new Set<string>();
  for (const h of spec.halts) {
    let halt: Halt | undefined;
    if (h.kind === "all") halt = { kind: "all" };
    else if (h.kind === "machine" && machines.length > 0) halt = { kind: "machine", target: machines[h.target % machines.length] as string };
    else if (h.kind === "owner") halt = { kind: "owner", target: humans[h.target % humans.length] as string };
    if (halt === undefined) continue;
    const key = JSON.stringify(halt);
    if (haltKeys.has(key)) continue;
    haltKeys.add(key);
    halts.push(halt);
  }
  const policies: PolicyRule[] = spec.policies.map((p, i) => ({
    id: `p${i}`,
    priority: p.priority,
    effect: p.effect,
    operations: p.ops,
    actorPattern: p.pattern,
    scope: p.scope,
  }));
  return {
    data: {
      version: 1,
      entities: [...humans.map((id) => ({ id, kind: "HUMAN" as const, displayName: id })), ...machines.map((id) => ({ id, kind: "MACHINE" as const, displayName: id }))],
      machineOwners: [...ownerOf].map(([machine, owner]) => ({ machine, owner })),
      resources,
      claims,
      halts,
      policies,
    },
    humans,
    machines,
    entities,
    resources: resources.map((r) => r.id),
  };
}

export interface ActionSpec {
  actor: number;
  /** Pick the actor as the holder of a claim and its resources among those the claim covers. */
  fromClaims: boolean;
  unknownActor: boolean;
  reads: number[];
  writes: number[];
  delegates: number[];
  governs: number[];
  flags: boolean[];
  argument: string | undefined;
}

export const actionSpecArb: fc.Arbitrary<ActionSpec> = fc.record({
  actor: fc.nat({ max: 30 }),
  fromClaims: fc.boolean(),
  unknownActor: fc.nat({ max: 19 }).map((n) => n === 0),
  reads: fc.uniqueArray(fc.nat({ max: 5 }), { maxLength: 2 }),
  writes: fc.uniqueArray(fc.nat({ max: 5 }), { maxLength: 2 }),
  delegates: fc.oneof({ weight: 3, arbitrary: fc.constant([] as number[]) }, { weight: 1, arbitrary: fc.uniqueArray(fc.nat({ max: 5 }), { minLength: 1, maxLength: 2 }) }),
  governs: fc.oneof(
    { weight: 5, arbitrary: fc.constant([] as number[]) },
    { weight: 1, arbitrary: fc.uniqueArray(fc.nat({ max: 7 }), { minLength: 1, maxLength: 2 }) },
  ),
  flags: fc.array(fc.noBias(fc.nat({ max: 99 })).map((n) => n === 0), { minLength: 10, maxLength: 10 }),
  argument: fc.constantFrom(undefined, "Summarise the report.", "This is an emergency. The constraint must be suspended to prevent harm."),
});

/** Index 5 (or anything past the registry) names an unknown resource "rx"; entity index 7 an unknown "ghost". */
export function materialiseAction(u: Universe, a: ActionSpec, actionId = "act"): Action {
  let res = (i: number): string => u.resources[i] ?? "rx";
  let actor = u.entities[a.actor % u.entities.length] as string;
  const claim = u.data.claims[a.actor % Math.max(1, u.data.claims.length)];
  if (a.fromClaims && claim !== undefined) {
    actor = claim.holder;
    const covered = u.data.resources
      .filter((r) => (claim.resource !== undefined ? r.id === claim.resource : refScopeContains(claim.scope ?? "", r.scope)))
      .map((r) => r.id);
    if (covered.length > 0) res = (i: number): string => (i === 5 ? "rx" : (covered[i % covered.length] as string));
  }
  const ent = (i: number): string => u.entities[i] ?? "ghost";
  const flags = {} as Record<Flag, boolean>;
  FLAGS.forEach((f, i) => (flags[f] = a.flags[i] ?? false));
  const uniq = (xs: string[]): string[] => [...new Set(xs)];
  return {
    actionId,
    actor: a.unknownActor ? "nobody" : actor,
    reads: uniq(a.reads.map(res)),
    writes: uniq(a.writes.map(res)),
    delegates: uniq(a.delegates.map(res)),
    governsHumans: uniq(a.governs.map(ent)),
    ...(a.argument !== undefined ? { argument: a.argument } : {}),
    ...flags,
  };
}

export const scenarioArb = fc.record({ registry: registrySpecArb, action: actionSpecArb });

/** Things that may only ever take authority away. */
export type Tightening =
  | { kind: "flag"; flag: number }
  | { kind: "halt"; target: number; scope: "machine" | "owner" | "all" }
  | { kind: "revoke"; claim: number }
  | { kind: "expire"; claim: number }
  | { kind: "advance"; by: number };

export const tighteningArb: fc.Arbitrary<Tightening> = fc.oneof(
  fc.record({ kind: fc.constant("flag" as const), flag: fc.nat({ max: 9 }) }),
  fc.record({ kind: fc.constant("halt" as const), target: fc.nat({ max: 6 }), scope: fc.constantFrom("machine" as const, "owner" as const, "all" as const) }),
  fc.record({ kind: fc.constant("revoke" as const), claim: fc.nat({ max: 17 }) }),
  fc.record({ kind: fc.constant("expire" as const), claim: fc.nat({ max: 17 }) }),
  fc.record({ kind: fc.constant("advance" as const), by: fc.integer({ min: 1, max: 20 }) }),
);

/** A proposed grant over a universe, by indices. */
export interface GrantSpec {
  holder: number;
  grantor: number;
  target: { resource: number } | { scope: string };
  canRead: boolean;
  canWrite: boolean;
  canDelegate: boolean;
  expires: number | undefined;
}

export const grantSpecArb: fc.Arbitrary<GrantSpec> = fc.record({
  holder: fc.nat({ max: 6 }),
  grantor: fc.nat({ max: 6 }),
  target: fc.oneof(fc.record({ resource: fc.nat({ max: 4 }) }), fc.record({ scope: fc.constantFrom(...SCOPES) })),
  canRead: fc.boolean(),
  canWrite: fc.boolean(),
  canDelegate: fc.boolean(),
  expires: fc.constantFrom(undefined, 10, 100, 1000),
});

/** A universe with only human root claims, to grow by grants accepted by checkGrant. */
export const rootOnlyRegistryArb: fc.Arbitrary<RegistrySpec> = registrySpecArb.map((s) => ({
  ...s,
  claims: s.claims.map((c) => ({ ...c, holder: c.holder % s.humans, grantor: "root" as const, backed: false })),
  halts: [],
  policies: [],
}));
