/**
 * `file:{path}` templates, as a property: whatever path argument a model sends, either the call is
 * refused before the kernel is asked, or the file the kernel decides on (the canonical path of the
 * reference) is exactly the file a POSIX tool opens with the arguments the proxy forwards
 * (`path.resolve` of them, which is what @modelcontextprotocol/server-filesystem does with an
 * absolute path). A difference between the two would let a permitted call act on another file.
 */
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalizeReference } from "@/lib/kernel/object-ref";
import { toolMapFromJson } from "@/lib/sdk";

const ROOT = "/srv/work";
const map = toolMapFromJson({
  root: ROOT,
  tools: { read: { reads: ["file:{path}"] }, read_many: { reads: ["file:{paths}"] } },
});

/** Segments chosen to hit every rule: dots, escapes, separators, schemes, home, Unicode forms. */
const SEGMENT = fc.constantFrom(
  "a", "notes", "q3.txt", "..", ".", "...", "", " ", "~", "~root", "%2e%2e", "%2E.", "%2F", "%5C", "%61", "%25", "%",
  "a\\..", "\\", "file:", "FILE:", "C:", "https:", "x?y", "x#y", "é", "e\u0301", "\uFF0E\uFF0E", "\u2215", "a\u200Bb", "\u0000", "\n", "'", '"',
);
const PATH_ARG = fc.tuple(fc.boolean(), fc.array(SEGMENT, { minLength: 0, maxLength: 6 }), fc.boolean()).map(
  ([absolute, segments, trailing]) => `${absolute ? "/" : ""}${segments.join("/")}${trailing ? "/" : ""}`,
);

/** The file a POSIX tool opens for a forwarded path, or undefined when it would resolve against its cwd. */
function opened(forwarded: unknown): string | undefined {
  return typeof forwarded === "string" && forwarded.startsWith("/") ? path.posix.resolve(forwarded) : undefined;
}

describe("file:{path} templates: the kernel decides on the file the tool opens", () => {
  it("one path: refused, or canonical reference === path.resolve(forwarded argument)", () => {
    fc.assert(
      fc.property(PATH_ARG, (p) => {
        const r = map.map("read", { path: p });
        if (!r.ok) {
          expect(r.error.code).toBe("MAPPING_FAILED");
          return;
        }
        const ref = r.fields.reads?.[0];
        const c = canonicalizeReference(ref);
        expect(c.ok, p).toBe(true);
        const forwarded = (r.args ?? { path: p }).path;
        expect(c.ok && c.canonical, p).toBe(opened(forwarded));
        if (!p.startsWith("/")) expect((c.ok && c.canonical) || "", p).toMatch(/^\/srv\/work(\/|$)/);
      }),
      { numRuns: 3000 },
    );
  });

  it("a list: one reference per path, each the file the tool opens, or the whole call refused", () => {
    fc.assert(
      fc.property(fc.array(PATH_ARG, { minLength: 0, maxLength: 4 }), (paths) => {
        const r = map.map("read_many", { paths });
        if (!r.ok) return;
        expect(paths.length).toBeGreaterThan(0);
        const forwarded = (r.args ?? { paths }).paths as unknown[];
        expect(r.fields.reads).toHaveLength(paths.length);
        r.fields.reads!.forEach((ref, i) => {
          const c = canonicalizeReference(ref);
          expect(c.ok && c.canonical).toBe(opened(forwarded[i]));
        });
      }),
      { numRuns: 1000 },
    );
  });

  it("known tricks are refused", () => {
    for (const p of ["../etc", "a/../../etc", "/srv/work/../etc", "~/x", "~", "file:///srv/work/a", "file:/srv/work/%61", "C:/x", "/srv/work/%61", "/srv/work//a", "a\\..\\..\\etc", "", "./a"]) {
      const r = map.map("read", { path: p });
      expect(r.ok, p).toBe(false);
    }
    expect(map.map("read_many", { paths: [] }).ok).toBe(false);
  });
});
