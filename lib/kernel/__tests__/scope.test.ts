import { describe, expect, it } from "vitest";
import { scopeAncestors, scopeContains, validateScope } from "../scope";

describe("scopeContains (the formal prefix rule)", () => {
  it("matches the original README's examples", () => {
    expect(scopeContains("/data/alice", "/data/alice/report.csv")).toBe(true);
    expect(scopeContains("/data/alice", "/data/alice2")).toBe(false);
    expect(scopeContains("", "/anything")).toBe(true);
  });
  it("equality, descendants, siblings", () => {
    expect(scopeContains("/a", "/a")).toBe(true);
    expect(scopeContains("/a", "/a/b/c")).toBe(true);
    expect(scopeContains("/a/b", "/a")).toBe(false);
    expect(scopeContains("/a", "/ab")).toBe(false);
    expect(scopeContains("/a", "")).toBe(false);
    expect(scopeContains("", "")).toBe(true);
  });
  it('"/" contains every non-root scope but not the root', () => {
    expect(scopeContains("/", "/a")).toBe(true);
    expect(scopeContains("/", "/")).toBe(true);
    expect(scopeContains("/", "")).toBe(false);
  });
  it("strips one trailing slash of the parent, as the rule says (for unvalidated input)", () => {
    expect(scopeContains("/data/alice/", "/data/alice/x")).toBe(true);
    expect(scopeContains("/data/alice/", "/data/alice2")).toBe(false);
  });
  it("is false for non-strings, never throws", () => {
    expect(scopeContains(undefined as unknown as string, "/a")).toBe(false);
    expect(scopeContains("/a", 5 as unknown as string)).toBe(false);
  });
});

describe("scopeAncestors", () => {
  it("lists every containing scope, most specific first", () => {
    expect(scopeAncestors("/a/b/c")).toEqual(["/a/b/c", "/a/b", "/a", "/", ""]);
    expect(scopeAncestors("/a")).toEqual(["/a", "/", ""]);
    expect(scopeAncestors("/")).toEqual(["/", ""]);
    expect(scopeAncestors("")).toEqual([""]);
  });
});

describe("validateScope", () => {
  it("accepts canonical scopes unchanged", () => {
    for (const s of ["", "/", "/data", "/data/alice", "/data/alice/notes.txt", "/über/straße", "/a b/c"]) {
      expect(validateScope(s)).toEqual({ ok: true, scope: s });
    }
  });
  it.each([
    ["/data/alice/", "must not end with"],
    ["data/alice", 'start with "/"'],
    ["/data//alice", "empty segment"],
    ["//", "must not end with"],
    ["/data/../bob", '".." segment'],
    ["/data/./alice", '"." segment'],
    ["/..", '".." segment'],
    ["/a\u0000b", "control character"],
    ["/a\nb", "control character"],
    ["/a\u007Fb", "control character"],
    ["/a\u009Bb", "control character"],
    ["/a\u202Eb", "direction-changing"],
    ["/a\u200Bb", "invisible"],
    ["/cafe\u0301", "NFC"],
    ["/a\uDC00", "lone surrogate"],
    ["/" + "x".repeat(1024), "longer than 1024"],
  ])("refuses %j (%s), never fixing it", (input, reason) => {
    const r = validateScope(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
  it("refuses non-strings", () => {
    for (const v of [undefined, null, 1, {}, [], Symbol("x")]) expect(validateScope(v).ok).toBe(false);
  });
});
