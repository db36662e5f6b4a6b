/**
 * One commit path for changes of authority (design §13): no module but lib/server/authority/commit.ts
 * opens an audit transaction or bumps the registry version — except the audit log itself, where the
 * function lives, the registry module that defines bumpRegistryVersion, and the decision path
 * (decisions.ts, and permits.ts for redemption), which records decisions and changes no authority.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ALLOWED = new Set([
  "lib/server/authority/commit.ts",
  "lib/server/audit-log.ts",
  "lib/server/registry.ts",
  "lib/server/decisions.ts",
  "lib/server/permits.ts",
]);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === "node_modules" || e.name === "generated" || e.name === "__tests__" || e.name.startsWith(".")) continue;
      out.push(...sources(rel));
    } else if (/\.(ts|tsx)$/.test(e.name)) out.push(rel);
  }
  return out;
}

describe("the commit path", () => {
  it("no file outside the commit function opens an audit transaction or bumps the registry version", () => {
    const offenders = ["app", "lib", "scripts", "components"]
      .flatMap(sources)
      .filter((f) => !ALLOWED.has(f))
      .filter((f) => /\b(withAuditTransaction|bumpRegistryVersion)\s*\(/.test(fs.readFileSync(path.join(ROOT, f), "utf8")));
    expect(offenders).toEqual([]);
  });

  it("the commit function does use both (the test looks at the right names)", () => {
    const commit = fs.readFileSync(path.join(ROOT, "lib/server/authority/commit.ts"), "utf8");
    expect(commit).toMatch(/withAuditTransaction\(/);
    expect(commit).toMatch(/bumpRegistryVersion\(/);
  });
});
