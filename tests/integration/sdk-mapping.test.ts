/**
 * The mapping layer on its own (no server): typed and declarative mappings, the JSON template form
 * of the MCP proxy, and the ways a mapping can fail — each a refusal, never an action that is broader
 * than the integrator wrote.
 */
import { describe, expect, it } from "vitest";
import { defineToolMap, toolMapFromJson, type ActionFields, type MapResult } from "@/lib/sdk";

function fields(r: MapResult): ActionFields {
  if (!r.ok) throw new Error(`expected fields, got ${r.error.code}: ${r.error.message}`);
  return r.fields;
}
function code(r: MapResult): string {
  if (r.ok) throw new Error("expected a refusal");
  return r.error.code;
}

describe("defineToolMap", () => {
  const map = defineToolMap({
    read: { reads: ["dataset-x"] },
    write: { writes: (a: { path: string }) => [a.path], flags: { deceives: false }, description: (a: { path: string }) => `write ${a.path}` },
    one: { writes: (a: { path: string }) => a.path },
    typed: (a: { to: string }) => ({ delegates: [a.to], governsHumans: [] }),
    flagged: { reads: ["x"], flags: (a: { sneaky: boolean }) => ({ coerces: a.sneaky }) },
    throws: () => {
      throw new Error("boom");
    },
    setsActor: () => ({ actor: "someone" }) as ActionFields,
    unknownField: () => ({ read: ["x"] }) as ActionFields,
    badList: () => ({ reads: [1] }) as unknown as ActionFields,
    badFlag: { reads: ["x"], flags: { not_a_flag: true } as never },
  });

  it("maps declarative and typed mappings", () => {
    expect(fields(map.map("read", {}))).toEqual({ reads: ["dataset-x"] });
    expect(fields(map.map("write", { path: "/tmp/a" }))).toEqual({ writes: ["/tmp/a"], deceives: false, description: "write /tmp/a" });
    expect(fields(map.map("one", { path: "p" }))).toEqual({ writes: ["p"] });
    expect(fields(map.map("typed", { to: "bob" }))).toEqual({ delegates: ["bob"], governsHumans: [] });
    expect(fields(map.map("flagged", { sneaky: true }))).toEqual({ reads: ["x"], coerces: true });
  });

  it("blocks unknown tools, including prototype names", () => {
    for (const name of ["nope", "__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expect(code(map.map(name, {}))).toBe("UNMAPPED_TOOL");
    }
    expect(map.has("read")).toBe(true);
    expect(map.has("constructor")).toBe(false);
  });

  it("a mapping that throws or returns something else blocks the call", () => {
    expect(code(map.map("throws", {}))).toBe("MAPPING_FAILED");
    expect(code(map.map("setsActor", {}))).toBe("MAPPING_FAILED");
    expect(code(map.map("unknownField", {}))).toBe("MAPPING_FAILED");
    expect(code(map.map("badList", {}))).toBe("MAPPING_FAILED");
    expect(code(map.map("badFlag", {}))).toBe("MAPPING_FAILED");
    // The model's arguments may be anything; a mapping that reads a missing property fails closed.
    expect(code(map.map("write", null))).toBe("MAPPING_FAILED");
  });

  it("rejects a mapping that is neither a function nor a declarative mapping", () => {
    expect(() => defineToolMap({ x: { reeds: ["a"] } as never })).toThrow(/neither a function/);
  });
});

describe("toolMapFromJson (MCP proxy mapping files)", () => {
  const map = toolMapFromJson({
    tools: {
      read_file: { reads: ["file:{path}"], description: "read {path}" },
      copy: { reads: ["{from}"], writes: ["{to}"] },
      batch: { reads: ["{paths}"] },
      nested: { writes: ["{target.id}"] },
      braces: { reads: ["{{literal}}-{n}"] },
      dangerous: { reads: ["x"], flags: { bypasses_verifier: true } },
    },
  });

  it("fills templates from the arguments", () => {
    expect(fields(map.map("read_file", { path: "/a/b" }))).toEqual({ reads: ["file:/a/b"], description: "read /a/b" });
    expect(fields(map.map("copy", { from: "a", to: "b" }))).toEqual({ reads: ["a"], writes: ["b"] });
    expect(fields(map.map("batch", { paths: ["p1", "p2"] }))).toEqual({ reads: ["p1", "p2"] });
    expect(fields(map.map("nested", { target: { id: "t1" } }))).toEqual({ writes: ["t1"] });
    expect(fields(map.map("braces", { n: 7 }))).toEqual({ reads: ["{literal}-7"] });
    expect(fields(map.map("dangerous", {}))).toEqual({ reads: ["x"], bypasses_verifier: true });
  });

  it("a missing or mistyped argument blocks the call instead of widening it", () => {
    expect(code(map.map("read_file", {}))).toBe("MAPPING_FAILED");
    expect(code(map.map("read_file", { path: { toString: "x" } }))).toBe("MAPPING_FAILED");
    expect(code(map.map("batch", { paths: ["ok", 3] }))).toBe("MAPPING_FAILED");
    expect(code(map.map("nested", { target: "t1" }))).toBe("MAPPING_FAILED");
    expect(code(map.map("read_file", { __proto__: { path: "/inherited" } }))).toBe("MAPPING_FAILED");
    expect(code(map.map("unknown", {}))).toBe("UNMAPPED_TOOL");
  });

  it("rejects malformed mapping files at load time", () => {
    expect(() => toolMapFromJson({ tools: { t: { write: ["x"] } } })).toThrow(/invalid tool mapping file/);
    expect(() => toolMapFromJson({ tools: { t: { flags: { not_a_flag: true } } } })).toThrow(/invalid tool mapping file/);
    expect(() => toolMapFromJson({ tools: { t: { reads: ["{unclosed"] } } })).toThrow(/unclosed/);
    expect(() => toolMapFromJson({ tools: { t: { reads: ["{a b}"] } } })).toThrow(/not an argument name/);
    expect(() => toolMapFromJson({ tools: { t: { reads: ["}"] } } })).toThrow(/unmatched/);
    expect(() => toolMapFromJson({ tool: {} })).toThrow(/invalid tool mapping file/);
  });
});
