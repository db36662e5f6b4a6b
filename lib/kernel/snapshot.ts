/**
 * Registry snapshots (design §3): an immutable, validated, indexed view of the ownership graph
 * with a version and a content digest. Every decision is taken against exactly one snapshot.
 *
 * Building is not a decision: invalid data throws SnapshotError (stable code INVALID_REGISTRY,
 * with every issue found), and the server fails closed on it. Once built, a snapshot is
 * deep-frozen, and its indexes live outside the object (see internal.ts), so nothing reachable
 * from it can be changed.
 *
 * Cost model: building is linear in the registry (plus the grant-chain fixpoint, linear per
 * round); one verification then costs in proportion to the actor's claims and the resources it
 * names, independent of the registry's size.
 */
import { sha256Hex } from "./bytes";
import { utf8 } from "./canonical";
import { DEFAULT_LATTICE } from "./ifc";
import {
  MAX_CHAIN_DEPTH,
  capIssues,
  grantorMayGrant,
  idProblem,
  isMachineHalted,
  quote,
  readArray,
  readPlainObject,
  registerSnapshotIndex,
  textProblem,
  type ClaimNode,
  type HolderIndex,
  type ResourceNode,
  type SnapshotIndex,
} from "./internal";
import { isObjectReference } from "./object-ref";
import { compareRules } from "./policy";
import { soleResource } from "./resolve";
import { scopeAncestors, validateScope } from "./scope";
import { parseBudget } from "./budget";
import {
  RESOURCE_TYPES,
  type Budget,
  type Claim,
  type Entity,
  type EntityKind,
  type Halt,
  type MachineOwner,
  type PolicyRule,
  type RegistryData,
  type Resource,
  type ResourceType,
} from "./types";

/** Domain prefix of the registry digest, so it can never be confused with another hash. */
export const REGISTRY_DIGEST_DOMAIN = "freedom-kernel/registry/v1\n";

/** Most items accepted in any one list of the registry. */
export const MAX_REGISTRY_ITEMS = 2_000_000;

/** IFC labels: short identifiers, so they print safely and can never collide with UNKNOWN_TAINT. */
const LABEL_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

const MAX_DISPLAY_NAME = 1024;
const MAX_ISSUES = 100;

/** Thrown by buildSnapshot for invalid registry data; `issues` lists every problem found. */
export class SnapshotError extends Error {
  readonly code = "INVALID_REGISTRY" as const;
  readonly issues: readonly string[];
  constructor(issues: string[]) {
    const capped = capIssues(issues, MAX_ISSUES);
    super(`invalid registry: ${capped[0] ?? "unknown problem"}${capped.length > 1 ? ` (and ${issues.length - 1} more)` : ""}`);
    this.name = "SnapshotError";
    this.issues = Object.freeze(capped);
  }
}

/** An immutable registry state. Lookups take any value and answer undefined/false/[] for non-ids. */
export interface Snapshot {
  readonly version: number;
  /** Hex SHA-256 of the domain prefix + canonical JSON of the normalised content (not the version). */
  readonly digest: string;
  /** `{ version, digest }`, as cited by every decision. */
  readonly ref: { readonly version: number; readonly digest: string };
  /** The normalised registry: lists sorted by id/key, policies and lattice made explicit. */
  readonly data: RegistryData;
  /** The IFC lattice, lowest first. */
  readonly lattice: readonly string[];
  entity(id: string): Entity | undefined;
  /** The owner of a machine, undefined for an ownerless machine or a non-machine. */
  ownerOf(machine: string): string | undefined;
  /** The machines owned by a human, sorted by id. */
  machinesOf(owner: string): readonly string[];
  resource(id: string): Resource | undefined;
  claim(id: string): Claim | undefined;
  /** Claims held by an entity, sorted by claim id. */
  claimsOf(holder: string): readonly Claim[];
  /** Halted directly, through its owner, or by a halt of every machine. */
  isHalted(machine: string): boolean;
  /**
   * Whether a claim is valid at `now`: confidence > 0, not revoked, not expired, and backed by a
   * chain of valid grants to a human root claim. False for unknown ids and non-integer times.
   */
  isClaimValid(claimId: string, now: number): boolean;
  /** Some claim carries a budget (issue 13): only then does a decision need usage figures. */
  readonly hasBudgets: boolean;
}

const EMPTY: readonly never[] = Object.freeze([]);

class FrozenSnapshot implements Snapshot {
  readonly version: number;
  readonly digest: string;
  readonly ref: { readonly version: number; readonly digest: string };
  readonly data: RegistryData;
  readonly lattice: readonly string[];
  readonly hasBudgets: boolean;
  readonly #ix: SnapshotIndex;
  readonly #claimsOf: Map<string, readonly Claim[]>;

  constructor(data: RegistryData, digest: string, ix: SnapshotIndex, claimsOf: Map<string, readonly Claim[]>) {
    this.version = data.version;
    this.digest = digest;
    this.ref = Object.freeze({ version: data.version, digest });
    this.data = data;
    this.lattice = ix.lattice;
    this.hasBudgets = ix.hasBudgets;
    this.#ix = ix;
    this.#claimsOf = claimsOf;
    registerSnapshotIndex(this, ix);
    Object.freeze(this);
  }
  entity(id: string): Entity | undefined {
    return this.#ix.entities.get(id);
  }
  ownerOf(machine: string): string | undefined {
    return this.#ix.ownerOf.get(machine);
  }
  machinesOf(owner: string): readonly string[] {
    return this.#ix.machinesOf.get(owner) ?? EMPTY;
  }
  resource(id: string): Resource | undefined {
    return this.#ix.resources.get(id)?.resource;
  }
  claim(id: string): Claim | undefined {
    return this.#ix.claims.get(id)?.claim;
  }
  claimsOf(holder: string): readonly Claim[] {
    return this.#claimsOf.get(holder) ?? EMPTY;
  }
  isHalted(machine: string): boolean {
    return isMachineHalted(this.#ix, machine);
  }
  isClaimValid(claimId: string, now: number): boolean {
    if (!Number.isSafeInteger(now)) return false;
    const node = this.#ix.claims.get(claimId);
    return node !== undefined && now <= node.horizon;
  }
}
// The prototype and the class are reachable from every snapshot; freezing them keeps anyone from
// swapping a method (e.g. isHalted) for all snapshots at once.
Object.freeze(FrozenSnapshot.prototype);
Object.freeze(FrozenSnapshot);

// ---------------------------------------------------------------------------------------------
// Validation

type Fields = Map<string, unknown>;

function readRecord(v: unknown, what: string, allowed: readonly string[], required: readonly string[], issues: string[]): Fields | null {
  const r = readPlainObject(v, what, 32);
  if (!r.ok) {
    issues.push(r.error);
    return null;
  }
  let good = true;
  for (const key of r.value.keys()) {
    if (!allowed.includes(key)) {
      issues.push(`${what} has unknown field ${quote(key)}`);
      good = false;
    }
  }
  // An optional field present with the value undefined is absent, as in JSON.
  for (const [key, value] of r.value) if (value === undefined) r.value.delete(key);
  for (const key of required) {
    if (!r.value.has(key)) {
      issues.push(`${what} is missing ${key}`);
      good = false;
    }
  }
  return good ? r.value : null;
}

function readList(v: unknown, what: string, issues: string[]): unknown[] {
  if (v === undefined) return [];
  const r = readArray(v, what, MAX_REGISTRY_ITEMS);
  if (!r.ok) {
    issues.push(r.error);
    return [];
  }
  return r.value;
}

function checkId(v: unknown, what: string, issues: string[]): v is string {
  const p = idProblem(v);
  if (p !== null) issues.push(`${what} ${p}`);
  return p === null;
}

function isTime(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v);
}

/** Sorts by key, skipping the sort when the input is already in order (the usual case for DB rows). */
function sortedBy<T>(items: T[], key: (t: T) => string): T[] {
  let sorted = true;
  for (let i = 1; i < items.length && sorted; i++) sorted = key(items[i - 1] as T) < key(items[i] as T);
  return sorted ? items : items.sort(byKey(key));
}

function byKey<T>(key: (t: T) => string): (a: T, b: T) => number {
  // Code-unit order, as JCS sorts keys: locale-independent and deterministic.
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}

interface Normalised {
  readonly data: RegistryData;
  readonly entities: Map<string, Entity>;
}

function validate(input: unknown): Normalised {
  const issues: string[] = [];
  const top = readRecord(
    input,
    "registry",
    ["version", "entities", "machineOwners", "resources", "claims", "halts", "policies", "lattice"],
    ["version", "entities", "machineOwners", "resources", "claims", "halts"],
    issues,
  );
  if (top === null) throw new SnapshotError(issues);

  const version = top.get("version");
  if (!(typeof version === "number" && Number.isSafeInteger(version) && version >= 0)) {
    issues.push("registry.version must be a non-negative integer");
  }

  // Lattice first: resource labels are checked against it.
  let lattice: readonly string[] = DEFAULT_LATTICE;
  if (top.has("lattice")) {
    const items = readList(top.get("lattice"), "registry.lattice", issues);
    const seen = new Set<string>();
    const labels: string[] = [];
    items.forEach((l, i) => {
      if (typeof l !== "string" || !LABEL_PATTERN.test(l)) {
        issues.push(`registry.lattice[${i}] must be 1-64 characters of A-Z a-z 0-9 _ . -`);
      } else if (seen.has(l)) {
        issues.push(`registry.lattice has the label ${quote(l)} twice`);
      } else {
        seen.add(l);
        labels.push(l);
      }
    });
    if (items.length === 0) issues.push("registry.lattice must not be empty");
    lattice = Object.freeze(labels);
  }
  const latticeSet = new Set(lattice);
  // Many resources and claims share a scope; validate each distinct string once.
  const scopeChecks = new Map<unknown, ReturnType<typeof validateScope>>();
  const checkScope = (v: unknown): ReturnType<typeof validateScope> => {
    if (typeof v !== "string") return validateScope(v);
    let r = scopeChecks.get(v);
    if (r === undefined) {
      r = validateScope(v);
      scopeChecks.set(v, r);
    }
    return r;
  };

  // Ids of items refused above: references to them are not reported again as dangling.
  const refused = new Set<string>();
  const refuseIdOf = (raw: unknown): void => {
    const r = readPlainObject(raw, "item", 32);
    const id = r.ok ? r.value.get("id") : undefined;
    if (typeof id === "string") refused.add(id);
  };

  // Entities.
  const entities = new Map<string, Entity>();
  readList(top.get("entities"), "registry.entities", issues).forEach((raw, i) => {
    const what = `entities[${i}]`;
    const f = readRecord(raw, what, ["id", "kind", "displayName"], ["id", "kind", "displayName"], issues);
    if (f === null) return refuseIdOf(raw);
    const id = f.get("id");
    const kind = f.get("kind");
    const displayName = f.get("displayName");
    let good = checkId(id, `${what}.id`, issues);
    if (typeof id === "string") refused.add(id);
    if (kind !== "HUMAN" && kind !== "MACHINE") {
      issues.push(`${what}.kind must be "HUMAN" or "MACHINE"`);
      good = false;
    }
    const dp = textProblem(displayName, MAX_DISPLAY_NAME);
    if (dp !== null) {
      issues.push(`${what}.displayName ${dp}`);
      good = false;
    }
    if (!good) return;
    const sid = id as string;
    if (entities.has(sid)) {
      issues.push(`entity id ${quote(sid)} is used twice`);
      return;
    }
    refused.delete(sid);
    entities.set(sid, Object.freeze({ id: sid, kind: kind as EntityKind, displayName: displayName as string }));
  });

  // Machine owners (A2: only a machine can be owned, only a human can own; A4: one owner).
  const owners = new Map<string, MachineOwner>();
  readList(top.get("machineOwners"), "registry.machineOwners", issues).forEach((raw, i) => {
    const what = `machineOwners[${i}]`;
    const f = readRecord(raw, what, ["machine", "owner"], ["machine", "owner"], issues);
    if (f === null) return;
    const machine = f.get("machine");
    const owner = f.get("owner");
    if (!checkId(machine, `${what}.machine`, issues) || !checkId(owner, `${what}.owner`, issues)) return;
    const m = entities.get(machine);
    const o = entities.get(owner);
    let good = true;
    if (m === undefined) {
      if (!refused.has(machine)) issues.push(`${what}.machine ${quote(machine)} is not a known entity`);
      good = false;
    } else if (m.kind !== "MACHINE") {
      issues.push(`${what}: ${quote(machine)} is a HUMAN and cannot be owned (A2)`);
      good = false;
    }
    if (o === undefined) {
      if (!refused.has(owner)) issues.push(`${what}.owner ${quote(owner)} is not a known entity`);
      good = false;
    } else if (o.kind !== "HUMAN") {
      issues.push(`${what}: owner ${quote(owner)} is a MACHINE; only a human can own a machine (A4)`);
      good = false;
    }
    if (!good) return;
    if (owners.has(machine)) {
      issues.push(`machine ${quote(machine)} has more than one owner entry (A4: exactly one owner)`);
      return;
    }
    owners.set(machine, Object.freeze({ machine, owner }));
  });

  // Resources (A2: no entity is a resource).
  const resources = new Map<string, Resource>();
  readList(top.get("resources"), "registry.resources", issues).forEach((raw, i) => {
    const what = `resources[${i}]`;
    const f = readRecord(raw, what, ["id", "type", "scope", "isPublic", "ifcLabel", "owner"], ["id", "type", "scope", "isPublic"], issues);
    if (f === null) return refuseIdOf(raw);
    const id = f.get("id");
    const type = f.get("type");
    const scope = f.get("scope");
    const isPublic = f.get("isPublic");
    const label = f.get("ifcLabel");
    // The registering human, by id only: an owner's view of the registry leaves other humans out.
    const owner = f.get("owner");
    let good = checkId(id, `${what}.id`, issues) && (owner === undefined || checkId(owner, `${what}.owner`, issues));
    if (typeof id === "string") refused.add(id);
    // An id shaped like an object reference ("/..." or "scheme:...") would make one string name
    // both a resource and an object; refuse it so that verify never has to guess (issue 10).
    if (good && isObjectReference(id)) {
      issues.push(`${what}.id must not start with "/" or look like a URI (scheme:): such strings are object references`);
      good = false;
    }
    if (typeof type !== "string" || !(RESOURCE_TYPES as readonly string[]).includes(type)) {
      issues.push(`${what}.type must be one of ${RESOURCE_TYPES.join(", ")}`);
      good = false;
    }
    const sv = checkScope(scope);
    if (!sv.ok) {
      issues.push(`${what}.scope: ${sv.reason}`);
      good = false;
    }
    if (typeof isPublic !== "boolean") {
      issues.push(`${what}.isPublic must be a boolean`);
      good = false;
    }
    if (label !== undefined && (typeof label !== "string" || !latticeSet.has(label))) {
      issues.push(`${what}.ifcLabel must be one of the lattice's labels (${lattice.join(", ")})`);
      good = false;
    }
    if (!good) return;
    const sid = id as string;
    if (entities.has(sid)) {
      issues.push(`resource id ${quote(sid)} is also an entity id (A2: no entity is a resource)`);
      return;
    }
    if (resources.has(sid)) {
      issues.push(`resource id ${quote(sid)} is used twice`);
      return;
    }
    const r: Resource = {
      id: sid,
      type: type as ResourceType,
      scope: scope as string,
      isPublic: isPublic as boolean,
      ...(label === undefined ? {} : { ifcLabel: label as string }),
      ...(owner === undefined ? {} : { owner: owner as string }),
    };
    refused.delete(sid);
    resources.set(sid, Object.freeze(r));
  });

  // Claims.
  const claims = new Map<string, Claim>();
  readList(top.get("claims"), "registry.claims", issues).forEach((raw, i) => {
    const what = `claims[${i}]`;
    const f = readRecord(
      raw,
      what,
      ["id", "holder", "resource", "scope", "canRead", "canWrite", "canDelegate", "confidence", "expiresAt", "grantor", "revokedAt", "budget"],
      ["id", "holder", "canRead", "canWrite", "canDelegate", "confidence"],
      issues,
    );
    if (f === null) return;
    const id = f.get("id");
    const holder = f.get("holder");
    const resource = f.get("resource");
    const scope = f.get("scope");
    const grantor = f.get("grantor");
    const confidence = f.get("confidence");
    const expiresAt = f.get("expiresAt");
    const revokedAt = f.get("revokedAt");
    const budgetIn = f.get("budget");
    let good = checkId(id, `${what}.id`, issues);
    let budget: Budget | undefined;
    if (budgetIn !== undefined) {
      const b = parseBudget(budgetIn, `${what}.budget`);
      if (b.ok) budget = b.budget;
      else {
        issues.push(...b.errors);
        good = false;
      }
    }
    if (checkId(holder, `${what}.holder`, issues)) {
      if (!entities.has(holder)) {
        if (!refused.has(holder)) issues.push(`${what}.holder ${quote(holder)} is not a known entity`);
        good = false;
      }
    } else good = false;
    if ((resource === undefined) === (scope === undefined)) {
      issues.push(`${what} must name exactly one of resource and scope`);
      good = false;
    } else if (resource !== undefined) {
      if (!checkId(resource, `${what}.resource`, issues)) good = false;
      else if (!resources.has(resource)) {
        if (!refused.has(resource)) issues.push(`${what}.resource ${quote(resource)} is not a known resource`);
        good = false;
      }
    } else {
      const sv = checkScope(scope);
      if (!sv.ok) {
        issues.push(`${what}.scope: ${sv.reason}`);
        good = false;
      }
    }
    for (const k of ["canRead", "canWrite", "canDelegate"]) {
      if (typeof f.get(k) !== "boolean") {
        issues.push(`${what}.${k} must be a boolean`);
        good = false;
      }
    }
    if (typeof confidence !== "number" || !Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
      issues.push(`${what}.confidence must be a number in [0, 1]`);
      good = false;
    }
    if (expiresAt !== undefined && !isTime(expiresAt)) {
      issues.push(`${what}.expiresAt must be an integer (ms since the epoch)`);
      good = false;
    }
    if (revokedAt !== undefined && !isTime(revokedAt)) {
      issues.push(`${what}.revokedAt must be an integer (ms since the epoch)`);
      good = false;
    }
    if (grantor !== undefined) {
      if (!checkId(grantor, `${what}.grantor`, issues)) good = false;
      else if (!entities.has(grantor)) {
        if (!refused.has(grantor)) issues.push(`${what}.grantor ${quote(grantor)} is not a known entity`);
        good = false;
      }
    } else if (typeof holder === "string" && entities.get(holder)?.kind === "MACHINE") {
      issues.push(`${what}: a root claim (no grantor) held by MACHINE ${quote(holder)}; a machine never owns a resource outright`);
      good = false;
    }
    if (!good) return;
    const sid = id as string;
    if (claims.has(sid)) {
      issues.push(`claim id ${quote(sid)} is used twice`);
      return;
    }
    const c: Record<string, unknown> = { id: sid, holder };
    if (resource !== undefined) c.resource = resource;
    else c.scope = scope;
    c.canRead = f.get("canRead");
    c.canWrite = f.get("canWrite");
    c.canDelegate = f.get("canDelegate");
    c.confidence = confidence;
    if (expiresAt !== undefined) c.expiresAt = expiresAt;
    if (grantor !== undefined) c.grantor = grantor;
    if (revokedAt !== undefined) c.revokedAt = revokedAt;
    if (budget !== undefined) c.budget = budget;
    claims.set(sid, Object.freeze(c) as unknown as Claim);
  });

  // Halts.
  const halts = new Map<string, Halt>();
  readList(top.get("halts"), "registry.halts", issues).forEach((raw, i) => {
    const what = `halts[${i}]`;
    const f = readRecord(raw, what, ["kind", "target"], ["kind"], issues);
    if (f === null) return;
    const kind = f.get("kind");
    const target = f.get("target");
    let halt: Halt;
    if (kind === "all") {
      if (target !== undefined) {
        issues.push(`${what}: a halt of every machine has no target`);
        return;
      }
      halt = Object.freeze({ kind: "all" });
    } else if (kind === "machine" || kind === "owner") {
      if (!checkId(target, `${what}.target`, issues)) return;
      const e = entities.get(target);
      const want: EntityKind = kind === "machine" ? "MACHINE" : "HUMAN";
      if (e === undefined || e.kind !== want) {
        issues.push(`${what}.target ${quote(target)} is not a known ${want}`);
        return;
      }
      halt = Object.freeze({ kind, target });
    } else {
      issues.push(`${what}.kind must be "machine", "owner" or "all"`);
      return;
    }
    const key = haltKey(halt);
    if (halts.has(key)) {
      issues.push(`${what} duplicates another halt`);
      return;
    }
    halts.set(key, halt);
  });

  // Policies.
  const policies = new Map<string, PolicyRule>();
  readList(top.get("policies"), "registry.policies", issues).forEach((raw, i) => {
    const what = `policies[${i}]`;
    const f = readRecord(
      raw,
      what,
      ["id", "priority", "effect", "operations", "actorPattern", "scope", "description", "mode"],
      ["id", "priority", "effect", "operations", "actorPattern", "scope"],
      issues,
    );
    if (f === null) return;
    const id = f.get("id");
    const priority = f.get("priority");
    const effect = f.get("effect");
    const actorPattern = f.get("actorPattern");
    const scope = f.get("scope");
    const description = f.get("description");
    const mode = f.get("mode");
    let good = checkId(id, `${what}.id`, issues);
    // One spelling only: absent is enforced, so an enforced rule has one form and one digest.
    if (mode !== undefined && mode !== "shadow") {
      issues.push(`${what}.mode must be "shadow" or absent (absent = enforced)`);
      good = false;
    }
    if (typeof priority !== "number" || !Number.isSafeInteger(priority)) {
      issues.push(`${what}.priority must be an integer`);
      good = false;
    }
    if (effect !== "allow" && effect !== "deny") {
      issues.push(`${what}.effect must be "allow" or "deny"`);
      good = false;
    }
    const ops: ("read" | "write" | "delegate")[] = [];
    const opsRead = readArray(f.get("operations"), `${what}.operations`, 3);
    if (!opsRead.ok) {
      issues.push(opsRead.error);
      good = false;
    } else {
      for (const op of opsRead.value) {
        if ((op !== "read" && op !== "write" && op !== "delegate") || ops.includes(op)) {
          issues.push(`${what}.operations must be distinct values of "read", "write", "delegate"`);
          good = false;
          break;
        }
        ops.push(op);
      }
      if (ops.length === 0) {
        issues.push(`${what}.operations must not be empty`);
        good = false;
      }
    }
    const pp = idProblem(actorPattern);
    if (pp !== null) {
      issues.push(`${what}.actorPattern ${pp}`);
      good = false;
    }
    const sv = checkScope(scope);
    if (!sv.ok) {
      issues.push(`${what}.scope: ${sv.reason}`);
      good = false;
    }
    if (description !== undefined) {
      const dp = textProblem(description, 10_000);
      if (dp !== null) {
        issues.push(`${what}.description ${dp}`);
        good = false;
      }
    }
    if (!good) return;
    const sid = id as string;
    if (policies.has(sid)) {
      issues.push(`policy id ${quote(sid)} is used twice`);
      return;
    }
    const p: Record<string, unknown> = {
      id: sid,
      priority,
      effect,
      operations: Object.freeze(ops),
      actorPattern,
      scope,
    };
    if (description !== undefined) p.description = description;
    if (mode !== undefined) p.mode = mode;
    policies.set(sid, Object.freeze(p) as unknown as PolicyRule);
  });

  if (issues.length > 0) throw new SnapshotError(issues);

  const data: RegistryData = Object.freeze({
    version: version as number,
    entities: Object.freeze(sortedBy([...entities.values()], (e) => e.id)),
    machineOwners: Object.freeze(sortedBy([...owners.values()], (o) => o.machine)),
    resources: Object.freeze(sortedBy([...resources.values()], (r) => r.id)),
    claims: Object.freeze(sortedBy([...claims.values()], (c) => c.id)),
    halts: Object.freeze(sortedBy([...halts.values()], haltKey)),
    policies: Object.freeze(sortedBy([...policies.values()], (p) => p.id)),
    lattice,
  });
  return { data, entities };
}

function haltKey(h: Halt): string {
  return h.kind === "all" ? "all" : `${h.kind}\u0000${h.target}`;
}

// ---------------------------------------------------------------------------------------------
// Indexes

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

interface MutableNode {
  claim: Claim;
  holderKind: EntityKind;
  local: number;
  horizon: number;
  supporters: MutableNode[];
  /** Position in data.claims, for the fixpoint's flat arrays. */
  index: number;
}

function localHorizon(c: Claim): number {
  if (!(c.confidence > 0)) return -Infinity;
  let h = Infinity;
  if (c.expiresAt !== undefined) h = c.expiresAt;
  // Revoked from revokedAt on: the last valid instant is revokedAt - 1 (times are integers).
  if (c.revokedAt !== undefined && c.revokedAt - 1 < h) h = c.revokedAt - 1;
  return h;
}

function buildIndex(data: RegistryData, entities: Map<string, Entity>): { ix: SnapshotIndex; claimsOf: Map<string, readonly Claim[]> } {
  const ownerOf = new Map<string, string>();
  const machinesOfMut = new Map<string, string[]>();
  for (const mo of data.machineOwners) {
    ownerOf.set(mo.machine, mo.owner);
    pushTo(machinesOfMut, mo.owner, mo.machine);
  }
  const machinesOf = new Map<string, readonly string[]>();
  // data.machineOwners is sorted by machine, so each list is already sorted.
  for (const [owner, list] of machinesOfMut) machinesOf.set(owner, Object.freeze(list));

  const ancestorCache = new Map<string, readonly string[]>();
  const ancestorsOf = (scope: string): readonly string[] => {
    let a = ancestorCache.get(scope);
    if (a === undefined) {
      a = Object.freeze(scopeAncestors(scope));
      ancestorCache.set(scope, a);
    }
    return a;
  };

  const resources = new Map<string, ResourceNode>();
  for (const r of data.resources) resources.set(r.id, Object.freeze({ resource: r, ancestors: ancestorsOf(r.scope) }));

  const nodes: MutableNode[] = [];
  const claimNodes = new Map<string, MutableNode>();
  const holders = new Map<string, { all: MutableNode[]; byResource: Map<string, MutableNode[]>; byScope: Map<string, MutableNode[]> }>();
  const writersByResource = new Map<string, MutableNode[]>();
  const writersByScope = new Map<string, MutableNode[]>();
  const claimsOfMut = new Map<string, Claim[]>();
  for (const c of data.claims) {
    const kind = entities.get(c.holder)?.kind ?? "HUMAN";
    const node: MutableNode = { claim: c, holderKind: kind, local: localHorizon(c), horizon: -Infinity, supporters: [], index: nodes.length };
    nodes.push(node);
    claimNodes.set(c.id, node);
    pushTo(claimsOfMut, c.holder, c);
    let h = holders.get(c.holder);
    if (h === undefined) {
      h = { all: [], byResource: new Map(), byScope: new Map() };
      holders.set(c.holder, h);
    }
    h.all.push(node);
    if (c.resource !== undefined) {
      pushTo(h.byResource, c.resource, node);
      if (c.canWrite) pushTo(writersByResource, c.resource, node);
    } else if (c.scope !== undefined) {
      pushTo(h.byScope, c.scope, node);
      if (c.canWrite) pushTo(writersByScope, c.scope, node);
    }
  }
  const claimsOf = new Map<string, readonly Claim[]>();
  for (const [holder, list] of claimsOfMut) claimsOf.set(holder, Object.freeze(list));

  // Static support edges: which claims of the grantor could back each delegated claim.
  for (const node of nodes) {
    const c = node.claim;
    const g = c.grantor;
    if (g === undefined) continue;
    if (!grantorMayGrant(node.holderKind, c.holder, g, entities, ownerOf)) continue;
    const gi = holders.get(g);
    if (gi === undefined) continue;
    const consider = (p: MutableNode): void => {
      if (p === node) return;
      const pc = p.claim;
      if (!pc.canDelegate) return;
      if (c.canRead && !pc.canRead) return;
      if (c.canWrite && !pc.canWrite) return;
      node.supporters.push(p);
    };
    if (c.resource !== undefined) {
      const rn = resources.get(c.resource);
      const direct = gi.byResource.get(c.resource);
      if (direct !== undefined) for (const p of direct) consider(p);
      if (rn !== undefined) {
        for (const a of rn.ancestors) {
          const list = gi.byScope.get(a);
          if (list !== undefined) for (const p of list) consider(p);
        }
      }
    } else if (c.scope !== undefined) {
      for (const a of ancestorsOf(c.scope)) {
        const list = gi.byScope.get(a);
        if (list !== undefined) for (const p of list) consider(p);
      }
      // A scope that stands for part of one resource is backed by a claim on that resource.
      const sole = soleResource(resources, c.scope);
      if (sole !== undefined) {
        const direct = gi.byResource.get(sole.resource.id);
        if (direct !== undefined) for (const p of direct) consider(p);
      }
    }
  }

  // Grant-chain validity as a bounded fixpoint ("widest path" by last valid instant): after k
  // rounds, horizon = best over chains of at most k grants. Jacobi rounds (read the previous
  // round only) make the depth bound exact and independent of claim order. A cycle adds nothing,
  // so a claim supported only through a cycle stays at -Infinity: invalid.
  // Support edges as flat arrays (CSR): supporters of node i are targets[offsets[i] .. offsets[i+1]).
  const n = nodes.length;
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = (offsets[i] ?? 0) + (nodes[i]?.supporters.length ?? 0);
  const targets = new Int32Array(offsets[n] ?? 0);
  const local = new Float64Array(n);
  let prev = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const node = nodes[i] as MutableNode;
    local[i] = node.local;
    prev[i] = node.claim.grantor === undefined && node.holderKind === "HUMAN" ? node.local : -Infinity;
    let k = offsets[i] ?? 0;
    for (const p of node.supporters) targets[k++] = p.index;
  }
  for (let round = 0; round < MAX_CHAIN_DEPTH; round++) {
    const next = new Float64Array(prev);
    let changed = false;
    for (let i = 0; i < n; i++) {
      const from = offsets[i] ?? 0;
      const to = offsets[i + 1] ?? 0;
      if (from === to) continue;
      let best = -Infinity;
      for (let j = from; j < to; j++) {
        const v = prev[targets[j] ?? 0] ?? -Infinity;
        if (v > best) best = v;
      }
      const own = local[i] ?? -Infinity;
      const v = best < own ? best : own;
      if (v > (next[i] ?? -Infinity)) {
        next[i] = v;
        changed = true;
      }
    }
    prev = next;
    if (!changed) break;
  }
  // Freeze only once every horizon is set: supporters refer to other nodes.
  for (const node of nodes) {
    node.horizon = prev[node.index] ?? -Infinity;
    Object.freeze(node.supporters);
    Object.freeze(node);
  }

  const haltedMachines = new Set<string>();
  const haltedOwners = new Set<string>();
  let haltAll = false;
  for (const h of data.halts) {
    if (h.kind === "all") haltAll = true;
    else if (h.kind === "machine") haltedMachines.add(h.target);
    else haltedOwners.add(h.target);
  }

  // Evaluation order (policy.ts compareRules). Shadow rules are kept apart: verify's enforcing pass
  // never sees them, so a shadow rule can neither deny nor shadow an enforced rule.
  const ordered = [...(data.policies ?? [])].sort(compareRules);
  const policies = Object.freeze(ordered.filter((p) => p.mode !== "shadow"));
  const shadowPolicies = Object.freeze(ordered.filter((p) => p.mode === "shadow"));
  const lattice = data.lattice ?? DEFAULT_LATTICE;
  const latticeRank = new Map<string, number>();
  lattice.forEach((l, i) => latticeRank.set(l, i));

  const ix: SnapshotIndex = {
    entities,
    ownerOf,
    machinesOf,
    resources,
    holders: holders as Map<string, HolderIndex>,
    claims: claimNodes as Map<string, ClaimNode>,
    writersByResource: writersByResource as Map<string, ClaimNode[]>,
    writersByScope: writersByScope as Map<string, ClaimNode[]>,
    haltAll,
    haltedMachines,
    haltedOwners,
    policies,
    shadowPolicies,
    lattice,
    latticeRank,
    hasBudgets: data.claims.some((c) => c.budget !== undefined),
  };
  return { ix: Object.freeze(ix), claimsOf };
}

// ---------------------------------------------------------------------------------------------
// Digest

const str = JSON.stringify;
function budgetJson(b: Budget): string {
  const parts: string[] = [];
  if (b.maxCost !== undefined) parts.push(`"maxCost":${num(b.maxCost)}`);
  if (b.maxUses !== undefined) parts.push(`"maxUses":${num(b.maxUses)}`);
  if (b.rate !== undefined) parts.push(`"rate":{"seconds":${num(b.rate.seconds)},"uses":${num(b.rate.uses)}}`);
  return `{${parts.join(",")}}`;
}
function num(n: number): string {
  return Object.is(n, -0) ? "0" : String(n);
}

/**
 * The RFC 8785 canonical JSON of the normalised registry content, written directly for its known
 * shapes (keys listed in JCS code-unit order) instead of through the generic canonicalJson: the
 * same bytes (a test checks equality against canonicalJson on random registries) at a fraction of
 * the cost for 100k-item registries. Strings are JSON.stringify'd, which is JCS string escaping;
 * lone surrogates were refused by validation. Meant for `snapshot.data`; on data that did not pass
 * buildSnapshot's validation the text is not canonical (and it may throw).
 */
export function registryContentJson(data: RegistryData): string {
  const out: string[] = ['{"claims":['];
  data.claims.forEach((c, i) => {
    if (i > 0) out.push(",");
    // A claim without a budget prints as before: the digest of registries without budgets is unchanged.
    out.push(c.budget !== undefined ? `{"budget":${budgetJson(c.budget)},"canDelegate":${c.canDelegate},` : `{"canDelegate":${c.canDelegate},`);
    out.push(`"canRead":${c.canRead},"canWrite":${c.canWrite},"confidence":${num(c.confidence)}`);
    if (c.expiresAt !== undefined) out.push(`,"expiresAt":${num(c.expiresAt)}`);
    if (c.grantor !== undefined) out.push(`,"grantor":${str(c.grantor)}`);
    out.push(`,"holder":${str(c.holder)},"id":${str(c.id)}`);
    if (c.resource !== undefined) out.push(`,"resource":${str(c.resource)}`);
    if (c.revokedAt !== undefined) out.push(`,"revokedAt":${num(c.revokedAt)}`);
    if (c.scope !== undefined) out.push(`,"scope":${str(c.scope)}`);
    out.push("}");
  });
  out.push('],"entities":[');
  data.entities.forEach((e, i) => {
    out.push(`${i > 0 ? "," : ""}{"displayName":${str(e.displayName)},"id":${str(e.id)},"kind":${str(e.kind)}}`);
  });
  out.push('],"halts":[');
  data.halts.forEach((h, i) => {
    out.push(`${i > 0 ? "," : ""}{"kind":${str(h.kind)}${h.kind === "all" ? "" : `,"target":${str(h.target)}`}}`);
  });
  out.push(`],"lattice":[${(data.lattice ?? DEFAULT_LATTICE).map((l) => str(l)).join(",")}],"machineOwners":[`);
  data.machineOwners.forEach((m, i) => {
    out.push(`${i > 0 ? "," : ""}{"machine":${str(m.machine)},"owner":${str(m.owner)}}`);
  });
  out.push('],"policies":[');
  (data.policies ?? []).forEach((p, i) => {
    out.push(`${i > 0 ? "," : ""}{"actorPattern":${str(p.actorPattern)}`);
    if (p.description !== undefined) out.push(`,"description":${str(p.description)}`);
    out.push(`,"effect":${str(p.effect)},"id":${str(p.id)}`);
    // Only shadow rules print a mode: the digest of registries without them is unchanged.
    if (p.mode !== undefined) out.push(`,"mode":${str(p.mode)}`);
    out.push(
      `,"operations":[${p.operations.map((o) => str(o)).join(",")}],"priority":${num(p.priority)},"scope":${str(p.scope)}}`,
    );
  });
  out.push('],"resources":[');
  data.resources.forEach((r, i) => {
    out.push(`${i > 0 ? "," : ""}{"id":${str(r.id)}`);
    if (r.ifcLabel !== undefined) out.push(`,"ifcLabel":${str(r.ifcLabel)}`);
    out.push(`,"isPublic":${r.isPublic}`);
    if (r.owner !== undefined) out.push(`,"owner":${str(r.owner)}`); // absent: the digest of old registries is unchanged
    out.push(`,"scope":${str(r.scope)},"type":${str(r.type)}}`);
  });
  out.push("]}");
  return out.join("");
}

/**
 * Validates `data`, normalises it (lists sorted by id/key, policies and lattice explicit),
 * deep-freezes it, computes its digest and builds the lookup indexes.
 *
 * Throws SnapshotError (code "INVALID_REGISTRY", `issues` listing every problem) on any invalid
 * input — unknown fields, wrong types, dangling ids, duplicate ids, a human owned or a machine
 * owning (A2), a machine with two owners (A4), a resource id that is an entity id (A2), a root
 * claim held by a machine, invalid scopes, labels outside the lattice — and on input that cannot
 * even be read (throwing getters, revoked proxies). It throws nothing else.
 */
export function buildSnapshot(data: RegistryData): Snapshot {
  try {
    const { data: normalised, entities } = validate(data);
    const digest = sha256Hex(utf8(REGISTRY_DIGEST_DOMAIN + registryContentJson(normalised)));
    const { ix, claimsOf } = buildIndex(normalised, entities);
    return new FrozenSnapshot(normalised, digest, ix, claimsOf);
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError([`registry could not be processed: ${e instanceof Error ? e.message : "unknown error"}`]);
  }
}
