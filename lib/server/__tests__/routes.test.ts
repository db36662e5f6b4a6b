import fs from "node:fs";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { openApiDocument, ROUTES } from "../openapi";

const API_DIR = path.resolve(import.meta.dirname, "../../../app/api/v1");

/** Every (METHOD, /path) exported by a route file under app/api/v1. */
function handlers(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.name === "route.ts") {
        const rel = "/" + path.relative(API_DIR, dir).split(path.sep).join("/");
        const apiPath = rel.replace(/\[(\w+)\]/g, "{$1}");
        const text = fs.readFileSync(p, "utf8");
        for (const m of text.matchAll(/export (?:const|async function) (GET|POST|DELETE|PUT|PATCH)\b/g)) out.push(`${m[1]} ${apiPath}`);
      }
    }
  };
  walk(API_DIR);
  return out.sort();
}

describe("OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(openApiDocument());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("documents exactly the routes the handlers serve (console-only routes aside)", () => {
    const documented = ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
    const served = handlers().filter((h) => !h.includes(" /console/"));
    expect(documented).toEqual(served);
  });

  it("says how decisions are signed", () => {
    const info = openApiDocument().info as { description: string };
    expect(info.description).toContain("freedom-kernel/decision/v1");
    expect(info.description).toContain("RFC 8785");
  });
});
