/**
 * Compatibility with the original kernel's JSON wire format (freedom-kernel, src/wire.rs):
 *
 *   { "registry": { "claims": [ClaimWire], "machine_owners": [MachineOwnerWire] },
 *     "action": ActionWire }
 *
 *   EntityWire       { name, kind: "HUMAN" | "MACHINE" }
 *   ResourceWire     { name, rtype, scope = "", is_public = false, ifc_label = "" }
 *   ClaimWire        { holder: EntityWire, resource: ResourceWire, can_read = true,
 *                      can_write = false, can_delegate = false, confidence = 1.0,
 *                      expires_at: seconds (float) | null }
 *   MachineOwnerWire { machine: EntityWire, owner: EntityWire }
 *   ActionWire       { action_id, actor: EntityWire, description = "", resources_read = [],
 *                      resources_write = [], resources_delegate = [], governs_humans = [],
 *                      argument = "", and the ten flags = false }
 *
 * The original has no JSON envelope for plans (its planner takes a list of ActionWire); plans are
 * accepted here as `{ registry, actions: [ActionWire] }`.
 *
 * Translation: a wire resource is identified, as in the original, by (rtype, name); its id here
 * is "rtype:name" (the original printed resources that way). Entities come from every place the
 * wire names one (claim holders, machine owners, the actor, governs_humans) with the kind given.
 * Human claims become root claims. A machine's claim gets its owner as grantor, so it counts as
 * delegated by the owner exactly when the owner holds a valid claim covering it with the same
 * rights and canDelegate — checked by verify at decision time, like any grant; otherwise A5/A7
 * block it. The result renders back with renderOriginal.
 *
 * Where the original failed open and this kernel fails closed (see also WIRE_DIFFERENCES):
 * 1. Unknown fields: serde ignored them (no deny_unknown_fields), so a misspelt flag such as
 *    "increases_machine_soverignty": true was silently false. Here every unknown field, at any
 *    level, rejects the request.
 * 2. A5 was not implemented: a machine's claim was honoured whatever its owner held. Here the
 *    owner must hold the exercised right (OUTSIDE_OWNER_SCOPE) and canDelegate over it
 *    (NOT_DELEGATED_BY_OWNER).
 * 3. Owner-less delegation: any machine claim counted, with or without an owner behind it.
 *    Here a machine claim is only as good as its owner's; an ownerless machine's claims are
 *    dropped (a machine never holds a resource outright) and A4 blocks the machine.
 * 4. Resource attributes from the agent: the original took is_public (and, in plans, ifc_label)
 *    from the ACTION's resource, so an agent could declare any resource public. Here attributes
 *    come from the registry only; a resource the registry does not know is denied, and an action
 *    that restates a resource with different attributes is rejected.
 * 5. Kinds: any kind other than "MACHINE" (e.g. "machine") skipped A4 and A6. Here the kind must
 *    be exactly "HUMAN" or "MACHINE", and one name must have one kind everywhere.
 * 6. IFC: unknown labels ranked as PUBLIC and unlabeled sinks were never checked. Here labels
 *    must be in the lattice, and an unlabeled resource is PUBLIC (the bottom) as a sink too.
 * 7. Values the original accepted without meaning: confidence outside [0, 1], unknown rtypes,
 *    empty names, duplicate list entries. Here they reject the request.
 * 8. Time: the original read the wall clock; here `now` is passed in. expires_at (float seconds)
 *    becomes integer milliseconds rounded DOWN, so a claim never lives longer than stated.
 * 9. Object references (issue 10): a wire action names resources by (rtype, name), that is by
 *    id; it never names an object by a path, and the scope a wire action restates is never used
 *    to resolve it to a registered resource whose scope contains it (the scope there is the
 *    agent's claim about the resource, and attributes come from the registry only, point 4). A
 *    name that would make the id look like a URI ("file" + "/data/x" = "file:/data/x") rejects
 *    the request: the original accepted it.
 * Also: a trailing "/" on a wire scope is removed (the original ignored it when matching, via
 * rstrip("/")) and reported in `notes`; other invalid scopes (.., //, control characters)
 * reject the request.
 */
import { parseAction } from "./action";
import { capIssues, idProblem, quote, readArray, readPlainObject } from "./internal";
import { isObjectReference } from "./object-ref";
import { verifyPlan, type PlanResult } from "./plan";
import { validateScope } from "./scope";
import { SnapshotError, buildSnapshot, type Snapshot } from "./snapshot";
import { FLAGS, RESOURCE_TYPES, type Action, type Claim, type Entity, type EntityKind, type RegistryData, type Resource, type VerifyResult, type ViolationCode, type WarningCode } from "./types";
import { NO_SNAPSHOT_REF, internalErrorResult, malformedResult, verify } from "./verify";

/** The fail-open behaviours of the original kernel that this kernel deliberately refuses. */
export const WIRE_DIFFERENCES: readonly string[] = Object.freeze([
  "unknown fields are rejected (the original ignored them, so a misspelt flag read as false)",
  "A5 is enforced: the owner must hold the right a machine exercises (the original did not check)",
  "a machine claim counts only as delegated by its owner, who must hold the rights with canDelegate (the original honoured owner-less delegation)",
  "resource attributes come from the registry, never from the action (the original trusted is_public and ifc_label sent by the agent)",
  'entity kinds must be exactly "HUMAN" or "MACHINE" and consistent (the original treated any other kind as not a machine, skipping A4 and A6)',
  "IFC labels must be in the lattice and unlabeled sinks count as PUBLIC (the original ranked unknown labels as PUBLIC and skipped unlabeled sinks)",
  "confidence outside [0, 1], unknown resource types, empty names and duplicate list entries are rejected",
  "time is passed in; expires_at seconds are rounded down to whole milliseconds",
  'a resource name that makes its id look like a URI ("file" + "/data/x" = "file:/data/x") is rejected; a wire resource is always an id, never resolved by the scope the action restates',
]);

const MAX_WIRE_ITEMS = 1_000_000;
const MAX_ERRORS = 50;

interface WireResource {
  readonly id: string;
  readonly name: string;
  readonly rtype: string;
  /** Present only when the wire object carried the field. */
  readonly scope?: string;
  readonly isPublic?: boolean;
  readonly ifcLabel?: string;
}

class Collector {
  readonly errors: string[] = [];
  readonly notes: string[] = [];
  readonly kinds = new Map<string, EntityKind>();
  readonly kindOrigin = new Map<string, string>();
  readonly resources = new Map<string, Resource>();
  readonly resourceOrigin = new Map<string, string>();
  private readonly scopeNotes = new Set<string>();

  fields(v: unknown, what: string, allowed: readonly string[], required: readonly string[]): Map<string, unknown> | null {
    const r = readPlainObject(v, what, 48);
    if (!r.ok) {
      this.errors.push(r.error);
      return null;
    }
    let good = true;
    for (const k of r.value.keys()) {
      if (!allowed.includes(k)) {
        this.errors.push(`${what} has unknown field ${quote(k)}`);
        good = false;
      }
    }
    for (const k of required) {
      if (!r.value.has(k)) {
        this.errors.push(`${what} is missing ${k}`);
        good = false;
      }
    }
    return good ? r.value : null;
  }

  list(v: unknown, what: string): unknown[] {
    if (v === undefined) return [];
    const r = readArray(v, what, MAX_WIRE_ITEMS);
    if (!r.ok) {
      this.errors.push(r.error);
      return [];
    }
    return r.value;
  }

  bool(f: Map<string, unknown>, key: string, what: string, fallback: boolean): boolean {
    const v = f.get(key);
    if (v === undefined) return fallback;
    if (typeof v !== "boolean") {
      this.errors.push(`${what}.${key} must be a boolean`);
      return fallback;
    }
    return v;
  }

  /** Reads an EntityWire and records its kind; returns its name or null. */
  entity(v: unknown, what: string): string | null {
    const f = this.fields(v, what, ["name", "kind"], ["name", "kind"]);
    if (f === null) return null;
    const name = f.get("name");
    const kind = f.get("kind");
    const p = idProblem(name);
    if (p !== null) {
      this.errors.push(`${what}.name ${p}`);
      return null;
    }
    if (kind !== "HUMAN" && kind !== "MACHINE") {
      this.errors.push(`${what}.kind must be exactly "HUMAN" or "MACHINE"`);
      return null;
    }
    const n = name as string;
    const known = this.kinds.get(n);
    if (known === undefined) {
      this.kinds.set(n, kind);
      this.kindOrigin.set(n, what);
    } else if (known !== kind) {
      this.errors.push(`${what}: ${quote(n)} is ${kind} here but ${known} in ${this.kindOrigin.get(n) ?? "another place"}`);
      return null;
    }
    return n;
  }

  scope(raw: string, what: string): string | null {
    let s = raw;
    if (s.length > 1 && s.endsWith("/")) {
      s = s.slice(0, -1);
      if (!this.scopeNotes.has(raw)) {
        this.scopeNotes.add(raw);
        this.notes.push(`scope ${quote(raw)} read as ${quote(s)} (the original ignored a trailing "/" when matching)`);
      }
    }
    const v = validateScope(s);
    if (!v.ok) {
      this.errors.push(`${what}.scope: ${v.reason}`);
      return null;
    }
    return s;
  }

  /** Reads a ResourceWire; only the fields it carried are set. */
  resource(v: unknown, what: string): WireResource | null {
    const f = this.fields(v, what, ["name", "rtype", "scope", "is_public", "ifc_label"], ["name", "rtype"]);
    if (f === null) return null;
    const name = f.get("name");
    const rtype = f.get("rtype");
    const p = idProblem(name);
    if (p !== null) {
      this.errors.push(`${what}.name ${p}`);
      return null;
    }
    if (typeof rtype !== "string" || !(RESOURCE_TYPES as readonly string[]).includes(rtype)) {
      this.errors.push(`${what}.rtype must be one of ${RESOURCE_TYPES.join(", ")}`);
      return null;
    }
    const id = `${rtype}:${name as string}`;
    // "file" + "/data/x" would be "file:/data/x", a file: URI: a string is never both an id and an
    // object reference (object-ref.ts), and a wire resource is always an id.
    if (isObjectReference(id)) {
      this.errors.push(`${what}: the name ${quote(name as string)} with rtype ${quote(rtype)} makes the id ${quote(id)}, which reads as an object reference (a URI); name wire resources without a leading "/" and put the path in scope`);
      return null;
    }
    let out: WireResource = { id, name: name as string, rtype };
    const scope = f.get("scope");
    if (scope !== undefined) {
      if (typeof scope !== "string") {
        this.errors.push(`${what}.scope must be a string`);
        return null;
      }
      const s = this.scope(scope, what);
      if (s === null) return null;
      out = { ...out, scope: s };
    }
    const isPublic = f.get("is_public");
    if (isPublic !== undefined) {
      if (typeof isPublic !== "boolean") {
        this.errors.push(`${what}.is_public must be a boolean`);
        return null;
      }
      out = { ...out, isPublic };
    }
    const label = f.get("ifc_label");
    if (label !== undefined) {
      if (typeof label !== "string") {
        this.errors.push(`${what}.ifc_label must be a string`);
        return null;
      }
      out = { ...out, ifcLabel: label };
    }
    return out;
  }

  /** Registers a resource declared by the registry (claims); attributes must agree everywhere. */
  declare(r: WireResource, what: string): void {
    const resource: Resource = {
      id: r.id,
      type: r.rtype as Resource["type"],
      scope: r.scope ?? "",
      isPublic: r.isPublic ?? false,
      ...(r.ifcLabel !== undefined && r.ifcLabel !== "" ? { ifcLabel: r.ifcLabel } : {}),
    };
    const known = this.resources.get(r.id);
    if (known === undefined) {
      this.resources.set(r.id, resource);
      this.resourceOrigin.set(r.id, what);
    } else if (known.scope !== resource.scope || known.isPublic !== resource.isPublic || known.ifcLabel !== resource.ifcLabel) {
      this.errors.push(`${what}: resource ${r.id} has different attributes in ${this.resourceOrigin.get(r.id) ?? "another claim"}`);
    }
  }

  /** A resource named by the action: the attributes it restates must match the registry's. */
  reference(r: WireResource, what: string): void {
    const known = this.resources.get(r.id);
    if (known === undefined) return; // unknown: denied by verify like any undelegated resource
    const mismatch =
      (r.scope !== undefined && r.scope !== known.scope) ||
      (r.isPublic !== undefined && r.isPublic !== known.isPublic) ||
      (r.ifcLabel !== undefined && (r.ifcLabel === "" ? undefined : r.ifcLabel) !== known.ifcLabel);
    if (mismatch) {
      this.errors.push(`${what}: the action restates resource ${r.id} with attributes that differ from the registry's; attributes come from the registry only`);
    }
  }
}

interface RegistryParts {
  readonly owners: Map<string, string>;
  readonly claims: { holder: string; r: WireResource; canRead: boolean; canWrite: boolean; canDelegate: boolean; confidence: number; expiresAt?: number }[];
}

function readRegistry(col: Collector, v: unknown): RegistryParts {
  const parts: RegistryParts = { owners: new Map(), claims: [] };
  const f = col.fields(v, "registry", ["claims", "machine_owners"], []);
  if (f === null) return parts;
  col.list(f.get("machine_owners"), "registry.machine_owners").forEach((raw, i) => {
    const what = `registry.machine_owners[${i}]`;
    const mo = col.fields(raw, what, ["machine", "owner"], ["machine", "owner"]);
    if (mo === null) return;
    const machine = col.entity(mo.get("machine"), `${what}.machine`);
    const owner = col.entity(mo.get("owner"), `${what}.owner`);
    if (machine === null || owner === null) return;
    const prior = parts.owners.get(machine);
    if (prior === undefined) parts.owners.set(machine, owner);
    else if (prior !== owner) col.errors.push(`${what}: machine ${quote(machine)} has two owners, ${quote(prior)} and ${quote(owner)} (A4)`);
    else col.notes.push(`${what} repeats the owner of ${quote(machine)}`);
  });
  col.list(f.get("claims"), "registry.claims").forEach((raw, i) => {
    const what = `registry.claims[${i}]`;
    const c = col.fields(raw, what, ["holder", "resource", "can_read", "can_write", "can_delegate", "confidence", "expires_at"], ["holder", "resource"]);
    if (c === null) return;
    const holder = col.entity(c.get("holder"), `${what}.holder`);
    const r = col.resource(c.get("resource"), `${what}.resource`);
    const canRead = col.bool(c, "can_read", what, true);
    const canWrite = col.bool(c, "can_write", what, false);
    const canDelegate = col.bool(c, "can_delegate", what, false);
    const confidence = c.has("confidence") ? c.get("confidence") : 1;
    if (typeof confidence !== "number" || !(confidence >= 0 && confidence <= 1)) {
      col.errors.push(`${what}.confidence must be a number in [0, 1]`);
      return;
    }
    let expiresAt: number | undefined;
    const exp = c.get("expires_at");
    if (exp !== undefined && exp !== null) {
      const ms = typeof exp === "number" ? Math.floor(exp * 1000) : NaN;
      if (!Number.isSafeInteger(ms)) {
        col.errors.push(`${what}.expires_at must be a number of seconds since the epoch, or null`);
        return;
      }
      expiresAt = ms;
    }
    if (holder === null || r === null) return;
    col.declare(r, `${what}.resource`);
    parts.claims.push({ holder, r, canRead, canWrite, canDelegate, confidence, ...(expiresAt !== undefined ? { expiresAt } : {}) });
  });
  return parts;
}

function resourceList(col: Collector, v: unknown, what: string): string[] {
  return col
    .list(v, what)
    .map((raw, i) => col.resource(raw, `${what}[${i}]`))
    .filter((r): r is WireResource => r !== null)
    .map((r, i) => {
      col.reference(r, `${what}[${i}]`);
      return r.id;
    });
}

const ACTION_KEYS = [
  "action_id",
  "actor",
  "description",
  "resources_read",
  "resources_write",
  "resources_delegate",
  "governs_humans",
  "argument",
  ...FLAGS,
];

/** Reads an ActionWire into an (unparsed) native action object, or null. */
function readAction(col: Collector, v: unknown, what: string): Record<string, unknown> | null {
  const f = col.fields(v, what, ACTION_KEYS, ["action_id", "actor"]);
  if (f === null) return null;
  const actor = col.entity(f.get("actor"), `${what}.actor`);
  const out: Record<string, unknown> = {
    actionId: f.get("action_id"),
    actor: actor ?? "",
    reads: resourceList(col, f.get("resources_read"), `${what}.resources_read`),
    writes: resourceList(col, f.get("resources_write"), `${what}.resources_write`),
    delegates: resourceList(col, f.get("resources_delegate"), `${what}.resources_delegate`),
    governsHumans: col
      .list(f.get("governs_humans"), `${what}.governs_humans`)
      .map((raw, i) => col.entity(raw, `${what}.governs_humans[${i}]`))
      .filter((n): n is string => n !== null),
  };
  for (const key of ["description", "argument"] as const) {
    const t = f.get(key);
    if (t === undefined || t === "") continue;
    if (typeof t !== "string") col.errors.push(`${what}.${key} must be a string`);
    else out[key] = t;
  }
  for (const flag of FLAGS) if (f.has(flag)) out[flag] = f.get(flag);
  return out;
}

function assembleRegistry(col: Collector, parts: RegistryParts): RegistryData {
  const entities: Entity[] = [...col.kinds].map(([id, kind]) => ({ id, kind, displayName: id }));
  const claims: Claim[] = [];
  parts.claims.forEach((c, i) => {
    const kind = col.kinds.get(c.holder);
    let grantor: string | undefined;
    if (kind === "MACHINE") {
      grantor = parts.owners.get(c.holder);
      if (grantor === undefined) {
        col.notes.push(`registry.claims[${i}] dropped: MACHINE ${quote(c.holder)} has no registered owner, so it can hold no claim (A4)`);
        return;
      }
    }
    claims.push({
      id: `wire-claim-${i}`,
      holder: c.holder,
      resource: c.r.id,
      canRead: c.canRead,
      canWrite: c.canWrite,
      canDelegate: c.canDelegate,
      confidence: c.confidence,
      ...(c.expiresAt !== undefined ? { expiresAt: c.expiresAt } : {}),
      ...(grantor !== undefined ? { grantor } : {}),
    });
  });
  return {
    version: 0,
    entities,
    machineOwners: [...parts.owners].map(([machine, owner]) => ({ machine, owner })),
    resources: [...col.resources.values()],
    claims,
    halts: [],
  };
}

export type WireParse =
  | { ok: true; registry: RegistryData; action: Action; notes: string[] }
  | { ok: false; errors: string[]; actionId?: string | undefined };

export type WirePlanParse =
  | { ok: true; registry: RegistryData; actions: Action[]; notes: string[] }
  | { ok: false; errors: string[] };

function actionIdHint(v: unknown): string | undefined {
  const r = readPlainObject(v, "action", 64);
  if (!r.ok) return undefined;
  const id = r.value.get("action_id");
  return idProblem(id) === null ? (id as string) : undefined;
}

/**
 * Parses an original wire request `{ registry, action }` into registry data and a parsed action.
 * Never throws. Returns `{ ok: false, errors }` for unknown fields at any level, wrong types,
 * unknown kinds or resource types, an entity with two kinds, a resource with two sets of
 * attributes, a machine with two owners, or an action restating a resource differently from the
 * registry. Registry-level rules (A2, lattice labels, confidence range) are checked when the
 * snapshot is built (verifyWire does both).
 */
export function parseWireRequest(input: unknown): WireParse {
  try {
    const col = new Collector();
    const top = col.fields(input, "request", ["registry", "action"], ["registry", "action"]);
    if (top === null) return { ok: false, errors: capIssues(col.errors, MAX_ERRORS) };
    const parts = readRegistry(col, top.get("registry"));
    const raw = readAction(col, top.get("action"), "action");
    const hint = actionIdHint(top.get("action"));
    const registry = assembleRegistry(col, parts);
    if (col.errors.length > 0 || raw === null) return { ok: false, errors: capIssues(col.errors, MAX_ERRORS), actionId: hint };
    const parsed = parseAction(raw);
    if (!parsed.ok) return { ok: false, errors: parsed.errors, actionId: hint };
    return { ok: true, registry, action: parsed.action, notes: col.notes };
  } catch {
    return { ok: false, errors: ["request could not be read"] };
  }
}

/** Most actions in a wire plan. */
export const MAX_WIRE_PLAN_STEPS = 1000;

/**
 * Parses a wire plan `{ registry, actions: [ActionWire] }` (this kernel's envelope; the original
 * had none). Never throws; `{ ok: false, errors }` as parseWireRequest, or when `actions` is not
 * an array of at most MAX_WIRE_PLAN_STEPS actions.
 */
export function parseWirePlan(input: unknown): WirePlanParse {
  try {
    const col = new Collector();
    const top = col.fields(input, "request", ["registry", "actions"], ["registry", "actions"]);
    if (top === null) return { ok: false, errors: capIssues(col.errors, MAX_ERRORS) };
    const parts = readRegistry(col, top.get("registry"));
    const list = readArray(top.get("actions"), "actions", MAX_WIRE_PLAN_STEPS);
    if (!list.ok) return { ok: false, errors: [list.error] };
    const raws = list.value.map((a, i) => readAction(col, a, `actions[${i}]`));
    const registry = assembleRegistry(col, parts);
    if (col.errors.length > 0) return { ok: false, errors: capIssues(col.errors, MAX_ERRORS) };
    const actions: Action[] = [];
    for (let i = 0; i < raws.length; i++) {
      const parsed = parseAction(raws[i]);
      if (!parsed.ok) return { ok: false, errors: parsed.errors.map((e) => `actions[${i}]: ${e}`) };
      actions.push(parsed.action);
    }
    return { ok: true, registry, actions, notes: col.notes };
  } catch {
    return { ok: false, errors: ["request could not be read"] };
  }
}

function snapshotOrErrors(registry: RegistryData): { ok: true; snapshot: Snapshot } | { ok: false; errors: string[] } {
  try {
    return { ok: true, snapshot: buildSnapshot(registry) };
  } catch (e) {
    const issues = e instanceof SnapshotError ? [...e.issues] : ["registry could not be built"];
    return { ok: false, errors: issues.map((i) => `registry: ${i}`) };
  }
}

/**
 * Verifies an original wire request at time `now` (integer ms). Total: never throws. A request
 * that does not parse, or whose registry is invalid, is BLOCKED with MALFORMED_ACTION and
 * snapshot NO_SNAPSHOT_REF; otherwise the result is verify's, against a snapshot (version 0)
 * built from the request's registry.
 */
export function verifyWire(input: unknown, now: number): VerifyResult {
  try {
    const parsed = parseWireRequest(input);
    if (!parsed.ok) return malformedResult(parsed.actionId ?? "", NO_SNAPSHOT_REF, parsed.errors);
    const built = snapshotOrErrors(parsed.registry);
    if (!built.ok) return malformedResult(parsed.action.actionId, NO_SNAPSHOT_REF, built.errors);
    return verify(built.snapshot, parsed.action, now);
  } catch {
    return internalErrorResult("", NO_SNAPSHOT_REF, "the wire verifier failed");
  }
}

/**
 * Verifies a wire plan `{ registry, actions }` at time `now`. Total: never throws. Bad input
 * yields `permitted: false` with one BLOCKED step that explains.
 */
export function verifyWirePlan(input: unknown, now: number): PlanResult {
  try {
    const parsed = parseWirePlan(input);
    if (!parsed.ok) return { permitted: false, steps: [malformedResult("", NO_SNAPSHOT_REF, parsed.errors)], taint: "" };
    const built = snapshotOrErrors(parsed.registry);
    if (!built.ok) return { permitted: false, steps: [malformedResult("", NO_SNAPSHOT_REF, built.errors)], taint: "" };
    return verifyPlan(built.snapshot, parsed.actions, now);
  } catch {
    return { permitted: false, steps: [internalErrorResult("", NO_SNAPSHOT_REF, "the wire plan verifier failed")], taint: "" };
  }
}

/** The original kernel's result shape, plus this kernel's structured codes. */
export interface OriginalResult {
  readonly action_id: string;
  readonly permitted: boolean;
  readonly violations: readonly string[];
  readonly warnings: readonly string[];
  readonly confidence: number;
  readonly requires_human_arbitration: boolean;
  readonly manipulation_score: number;
  /** Extension: the code of each entry of `violations`, in the same order. */
  readonly codes: readonly ViolationCode[];
  /** Extension: the code of each entry of `warnings`, in the same order. */
  readonly warning_codes: readonly WarningCode[];
}

/**
 * Renders a VerifyResult in the original kernel's shape (violations and warnings as strings —
 * this kernel's messages, which keep the original wording as their prefix) plus `codes` and
 * `warning_codes`. Never throws: anything that is not a well-formed result renders as BLOCKED
 * with an INTERNAL_ERROR entry.
 */
export function renderOriginal(result: VerifyResult): OriginalResult {
  try {
    if (typeof result.permitted !== "boolean" || !Array.isArray(result.violations) || !Array.isArray(result.warnings)) {
      throw new TypeError("not a result");
    }
    const permitted = result.permitted && result.violations.length === 0;
    return {
      action_id: typeof result.actionId === "string" ? result.actionId : "",
      permitted,
      violations: result.violations.map((v) => String(v.message)),
      warnings: result.warnings.map((w) => String(w.message)),
      confidence: typeof result.confidence === "number" ? result.confidence : 0,
      requires_human_arbitration: result.requiresHumanArbitration === true,
      manipulation_score: typeof result.manipulationScore === "number" ? result.manipulationScore : 0,
      codes: result.violations.map((v) => v.code),
      warning_codes: result.warnings.map((w) => w.code),
    };
  } catch {
    return {
      action_id: "",
      permitted: false,
      violations: ["INTERNAL ERROR: the result could not be rendered; blocked (fail closed)"],
      warnings: [],
      confidence: 0,
      requires_human_arbitration: false,
      manipulation_score: 0,
      codes: ["INTERNAL_ERROR"],
      warning_codes: [],
    };
  }
}

/** A plan result in the spirit of the original PlanVerificationResult. */
export interface OriginalPlanResult {
  readonly all_permitted: boolean;
  /** Index of the first step that is not permitted, or null. */
  readonly blocked_at: number | null;
  readonly results: readonly OriginalResult[];
  readonly taint: string;
}

/** Renders a PlanResult with renderOriginal per step. Never throws (bad input renders BLOCKED). */
export function renderOriginalPlan(plan: PlanResult): OriginalPlanResult {
  try {
    const results = plan.steps.map((s) => renderOriginal(s));
    const first = results.findIndex((r) => !r.permitted);
    const all = plan.permitted === true && first < 0;
    return { all_permitted: all, blocked_at: first >= 0 ? first : all ? null : 0, results, taint: typeof plan.taint === "string" ? plan.taint : "" };
  } catch {
    return { all_permitted: false, blocked_at: 0, results: [renderOriginal(undefined as unknown as VerifyResult)], taint: "" };
  }
}
