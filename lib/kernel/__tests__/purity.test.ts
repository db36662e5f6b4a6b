/**
 * The dependency rule of design §2 for lib/kernel, checked from the source text independently of
 * ESLint: every import of every kernel file (static, dynamic, re-export, require) must be @noble/*
 * or another kernel file.
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const KERNEL = path.resolve(import.meta.dirname, "..");
const EXEMPT = [path.join(KERNEL, "__tests__")];

function kernelFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (EXEMPT.includes(p)) return [];
    if (d.isDirectory()) return kernelFiles(p);
    return /\.(ts|tsx|mts|cts|js|mjs)$/.test(d.name) ? [p] : [];
  });
}

/** Returns the reason an import is forbidden, or null when it is allowed. */
export function forbiddenImport(file: string, specifier: string): string | null {
  if (specifier.startsWith("@noble/")) return null;
  if (specifier.startsWith("./") || specifier.startsWith("../")) {
    const target = path.resolve(path.dirname(file), specifier);
    const inside = target.startsWith(KERNEL + path.sep) && !EXEMPT.some((e) => target === e || target.startsWith(e + path.sep));
    return inside ? null : `relative import leaves lib/kernel: ${specifier}`;
  }
  return `import of ${specifier}`;
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const info = ts.preProcessFile(text, true, true);
  const specs = info.importedFiles.map((f) => f.fileName);
  // preProcessFile sees import/export-from/import()/require(); also catch `import x = require()`.
  for (const m of text.matchAll(/\brequire\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g)) specs.push(m[1]!);
  return specs;
}

describe("lib/kernel purity", () => {
  const files = kernelFiles(KERNEL);

  it("finds the kernel's files", () => {
    expect(files.length).toBeGreaterThan(1);
  });

  it.each(files.map((f) => [path.relative(KERNEL, f), f]))("%s imports only @noble/* and kernel files", (_name, file) => {
    const bad = importsOf(file)
      .map((s) => forbiddenImport(file, s))
      .filter((r): r is string => r !== null);
    expect(bad).toEqual([]);
  });

  it("the checker itself rejects what it must", () => {
    const f = path.join(KERNEL, "verify.ts");
    expect(forbiddenImport(f, "node:fs")).not.toBeNull();
    expect(forbiddenImport(f, "fs")).not.toBeNull();
    expect(forbiddenImport(f, "zod")).not.toBeNull();
    expect(forbiddenImport(f, "../server/db")).not.toBeNull();
    expect(forbiddenImport(f, "../cli/main")).not.toBeNull();
    expect(forbiddenImport(f, "@noble/hashes/sha2.js")).toBeNull();
    expect(forbiddenImport(f, "./types")).toBeNull();
  });
});
