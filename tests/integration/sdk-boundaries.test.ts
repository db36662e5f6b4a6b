/**
 * The SDK's import boundaries, checked on the source: the core (lib/sdk/index.ts and what it
 * imports) pulls in no agent framework, no MCP SDK, no Next.js, no server code and no node: module,
 * so `freedom-kernel/sdk` loads in any runtime without optional peers; each adapter imports only its
 * own framework.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SPECIFIER = /(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']/g;

/** Every module specifier reachable from `entry` through relative imports, with the importing file. */
function importGraph(entry: string): { file: string; spec: string; typeOnly: boolean }[] {
  const seen = new Set<string>();
  const out: { file: string; spec: string; typeOnly: boolean }[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1]!;
      const typeOnly = /^(?:import|export)\s+type\b/.test(m[0]);
      out.push({ file: path.relative(ROOT, file), spec, typeOnly });
      if (spec.startsWith(".") && !typeOnly) {
        const base = path.resolve(path.dirname(file), spec);
        const target = [`${base}.ts`, path.join(base, "index.ts")].find((p) => fs.existsSync(p));
        if (target) visit(target);
      }
    }
  };
  visit(path.join(ROOT, entry));
  return out;
}

const FRAMEWORKS = /^(@openai\/|@anthropic-ai\/|ai$|ai\/|langchain|@langchain\/|@modelcontextprotocol\/)/;

describe("SDK import boundaries", () => {
  it("lib/sdk/index.ts needs no framework, no Next.js, no server code and no node: module at run time", () => {
    const runtime = importGraph("lib/sdk/index.ts").filter((i) => !i.typeOnly && !i.spec.startsWith("."));
    const offending = runtime.filter((i) => FRAMEWORKS.test(i.spec) || /^(next|react|server-only|node:|@prisma\/)/.test(i.spec) || i.spec.includes("lib/server"));
    expect(offending).toEqual([]);
    // What it does import: the kernel (relative), zod (contracts) and @noble (kernel).
    expect(new Set(runtime.map((i) => i.spec.split("/")[0]))).toEqual(new Set(["zod", "@noble"]));
  });

  it.each([
    ["lib/sdk/adapters/openai-agents.ts", /^@openai\/agents$/],
    ["lib/sdk/adapters/anthropic.ts", /^@anthropic-ai\/sdk\//],
    ["lib/sdk/adapters/vercel-ai.ts", /^ai$/],
    ["lib/sdk/adapters/langchain.ts", /^(langchain|@langchain\/core\/)/],
  ])("%s imports only its own framework", (entry, own) => {
    const frameworks = importGraph(entry).filter((i) => FRAMEWORKS.test(i.spec));
    expect(frameworks.length).toBeGreaterThan(0);
    expect(frameworks.filter((i) => !own.test(i.spec))).toEqual([]);
  });

  it("the adapters for OpenAI Agents and the Vercel AI SDK import their framework's types only", () => {
    for (const entry of ["lib/sdk/adapters/openai-agents.ts", "lib/sdk/adapters/vercel-ai.ts"]) {
      expect(importGraph(entry).filter((i) => FRAMEWORKS.test(i.spec) && !i.typeOnly)).toEqual([]);
    }
  });
});
