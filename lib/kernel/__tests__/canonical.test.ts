import { describe, expect, it } from "vitest";
import fc from "fast-check";
import canonicalize from "canonicalize";
import {
  CanonicalizeError,
  MAX_CANONICAL_DEPTH,
  canonicalBytes,
  canonicalJson,
  canonicalJsonGeneral,
} from "../canonical";

/** Float64 from its IEEE 754 bit pattern, as RFC 8785 Appendix B lists them. */
function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt("0x" + hex));
  return view.getFloat64(0);
}

describe("canonicalJson: RFC 8785 examples", () => {
  it("sorts keys and drops whitespace", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x"] })).toBe('{"a":[true,null,"x"],"b":1}');
  });

  it("section 3.2.2/3.2.3: literals, numbers and string escapes", () => {
    // The RFC's input, as JSON text (so number literals go through the JSON parser as they would in practice).
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        ' "literals": [null, true, false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("section 3.2.3: property sorting by UTF-16 code units", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("section 3.2.3 ordering is UTF-16, not code point: the emoji sorts before U+FB33", () => {
    const keys = Object.keys(JSON.parse(canonicalJson({ "\ufb33": 1, "\ud83d\ude00": 2 })) as object);
    expect(keys).toEqual(["\ud83d\ude00", "\ufb33"]);
  });

  it("section 3.2.4: UTF-8 output", () => {
    expect(Array.from(canonicalBytes({ "\u20ac": "\u00f6" }))).toEqual(
      [0x7b, 0x22, 0xe2, 0x82, 0xac, 0x22, 0x3a, 0x22, 0xc3, 0xb6, 0x22, 0x7d],
    );
  });

  // Appendix B: IEEE 754 bit pattern -> expected serialisation.
  const numbers: [string, string][] = [
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ];
  it.each(numbers)("appendix B: %s -> %s", (bits, expected) => {
    expect(canonicalJson(fromBits(bits))).toBe(expected);
  });

  it("appendix B: NaN and Infinity are refused", () => {
    expect(() => canonicalJson(fromBits("7fffffffffffffff"))).toThrow(CanonicalizeError);
    expect(() => canonicalJson(fromBits("7ff0000000000000"))).toThrow(CanonicalizeError);
  });

  it.each([
    [1e21, "1e+21"],
    [1e-7, "1e-7"],
    [0.000001, "0.000001"],
    [-0, "0"],
    [1e20, "100000000000000000000"],
    [0.1 + 0.2, "0.30000000000000004"],
  ])("number %s -> %s", (n, expected) => {
    expect(canonicalJson(n)).toBe(expected);
  });
});

describe("canonicalJson: differential against the canonicalize package", () => {
  it("agrees on random JSON values (ASCII and full Unicode strings)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: "grapheme" }), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 300 },
    );
  });

  it("refuses exactly the values with lone surrogates and otherwise agrees", () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: "binary" }), (value) => {
        const text = JSON.stringify(value);
        // JSON.stringify writes paired surrogates raw and escapes only lone ones.
        const hasLoneSurrogate = /\\ud[89a-f][0-9a-f]{2}/.test(text);
        if (hasLoneSurrogate) {
          expect(() => canonicalJson(value)).toThrow(CanonicalizeError);
        } else {
          expect(canonicalJson(value)).toBe(canonicalize(value));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("is stable: parse(canonical(x)) canonicalises to the same text", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const once = canonicalJson(value);
        expect(canonicalJson(JSON.parse(once))).toBe(once);
      }),
    );
  });
});

describe("canonicalJson: the JSON.stringify fast path and the general serialiser", () => {
  // Objects whose keys arrive in any order, with digit-leading keys (array-index-like, which
  // objects enumerate first), "__proto__" and undefined members: every branch of the fast path.
  const key = fc.oneof(fc.string(), fc.constantFrom("__proto__", "0", "1", "10", "9", "a", "b", "toJSON", "\u20ac", "\ud83d\ude00"));
  const tree = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small" }, fc.jsonValue({ maxDepth: 1 }), tie("object"), tie("array")),
    array: fc.array(tie("value"), { maxLength: 5 }),
    object: fc.array(fc.tuple(key, fc.option(tie("value"), { nil: undefined })), { maxLength: 6 }).map((entries) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
      return o;
    }),
  })).value;

  it("agree with each other and with the canonicalize package, and leave the input as it was", () => {
    fc.assert(
      fc.property(tree, (value) => {
        const before = canonicalJsonGeneral(value);
        expect(canonicalJson(value)).toBe(before);
        expect(canonicalize(value)).toBe(before);
        expect(canonicalJsonGeneral(value)).toBe(before);
      }),
      { numRuns: 1500 },
    );
  });

  it("a value already in order is printed as it is; one out of order is put in order", () => {
    expect(canonicalJson({ a: 1, b: [{ c: 2, d: "x" }] })).toBe('{"a":1,"b":[{"c":2,"d":"x"}]}');
    expect(canonicalJson({ b: [{ d: "x", c: 2 }], a: 1 })).toBe('{"a":1,"b":[{"c":2,"d":"x"}]}');
    expect(canonicalJson({ b: 1, 10: 2, 9: 3, a: undefined })).toBe('{"10":2,"9":3,"b":1}');
  });
});

describe("canonicalJson: refusals", () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  const nested = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };

  it.each([
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["-Infinity", { a: -Infinity }],
    ["a lone high surrogate", "\ud800"],
    ["a lone low surrogate in a key", { "\udc00": 1 }],
    ["a reversed surrogate pair", "\ude00\ud83d"],
    ["a bigint", 1n],
    ["a nested bigint", { a: [1, 2n] }],
    ["a class instance", new Point(1, 2)],
    ["a Date", new Date(0)],
    ["a Map", new Map()],
    ["a function", () => 1],
    ["a symbol", Symbol("s")],
    ["undefined", undefined],
    ["an undefined array element", [1, undefined]],
    ["nesting deeper than the limit", nested(MAX_CANONICAL_DEPTH + 5)],
    ["a function as a member", { f: () => 1 }],
    ["a toJSON method", { toJSON: () => "x" }],
    ["a symbol in an array", [Symbol("s")]],
    ["an array hole", [1, , 2]],
    ["a lone surrogate after a digit key", { 1: "a", b: "\ud800" }],
  ])("refuses %s", (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(CanonicalizeError);
    expect(() => canonicalJsonGeneral(value)).toThrow(CanonicalizeError);
  });

  it("accepts nesting up to the limit", () => {
    expect(() => canonicalJson(nested(MAX_CANONICAL_DEPTH))).not.toThrow();
  });

  it("errors carry a stable code", () => {
    try {
      canonicalJson(NaN);
      expect.unreachable();
    } catch (e) {
      expect((e as CanonicalizeError).code).toBe("CANONICALIZE_FAILED");
    }
  });

  it("treats null-prototype objects as plain and drops undefined properties", () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 2;
    o.a = undefined;
    o.__proto__ = 1;
    expect(canonicalJson(o)).toBe('{"__proto__":1,"b":2}');
  });
});
