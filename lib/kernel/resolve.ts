/**
 * Resolution of object references to registered resources (issue 10), shared by verify and the
 * IFC functions: an object is the most specific registered resource whose scope contains its
 * canonical path. Like internal.ts, this file is not re-exported from index.ts: it works on the
 * snapshot indexes, which must stay unreachable from outside the kernel.
 */
import { snapshotIndex, type ResourceNode, type SnapshotIndex } from "./internal";
import { canonicalizeReference, isObjectReference } from "./object-ref";
import type { Snapshot } from "./snapshot";
import { MAX_SCOPE_LENGTH } from "./scope";

// Resources by exact scope, per resources map (pure memoisation: a snapshot's maps are never
// changed after it is built), and their scopes sorted, made on first use.
interface ResourceScopes {
  readonly byScope: Map<string, ResourceNode[]>;
  sorted?: readonly string[];
}

const RESOURCE_SCOPES = new WeakMap<ReadonlyMap<string, ResourceNode>, ResourceScopes>();

function resourceScopes(resources: ReadonlyMap<string, ResourceNode>): ResourceScopes {
  let rs = RESOURCE_SCOPES.get(resources);
  if (rs === undefined) {
    const byScope = new Map<string, ResourceNode[]>();
    for (const rn of resources.values()) {
      const list = byScope.get(rn.resource.scope);
      if (list === undefined) byScope.set(rn.resource.scope, [rn]);
      else list.push(rn);
    }
    rs = { byScope };
    RESOURCE_SCOPES.set(resources, rs);
  }
  return rs;
}

// Which lengths any scope of a resource or a claim has, per snapshot index. A prefix of an
// object's path whose length no scope has cannot be a key of any map verify looks scopes up in
// (resources by scope, holders' and writers' scope claims), so it is neither cut out nor hashed:
// a reference costs a walk over its characters and a lookup per prefix that could match.
const SCOPE_LENGTHS = new WeakMap<SnapshotIndex, Uint8Array>();

function scopeLengths(ix: SnapshotIndex): Uint8Array {
  let lengths = SCOPE_LENGTHS.get(ix);
  if (lengths === undefined) {
    lengths = new Uint8Array(MAX_SCOPE_LENGTH + 1);
    for (const rn of ix.resources.values()) if (rn.resource.scope.length <= MAX_SCOPE_LENGTH) lengths[rn.resource.scope.length] = 1;
    for (const n of ix.claims.values()) {
      const scope = n.claim.scope;
      if (scope !== undefined && scope.length <= MAX_SCOPE_LENGTH) lengths[scope.length] = 1;
    }
    SCOPE_LENGTHS.set(ix, lengths);
  }
  return lengths;
}

/**
 * The most specific registered resource whose scope contains `canonical` (scopeContains), with
 * the object's scope ancestors that any map can hold (canonical path first, "" last); undefined
 * when no resource contains it, or when two or more resources share that most specific scope:
 * the object is then ambiguous (they may differ in owner, label, publicity) and resolves to
 * none, denied, fail closed. The walk stops at the resource: the ancestors above it are the
 * resource's own, computed when the snapshot was built.
 */
export function resolveObject(ix: SnapshotIndex, canonical: string): Resolution | undefined {
  const { byScope } = resourceScopes(ix.resources);
  const lengths = scopeLengths(ix);
  const own: string[] = [];
  // The prefixes of scopeAncestors(canonical), in its order: the path, each shorter prefix
  // ending before a "/", then "/" and "" — skipping lengths that no scope has.
  let end = canonical.length;
  for (;;) {
    if (end <= MAX_SCOPE_LENGTH && lengths[end] === 1) {
      const hit = resolveAt(byScope, end === canonical.length ? canonical : canonical.slice(0, end), own);
      if (hit !== MISS) return hit;
    }
    end = canonical.lastIndexOf("/", end - 1);
    if (end <= 0) break;
  }
  if (canonical !== "/" && lengths[1] === 1) {
    const hit = resolveAt(byScope, "/", own);
    if (hit !== MISS) return hit;
  }
  if (lengths[0] === 1) {
    const hit = resolveAt(byScope, "", own);
    if (hit !== MISS) return hit;
  }
  return undefined;
}

export type Resolution = { readonly rn: ResourceNode; readonly ancestors: readonly string[] };
const MISS = Symbol("miss");

/** Resources registered at exactly `prefix`: one resolves, two or more are ambiguous (undefined), none is MISS. */
function resolveAt(by: Map<string, ResourceNode[]>, prefix: string, own: string[]): Resolution | undefined | typeof MISS {
  const list = by.get(prefix);
  if (list === undefined) {
    own.push(prefix);
    return MISS;
  }
  // An ambiguous object is covered by nothing (coverage needs a resource): no ancestors needed.
  if (list.length !== 1) return undefined;
  const rn = list[0] as ResourceNode;
  return { rn, ancestors: own.length === 0 ? rn.ancestors : own.concat(rn.ancestors) };
}

/** What one entry of reads/writes/delegates names: a resource, nothing registered, or not a valid reference. */
export type EntryResolution = { readonly ok: true; readonly rn: ResourceNode | undefined } | { readonly ok: false; readonly reason: string };

/**
 * The resource an entry names: a resource id as itself, an object reference as the resource it
 * resolves to (undefined when none or ambiguous); `ok: false` when the reference does not
 * canonicalize (verify makes such an action MALFORMED_ACTION).
 */
export function resolveEntry(ix: SnapshotIndex, entry: string): EntryResolution {
  if (!isObjectReference(entry)) return { ok: true, rn: ix.resources.get(entry) };
  const c = canonicalizeReference(entry);
  if (!c.ok) return c;
  return { ok: true, rn: resolveObject(ix, c.canonical)?.rn };
}

/** The same for a snapshot; `ok: false` also when it is not one built by buildSnapshot. */
export function resolveEntryIn(snapshot: Snapshot, entry: string): EntryResolution {
  const ix = snapshotIndex(snapshot);
  return ix === undefined ? { ok: false, reason: "not a snapshot built by buildSnapshot" } : resolveEntry(ix, entry);
}

/**
 * The one resource a scope stands for, if any: when the most specific registered resource whose
 * scope contains `scope` is unique (R) and no registered resource lies strictly inside `scope`,
 * every object under `scope` resolves to R and no other resource is covered, so a claim on
 * `scope` covers exactly part of R. Then a claim on R supports delegating a claim on `scope`
 * (design refinement, issue 10: an owner who holds a resource can grant one file of it). Roots
 * ("" and "/") never stand for one resource. Registering a resource inside `scope` later changes
 * the answer, and a delegated claim that relied on it loses its support: fail closed.
 */
export function soleResource(resources: ReadonlyMap<string, ResourceNode>, scope: string): ResourceNode | undefined {
  if (scope === "" || scope === "/") return undefined;
  const rs = resourceScopes(resources);
  let rn: ResourceNode | undefined;
  for (let end = scope.length; end > 0; end = scope.lastIndexOf("/", end - 1)) {
    const list = rs.byScope.get(end === scope.length ? scope : scope.slice(0, end));
    if (list !== undefined) {
      if (list.length !== 1) return undefined;
      rn = list[0];
      break;
    }
  }
  if (rn === undefined) {
    for (const root of ["/", ""]) {
      const list = rs.byScope.get(root);
      if (list !== undefined) {
        if (list.length !== 1) return undefined;
        rn = list[0];
        break;
      }
    }
  }
  if (rn === undefined) return undefined;
  // Nothing registered strictly inside `scope`: the first sorted scope after scope + "/" must not start with it.
  const sorted = (rs.sorted ??= [...rs.byScope.keys()].sort());
  const inner = scope + "/";
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < inner) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && (sorted[lo] as string).startsWith(inner) ? undefined : rn;
}
