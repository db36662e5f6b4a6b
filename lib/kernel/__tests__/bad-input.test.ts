/**
 * Bad-input corpus: every exported decision function of the kernel's core survives hostile
 * input with a denial (BLOCKED / ok: false / false / SnapshotError for buildSnapshot) — never an
 * exception, never a permit.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAction } from "../action";
import { detectManipulation, manipulationScore } from "../extensions/manipulation";
import { checkGrant, parseGrantProposal } from "../grant";
import { downwardFlows, joinLabels, sinkRank, sourceRank, stepTaint } from "../ifc";
import { verifyPlan } from "../plan";
import { decidingRule, globMatch, policyDenials } from "../policy";
import { scopeAncestors, scopeContains, validateScope } from "../scope";
import { SnapshotError, buildSnapshot, type Snapshot } from "../snapshot";
import { FLAGS, type Action, type RegistryData } from "../types";
import { verify } from "../verify";
import { parseWirePlan, parseWireRequest, renderOriginal, renderOriginalPlan, verifyWire, verifyWirePlan } from "../wire";

const fixtures = (JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "vectors", "_fixtures.json"), "utf8")) as { fixtures: Record<string, unknown> })
  .fixtures;
const BASE = fixtures.base as RegistryData;
const README = fixtures["wire-readme"];
const NOW = 1000;
const snap = buildSnapshot(BASE);
const GOOD = { actionId: "ok", actor: "bot", reads: ["alice-data"] };

function deepArray(levels: number): unknown {
  let v: unknown = "x";
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}
function deepObject(levels: number): unknown {
  let v: unknown = "x";
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}
function throwingProxy(): unknown {
  return new Proxy(
    {},
    {
      get: () => {
        throw new Error("boom");
      },
      ownKeys: () => {
        throw new Error("boom");
      },
      getOwnPropertyDescriptor: () => {
        throw new Error("boom");
      },
      getPrototypeOf: () => {
        throw new Error("boom");
      },
      has: () => {
        throw new Error("boom");
      },
    },
  );
}
function revokedProxy(): unknown {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}
function withThrowingGetter(base: Record<string, unknown>, key: string): unknown {
  const o = { ...base };
  Object.defineProperty(o, key, {
    enumerable: true,
    get() {
      throw new Error("getter");
    },
  });
  return o;
}
/** A Proxy that shows "false" to the first look at a flag and "true" afterwards. */
function flipFlopAction(): unknown {
  let looks = 0;
  return new Proxy(
    { ...GOOD, deceives: false },
    {
      getOwnPropertyDescriptor(target, key) {
        const d = Reflect.getOwnPropertyDescriptor(target, key);
        if (key === "deceives" && d !== undefined) return { ...d, value: looks++ > 0 };
        return d;
      },
      get(target, key) {
        if (key === "deceives") return looks++ > 0;
        return Reflect.get(target, key);
      },
    },
  );
}

const MB = "a".repeat(1 << 20);
const LONE = "x\uD800y";
const manyKeys = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));

/** Values no field of any kernel input accepts as-is (for fields that want something specific). */
const CORPUS: [string, () => unknown][] = [
  ["undefined", () => undefined],
  ["null", () => null],
  ["true", () => true],
  ["NaN", () => NaN],
  ["Infinity", () => Infinity],
  ["-Infinity", () => -Infinity],
  ["-0", () => -0],
  ["1e308", () => 1e308],
  ["empty string", () => ""],
  ["1 MB string", () => MB],
  ["lone surrogate", () => LONE],
  ["symbol", () => Symbol("s")],
  ["bigint", () => 10n],
  ["function", () => () => 1],
  ["array", () => [1, 2]],
  ["array of objects", () => [{ actionId: "a", actor: "bot" }]],
  ["deep array (100k levels)", () => deepArray(100_000)],
  ["deep object (100k levels)", () => deepObject(100_000)],
  ["Map", () => new Map([["actor", "bot"]])],
  ["Date", () => new Date(0)],
  ["class instance", () => new (class Foo {})()],
  ["String object", () => new String("bot")],
  ["Uint8Array", () => new Uint8Array(4)],
  ["throwing proxy", throwingProxy],
  ["revoked proxy", revokedProxy],
  ["100k keys", () => manyKeys],
  ["JSON __proto__ object", () => JSON.parse('{"__proto__": {"actor": "bot"}}')],
  ["JSON constructor object", () => JSON.parse('{"constructor": {"prototype": {}}}')],
  ["sparse array", () => new Array(1e9)],
];

function assertBlocked(r: ReturnType<typeof verify>): void {
  expect(r.permitted).toBe(false);
  expect(r.violations.length).toBeGreaterThan(0);
  expect(typeof r.snapshot.digest).toBe("string");
}

describe("bad input: actions", () => {
  it("the good action is permitted (control)", () => {
    expect(verify(snap, GOOD, NOW).permitted).toBe(true);
  });

  it.each(CORPUS)("the whole action is %s", (_n, make) => {
    const v = make();
    expect(parseAction(v).ok).toBe(false);
    const r = verify(snap, v, NOW);
    assertBlocked(r);
    expect(r.violations.every((x) => x.code === "MALFORMED_ACTION")).toBe(true);
  });

  const fields = ["actionId", "actor", "reads", "writes", "delegates", "governsHumans", "description", "argument", ...FLAGS];
  it.each(fields)("every corpus value in %s is refused", (field) => {
    for (const [name, make] of CORPUS) {
      const v = make();
      if (v === undefined) continue; // undefined is "absent"
      if ((field === "description" || field === "argument") && v === "") continue; // a valid empty text
      const r = verify(snap, { ...GOOD, [field]: v }, NOW);
      expect(r.permitted, `${field} = ${name}`).toBe(false);
      // A flag set to true is well formed, and blocks as a flag.
      expect(r.violations[0]?.code, `${field} = ${name}`).toBe(v === true && (FLAGS as readonly string[]).includes(field) ? "FORBIDDEN_FLAG" : "MALFORMED_ACTION");
    }
  });

  it("prototype tricks in the action are refused", () => {
    const inherited = Object.create({ deceives: true }) as Record<string, unknown>;
    Object.assign(inherited, GOOD);
    assertBlocked(verify(snap, inherited, NOW));
    assertBlocked(verify(snap, JSON.parse('{"actionId":"a","actor":"bot","__proto__":{"increases_machine_sovereignty":true}}'), NOW));
    assertBlocked(verify(snap, { ...GOOD, constructor: "x" }, NOW));
    assertBlocked(verify(snap, { ...GOOD, prototype: {} }, NOW));
    assertBlocked(verify(snap, { ...GOOD, [Symbol("x")]: 1 }, NOW));
    const nonEnumerable = { ...GOOD };
    Object.defineProperty(nonEnumerable, "deceives", { value: true, enumerable: false });
    assertBlocked(verify(snap, nonEnumerable, NOW));
    // A null-prototype object is a plain JSON-like object: accepted.
    expect(verify(snap, Object.assign(Object.create(null) as object, GOOD), NOW).permitted).toBe(true);
  });

  it("getters are never run, throwing or not", () => {
    for (const key of ["actionId", "actor", "reads", "deceives"]) assertBlocked(verify(snap, withThrowingGetter(GOOD, key), NOW));
    let ran = false;
    const sneaky = { ...GOOD };
    Object.defineProperty(sneaky, "reads", {
      enumerable: true,
      get() {
        ran = true;
        return ["alice-data"];
      },
    });
    assertBlocked(verify(snap, sneaky, NOW));
    expect(ran).toBe(false);
    const arrayWithGetter = ["alice-data"];
    Object.defineProperty(arrayWithGetter, 0, { get: () => "alice-data", enumerable: true });
    assertBlocked(verify(snap, { ...GOOD, reads: arrayWithGetter }, NOW));
  });

  it("a Proxy cannot show one value to the check and another to the use", () => {
    const r = verify(snap, flipFlopAction(), NOW);
    // Whatever the proxy answered, it was read once: either refused or judged on that one answer.
    if (r.permitted) expect(r.violations).toEqual([]);
    const parsed = parseAction(flipFlopAction());
    if (parsed.ok) expect(verify(snap, parsed.action, NOW).permitted).toBe(!parsed.action.deceives);
  });

  it("duplicate keys in JSON text: the last one wins, so a true flag still blocks", () => {
    const r = verify(snap, JSON.parse('{"actionId":"a","actor":"bot","reads":["alice-data"],"coerces":true,"coerces":false,"deceives":false,"deceives":true}'), NOW);
    expect(r.violations.map((v) => v.flag)).toEqual(["deceives"]);
  });

  it("odd Unicode never matches a different id", () => {
    for (const actor of ["bot\u200F", "\u202Ebot", "bo\u0000t", "bot ", "BOT", "b\u043Et"]) {
      const r = verify(snap, { ...GOOD, actor }, NOW);
      assertBlocked(r);
    }
    const nfd = buildSnapshot({
      ...BASE,
      resources: [...BASE.resources, { id: "caf\u00E9", type: "file", scope: "/c", isPublic: false }],
      claims: [...BASE.claims, { id: "cafe-claim", holder: "alice", resource: "caf\u00E9", canRead: true, canWrite: false, canDelegate: false, confidence: 1 }],
    });
    expect(verify(nfd, { actionId: "n", actor: "alice", reads: ["caf\u00E9"] }, NOW).permitted).toBe(true);
    expect(verify(nfd, { actionId: "n", actor: "alice", reads: ["cafe\u0301"] }, NOW).violations[0]?.code).toBe("READ_DENIED");
    assertBlocked(verify(snap, { ...GOOD, actionId: LONE }, NOW));
    assertBlocked(verify(snap, { ...GOOD, reads: [LONE] }, NOW));
    assertBlocked(verify(snap, { ...GOOD, argument: `ok ${LONE}` }, NOW));
  });

  it("limits: 1,001 reads, 10,001-character argument, 257-character ids", () => {
    assertBlocked(verify(snap, { ...GOOD, reads: Array.from({ length: 1001 }, (_, i) => `r${i}`) }, NOW));
    assertBlocked(verify(snap, { ...GOOD, argument: "a".repeat(10_001) }, NOW));
    assertBlocked(verify(snap, { ...GOOD, actionId: "a".repeat(257) }, NOW));
    assertBlocked(verify(snap, { ...GOOD, reads: ["alice-data", "alice-data"] }, NOW));
    expect(verify(snap, { ...GOOD, argument: "a".repeat(10_000) }, NOW).permitted).toBe(true);
  });

  it("bad times, options and snapshots block with INTERNAL_ERROR", () => {
    for (const now of [NaN, Infinity, -Infinity, 1.5, 2 ** 60, "1000", null, undefined]) {
      const r = verify(snap, GOOD, now as number);
      assertBlocked(r);
      expect(r.violations[0]?.code).toBe("INTERNAL_ERROR");
    }
    for (const options of [null, 5, { taint: 3 }, { step: -1 }, { step: 1.5 }, { step: NaN }]) {
      const r = verify(snap, GOOD, NOW, options as never);
      assertBlocked(r);
      expect(r.violations[0]?.code).toBe("INTERNAL_ERROR");
    }
    for (const [, make] of CORPUS) {
      const r = verify(make() as Snapshot, GOOD, NOW);
      assertBlocked(r);
      expect(r.snapshot).toEqual({ version: -1, digest: "" });
    }
    // A look-alike object is not a snapshot, however faithful.
    const forged = { ...snap, ref: snap.ref, isHalted: () => false, claimsOf: snap.claimsOf.bind(snap) };
    const r = verify(forged as unknown as Snapshot, GOOD, NOW);
    assertBlocked(r);
    expect(r.violations[0]?.code).toBe("INTERNAL_ERROR");
  });
});

describe("a parsed action is parsed once", () => {
  it("is frozen with its lists, taken back as it is, and a look-alike copy is parsed in full", () => {
    const first = parseAction({ actionId: "p1", actor: "bot", reads: ["a", "b"] });
    if (!first.ok) throw new Error("must parse");
    const a = first.action;
    expect(Object.isFrozen(a) && Object.isFrozen(a.reads) && Object.isFrozen(a.writes) && Object.isFrozen(a.delegates) && Object.isFrozen(a.governsHumans)).toBe(true);
    expect(() => (a.reads as string[]).push("c")).toThrow(TypeError);
    expect(() => {
      (a as { coerces: boolean }).coerces = true;
    }).toThrow(TypeError);
    const again = parseAction(a);
    expect(again.ok && again.action).toBe(a);
    // A copy is not what parseAction returned: it is checked like any input.
    const copy = { ...a, reads: ["a", "a"] };
    const refused = parseAction(copy);
    expect(refused.ok).toBe(false);
    expect(refused.ok ? [] : refused.errors.join(" ")).toMatch(/repeats/);
  });
});

describe("bad input: plans", () => {
  it.each(CORPUS.filter(([n]) => n !== "array of objects"))("the plan is %s", (_n, make) => {
    const p = verifyPlan(snap, make(), NOW);
    expect(p.permitted).toBe(false);
    expect(p.steps.length).toBeGreaterThan(0);
    expect(p.steps.every((s) => !s.permitted)).toBe(true);
  });
  it("1,001 steps, holes, getters, bad steps", () => {
    expect(verifyPlan(snap, Array.from({ length: 1001 }, () => GOOD), NOW).permitted).toBe(false);
    expect(verifyPlan(snap, Array.from({ length: 1000 }, () => GOOD), NOW).permitted).toBe(true);
    expect(verifyPlan(snap, [GOOD, , GOOD], NOW).permitted).toBe(false);
    const withGetter = [GOOD, GOOD];
    Object.defineProperty(withGetter, 1, { get: () => GOOD, enumerable: true });
    expect(verifyPlan(snap, withGetter, NOW).permitted).toBe(false);
    for (const [, make] of CORPUS) {
      const p = verifyPlan(snap, [GOOD, make(), GOOD], NOW);
      expect(p.permitted).toBe(false);
      expect(p.steps[2]?.violations[0]?.code).toBe("PLAN_ABORTED");
    }
    expect(verifyPlan(snap, [GOOD], NaN).permitted).toBe(false);
    expect(verifyPlan(snap, [GOOD], NOW, { taint: 5 as unknown as string }).permitted).toBe(false);
    expect(verifyPlan({} as Snapshot, [GOOD], NOW).permitted).toBe(false);
  });
});

describe("bad input: grants", () => {
  const GOOD_GRANT = { holder: "bot", grantor: "alice", resource: "report", canRead: true, canWrite: false, canDelegate: false };
  it("the good grant is accepted (control)", () => {
    expect(checkGrant(snap, GOOD_GRANT, NOW).ok).toBe(true);
  });
  it.each(CORPUS)("the grant is %s", (_n, make) => {
    const g = checkGrant(snap, make(), NOW);
    expect(g.ok).toBe(false);
    expect(g.violations[0]?.code).toBe("MALFORMED_GRANT");
    expect(parseGrantProposal(make()).ok).toBe(false);
  });
  it.each(Object.keys(GOOD_GRANT))("every corpus value in %s is refused", (field) => {
    for (const [name, make] of CORPUS) {
      const v = make();
      if (v === undefined) continue;
      if (v === true && field.startsWith("can")) continue; // a valid right
      expect(checkGrant(snap, { ...GOOD_GRANT, [field]: v }, NOW).ok, `${field} = ${name}`).toBe(false);
    }
  });
  it("getters, prototype keys, bad times, fake snapshots", () => {
    expect(checkGrant(snap, withThrowingGetter(GOOD_GRANT, "holder"), NOW).ok).toBe(false);
    expect(checkGrant(snap, JSON.parse('{"__proto__":{"holder":"bot"}}'), NOW).ok).toBe(false);
    expect(checkGrant(snap, { ...GOOD_GRANT, holder: "__proto__" }, NOW).violations.map((v) => v.code)).toEqual(["UNKNOWN_HOLDER"]);
    expect(checkGrant(snap, { ...GOOD_GRANT, grantor: "constructor" }, NOW).violations.map((v) => v.code)).toEqual(["UNKNOWN_GRANTOR"]);
    expect(checkGrant(snap, { ...GOOD_GRANT, resource: "toString" }, NOW).violations.map((v) => v.code)).toEqual(["UNKNOWN_RESOURCE"]);
    for (const now of [NaN, Infinity, 1.5]) expect(checkGrant(snap, GOOD_GRANT, now).ok).toBe(false);
    expect(checkGrant({} as Snapshot, GOOD_GRANT, NOW).violations[0]?.code).toBe("INTERNAL_ERROR");
  });
});

describe("bad input: registries", () => {
  function refuses(data: unknown): void {
    let err: unknown;
    try {
      buildSnapshot(data as RegistryData);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SnapshotError);
  }
  it.each(CORPUS)("the registry is %s", (_n, make) => refuses(make()));
  it.each(["version", "entities", "machineOwners", "resources", "claims", "halts", "policies", "lattice"])("every corpus value in %s is refused", (field) => {
    for (const [, make] of CORPUS) {
      const v = make();
      if (v === undefined && !["version", "entities", "machineOwners", "resources", "claims", "halts"].includes(field)) continue;
      if (field === "version" && (Object.is(v, -0) || v === 1e308)) continue; // -0 is 0, a valid version; 1e308 is not an integer -> refused below
      refuses({ ...BASE, [field]: v });
    }
    refuses({ ...BASE, version: 1e308 });
  });
  it("corpus values inside items are refused", () => {
    for (const [, make] of CORPUS) {
      const v = make();
      refuses({ ...BASE, entities: [...BASE.entities, v] });
      refuses({ ...BASE, claims: [...BASE.claims, v] });
      // -0 is 0: allowed in data (it makes the claim invalid, not the registry).
      if (v !== undefined && !Object.is(v, -0)) refuses({ ...BASE, claims: [{ ...BASE.claims[0], confidence: v }] });
      if (v !== undefined && v !== "") refuses({ ...BASE, resources: [{ ...BASE.resources[0], scope: v }] });
    }
    refuses({ ...BASE, entities: [withThrowingGetter({ id: "x", kind: "HUMAN", displayName: "x" }, "id")] });
    refuses(withThrowingGetter(BASE as unknown as Record<string, unknown>, "claims"));
    refuses({ ...BASE, __proto__: null, extra: 1 });
    refuses(JSON.parse(JSON.stringify(BASE).replace('"halts":[]', '"halts":[],"__proto__":{}')));
  });
  it("prototype-named ids are ordinary ids", () => {
    const data: RegistryData = {
      version: 1,
      entities: [
        { id: "__proto__", kind: "HUMAN", displayName: "p" },
        { id: "constructor", kind: "MACHINE", displayName: "c" },
        { id: "hasOwnProperty", kind: "MACHINE", displayName: "h" },
      ],
      machineOwners: [{ machine: "constructor", owner: "__proto__" }],
      resources: [
        { id: "prototype", type: "file", scope: "/__proto__", isPublic: false },
        { id: "toString", type: "file", scope: "/constructor", isPublic: false },
      ],
      claims: [
        { id: "__proto__", holder: "__proto__", scope: "/__proto__", canRead: true, canWrite: true, canDelegate: true, confidence: 1 },
        { id: "valueOf", holder: "constructor", resource: "prototype", canRead: true, canWrite: false, canDelegate: false, confidence: 1, grantor: "__proto__" },
      ],
      halts: [],
    };
    const s = buildSnapshot(data);
    expect(verify(s, { actionId: "p", actor: "constructor", reads: ["prototype"] }, NOW).permitted).toBe(true);
    expect(verify(s, { actionId: "p", actor: "constructor", reads: ["toString"] }, NOW).violations.map((v) => v.code)).toEqual(["READ_DENIED"]);
    expect(verify(s, { actionId: "p", actor: "hasOwnProperty" }, NOW).violations.map((v) => v.code)).toEqual(["NO_OWNER"]);
    expect(verify(s, { actionId: "p", actor: "toString" }, NOW).violations.map((v) => v.code)).toEqual(["MALFORMED_ACTION"]);
    expect(verify(s, { actionId: "p", actor: "valueOf" }, NOW).violations.map((v) => v.code)).toEqual(["MALFORMED_ACTION"]);
    expect(s.entity("toString")).toBeUndefined();
    expect(s.claimsOf("valueOf")).toEqual([]);
    expect(s.machinesOf("__proto__")).toEqual(["constructor"]);
    expect(s.ownerOf("constructor")).toBe("__proto__");
    expect(s.isHalted("constructor")).toBe(false);
    expect(s.isClaimValid("__proto__", NOW)).toBe(true);
    expect(s.isClaimValid("hasOwnProperty", NOW)).toBe(false);
  });
  it("a snapshot and everything reachable from it is frozen", () => {
    const s = buildSnapshot(BASE);
    const attempts: (() => void)[] = [
      () => ((s as unknown as Record<string, unknown>).version = 99),
      () => ((s as unknown as Record<string, unknown>).digest = "x"),
      () => (s.data.claims as unknown as unknown[]).push({}),
      () => ((s.data.claims[0] as unknown as Record<string, unknown>).canWrite = true),
      () => ((s.data.entities[0] as unknown as Record<string, unknown>).kind = "MACHINE"),
      () => (s.data.halts as unknown as unknown[]).push({ kind: "all" }),
      () => (s.lattice as unknown as string[]).pop(),
      () => ((s.ref as unknown as Record<string, unknown>).version = 1),
      () => (s.claimsOf("bot") as unknown as unknown[]).push({}),
      () => (s.machinesOf("alice") as unknown as unknown[]).push("x"),
      () => (s.claimsOf("nobody") as unknown as unknown[]).push({}),
      () => ((Object.getPrototypeOf(s) as Record<string, unknown>).isHalted = () => false),
      () => ((s.constructor as unknown as Record<string, unknown>).x = 1),
      () => ((s as unknown as Record<string, unknown>).isHalted = () => false),
      () => ((s.resource("report") as unknown as Record<string, unknown>).isPublic = true),
      () => ((s.data.policies as unknown as unknown[]).length = 0),
    ];
    for (const attempt of attempts) expect(attempt).toThrow(TypeError);
    expect(verify(s, { actionId: "w", actor: "bot", writes: ["public-doc"] }, NOW).permitted).toBe(false);
  });
  it("lookups answer nothing for non-ids", () => {
    for (const [, make] of CORPUS) {
      const v = make() as string;
      expect(snap.entity(v)).toBeUndefined();
      expect(snap.ownerOf(v)).toBeUndefined();
      expect(snap.resource(v)).toBeUndefined();
      expect(snap.claim(v)).toBeUndefined();
      expect(snap.claimsOf(v)).toEqual([]);
      expect(snap.machinesOf(v)).toEqual([]);
      expect(snap.isHalted(v)).toBe(false);
      expect(snap.isClaimValid(v, NOW)).toBe(false);
      expect(snap.isClaimValid("a-data", v as unknown as number)).toBe(typeof v === "number" && Number.isSafeInteger(v));
    }
  });
});

describe("bad input: scopes, labels, policy helpers, manipulation", () => {
  it.each(CORPUS)("%s", (_n, make) => {
    const v = make();
    const s = v as string;
    const vs = validateScope(v);
    if (vs.ok) expect(vs.scope).toBe(v);
    expect(typeof scopeContains(s, "/a")).toBe("boolean");
    expect(typeof scopeContains("/a", s)).toBe("boolean");
    expect(Array.isArray(scopeAncestors(s))).toBe(true);
    const score = manipulationScore(s);
    expect(score >= 0 && score <= 1).toBe(true);
    expect(detectManipulation(s).signals).toBeInstanceOf(Array);
    expect(typeof globMatch(s, "bot")).toBe("boolean");
    expect(typeof globMatch("*", s)).toBe("boolean");
    expect(typeof sourceRank(["A"], s)).toBe("number");
    expect(typeof sinkRank(["A"], s)).toBe("number");
    expect(typeof joinLabels(["A", "B"], s, "A")).toBe("string");
    expect(typeof stepTaint(snap, s, { reads: ["alice-data"] })).toBe("string");
    expect(typeof stepTaint(v as Snapshot, "PUBLIC", { reads: [] })).toBe("string");
    expect(downwardFlows(v as Snapshot, "SECRET", { reads: [], writes: ["report"] })).toEqual([]);
    expect(decidingRule([], s, "read", s)).toBeUndefined();
    expect(policyDenials(v as Snapshot, parseAction(GOOD).ok ? (parseAction(GOOD) as { action: Action }).action : ({} as Action))).toEqual([]);
  });
  it("scope spellings are refused, never fixed", () => {
    for (const bad of ["/a/", "//", "/a//b", "/./a", "/a/.", "/..", "a/b", "/a\u0000", "/a\u007F", "/a\u0085", "/e\u0301", "/a\u200F", "/\uD800", "/" + "a".repeat(1024)]) {
      expect(validateScope(bad).ok, JSON.stringify(bad)).toBe(false);
    }
    for (const good of ["", "/", "/a", "/a/b", "/é", "/a.b", "/..a", "/a..", "/" + "a".repeat(1023)]) {
      expect(validateScope(good), JSON.stringify(good)).toEqual({ ok: true, scope: good });
    }
  });
  it("huge and pathological arguments score quickly and within [0, 1]", () => {
    const start = performance.now();
    for (const t of [MB, "suspend ".repeat(100_000), "a".repeat(100_000) + " override the rule", "emergency! ".repeat(10_000)]) {
      const s = manipulationScore(t);
      expect(s >= 0 && s <= 1).toBe(true);
    }
    expect(performance.now() - start).toBeLessThan(2000);
  });
  it("glob patterns are not regular expressions", () => {
    expect(globMatch("bot.*", "botx")).toBe(false);
    expect(globMatch("(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!")).toBe(false);
    expect(globMatch("*a*a*a*a*a*a*a*b", "a".repeat(5000))).toBe(false);
    expect(globMatch("b*t", "bot")).toBe(true);
    expect(globMatch("", "")).toBe(true);
    expect(globMatch("*", "")).toBe(true);
  });
});

describe("bad input: the wire format", () => {
  const GOOD_WIRE = { registry: README, action: { action_id: "w", actor: { name: "ResearchBot", kind: "MACHINE" } } };
  it("the good request is permitted (control)", () => {
    expect(verifyWire(GOOD_WIRE, NOW).permitted).toBe(true);
  });
  it.each(CORPUS)("the request is %s", (_n, make) => {
    const v = make();
    expect(parseWireRequest(v).ok).toBe(false);
    expect(parseWirePlan(v).ok).toBe(false);
    assertBlocked(verifyWire(v, NOW));
    expect(verifyWirePlan(v, NOW).permitted).toBe(false);
    expect(renderOriginal(v as never).permitted).toBe(false);
    expect(renderOriginalPlan(v as never).all_permitted).toBe(false);
  });
  it("corpus values in the registry and the action are refused", () => {
    for (const [name, make] of CORPUS) {
      const v = make();
      assertBlocked(verifyWire({ ...GOOD_WIRE, registry: v }, NOW));
      assertBlocked(verifyWire({ ...GOOD_WIRE, action: v }, NOW));
      if (v !== undefined) {
        expect(verifyWire({ ...GOOD_WIRE, action: { ...GOOD_WIRE.action, actor: v } }, NOW).permitted, name).toBe(false);
        expect(verifyWire({ ...GOOD_WIRE, action: { ...GOOD_WIRE.action, deceives: v } }, NOW).permitted, name).toBe(false);
      }
    }
  });
  it("duplicate keys and prototype keys in wire JSON", () => {
    const text = JSON.stringify(GOOD_WIRE).replace('"action_id":"w"', '"action_id":"w","coerces":false,"coerces":true');
    expect(verifyWire(JSON.parse(text), NOW).violations.map((v) => v.flag)).toEqual(["coerces"]);
    const proto = JSON.stringify(GOOD_WIRE).replace('"action_id":"w"', '"action_id":"w","__proto__":{"coerces":false}');
    assertBlocked(verifyWire(JSON.parse(proto), NOW));
    assertBlocked(verifyWire(JSON.parse(JSON.stringify(GOOD_WIRE).replace('"claims":', '"__proto__":{},"claims":')), NOW));
  });
});
