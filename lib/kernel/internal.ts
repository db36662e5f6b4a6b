/**
 * Kernel-internal helpers: defensive readers for untrusted values and the per-snapshot indexes.
 * Deliberately NOT re-exported from index.ts: the indexes are mutable Maps, and keeping them
 * unreachable from outside the kernel is what makes a snapshot immutable in practice.
 */
import type { Claim, Entity, EntityKind, PolicyRule, Resource } from "./types";

export const MAX_ID_LENGTH = 256;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `s` contains an unpaired surrogate (not encodable as UTF-8, refused by JCS). */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

/**
 * An identifier: non-empty, at most MAX_ID_LENGTH code units, no control characters (an id is
 * printed in messages and logs, where a newline would forge a line), no lone surrogates.
 * Returns the reason it is not one, or null.
 */
export function idProblem(v: unknown): string | null {
  if (typeof v !== "string") return "must be a string";
  if (v.length === 0) return "must not be empty";
  if (v.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters`;
  // One pass over the code units: ids are checked on every verification and registry build.
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return "must not contain control characters";
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < v.length ? v.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
      else return "must not contain a lone surrogate";
    }
  }
  return null;
}

/** Free text (description, argument): a string of at most `max` code units, no lone surrogates. */
export function textProblem(v: unknown, max: number): string | null {
  if (typeof v !== "string") return "must be a string";
  if (v.length > max) return `must be at most ${max} characters`;
  if (LONE_SURROGATE.test(v)) return "must not contain a lone surrogate";
  return null;
}

/** A short, escaped rendering of untrusted text for an error message. */
export function quote(s: string): string {
  const cut = s.length > 64 ? s.slice(0, 64) + "…" : s;
  return JSON.stringify(cut);
}

export type Read<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Copies the own properties of a plain object (prototype Object.prototype or null) into a Map,
 * reading each property exactly once through its descriptor, so getters never run and a Proxy
 * cannot answer differently to a later look. Refuses arrays, class instances, symbol keys,
 * accessors, non-enumerable properties and objects with more than `maxKeys` keys.
 * Never throws: a Proxy trap that throws yields `ok: false`.
 */
export function readPlainObject(v: unknown, what: string, maxKeys = 64): Read<Map<string, unknown>> {
  try {
    if (typeof v !== "object" || v === null) return { ok: false, error: `${what} must be an object` };
    if (Array.isArray(v)) return { ok: false, error: `${what} must be an object, not an array` };
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return { ok: false, error: `${what} must be a plain object` };
    const keys = Reflect.ownKeys(v);
    if (keys.length > maxKeys) return { ok: false, error: `${what} has too many fields (${keys.length})` };
    const fields = new Map<string, unknown>();
    for (const key of keys) {
      if (typeof key !== "string") return { ok: false, error: `${what} has a symbol key` };
      const d = Object.getOwnPropertyDescriptor(v, key);
      if (d === undefined) return { ok: false, error: `${what}.${quote(key)} vanished while being read` };
      if (!("value" in d)) return { ok: false, error: `${what}.${quote(key)} is an accessor, not data` };
      if (d.enumerable !== true) return { ok: false, error: `${what}.${quote(key)} is not enumerable` };
      fields.set(key, d.value);
    }
    return { ok: true, value: fields };
  } catch {
    return { ok: false, error: `${what} could not be read` };
  }
}

/**
 * Copies the elements of a real array (at most `maxItems`), each read once through its
 * descriptor. Refuses non-arrays, holes, accessors and arrays whose prototype is not
 * Array.prototype. Never throws.
 */
export function readArray(v: unknown, what: string, maxItems: number): Read<unknown[]> {
  try {
    if (!Array.isArray(v)) return { ok: false, error: `${what} must be an array` };
    if (Object.getPrototypeOf(v) !== Array.prototype) return { ok: false, error: `${what} must be a plain array` };
    const lengthDescriptor = Object.getOwnPropertyDescriptor(v, "length");
    const length: unknown = lengthDescriptor?.value;
    if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0) {
      return { ok: false, error: `${what} has no valid length` };
    }
    if (length > maxItems) return { ok: false, error: `${what} has more than ${maxItems} items` };
    const out: unknown[] = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      const d = Object.getOwnPropertyDescriptor(v, i);
      if (d === undefined) return { ok: false, error: `${what}[${i}] is missing` };
      if (!("value" in d)) return { ok: false, error: `${what}[${i}] is an accessor, not data` };
      out[i] = d.value;
    }
    return { ok: true, value: out };
  } catch {
    return { ok: false, error: `${what} could not be read` };
  }
}

/** Caps a list of issues so that a hostile input cannot make the report itself huge. */
export function capIssues(issues: string[], max: number): string[] {
  if (issues.length <= max) return issues;
  return [...issues.slice(0, max), `… and ${issues.length - max} more`];
}

// ---------------------------------------------------------------------------------------------
// Per-snapshot indexes (built once by buildSnapshot, read by verify, checkGrant and friends).

/** A claim with what the snapshot precomputed about it. */
export interface ClaimNode {
  readonly claim: Claim;
  readonly holderKind: EntityKind;
  /**
   * Last instant (ms) at which the claim is valid on its own: min(expiresAt, revokedAt - 1);
   * -Infinity when confidence <= 0; +Infinity when it neither expires nor is revoked.
   */
  readonly local: number;
  /**
   * Last instant at which the claim is valid including its whole grant chain: the best, over
   * every acyclic chain of at most MAX_CHAIN_DEPTH grants to a human root, of the earliest
   * `local` on the chain. -Infinity when no such chain exists.
   * Validity is monotone in time (nothing becomes valid later), so `now <= horizon` is exact.
   */
  readonly horizon: number;
  /** Claims of the grantor that may support this one (holder, target, rights, canDelegate). */
  readonly supporters: readonly ClaimNode[];
}

export interface HolderIndex {
  readonly all: ClaimNode[];
  readonly byResource: Map<string, ClaimNode[]>;
  readonly byScope: Map<string, ClaimNode[]>;
}

export interface ResourceNode {
  readonly resource: Resource;
  /** scopeAncestors(resource.scope), computed once. */
  readonly ancestors: readonly string[];
}

export interface SnapshotIndex {
  readonly entities: Map<string, Entity>;
  readonly ownerOf: Map<string, string>;
  readonly machinesOf: Map<string, readonly string[]>;
  readonly resources: Map<string, ResourceNode>;
  readonly holders: Map<string, HolderIndex>;
  readonly claims: Map<string, ClaimNode>;
  /** Claims with canWrite on one resource, by resource id. */
  readonly writersByResource: Map<string, ClaimNode[]>;
  /** Scope claims with canWrite, by scope. */
  readonly writersByScope: Map<string, ClaimNode[]>;
  readonly haltAll: boolean;
  readonly haltedMachines: Set<string>;
  readonly haltedOwners: Set<string>;
  /** Enforced policy rules in evaluation order: priority descending, deny before allow, then id. */
  readonly policies: readonly PolicyRule[];
  /** Shadow rules (mode "shadow", issue 12), same order: reported by verify, never enforced. */
  readonly shadowPolicies: readonly PolicyRule[];
  readonly lattice: readonly string[];
  readonly latticeRank: Map<string, number>;
  /** Some claim carries a budget (issue 13); without one, verify skips budgets entirely. */
  readonly hasBudgets: boolean;
}

const INDEXES = new WeakMap<object, SnapshotIndex>();

export function registerSnapshotIndex(snapshot: object, index: SnapshotIndex): void {
  INDEXES.set(snapshot, index);
}

/** The index of a snapshot made by buildSnapshot, or undefined for anything else. */
export function snapshotIndex(snapshot: unknown): SnapshotIndex | undefined {
  if (typeof snapshot !== "object" || snapshot === null) return undefined;
  return INDEXES.get(snapshot);
}

/** Deepest grant chain honoured; longer chains (and cycles) are invalid. */
export const MAX_CHAIN_DEPTH = 32;

/** Valid on its own at `now` (confidence, revocation, expiry); `now` is an integer. */
export function isLocallyValid(node: ClaimNode, now: number): boolean {
  return now <= node.local;
}

/** Valid at `now` including every grant on some chain back to a human root. */
export function isSupported(node: ClaimNode, now: number): boolean {
  return now <= node.horizon;
}

export type Op = "read" | "write" | "delegate";

export function hasRight(claim: Claim, op: Op): boolean {
  return op === "read" ? claim.canRead : op === "write" ? claim.canWrite : claim.canDelegate;
}

/** Halted directly, through its owner, or by a halt of every machine. */
export function isMachineHalted(ix: SnapshotIndex, machine: string): boolean {
  if (ix.haltAll || ix.haltedMachines.has(machine)) return true;
  const owner = ix.ownerOf.get(machine);
  return owner !== undefined && ix.haltedOwners.has(owner);
}

/**
 * The shape rule of delegation, shared with checkGrant: a human's claim may come only from a
 * human (cross-owner sharing goes human to human); a machine's claim only from its owner or from
 * a machine of the same owner (walking up, a chain reaches the owner before it leaves the
 * owner's machines). An ownerless machine can be granted nothing.
 */
export function grantorMayGrant(
  holderKind: EntityKind,
  holder: string,
  grantor: string,
  entities: Map<string, Entity>,
  ownerOf: Map<string, string>,
): boolean {
  const gk = entities.get(grantor)?.kind;
  if (gk === undefined) return false;
  if (holderKind === "HUMAN") return gk === "HUMAN";
  const owner = ownerOf.get(holder);
  if (owner === undefined) return false;
  if (gk === "HUMAN") return grantor === owner;
  return ownerOf.get(grantor) === owner;
}

