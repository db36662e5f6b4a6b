/**
 * The strict JSON parser (lib/kernel/json.ts): a corpus of accepted and refused texts (duplicates
 * at any depth and after unescaping, __proto__, deep nesting, numbers, RFC 8259 syntax errors) and a
 * fast-check property: wherever duplicates cannot occur (JSON.stringify output), it equals JSON.parse.
 */
import fc from "fast-check";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { parseAction } from "../action";
import { readPlainObject } from "../internal";
import { DEFAULT_MAX_JSON_DEPTH, describeJsonError, parseJsonStrict, type StrictJsonErrorCode } from "../json";

type Refused = { code: StrictJsonErrorCode; path: string };

const REFUSED: [name: string, text: string, expected: Refused][] = [
  ["the issue's example: deceives twice", '{"action":{"actionId":"a","actor":"bot","deceives":true,"deceives":false}}', { code: "DUPLICATE_MEMBER", path: "$.action.deceives" }],
  ["two reads", '{"action":{"reads":["a"],"reads":["b"]}}', { code: "DUPLICATE_MEMBER", path: "$.action.reads" }],
  ["two actors", '{"action":{"actor":"a","actor":"b"}}', { code: "DUPLICATE_MEMBER", path: "$.action.actor" }],
  ["two action objects", '{"action":{"actor":"a"},"action":{"actor":"b"}}', { code: "DUPLICATE_MEMBER", path: "$.action" }],
  ["two sessions", '{"action":{},"session":"s1","session":"s2"}', { code: "DUPLICATE_MEMBER", path: "$.session" }],
  ["top level", '{"a":1,"a":1}', { code: "DUPLICATE_MEMBER", path: "$.a" }],
  ["deep in arrays of objects", '{"actions":[{"a":1},{"b":[{"c":1,"d":{"e":1,"e":2}}]}]}', { code: "DUPLICATE_MEMBER", path: "$.actions[1].b[0].d.e" }],
  ["escaped-equal names", '{"a":1,"\\u0061":2}', { code: "DUPLICATE_MEMBER", path: "$.a" }],
  ["escaped-equal names (escape first, upper-case hex)", '{"\\u0044eceives":1,"Deceives":2}', { code: "DUPLICATE_MEMBER", path: "$.Deceives" }],
  ["escaped solidus", '{"a/b":1,"a\\/b":2}', { code: "DUPLICATE_MEMBER", path: '$["a/b"]' }],
  ["__proto__ twice", '{"__proto__":{},"__proto__":{}}', { code: "DUPLICATE_MEMBER", path: "$.__proto__" }],
  ["constructor twice", '{"x":{"constructor":1,"constructor":2}}', { code: "DUPLICATE_MEMBER", path: "$.x.constructor" }],
  ["the empty name twice", '{"":1,"":2}', { code: "DUPLICATE_MEMBER", path: '$[""]' }],
  ["non-identifier names in the path", '{"a b":{"1":{"x":0,"x":0}}}', { code: "DUPLICATE_MEMBER", path: '$["a b"]["1"].x' }],
  ["a duplicate after an error-free sibling with the same name elsewhere", '{"a":{"k":1},"b":{"k":1,"k":2}}', { code: "DUPLICATE_MEMBER", path: "$.b.k" }],
  ["trailing comma in an object", '{"a":1,}', { code: "INVALID_JSON", path: "$" }],
  ["trailing comma in an array", '{"a":[1,2,]}', { code: "INVALID_JSON", path: "$.a[2]" }],
  ["a comment", '{"a":1 /* no */}', { code: "INVALID_JSON", path: "$" }],
  ["a line comment", '// x\n{"a":1}', { code: "INVALID_JSON", path: "$" }],
  ["NaN", '{"a":NaN}', { code: "INVALID_JSON", path: "$.a" }],
  ["Infinity", "[Infinity]", { code: "INVALID_JSON", path: "$[0]" }],
  ["a leading zero", '{"n":01}', { code: "INVALID_JSON", path: "$.n" }],
  ["a negative leading zero", "-012", { code: "INVALID_JSON", path: "$" }],
  ["a plus sign", "+1", { code: "INVALID_JSON", path: "$" }],
  ["a bare decimal point", ".5", { code: "INVALID_JSON", path: "$" }],
  ["a trailing decimal point", "1.", { code: "INVALID_JSON", path: "$" }],
  ["an empty exponent", "1e", { code: "INVALID_JSON", path: "$" }],
  ["a hex number", "0x10", { code: "INVALID_JSON", path: "$" }],
  ["single quotes", "{'a':1}", { code: "INVALID_JSON", path: "$" }],
  ["an unquoted name", "{a:1}", { code: "INVALID_JSON", path: "$" }],
  ["a byte-order mark", '\ufeff{"a":1}', { code: "INVALID_JSON", path: "$" }],
  ["a raw newline in a string", '"a\nb"', { code: "INVALID_JSON", path: "$" }],
  ["a raw tab in a string", '"a\tb"', { code: "INVALID_JSON", path: "$" }],
  ["an unknown escape", '"\\x41"', { code: "INVALID_JSON", path: "$" }],
  ["a short \\u escape", '"\\u00g1"', { code: "INVALID_JSON", path: "$" }],
  ["an escaped lone high surrogate", '{"a":"\\ud800"}', { code: "NOT_UNICODE", path: "$.a" }],
  ["an escaped lone low surrogate", '["\\udc00x"]', { code: "NOT_UNICODE", path: "$[0]" }],
  ["a raw lone surrogate", '"\ud800"', { code: "NOT_UNICODE", path: "$" }],
  ["swapped surrogates", '"\\udc00\\ud800"', { code: "NOT_UNICODE", path: "$" }],
  ["a lone surrogate in a member name", '{"\\ud800":1}', { code: "NOT_UNICODE", path: "$" }],
  ["an unterminated string", '{"a":"b', { code: "INVALID_JSON", path: "$.a" }],
  ["an unterminated object", '{"a":1', { code: "INVALID_JSON", path: "$" }],
  ["an unterminated array", "[1,[2", { code: "INVALID_JSON", path: "$[1]" }],
  ["two values", "{} {}", { code: "INVALID_JSON", path: "$" }],
  ["garbage after the value", "[1]x", { code: "INVALID_JSON", path: "$" }],
  ["a missing colon", '{"a" 1}', { code: "INVALID_JSON", path: "$" }],
  ["a missing comma", '{"a":1 "b":2}', { code: "INVALID_JSON", path: "$" }],
  ["a truncated literal", "[tru]", { code: "INVALID_JSON", path: "$[0]" }],
  ["a capitalised literal", "True", { code: "INVALID_JSON", path: "$" }],
  ["undefined", "undefined", { code: "INVALID_JSON", path: "$" }],
  ["the empty text", "", { code: "INVALID_JSON", path: "$" }],
  ["whitespace only", " \n\t ", { code: "INVALID_JSON", path: "$" }],
  ["a non-JSON space (NBSP)", '\u00a0{"a":1}', { code: "INVALID_JSON", path: "$" }],
  ["deep arrays", "[".repeat(100_000) + "]".repeat(100_000), { code: "TOO_DEEP", path: "$" + "[0]".repeat(DEFAULT_MAX_JSON_DEPTH) }],
  ["deep objects", '{"a":'.repeat(65) + "1" + "}".repeat(65), { code: "TOO_DEEP", path: "$" + ".a".repeat(64) }],
];

const ACCEPTED: [name: string, text: string][] = [
  ["nested objects", '{"a":{"b":{"c":{"d":[1,2,{"e":null}]}}}}'],
  ["the same name in sibling objects", '{"a":{"k":1},"b":{"k":2},"c":[{"k":1},{"k":2}]}'],
  ["names that differ only in case", '{"a":1,"A":2}'],
  ["names that differ by a NUL", '{"a":1,"a\\u0000":2}'],
  ["constructor, toString, hasOwnProperty", '{"constructor":1,"toString":2,"hasOwnProperty":3,"valueOf":{"x":1}}'],
  ["integer-like names (JS orders them first, as JSON.parse does)", '{"b":1,"2":2,"a":3,"1":4}'],
  ["huge numbers", "[1e400,-1e400,123456789012345678901234567890,1e-400,-0,0.1,5e-324,1.7976931348623157e308]"],
  ["exponent forms", "[1E5,1e+5,1e-5,-1.5E-2,0e0,0.0]"],
  ["every escape", '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00"'],
  ["raw non-ASCII and a raw surrogate pair", '{"name":"Zoë 😀 ☃"}'],
  ["a high-surrogate escape followed by a raw low surrogate", '"\\ud83d\ude00"'],
  ["whitespace everywhere", ' \t\r\n{ "a" : [ 1 , 2 ] , "b" : { } } \n'],
  ["scalars at the top", "null"],
  ["a string at the top", '"x"'],
  ["nesting at the limit", "[".repeat(64) + "]".repeat(64)],
];

describe("parseJsonStrict: refused", () => {
  it.each(REFUSED)("%s", (_name, text, expected) => {
    const r = parseJsonStrict(text);
    expect(r).toMatchObject({ ok: false, ...expected });
    if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
  });

  it("names the duplicate member and its path in one message", () => {
    const r = parseJsonStrict('{"action":{"deceives":true,"deceives":false}}');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(describeJsonError(r)).toBe('duplicate member name "deceives" at $.action.deceives');
  });

  it("gives the offset of a syntax error", () => {
    const r = parseJsonStrict('{"a":1,}');
    expect(!r.ok && r.reason).toContain("offset 7");
  });

  it("never throws, whatever the input", () => {
    for (const v of [undefined, null, 1, {}, [], Symbol("x"), new String("{}")]) {
      expect(parseJsonStrict(v)).toMatchObject({ ok: false, code: "INVALID_JSON" });
    }
    // A maxDepth beyond the stack is still an answer, not a RangeError.
    expect(parseJsonStrict("[".repeat(200_000) + "]".repeat(200_000), { maxDepth: 1e9 }).ok).toBe(false);
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        const r = parseJsonStrict(s);
        let native: { ok: true; value: unknown } | { ok: false };
        try {
          native = { ok: true, value: JSON.parse(s) as unknown };
        } catch {
          native = { ok: false };
        }
        // Anything strict accepts, JSON.parse accepts with the same value.
        if (r.ok) expect(native).toEqual({ ok: true, value: r.value });
      }),
      { numRuns: 2000 },
    );
  });

  it("limits depth and length as asked", () => {
    expect(parseJsonStrict("[[[1]]]", { maxDepth: 3 }).ok).toBe(true);
    expect(parseJsonStrict("[[[1]]]", { maxDepth: 2 })).toMatchObject({ ok: false, code: "TOO_DEEP", path: "$[0][0]" });
    expect(parseJsonStrict('"abcdef"', { maxLength: 5 })).toMatchObject({ ok: false, code: "TOO_LONG" });
  });
});

describe("parseJsonStrict: accepted, equal to JSON.parse", () => {
  it.each(ACCEPTED)("%s", (_name, text) => {
    const r = parseJsonStrict(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const native = JSON.parse(text) as unknown;
    expect(r.value).toStrictEqual(native);
    // Same key order and same -0 as JSON.parse.
    expect(JSON.stringify(r.value)).toBe(JSON.stringify(native));
    if (Array.isArray(native)) native.forEach((x, i) => typeof x !== "object" && expect(Object.is(x, (r.value as unknown[])[i])).toBe(true));
  });

  it("__proto__ is an own data property and never a prototype", () => {
    const r = parseJsonStrict('{"__proto__":{"isAdmin":true},"a":{"__proto__":[1]}}');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const v = r.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(["__proto__", "a"]);
    expect((v as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    expect(({} as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(v, "__proto__")).toEqual({ value: { isAdmin: true }, writable: true, enumerable: true, configurable: true });
    expect(Object.getPrototypeOf(v.a)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(v.a, "__proto__")?.value).toEqual([1]);
    expect(v).toStrictEqual(JSON.parse('{"__proto__":{"isAdmin":true},"a":{"__proto__":[1]}}'));
  });

  it("what it builds passes readPlainObject and zod strictObject (which refuses __proto__ as unknown)", () => {
    const ok = parseJsonStrict('{"actionId":"a","actor":"bot","reads":["x"]}');
    if (!ok.ok) throw new Error("parse failed");
    const read = readPlainObject(ok.value, "action");
    expect(read.ok && [...read.value.keys()]).toEqual(["actionId", "actor", "reads"]);
    expect(parseAction(ok.value).ok).toBe(true);
    const schema = z.strictObject({ actionId: z.string(), actor: z.string(), reads: z.array(z.string()) });
    expect(schema.safeParse(ok.value).success).toBe(true);

    const proto = parseJsonStrict('{"actionId":"a","actor":"bot","__proto__":{"reads":["x"]}}');
    if (!proto.ok) throw new Error("parse failed");
    expect(schema.partial().safeParse(proto.value).success).toBe(false);
    expect(parseAction(proto.value).ok).toBe(false); // an unknown field, never a read of "x"
    const readProto = readPlainObject(proto.value, "action");
    expect(readProto.ok && [...readProto.value.keys()]).toEqual(["actionId", "actor", "__proto__"]);
  });

  it("property: on JSON.stringify of any value (no duplicates possible) it equals JSON.parse", () => {
    const value = fc.jsonValue({ maxDepth: 6 });
    fc.assert(
      fc.property(value, fc.boolean(), (v, pretty) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined);
        const r = parseJsonStrict(text);
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(r.value).toStrictEqual(JSON.parse(text));
          expect(JSON.stringify(r.value)).toBe(JSON.stringify(JSON.parse(text)));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("property: full-Unicode strings and names survive, escaped or raw", () => {
    const key = fc.string({ unit: "grapheme", maxLength: 6 });
    const value = fc.dictionary(key, fc.oneof(fc.string({ unit: "grapheme" }), fc.double(), fc.integer()), { maxKeys: 8 });
    fc.assert(
      fc.property(value, (v) => {
        const raw = JSON.stringify(v);
        // The same text with every non-ASCII character as \u escapes: one value, two spellings.
        const escaped = raw.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
        for (const text of [raw, escaped]) {
          const r = parseJsonStrict(text);
          expect(r.ok).toBe(true);
          if (r.ok) expect(r.value).toStrictEqual(JSON.parse(text));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("property: a member repeated anywhere in a stringified object is refused with its path", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 6 }), fc.nat(), (obj, pick) => {
        const keys = Object.keys(obj);
        const k = keys[pick % keys.length] ?? "";
        const text = `{"outer":[${JSON.stringify(obj).slice(0, -1)},${JSON.stringify(k)}:0}]}`;
        const r = parseJsonStrict(text);
        expect(r).toMatchObject({ ok: false, code: "DUPLICATE_MEMBER" });
        if (!r.ok) expect(r.reason).toBe(`duplicate member name ${JSON.stringify(k)}`);
      }),
      { numRuns: 500 },
    );
  });
});
