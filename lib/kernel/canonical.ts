/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * The kernel may import nothing but @noble/*, so this is a small implementation; the test suite
 * checks it against the RFC's examples and, differentially, against the `canonicalize` package
 * (the RFC authors' implementation) on random JSON values.
 *
 * JCS serialises numbers exactly as ECMAScript's Number.prototype.toString does and strings exactly
 * as JSON.stringify does, and sorts object keys by UTF-16 code units — which is what the default
 * string comparison in JavaScript does. What is left to us is refusing what JCS cannot represent.
 */

export class CanonicalizeError extends Error {
  readonly code = "CANONICALIZE_FAILED";
  constructor(message: string) {
    super(message);
    this.name = "CanonicalizeError";
  }
}

/** Nesting deeper than this is refused rather than risking a stack overflow on hostile input. */
export const MAX_CANONICAL_DEPTH = 100;

// A lone surrogate cannot be encoded as UTF-8; I-JSON (which JCS requires) forbids it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

function serialiseString(value: string): string {
  // Most strings have no surrogate at all; only those need the (slower) pairing check.
  if (ANY_SURROGATE.test(value) && LONE_SURROGATE.test(value)) throw new CanonicalizeError("string contains a lone surrogate");
  return JSON.stringify(value);
}

function serialise(value: unknown, depth: number, out: string[]): void {
  // Builds into one array of parts joined once at the end: fewer intermediate strings than
  // concatenating per level.
  if (depth > MAX_CANONICAL_DEPTH) throw new CanonicalizeError("value nested too deeply");
  if (value === null) {
    out.push("null");
    return;
  }
  switch (typeof value) {
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalizeError("non-finite number");
      // Number#toString is the ECMAScript serialisation JCS prescribes; -0 becomes "0".
      out.push(Object.is(value, -0) ? "0" : String(value));
      return;
    case "string":
      out.push(serialiseString(value));
      return;
    case "object": {
      if (Array.isArray(value)) {
        out.push("[");
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(",");
          const item: unknown = value[i];
          if (item === undefined) throw new CanonicalizeError("undefined array element");
          serialise(item, depth + 1, out);
        }
        out.push("]");
        return;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalizeError("only plain objects can be canonicalised");
      }
      const record = value as Record<string, unknown>;
      // Properties whose value is undefined are absent, as in JSON.stringify.
      const keys = Object.keys(record).sort();
      out.push("{");
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const item = record[key];
        if (item === undefined) continue;
        if (!first) out.push(",");
        first = false;
        out.push(serialiseString(key), ":");
        serialise(item, depth + 1, out);
      }
      out.push("}");
      return;
    }
    default:
      throw new CanonicalizeError(`cannot canonicalise a value of type ${typeof value}`);
  }
}

// The fast path. For a value whose object keys are (or can be put) in UTF-16 order, the canonical
// text is exactly what JSON.stringify prints: JCS defines numbers as Number#toString and strings
// as JSON.stringify does, and JSON.stringify follows key insertion order. So `prepare` checks
// everything JCS refuses, in one walk, and returns the value itself when it is already in order,
// or a copy with keys inserted in order. Keys that start with a digit may be array indices, which
// JavaScript objects always enumerate first, whatever the insertion order: such objects take the
// general serialiser above. The two paths are compared with each other and with the RFC authors'
// implementation in the tests.
const SLOW: unique symbol = Symbol("slow");

function prepareString(value: string): void {
  if (ANY_SURROGATE.test(value) && LONE_SURROGATE.test(value)) throw new CanonicalizeError("string contains a lone surrogate");
}

function prepare(value: unknown, depth: number): unknown {
  if (depth > MAX_CANONICAL_DEPTH) throw new CanonicalizeError("value nested too deeply");
  if (value === null) return value;
  switch (typeof value) {
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalizeError("non-finite number");
      return value;
    case "string":
      prepareString(value);
      return value;
    case "object": {
      if (Array.isArray(value)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) throw new CanonicalizeError("undefined array element");
          const p = prepare(item, depth + 1);
          if (p === SLOW) return SLOW;
          if (copy !== undefined) copy.push(p);
          else if (p !== item) {
            copy = value.slice(0, i) as unknown[];
            copy.push(p);
          }
        }
        return copy ?? value;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalizeError("only plain objects can be canonicalised");
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      let same = true;
      let prepared: unknown[] | undefined;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const c = key.charCodeAt(0);
        if (c >= 0x30 && c <= 0x39) return SLOW;
        prepareString(key);
        if (i > 0 && !(keys[i - 1]! < key)) same = false;
        const item = record[key];
        if (item === undefined) {
          same = false;
          (prepared ??= new Array<unknown>(keys.length))[i] = undefined;
          continue;
        }
        const p = prepare(item, depth + 1);
        if (p === SLOW) return SLOW;
        if (p !== item) same = false;
        (prepared ??= new Array<unknown>(keys.length))[i] = p;
      }
      if (same) return value;
      const order = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1));
      const copy: Record<string, unknown> = {};
      for (const i of order) {
        const p = prepared![i];
        if (p === undefined) continue;
        const key = keys[i]!;
        // Assigning "__proto__" would set the prototype; defining it makes an own data property.
        if (key === "__proto__") Object.defineProperty(copy, key, { value: p, writable: true, enumerable: true, configurable: true });
        else copy[key] = p;
      }
      return copy;
    }
    default:
      throw new CanonicalizeError(`cannot canonicalise a value of type ${typeof value}`);
  }
}

/**
 * Returns the RFC 8785 canonical JSON text of `value`.
 * Throws CanonicalizeError for values JSON cannot carry (NaN, Infinity, bigint, functions,
 * symbols, lone surrogates, class instances, nesting deeper than MAX_CANONICAL_DEPTH).
 */
export function canonicalJson(value: unknown): string {
  const p = prepare(value, 0);
  if (p !== SLOW) return JSON.stringify(p);
  return canonicalJsonGeneral(value);
}

/** canonicalJson by the general serialiser only (exported for the tests that compare the two paths). */
export function canonicalJsonGeneral(value: unknown): string {
  const out: string[] = [];
  serialise(value, 0, out);
  return out.join("");
}

const encoder = new TextEncoder();

/** UTF-8 bytes of canonicalJson(value). Throws like canonicalJson. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}

/** UTF-8 encoding; exported so callers need not build their own encoder. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
