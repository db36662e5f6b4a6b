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
    // A file: template names the file by its plain path (literal: a tool does not percent-decode it).
    expect(fields(map.map("read_file", { path: "/a/b" }))).toEqual({ reads: ["/a/b"], description: "read /a/b" });
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

  it("object references: file: roots, list expansion, and arguments that do not canonicalize refuse the call", () => {
    const refs = toolMapFromJson({
      root: "/srv/work",
      tools: {
        read_file: { reads: ["file:{path}"] },
        read_many: { reads: ["file:{paths}"] },
        rooted: { root: "/srv/other", reads: ["file:{path}"] },
        fetch: { reads: ["{url}"] },
        send_email: { writes: ["mailto:{to}"] },
        repo: { reads: ["https://api.github.com/repos/{owner}/{name}"] },
      },
    });
    const noRoot = toolMapFromJson({ tools: { read_file: { reads: ["file:{path}"] } } });
    // Relative paths join the root, and the tool is to be run with the absolute path.
    const rel = refs.map("read_file", { path: "notes/q3.txt", head: 3 });
    expect(fields(rel)).toEqual({ reads: ["/srv/work/notes/q3.txt"] });
    expect(rel.ok && rel.args).toEqual({ path: "/srv/work/notes/q3.txt", head: 3 });
    expect(fields(refs.map("rooted", { path: "x" }))).toEqual({ reads: ["/srv/other/x"] });
    const abs = refs.map("read_file", { path: "/srv/work/a" });
    expect(abs.ok && abs.args).toBe(undefined);
    // A URI is not a path: the tool would read "file:///srv/work/a" as a relative path named "file:".
    expect(code(refs.map("read_file", { path: "file:///srv/work/a" }))).toBe("MAPPING_FAILED");
    expect(code(refs.map("read_file", { path: "https://example.com/a" }))).toBe("MAPPING_FAILED");
    // Any other "file:" template that fills in arguments would be read as a URI, which decodes "%61"
    // to "a" where the tool opens "%61": refused when the map is loaded, in any case of "file:".
    for (const t of ["file:/srv/{name}", "FILE:{path}", "File:{path}", "file:{dir}/{name}", "file:{path}.txt"]) {
      expect(() => toolMapFromJson({ tools: { t: { reads: [t] } } }), t).toThrow(/file template/);
    }
    expect(fields(toolMapFromJson({ tools: { t: { reads: ["file:///srv/fixed"] } } }).map("t", {}))).toEqual({ reads: ["file:///srv/fixed"] });
    expect(fields(toolMapFromJson({ tools: { t: { reads: ["/srv/{name}"] } } }).map("t", { name: "x" }))).toEqual({ reads: ["/srv/x"] });
    expect(code(noRoot.map("read_file", { path: "notes/q3.txt" }))).toBe("MAPPING_FAILED");
    for (const trick of ["../etc/passwd", "notes/../../etc", "/srv/work/../etc", "~/.ssh/id_rsa", "/srv/work//x", "/srv/work/a%2Fb", "a\\..\\b", "file:///srv/work/%2e%2e/x", "", "C:/x"]) {
      expect(code(refs.map("read_file", { path: trick })), trick).toBe("MAPPING_FAILED");
    }
    // One reference per element of a list; an empty list or one bad element refuses the call.
    expect(fields(refs.map("read_many", { paths: ["a", "/srv/work/b"] }))).toEqual({ reads: ["/srv/work/a", "/srv/work/b"] });
    expect(refs.map("read_many", { paths: ["a", "/srv/work/b"] })).toMatchObject({ args: { paths: ["/srv/work/a", "/srv/work/b"] } });
    expect(code(refs.map("read_many", { paths: [] }))).toBe("MAPPING_FAILED");
    expect(code(refs.map("read_many", { paths: ["a", "../b"] }))).toBe("MAPPING_FAILED");
    expect(fields(refs.map("send_email", { to: ["Bob@Example.com", "carol@example.com"] }))).toEqual({ writes: ["mailto:Bob@Example.com", "mailto:carol@example.com"] });
    expect(code(refs.map("send_email", { to: "bob@example.com,eve@evil.example" }))).toBe("MAPPING_FAILED");
    expect(code(refs.map("send_email", { to: [] }))).toBe("MAPPING_FAILED");
    expect(fields(refs.map("fetch", { url: "https://API.GitHub.com/repos/acme" }))).toEqual({ reads: ["https://API.GitHub.com/repos/acme"] });
    for (const url of ["https://user@api.github.com/x", "https://api.github.com/x?q=1", "https://api.github.com/a/../b", "https://api.github.com./x", "http://0x7f.1/"]) {
      expect(code(refs.map("fetch", { url })), url).toBe("MAPPING_FAILED");
    }
    // An argument cannot climb out of the part of a URL a template gives it.
    expect(fields(refs.map("repo", { owner: "acme", name: "widgets" }))).toEqual({ reads: ["https://api.github.com/repos/acme/widgets"] });
    expect(code(refs.map("repo", { owner: "acme", name: "../../orgs/x" }))).toBe("MAPPING_FAILED");
    expect(code(refs.map("repo", { owner: "acme", name: "w?x=1" }))).toBe("MAPPING_FAILED");
    expect(() => toolMapFromJson({ root: "relative", tools: {} })).toThrow(/root/);
    expect(() => toolMapFromJson({ root: "/a/../b", tools: {} })).toThrow(/root/);
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
