/**
 * Object references (issue 10, kernel part): object-ref.ts and the way verify resolves them.
 *
 * 1. JSON vectors in ./vectors/references: accepted inputs with their canonical form (every
 *    scheme of REFERENCE_SCHEMES) and refused inputs (every refusal class of the module comment).
 * 2. fast-check properties: idempotence, equivalent spellings, totality, and verify on object
 *    references against a naive reference (reference.ts, extended to objects).
 * 3. A systematic corpus of traversal and encoding tricks: refused, or inside the scope the
 *    trick-free prefix names — never outside.
 * 4. verify-level tests: resolution, denial, `resolved` in the result and the decision record,
 *    and buildSnapshot refusing ids shaped like references.
 */
import fs from "node:fs";
import path from "node:path";
import { domainToASCII } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_REFERENCE_LENGTH, REFERENCE_SCHEMES, canonicalizeReference, isObjectReference } from "../object-ref";
import { punycodeDecode, punycodeEncode } from "../punycode";
import { MAX_SCOPE_LENGTH, scopeContains, validateScope } from "../scope";
import { buildDecisionRecord, isDecisionRecord } from "../signing";
import { SnapshotError, buildSnapshot } from "../snapshot";
import type { Action, Claim, RegistryData, Resource, VerifyResult } from "../types";
import { downwardFlows, resourceLabel, stepTaint, UNKNOWN_TAINT } from "../ifc";
import { checkGrant } from "../grant";
import { verifyPlan } from "../plan";
import { policyDenials } from "../policy";
import { verify } from "../verify";
import { NOW, materialise, materialiseAction, registrySpecArb, actionSpecArb, type RegistrySpec } from "./arbitraries";
import { KEY_ID_A, NONCE, makeAction } from "./evidence-fixtures";
import { project } from "./properties";
import { Reference, refScopeContains } from "./reference";

const DIR = path.join(import.meta.dirname, "vectors", "references");

// ---------------------------------------------------------------------------------------------
// 1. Vectors
// ---------------------------------------------------------------------------------------------

interface Build {
  prefix?: string;
  repeat: string;
  count: number;
  suffix?: string;
}
interface AcceptedVector {
  name: string;
  input: string;
  kind: "path" | "uri";
  canonical: string;
}
interface RefusedVector {
  name: string;
  class: string;
  input?: string;
  build?: Build;
  reason: string;
}
interface VectorFile<V> {
  description: string;
  vectors: V[];
}

function load<V>(file: string): VectorFile<V> {
  return JSON.parse(fs.readFileSync(path.join(DIR, file), "utf8")) as VectorFile<V>;
}
function inputOf(v: RefusedVector): string {
  if (v.input !== undefined) return v.input;
  const b = v.build as Build;
  return (b.prefix ?? "") + b.repeat.repeat(b.count) + (b.suffix ?? "");
}

const accepted = load<AcceptedVector>("accepted.json");
const refused = load<RefusedVector>("refused.json");

/** Every refusal class of the module comment ("Always refused" and the host, port and scheme rules). */
const REFUSAL_CLASSES = [
  "dot-segment",
  "dots-only",
  "nfkc-dot-segment",
  "nfkc-separator",
  "encoded-separator",
  "encoded-percent",
  "bad-escape",
  "not-utf8",
  "encoded-control",
  "plain-percent",
  "backslash",
  "empty-segment",
  "control",
  "invisible",
  "lone-surrogate",
  "non-nfc",
  "userinfo",
  "host-trailing-dot",
  "host-label",
  "host-missing",
  "host-idna-separator",
  "ipv6",
  "numeric-host",
  "xn-label",
  "host-escape",
  "port",
  "query",
  "fragment",
  "relative",
  "unknown-scheme",
  "authority-missing",
  "file-host",
  "file-path",
  "mailto-list",
  "mailto-address",
  "name-host",
  "over-length",
] as const;

describe("vectors/references/accepted.json", () => {
  it("has a description and named, unique vectors", () => {
    expect(accepted.description.length).toBeGreaterThan(0);
    expect(accepted.vectors.length).toBeGreaterThan(40);
    expect(new Set(accepted.vectors.map((v) => v.name)).size).toBe(accepted.vectors.length);
  });
  it.each(accepted.vectors.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    expect(isObjectReference(v.input)).toBe(true);
    const r = canonicalizeReference(v.input);
    expect(r).toEqual({ ok: true, kind: v.kind, written: v.input, canonical: v.canonical });
    // The canonical form is a valid scope, and a fixed point.
    expect(validateScope(v.canonical)).toEqual({ ok: true, scope: v.canonical });
    expect(canonicalizeReference(v.canonical)).toEqual({ ok: true, kind: "path", written: v.canonical, canonical: v.canonical });
  });
  it.each(Object.keys(REFERENCE_SCHEMES))("covers the scheme %s", (scheme) => {
    const rows = accepted.vectors.filter((v) => v.input.toLowerCase().startsWith(scheme + ":"));
    expect(rows.length).toBeGreaterThan(0);
    const rule = REFERENCE_SCHEMES[scheme];
    // Every accepted URI of the scheme lands under its prefix (file: is the path itself).
    for (const v of rows) {
      if (rule?.prefix !== "") expect(scopeContains("/" + (rule?.prefix ?? ""), v.canonical)).toBe(true);
    }
  });
  it("covers the default port of every scheme that has one (written, and dropped)", () => {
    for (const [scheme, rule] of Object.entries(REFERENCE_SCHEMES)) {
      if (rule.defaultPort === undefined) continue;
      const v = accepted.vectors.find((x) => x.input.toLowerCase().startsWith(scheme + ":") && new RegExp(`:${rule.defaultPort}(/|$)`).test(x.input));
      expect(v, scheme).toBeDefined();
      expect(new RegExp(`:${rule.defaultPort}(/|$)`).test(v?.canonical ?? "")).toBe(false);
    }
  });
});

describe("vectors/references/refused.json", () => {
  it("has a description and named, unique vectors", () => {
    expect(refused.description.length).toBeGreaterThan(0);
    expect(new Set(refused.vectors.map((v) => v.name)).size).toBe(refused.vectors.length);
    for (const v of refused.vectors) expect((REFUSAL_CLASSES as readonly string[]).includes(v.class), v.name).toBe(true);
  });
  it.each(refused.vectors.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const r = canonicalizeReference(inputOf(v));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(v.reason);
  });
  it.each(REFUSAL_CLASSES)("covers the refusal class %s", (cls) => {
    expect(refused.vectors.some((v) => v.class === cls)).toBe(true);
  });
  it("over-length vectors sit just past the limits", () => {
    const lengths = refused.vectors.filter((v) => v.class === "over-length").map((v) => inputOf(v).length);
    expect(lengths.some((n) => n === MAX_REFERENCE_LENGTH + 1)).toBe(true);
    expect(lengths.some((n) => n === MAX_SCOPE_LENGTH + 1)).toBe(true);
    // Exactly at the limits is fine.
    expect(canonicalizeReference("/" + "a".repeat(MAX_SCOPE_LENGTH - 1)).ok).toBe(true);
  });
});

describe("canonicalizeReference and isObjectReference: edges", () => {
  it("refuses non-strings without throwing", () => {
    for (const v of [undefined, null, 0, 1n, true, {}, [], ["/a"], Symbol("x"), () => "/a"]) {
      const r = canonicalizeReference(v);
      expect(r.ok).toBe(false);
      expect(isObjectReference(v)).toBe(false);
    }
  });
  it.each([
    ["/a", true],
    ["https://x/a", true],
    ["file:/a", true],
    ["foo:/x", true],
    ["mailto:bob@example.com", true],
    ["MailTo:bob@example.com", true],
    ["file:report", false],
    ["dataset:sales", false],
    ["news:comp.lang", false],
    ["report", false],
    ["", false],
    ["1http://x", false],
    [" /a", false],
  ] as const)("isObjectReference(%j) is %s", (s, want) => {
    expect(isObjectReference(s)).toBe(want);
  });
  it("punycode: RFC 3492 sample (A) and round trips", () => {
    const arabic = "\u0644\u064A\u0647\u0645\u0627\u0628\u062A\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064A\u061F";
    expect(punycodeEncode(arabic)).toBe("egbpdaj6bu4bxfgehfvwxn");
    expect(punycodeDecode("egbpdaj6bu4bxfgehfvwxn")).toBe(arabic);
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 20 }), (s) => {
        if (/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""))) return;
        const e = punycodeEncode(s);
        expect(e).toBeDefined();
        expect(punycodeDecode(e as string)).toBe(s);
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Properties
// ---------------------------------------------------------------------------------------------

const SEGMENT_PIECES = ["a", "B", "z", "0", "9", "-", ".", "_", "~", " ", ":", "@", "ü", "é", "ß", "日", "ﬁ", "Ａ", "%41", "%2e", "%7E", "%7e", "%C3%BC", "%20", "%3F", "%23", "..", "%2E%2E"];
const segmentArb = fc.array(fc.constantFrom(...SEGMENT_PIECES), { minLength: 1, maxLength: 4 }).map((xs) => xs.join(""));
const pathArb = fc
  .tuple(fc.array(segmentArb, { minLength: 0, maxLength: 4 }), fc.boolean())
  .map(([segs, trailing]) => "/" + segs.join("/") + (trailing && segs.length > 0 ? "/" : ""));
const hostArb = fc.constantFrom("example.com", "API.GitHub.com", "münchen.de", "db.internal", "1.2.3.4", "h", "Bucket-1", "xn--mnchen-3ya.de", "127.1", "a..b");
const portArb = fc.constantFrom("", ":443", ":80", ":8080", ":5432", ":3306", ":0");
const schemeArb = fc.constantFrom(...Object.keys(REFERENCE_SCHEMES), "HTTPS", "File", "ftp");
const mailArb = fc
  .tuple(fc.constantFrom("Bob", "bob", "a.b", "%42ob", "böb", "x+y", "a..b", ""), fc.constantFrom("Example.com", "ex%61mple.com", "münchen.de", "a.b,c", ""))
  .map(([l, d]) => `${l}@${d}`);

/** Strings that are often, but not always, accepted references of every form. */
const referenceLikeArb: fc.Arbitrary<string> = fc.oneof(
  pathArb.map((p) => p.replace(/%[0-9A-Fa-f]{2}/g, "x")),
  fc.tuple(schemeArb, hostArb, portArb, pathArb).map(([s, h, p, path]) => (s.toLowerCase() === "mailto" ? `${s}:` : `${s}://${h}${p}${path === "/" ? "" : path}`)),
  fc.tuple(fc.constantFrom("file://", "file:", "file://localhost", "FILE://LocalHost"), pathArb).map(([s, p]) => s + p),
  mailArb.map((m) => "mailto:" + m),
);

function expectWellFormed(input: unknown, r: ReturnType<typeof canonicalizeReference>): void {
  if (r.ok) {
    expect(r.written).toBe(input);
    expect(validateScope(r.canonical)).toEqual({ ok: true, scope: r.canonical });
    expect(r.kind).toBe((input as string).startsWith("/") ? "path" : "uri");
  } else {
    expect(typeof r.reason).toBe("string");
    expect(r.reason.length).toBeGreaterThan(0);
  }
}

/** Spellings of an unreserved ASCII character: itself, or a percent-escape in either hex case. */
function spell(ch: string, how: number): string {
  if (how === 0) return ch;
  const hex = ch.charCodeAt(0).toString(16).padStart(2, "0");
  return "%" + (how === 1 ? hex.toUpperCase() : hex.toLowerCase());
}
function randomCase(s: string, bits: readonly boolean[]): string {
  return [...s].map((c, i) => (bits[i % Math.max(1, bits.length)] ? c.toUpperCase() : c)).join("");
}

const UNRESERVED = "abcxyzABCXYZ0129-._~";
const plainSegArb = fc
  .array(fc.constantFrom(...UNRESERVED), { minLength: 1, maxLength: 6 })
  .map((xs) => xs.join(""))
  .filter((s) => !/^\.+$/.test(s));

describe("object reference properties", () => {
  it("canonicalization is idempotent: the canonical form, as a plain path, is itself", () => {
    let accepted = 0;
    fc.assert(
      fc.property(referenceLikeArb, (s) => {
        const r = canonicalizeReference(s);
        expectWellFormed(s, r);
        if (!r.ok) return;
        accepted++;
        expect(canonicalizeReference(r.canonical)).toEqual({ ok: true, kind: "path", written: r.canonical, canonical: r.canonical });
        // Deterministic: same text, same answer.
        expect(canonicalizeReference(s)).toEqual(r);
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(300);
  });

  it("equivalent spellings (scheme and host case, default port, unreserved escapes, trailing slash) give one canonical form", () => {
    const authority = Object.entries(REFERENCE_SCHEMES).filter(([, r]) => r.form === "authority");
    fc.assert(
      fc.property(
        fc.constantFrom(...authority.map(([s]) => s)),
        fc.constantFrom("example.com", "db.internal", "bucket-1", "a1.b2.c3"),
        fc.array(plainSegArb, { maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat({ max: 2 }), { minLength: 1, maxLength: 16 }),
        fc.boolean(),
        fc.boolean(),
        (scheme, host, segs, schemeCase, hostCase, escapes, withPort, trailing) => {
          const rule = REFERENCE_SCHEMES[scheme];
          const plain = `${scheme}://${host}${segs.map((s) => "/" + s).join("")}`;
          const base = canonicalizeReference(plain);
          expect(base.ok).toBe(true);
          if (!base.ok) return;
          // Independently: prefix, lower-case host, path as written.
          expect(base.canonical).toBe(`/${rule?.prefix ?? ""}/${host}${segs.map((s) => "/" + s).join("")}`);
          let k = 0;
          const path = segs.map((s) => "/" + [...s].map((c) => spell(c, escapes[k++ % escapes.length] ?? 0)).join("")).join("");
          const port = withPort && rule?.defaultPort !== undefined ? `:${rule.defaultPort}` : "";
          const variant = `${randomCase(scheme, schemeCase)}://${randomCase(host, hostCase)}${port}${path}${trailing ? "/" : ""}`;
          const r = canonicalizeReference(variant);
          expect(r.ok ? r.canonical : r.reason).toBe(base.canonical);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("equivalent spellings of a file path (plain, file:, file://, file://localhost, escapes) give one canonical form", () => {
    fc.assert(
      fc.property(
        fc.array(plainSegArb, { minLength: 1, maxLength: 4 }),
        fc.constantFrom("file:", "file://", "FILE://localhost", "file://LOCALHOST"),
        fc.array(fc.nat({ max: 2 }), { minLength: 1, maxLength: 16 }),
        (segs, lead, escapes) => {
          const plain = segs.map((s) => "/" + s).join("");
          let k = 0;
          const spelled = segs.map((s) => "/" + [...s].map((c) => spell(c, escapes[k++ % escapes.length] ?? 0)).join("")).join("");
          expect(canonicalizeReference(plain)).toMatchObject({ ok: true, canonical: plain });
          expect(canonicalizeReference(lead + spelled)).toMatchObject({ ok: true, canonical: plain });
        },
      ),
      { numRuns: 800 },
    );
  });

  it("IDN hosts: the Unicode and the xn-- spelling, in any case, agree with node's domainToASCII", () => {
    const letters = [..."abcdefgxyz0123üéñøåßжлдλσπ日本語例"];
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom(...letters), { minLength: 1, maxLength: 8 }).map((x) => x.join("")), { minLength: 1, maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        (labels, bits) => {
          const host = [...labels, "example"].join(".");
          const ascii = domainToASCII(host);
          if (ascii === "" || /(^|\.)xn--[^.]*--/.test(ascii)) return; // not a host UTS 46 accepts
          if (/^[0-9]+$/.test(labels[labels.length - 1] ?? "")) return;
          const r = canonicalizeReference(`https://${host}/p`);
          expect(r.ok ? r.canonical : r.reason).toBe(`/https/${ascii}/p`);
          const r2 = canonicalizeReference(`https://${randomCase(ascii, bits)}/p`);
          expect(r2.ok ? r2.canonical : r2.reason).toBe(`/https/${ascii}/p`);
          // ß has no one-letter upper case, and JS toLowerCase turns a final "Σ" into "ς" (UTS 46 gives
          // "σ"): the kernel documents toLowerCase, so case variants of these are not compared here.
          if (!/[ßςσ]/.test(host)) {
            const r3 = canonicalizeReference(`https://${randomCase(host, bits)}/p`);
            expect(r3.ok ? r3.canonical : r3.reason).toBe(`/https/${ascii}/p`);
          }
        },
      ),
      { numRuns: 600 },
    );
  });

  it("canonicalizeReference never throws, on arbitrary strings and values", () => {
    const prefixed = fc.tuple(fc.constantFrom("", "/", "https://", "file://", "file:", "mailto:", "s3://", "HTTP://h/", "x:/"), fc.string({ unit: "binary", maxLength: 60 }));
    fc.assert(
      fc.property(fc.oneof(prefixed.map(([p, s]) => p + s), fc.string({ unit: "grapheme", maxLength: 40 }).map((s) => "/" + s), fc.string({ unit: "binary-ascii" })), (s) => {
        let r: ReturnType<typeof canonicalizeReference> | undefined;
        expect(() => (r = canonicalizeReference(s))).not.toThrow();
        expectWellFormed(s, r as ReturnType<typeof canonicalizeReference>);
        if (!isObjectReference(s)) expect(r?.ok).toBe(false);
      }),
      { numRuns: 4000 },
    );
    fc.assert(
      fc.property(fc.anything(), (v) => {
        expect(() => canonicalizeReference(v)).not.toThrow();
        expect(() => isObjectReference(v)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it("a decision on object references equals a naive reference (most specific resource whose scope contains the canonical path)", () => {
    let resolvedToResource = 0;
    let permittedRefs = 0;
    fc.assert(
      fc.property(registrySpecArb, actionSpecArb, objectsArb, fc.boolean(), (spec, aspec, objects, https) => {
        const base = https ? HTTPS_BASE : "";
        const u = materialise(https ? prefixSpec(spec, base) : spec);
        const snap = buildSnapshot(u.data);
        const plainAction = materialiseAction(u, aspec);
        const action = withObjects(plainAction, objects, base);
        const got = verify(snap, action, NOW);

        const naive = new ObjectAwareReference(u.data, NOW);
        const refs = [...action.reads, ...action.writes, ...action.delegates].filter((e) => isObjectReference(e));
        const canon = refs.map((e) => canonicalizeReference(e));
        if (canon.some((c) => !c.ok)) {
          expect(got.permitted).toBe(false);
          expect(got.violations.length).toBeGreaterThan(0);
          expect(got.violations.every((v) => v.code === "MALFORMED_ACTION")).toBe(true);
          return;
        }
        const want = naive.verify(action);
        expect(project(got)).toEqual(want);

        // `resolved`: each reference once, in order, as written, with its canonical path and resource.
        const expected: { ref: string; canonical: string; resource?: string }[] = [];
        for (const e of refs) {
          if (expected.some((x) => x.ref === e)) continue;
          const c = canonicalizeReference(e);
          if (!c.ok) continue;
          const r = naive.resolve(c.canonical);
          expected.push(r === undefined ? { ref: e, canonical: c.canonical } : { ref: e, canonical: c.canonical, resource: r.id });
          if (r !== undefined) resolvedToResource++;
        }
        // An unknown actor is refused before anything is resolved into the result.
        if (u.entities.includes(action.actor) === false) return;
        if (expected.length === 0) expect(got.resolved).toBeUndefined();
        else expect(got.resolved).toEqual(expected);
        if (got.permitted && refs.length > 0) permittedRefs++;
      }),
      { numRuns: 1500 },
    );
    // The generator must reach both resolved and permitted objects, not only denials.
    expect(resolvedToResource).toBeGreaterThan(100);
    expect(permittedRefs).toBeGreaterThan(20);
  });

  it("an object resolved to a resource gets the same decision as the resource id, when no claim or rule scope lies between them", () => {
    let compared = 0;
    fc.assert(
      fc.property(registrySpecArb, actionSpecArb, objectsArb, (spec, aspec, objects) => {
        const u = materialise(spec);
        const snap = buildSnapshot(u.data);
        const action = withObjects(materialiseAction(u, aspec), objects, "");
        const naive = new ObjectAwareReference(u.data, NOW);
        const between = [...u.data.claims.map((c) => c.scope), ...(u.data.policies ?? []).map((p) => p.scope)].filter((s): s is string => s !== undefined);
        const toId = new Map<string, string>();
        for (const e of [...action.reads, ...action.writes, ...action.delegates]) {
          if (!isObjectReference(e)) continue;
          const c = canonicalizeReference(e);
          if (!c.ok) return;
          const r = naive.resolve(c.canonical);
          if (r === undefined) return;
          // A claim or policy scope strictly inside the resource's scope that contains the object
          // covers the object but not the resource: then the decisions may rightly differ.
          if (between.some((s) => s !== r.scope && refScopeContains(r.scope, s) && refScopeContains(s, c.canonical))) return;
          toId.set(e, r.id);
        }
        if (toId.size === 0) return;
        const map = (xs: readonly string[]): string[] => [...new Set(xs.map((x) => toId.get(x) ?? x))];
        const byId: Action = { ...action, reads: map(action.reads), writes: map(action.writes), delegates: map(action.delegates) };
        // Two spellings of one object, or an object and its resource, collapse into one id.
        if (byId.reads.length + byId.writes.length + byId.delegates.length !== action.reads.length + action.writes.length + action.delegates.length) return;
        const a = verify(snap, action, NOW);
        const b = verify(snap, byId, NOW);
        compared++;
        const codes = (r: VerifyResult): string[] => r.violations.map((v) => v.code + ":" + (v.resource !== undefined ? (toId.get(v.resource) ?? v.resource) : ""));
        expect(codes(a)).toEqual(codes(b));
        expect(a.permitted).toBe(b.permitted);
        expect(a.confidence).toBe(b.confidence);
        expect(a.warnings.map((w) => w.code)).toEqual(b.warnings.map((w) => w.code));
      }),
      { numRuns: 1500 },
    );
    expect(compared).toBeGreaterThan(100);
  });
});

// --- helpers of the decision properties ------------------------------------------------------

const HTTPS_BASE = "/https/h.example";

/** The same registry with every scope except "" and "/" moved under `base`. */
function prefixSpec(spec: RegistrySpec, base: string): RegistrySpec {
  const p = (s: string): string => (s === "" || s === "/" ? s : base + s);
  const target = <T extends { resource: number } | { scope: string }>(t: T): T => ("scope" in t ? { ...t, scope: p(t.scope) } : t);
  return {
    ...spec,
    resources: spec.resources.map((r) => ({ ...r, scope: p(r.scope) })),
    claims: spec.claims.map((c) => ({ ...c, target: target(c.target) })),
    chains: spec.chains.map((c) => ({ ...c, target: target(c.target) })),
    policies: spec.policies.map((x) => ({ ...x, scope: p(x.scope) })),
  };
}

/** Object paths around the arbitraries' scope tree (SCOPES): on, under, beside and outside it. */
const OBJECT_PATHS = ["/a", "/a/b", "/a/b/c", "/a/b/c/d", "/a/b/c/d/e", "/a/b/z", "/a/bz", "/a2", "/a2/q", "/a3", "/x", "/x/y/z", "/q", "/q/r", "/"];

interface ObjectSpec {
  list: 0 | 1 | 2;
  path: string;
  form: number;
  escapes: number[];
  broken: boolean;
}
const objectsArb: fc.Arbitrary<ObjectSpec[]> = fc.array(
  fc.record({
    list: fc.constantFrom(0 as const, 0 as const, 1 as const, 2 as const),
    path: fc.constantFrom(...OBJECT_PATHS),
    form: fc.nat({ max: 5 }),
    escapes: fc.array(fc.nat({ max: 2 }), { minLength: 1, maxLength: 6 }),
    broken: fc.nat({ max: 24 }).map((n) => n === 0),
  }),
  { minLength: 1, maxLength: 4 },
);

/** Writes a canonical (plain base) object path in one of several spellings, under `base`. */
function written(o: ObjectSpec, base: string): string {
  let k = 0;
  const esc = (p: string): string => [...p].map((c) => (c === "/" ? c : spell(c, o.escapes[k++ % o.escapes.length] ?? 0))).join("");
  const p = o.broken ? o.path + "/../etc" : o.path;
  const slash = o.form % 2 === 1 && p !== "/" ? "/" : "";
  if (base === HTTPS_BASE) {
    const rest = p === "/" ? "" : p;
    const lead = ["https://h.example", "HTTPS://H.Example:443", "https://H.EXAMPLE", "Https://h.example:443", "https://h.example", "https://h.Example"][o.form] as string;
    return lead + (o.form >= 2 ? esc(rest) : rest) + slash;
  }
  switch (o.form) {
    case 0:
    case 1:
      return p + slash;
    case 2:
      return "file://" + esc(p);
    case 3:
      return "file:" + esc(p) + slash;
    case 4:
      return "file://localhost" + esc(p);
    default:
      return "FILE://LOCALHOST" + p + slash;
  }
}

function withObjects(a: Action, objects: readonly ObjectSpec[], base: string): Action {
  const lists: [string[], string[], string[]] = [[...a.reads], [...a.writes], [...a.delegates]];
  for (const o of objects) {
    const e = written(o, base);
    const l = lists[o.list];
    if (!l.includes(e)) l.push(e);
  }
  return { ...a, reads: lists[0], writes: lists[1], delegates: lists[2] };
}

const UNRESOLVED = "\u0000unresolved";

/**
 * The naive reference of reference.ts, extended to object references by linear scans: an object
 * is the most specific registered resource whose scope contains its canonical path (none when
 * two share that scope), seen at the object's path — so a claim by the resource's id covers it, a
 * scope claim covers it when its scope contains the path, and policy rules match the path. An
 * unresolved object is covered by nothing (like an unknown id) and is unlabeled, but policy rules
 * still match its path.
 */
class ObjectAwareReference extends Reference {
  resolve(canonical: string): Resource | undefined {
    const containing = this.data.resources.filter((r) => refScopeContains(r.scope, canonical));
    if (containing.length === 0) return undefined;
    const longest = Math.max(...containing.map((r) => r.scope.length));
    const most = containing.filter((r) => r.scope.length === longest);
    return most.length === 1 ? most[0] : undefined;
  }
  override res(id: string): Resource | undefined {
    if (!isObjectReference(id)) return super.res(id);
    const c = canonicalizeReference(id);
    if (!c.ok) return undefined;
    const r = this.resolve(c.canonical);
    if (r === undefined) return { id: UNRESOLVED, type: "file", scope: c.canonical, isPublic: false };
    return { ...r, scope: c.canonical };
  }
  override covering(holder: string, r: Resource | undefined, op: string): Claim[] {
    if (r?.id === UNRESOLVED) return [];
    return super.covering(holder, r, op);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Traversal and encoding corpus
// ---------------------------------------------------------------------------------------------

/** Spellings of "." / ".." / dot-like segments. */
const DOTS = [
  ".",
  "..",
  "...",
  "%2e",
  "%2E",
  "%2e%2e",
  "%2E%2E",
  "%2e%2E",
  ".%2e",
  "%2e.",
  "%2E.",
  "%2e%2e%2e",
  "%252e%252e",
  "%25%32%65%25%32%65",
  "%c0%ae%c0%ae",
  "%C0%AE.",
  "%e0%80%ae%e0%80%ae",
  "%c0%2e",
  "\uff0e\uff0e",
  "%EF%BC%8E%EF%BC%8E",
  "\u2025",
  "\u2024\u2024",
  "\ufe52\ufe52",
  ".\u0000.",
  "..%00",
  "%00..",
  "..\u200b",
  "\u202e..",
  ".\u0301.",
  "..;",
  "..%3B",
  ".. ",
  "..%20",
  "..\u2215..",
];
/** Spellings of a separator: the real one first, then encoded, doubled, overlong and lookalike ones. */
const SEPARATORS = [
  "/",
  "%2f",
  "%2F",
  "%5c",
  "%5C",
  "\\",
  "\uff0f",
  "\uff3c",
  "%EF%BC%8F",
  "%ef%bc%bc",
  "%252f",
  "%255c",
  "%c0%af",
  "%e0%80%af",
  "%c1%9c",
  "//",
  "/%00/",
  "\u0000/",
];
const SUFFIXES = ["", "/", "?x=1", "#frag"];
const BASES = ["/data/alice", "https://host/data/alice", "file:///data/alice", "s3://bucket/data/alice"];

function corpus(): { base: string; input: string }[] {
  const out: { base: string; input: string }[] = [];
  for (const base of BASES) {
    // base + sep + dots + sep + "bob": the classic escape attempt, with every separator spelling.
    for (const sep of SEPARATORS) for (const d of DOTS) out.push({ base, input: `${base}${sep}${d}${sep}bob` });
    // base + "/" + dots, with each suffix.
    for (const d of DOTS) for (const s of SUFFIXES) out.push({ base, input: `${base}/${d}${s}` });
    // Deep climbs: base/x/<d>/<d>/<d>/etc/passwd.
    for (const d of DOTS) out.push({ base, input: `${base}/x/${d}/${d}/${d}/etc/passwd` });
    // Mixed: a real separator, then a fake one inside the segment.
    for (const sep of SEPARATORS.slice(1)) out.push({ base, input: `${base}/x${sep}..${sep}..${sep}bob` });
  }
  return out;
}

describe("traversal and encoding corpus", () => {
  const items = corpus();
  it("has at least 150 tricks", () => {
    expect(items.length).toBeGreaterThanOrEqual(150);
    expect(new Set(items.map((i) => i.input)).size).toBe(items.length);
  });
  it("every trick is refused, or lands inside the scope its trick-free prefix names", () => {
    const outside: string[] = [];
    let refusedCount = 0;
    for (const { base, input } of items) {
      const b = canonicalizeReference(base);
      expect(b.ok).toBe(true);
      if (!b.ok) continue;
      const r = canonicalizeReference(input);
      if (!r.ok) {
        refusedCount++;
        continue;
      }
      expect(validateScope(r.canonical).ok).toBe(true);
      if (!scopeContains(b.canonical, r.canonical)) outside.push(`${JSON.stringify(input)} -> ${r.canonical}`);
      // Nothing that survives is a dot segment, or a separator, under any reading.
      for (const seg of r.canonical.split("/").slice(1)) {
        expect(/^\.+$/.test(seg)).toBe(false);
        expect(/^\.+$/.test(seg.normalize("NFKC"))).toBe(false);
        expect(/[/\\]/.test(seg.normalize("NFKC"))).toBe(false);
        expect(seg.includes("%")).toBe(false);
      }
    }
    expect(outside).toEqual([]);
    // Most tricks are refused outright; the survivors are names like "..;" or ".. ".
    expect(refusedCount).toBeGreaterThan(items.length * 0.8);
  });
  it("keeps the survivors' text: a name that merely contains dots stays that name", () => {
    expect(canonicalizeReference("/data/alice/..;/bob")).toMatchObject({ ok: true, canonical: "/data/alice/..;/bob" });
    expect(canonicalizeReference("https://host/data/alice/..%3B/bob")).toMatchObject({ ok: true, canonical: "/https/host/data/alice/..;/bob" });
    expect(canonicalizeReference("file:///data/alice/..%20")).toMatchObject({ ok: true, canonical: "/data/alice/.. " });
  });
});

// ---------------------------------------------------------------------------------------------
// 4. verify
// ---------------------------------------------------------------------------------------------

const T = 1000;

const REGISTRY: RegistryData = {
  version: 3,
  entities: [
    { id: "alice", kind: "HUMAN", displayName: "Alice" },
    { id: "bob", kind: "HUMAN", displayName: "Bob" },
    { id: "bot", kind: "MACHINE", displayName: "bot" },
  ],
  machineOwners: [{ machine: "bot", owner: "alice" }],
  resources: [
    { id: "alice-data", type: "dataset", scope: "/data/alice", isPublic: false },
    { id: "bob-data", type: "dataset", scope: "/data/bob", isPublic: false },
    { id: "acme-repos", type: "api_endpoint", scope: "/https/api.github.com/repos/acme", isPublic: false },
    { id: "twin-a", type: "file", scope: "/twins", isPublic: false },
    { id: "twin-b", type: "file", scope: "/twins", isPublic: false },
  ],
  claims: [
    { id: "a-data", holder: "alice", scope: "/data/alice", canRead: true, canWrite: true, canDelegate: true, confidence: 1 },
    { id: "a-acme", holder: "alice", resource: "acme-repos", canRead: true, canWrite: false, canDelegate: true, confidence: 1 },
    { id: "a-twins", holder: "alice", scope: "/twins", canRead: true, canWrite: false, canDelegate: true, confidence: 1 },
    { id: "b-data", holder: "bob", resource: "bob-data", canRead: true, canWrite: true, canDelegate: true, confidence: 1 },
    { id: "bot-read", holder: "bot", resource: "alice-data", canRead: true, canWrite: false, canDelegate: false, confidence: 1, grantor: "alice" },
    { id: "bot-acme", holder: "bot", resource: "acme-repos", canRead: true, canWrite: false, canDelegate: false, confidence: 1, grantor: "alice" },
    { id: "bot-twins", holder: "bot", scope: "/twins", canRead: true, canWrite: false, canDelegate: false, confidence: 1, grantor: "alice" },
  ],
  halts: [],
};

function act(reads: string[], writes: string[] = []): Record<string, unknown> {
  return { actionId: "obj", actor: "bot", reads, writes };
}

describe("verify on object references", () => {
  const snap = buildSnapshot(REGISTRY);

  it("permits an object under the scope of a resource the machine was granted read on", () => {
    for (const ref of ["/data/alice/2026/q3.csv", "file:///data/alice/2026/q3.csv", "file://localhost/data/%61lice/q3.csv", "/data/alice"]) {
      const r = verify(snap, act([ref]), T);
      expect(r.violations).toEqual([]);
      expect(r.permitted).toBe(true);
      expect(r.confidence).toBe(1);
    }
    const web = verify(snap, act(["https://API.GitHub.com:443/repos/acme/issues/7"]), T);
    expect(web.permitted).toBe(true);
    expect(web.resolved).toEqual([
      { ref: "https://API.GitHub.com:443/repos/acme/issues/7", canonical: "/https/api.github.com/repos/acme/issues/7", resource: "acme-repos" },
    ]);
  });

  it("denies a sibling outside the scope with READ_DENIED, citing the reference as written", () => {
    for (const ref of ["/data/bob/x.csv", "/data/alice2/x.csv", "https://api.github.com/repos/acme2/x"]) {
      const r = verify(snap, act([ref]), T);
      expect(r.permitted).toBe(false);
      expect(r.violations.map((v) => [v.code, v.resource])).toEqual([["READ_DENIED", ref]]);
      expect(r.violations[0]?.message).toContain(ref);
    }
    // Read granted is not write granted.
    const w = verify(snap, act([], ["/data/alice/q3.csv"]), T);
    expect(w.violations.map((v) => [v.code, v.resource])).toEqual([["WRITE_DENIED", "/data/alice/q3.csv"]]);
  });

  it("denies an object under no registered resource exactly like an undelegated, unknown resource", () => {
    const ref = "/nowhere/x";
    const byRef = verify(snap, act([ref]), T);
    const byId = verify(snap, act(["no-such-resource"]), T);
    expect(byRef.resolved).toEqual([{ ref, canonical: ref }]);
    expect(byRef.permitted).toBe(false);
    expect(byRef.violations.map((v) => v.code)).toEqual(byId.violations.map((v) => v.code));
    expect(byRef.violations.map((v) => v.message.split(ref).join("<R>"))).toEqual(byId.violations.map((v) => v.message.split("no-such-resource").join("<R>")));
    expect(byRef.confidence).toBe(byId.confidence);
    // Two resources on the most specific scope: ambiguous, resolved to none, denied although a
    // scope claim on /twins exists (fail closed).
    const twin = verify(snap, act(["/twins/file"]), T);
    expect(twin.resolved).toEqual([{ ref: "/twins/file", canonical: "/twins/file" }]);
    expect(twin.violations.map((v) => [v.code, v.resource])).toEqual([["READ_DENIED", "/twins/file"]]);
  });

  it("reports each reference in `resolved`: as written, canonical path, resource; ids are not listed", () => {
    const reads = ["alice-data", "file:///data/alice/a%20b", "/data/bob/y", "/nowhere"];
    const r = verify(snap, act(reads, ["file:///data/alice/a%20b"]), T);
    expect(r.resolved).toEqual([
      { ref: "file:///data/alice/a%20b", canonical: "/data/alice/a b", resource: "alice-data" },
      { ref: "/data/bob/y", canonical: "/data/bob/y", resource: "bob-data" },
      { ref: "/nowhere", canonical: "/nowhere" },
    ]);
    expect(verify(snap, act(["alice-data"]), T).resolved).toBeUndefined();
  });

  it("makes an action with a reference that does not canonicalize malformed, with the reason", () => {
    const r = verify(snap, act(["/data/alice/../bob/x"]), T);
    expect(r.permitted).toBe(false);
    expect(r.violations.map((v) => v.code)).toEqual(["MALFORMED_ACTION"]);
    expect(r.violations[0]?.message).toContain("dot segment");
    // Long references (up to MAX_REFERENCE_LENGTH) pass parsing; longer ones do not.
    const long = "/data/alice/" + "x".repeat(600);
    expect(verify(snap, act([long]), T).permitted).toBe(true);
    const tooLong = "/data/alice/" + "x".repeat(MAX_REFERENCE_LENGTH);
    expect(verify(snap, act([tooLong]), T).violations.map((v) => v.code)).toEqual(["MALFORMED_ACTION"]);
  });

  it("the decision record carries `resolved` for reference actions, and omits it for id-only actions", () => {
    const base = { mode: "stateless" as const, now: T, nonce: NONCE, keyId: KEY_ID_A };
    const action = makeAction({ actionId: "obj", actor: "bot", reads: ["/data/alice/q3.csv", "/nowhere"], writes: [] });
    const result = verify(snap, action, T);
    const record = buildDecisionRecord({ ...base, result, action });
    expect(record.resolved).toEqual([
      { ref: "/data/alice/q3.csv", canonical: "/data/alice/q3.csv", resource: "alice-data" },
      { ref: "/nowhere", canonical: "/nowhere" },
    ]);
    expect(isDecisionRecord(record)).toBe(true);
    const plain = makeAction({ actionId: "obj", actor: "bot", reads: ["alice-data"], writes: [] });
    const plainRecord = buildDecisionRecord({ ...base, result: verify(snap, plain, T), action: plain });
    expect("resolved" in plainRecord).toBe(false);
  });

  it.each(["/data/alice", "/", "https://example.com/x", "file:/x", "s3://b/k", "foo:/x", "mailto:bob@example.com", "MAILTO:bob@example.com"])(
    "buildSnapshot refuses the resource id %j (shaped like a reference)",
    (id) => {
      const data: RegistryData = { ...REGISTRY, resources: [...REGISTRY.resources, { id, type: "file", scope: "/extra", isPublic: false }] };
      let err: unknown;
      try {
        buildSnapshot(data);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SnapshotError);
      expect((err as SnapshotError).issues.some((i) => i.includes("object references"))).toBe(true);
    },
  );

  it("buildSnapshot keeps accepting the original rtype:name ids", () => {
    const data: RegistryData = {
      ...REGISTRY,
      resources: [...REGISTRY.resources, { id: "file:report", type: "file", scope: "/extra", isPublic: false }, { id: "dataset:sales", type: "dataset", scope: "/extra2", isPublic: false }],
    };
    expect(() => buildSnapshot(data)).not.toThrow();
  });
});

describe("information flow through object references", () => {
  // alice-data is SECRET; the bot may read objects under it and write the public log.
  const data: RegistryData = {
    ...REGISTRY,
    resources: [
      ...REGISTRY.resources.map((r) => (r.id === "alice-data" ? { ...r, ifcLabel: "SECRET" } : r)),
      { id: "public-log", type: "file", scope: "/public/log", isPublic: false, ifcLabel: "PUBLIC" },
    ],
    claims: [
      ...REGISTRY.claims,
      { id: "a-log", holder: "alice", resource: "public-log", canRead: true, canWrite: true, canDelegate: true, confidence: 1 },
      { id: "bot-log", holder: "bot", scope: "/public/log", canRead: true, canWrite: true, canDelegate: false, confidence: 1, grantor: "alice" },
    ],
  };
  const snap = buildSnapshot(data);

  it("an object inherits its resource's label: reading a SECRET object then writing a PUBLIC object in one action is a downward flow", () => {
    const r = verify(snap, act(["/data/alice/2026/q3.csv"], ["/public/log/today.txt"]), T);
    expect(r.violations.map((v) => v.code)).toEqual(["IFC_DOWNWARD_FLOW"]);
    expect(downwardFlows(snap, undefined, { reads: ["/data/alice/2026/q3.csv"], writes: ["file:///public/log/today.txt"] })).toEqual([
      { resource: "file:///public/log/today.txt", source: "SECRET", sink: "PUBLIC" },
    ]);
    expect(resourceLabel(snap, "file:///data/alice/x")).toBe("SECRET");
    expect(resourceLabel(snap, "/data/alice/../bob/x")).toBe(UNKNOWN_TAINT);
  });

  it("a session's and a plan's taint carries the label of objects read in earlier steps", () => {
    expect(stepTaint(snap, undefined, { reads: ["/data/alice/2026/q3.csv"] })).toBe("SECRET");
    expect(stepTaint(snap, undefined, { reads: ["file:///data/alice/2026/q3.csv"] })).toBe("SECRET");
    expect(stepTaint(snap, undefined, { reads: ["/public/log/a"] })).toBe("PUBLIC");
    // A reference that does not canonicalize cannot lower the taint: it ranks above the top.
    expect(stepTaint(snap, undefined, { reads: ["/data/%2e%2e/x"] })).toBe(UNKNOWN_TAINT);
    const plan = verifyPlan(snap, [act(["/data/alice/2026/q3.csv"]), { ...act([], ["/public/log/today.txt"]), actionId: "obj-2" }], T);
    expect(plan.steps[0]!.permitted).toBe(true);
    expect(plan.steps[1]!.violations.map((v) => v.code)).toEqual(["IFC_DOWNWARD_FLOW"]);
    // The same step with the taint a session would carry.
    const later = verify(snap, { ...act([], ["/public/log/today.txt"]), actionId: "obj-3" }, T, { taint: stepTaint(snap, undefined, { reads: ["/data/alice/q.csv"] }) });
    expect(later.violations.map((v) => v.code)).toEqual(["IFC_DOWNWARD_FLOW"]);
  });
});

describe("granting one object of a resource (a scope that stands for part of one resource)", () => {
  const base: RegistryData = {
    ...REGISTRY,
    claims: REGISTRY.claims.filter((c) => c.holder !== "bot").map((c) => (c.id === "a-data" ? { ...c, id: "a-data-res", scope: undefined, resource: "alice-data" } : c)),
  };
  const grant = (scope: string) => ({ holder: "bot", grantor: "alice", scope, canRead: true, canWrite: false, canDelegate: false });
  const withClaim = (data: RegistryData, scope: string): RegistryData => ({
    ...data,
    claims: [...data.claims, { id: "g", confidence: 1, ...grant(scope) } as Claim],
  });

  it("an owner who holds the resource (by id) may grant exactly one file of it, and that grant permits only that file", () => {
    const snap = buildSnapshot(base);
    expect(checkGrant(snap, grant("/data/alice/2026/q3.csv"), T)).toEqual({ ok: true, violations: [] });
    expect(checkGrant(snap, grant("/data/alice"), T).ok).toBe(true);
    const after = buildSnapshot(withClaim(base, "/data/alice/2026/q3.csv"));
    expect(verify(after, act(["/data/alice/2026/q3.csv"]), T).permitted).toBe(true);
    expect(verify(after, act(["file:///data/alice/2026/q3.csv"]), T).permitted).toBe(true);
    expect(verify(after, act(["/data/alice/2026/q4.csv"]), T).violations.map((v) => v.code)).toEqual(["READ_DENIED"]);
    expect(verify(after, act(["alice-data"]), T).violations.map((v) => v.code)).toEqual(["READ_DENIED"]);
  });

  it("refuses a scope wider than the resource, a root, and a scope with another resource inside; a later registration inside voids the grant", () => {
    const snap = buildSnapshot(base);
    expect(checkGrant(snap, grant("/data"), T).violations.map((v) => v.code)).toEqual(["EXCEEDS_GRANTOR_SCOPE"]);
    expect(checkGrant(snap, grant("/"), T).ok).toBe(false);
    const nested: RegistryData = { ...base, resources: [...base.resources, { id: "alice-inner", type: "file", scope: "/data/alice/2026/inner", isPublic: false }] };
    expect(checkGrant(buildSnapshot(nested), grant("/data/alice/2026"), T).ok).toBe(false);
    // Written while nothing was inside, then a resource is registered inside: the claim loses its support.
    const later = buildSnapshot(withClaim(nested, "/data/alice/2026"));
    const r = verify(later, act(["/data/alice/2026/q3.csv"]), T);
    expect(r.permitted).toBe(false);
    expect(r.violations.map((v) => v.code)).toContain("NOT_DELEGATED_BY_OWNER");
  });
});

describe("policy rules on objects", () => {
  const data: RegistryData = {
    ...REGISTRY,
    policies: [{ id: "no-secrets", priority: 10, effect: "deny", operations: ["read"], actorPattern: "*", scope: "/data/alice/secrets" }],
  };
  const snap = buildSnapshot(data);
  it("a deny rule on a scope inside a resource denies the objects under it, in verify and in policyDenials alike", () => {
    const inside = verify(snap, act(["/data/alice/secrets/key.pem"]), T);
    expect(inside.violations.map((v) => v.code)).toEqual(["POLICY_DENIED"]);
    expect(verify(snap, act(["/data/alice/open/x"]), T).permitted).toBe(true);
    const denials = policyDenials(snap, makeAction({ actionId: "p", actor: "bot", reads: ["file:///data/alice/secrets/key.pem", "/data/alice/open/x"], writes: [] }));
    expect(denials.map((d) => [d.rule.id, d.resource])).toEqual([["no-secrets", "file:///data/alice/secrets/key.pem"]]);
  });
});
