/**
 * The route table (lib/contracts/routes.ts) against everything that reads it: the route files
 * (every exported method of every app/api/**\/route.ts is built from its own entry, and every entry
 * has its file), the OpenAPI document (valid OpenAPI 3.1, generated from the table), route()'s
 * typing of the principal by audience, and its test-only response check.
 */
import fs from "node:fs";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { ROUTES, routeUrl, type RouteSpec } from "../../contracts/routes";
import type { HumanPrincipal, Principal } from "../auth";
import { parseConfig } from "../config";
import { route, type AgentPrincipal, type HandlerArgs, type OperatorPrincipal } from "../http";
import { openApiDocument } from "../openapi";

const APP_API = path.resolve(import.meta.dirname, "../../../app/api");
const TABLE = ROUTES as Record<string, RouteSpec>;

interface Served {
  /** e.g. "POST /api/v1/machines/{id}/halt" */
  route: string;
  method: string;
  /** The ROUTES key the export is built from, or null when it is not `route(ROUTES.<key>, …)`. */
  entry: string | null;
  file: string;
  text: string;
}

/** Every exported method of every route file under app/api, with the table entry it names. */
function served(): Served[] {
  const out: Served[] = [];
  const walk = (dir: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.name === "route.ts") {
        const urlPath = "/api/" + path.relative(APP_API, dir).split(path.sep).join("/").replace(/\[(\w+)\]/g, "{$1}");
        const text = fs.readFileSync(p, "utf8");
        for (const m of text.matchAll(/export (?:const|async function|function) (GET|POST|DELETE|PUT|PATCH|HEAD|OPTIONS)\b(\s*=\s*route\(\s*ROUTES\.(\w+)\b)?/g)) {
          out.push({ route: `${m[1]} ${urlPath}`, method: m[1]!, entry: m[3] ?? null, file: path.relative(APP_API, p), text });
        }
      }
    }
  };
  walk(APP_API);
  return out.sort((a, b) => a.route.localeCompare(b.route));
}

const tableRoute = (s: RouteSpec) => `${s.method} ${routeUrl(s, Object.fromEntries([...s.path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1]!, `{${m[1]}}`]))).replace(/%7B(\w+)%7D/g, "{$1}")}`;

describe("the route table and the route files", () => {
  const files = served();

  it("every exported method is route(ROUTES.<entry>, …) of an entry with that method and path", () => {
    const wrong = files.filter((f) => f.entry === null || !Object.hasOwn(TABLE, f.entry) || tableRoute(TABLE[f.entry]!) !== f.route);
    expect(wrong.map((f) => `${f.route} (${f.file}) -> ${f.entry ?? "not built from the table"}`)).toEqual([]);
  });

  it("every entry is served by exactly one route file export", () => {
    const byEntry = new Map<string, number>();
    for (const f of files) if (f.entry) byEntry.set(f.entry, (byEntry.get(f.entry) ?? 0) + 1);
    const unserved = Object.keys(TABLE).filter((k) => byEntry.get(k) !== 1);
    expect(unserved).toEqual([]);
    expect(files.map((f) => f.route)).toEqual(Object.values(TABLE).map(tableRoute).sort((a, b) => a.localeCompare(b)));
  });

  it("no handler repeats the audience check", () => {
    const repeated = files.filter((f) => /requireHuman|unreachable|principal\?\.kind/.test(f.text)).map((f) => f.file);
    expect([...new Set(repeated)]).toEqual([]);
  });

  it("paths are unique per method and parameters are named once", () => {
    const keys = Object.values(TABLE).map(tableRoute);
    expect(new Set(keys).size).toBe(keys.length);
    for (const s of Object.values(TABLE)) {
      const names = [...s.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(new Set(names).size).toBe(names.length);
      if (s.method === "GET") expect(s.body, `${s.method} ${s.path} has a body`).toBeUndefined();
    }
  });
});

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(openApiDocument());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("documents every entry of the table, and nothing else", () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, unknown> & { servers?: { url: string }[] }> };
    const documented: string[] = [];
    for (const [p, item] of Object.entries(doc.paths)) {
      const base = item.servers?.[0]?.url ?? "/api/v1";
      for (const m of ["get", "post", "delete", "put", "patch"]) if (item[m]) documented.push(`${m.toUpperCase()} ${base}${p}`);
    }
    expect(documented.sort()).toEqual(Object.values(TABLE).map(tableRoute).sort());
  });

  it("shows the agent routes' actions as the contract, not the envelope route() parses", () => {
    const doc = openApiDocument() as any;
    const verifyBody = doc.paths["/verify"].post.requestBody.content["application/json"].schema;
    expect(verifyBody.properties.action.properties.actor).toBeDefined();
    expect(doc.paths["/health"].servers).toEqual([{ url: "/api" }]);
    expect(Object.keys(doc.paths["/health"].get.responses)).toEqual(["200", "503", "default"]);
    expect(doc.paths["/audit/proof/inclusion"].get.parameters.map((p: { name: string }) => p.name)).toEqual(["seq", "size"]);
  });

  it("says how decisions are signed", () => {
    const info = openApiDocument().info as { description: string };
    expect(info.description).toContain("freedom-kernel/decision/v1");
    expect(info.description).toContain("RFC 8785");
  });
});

describe("route() types the principal by the entry's audience", () => {
  it("agent, human, operator, public", () => {
    expectTypeOf<HandlerArgs<typeof ROUTES.verify>["principal"]>().toEqualTypeOf<AgentPrincipal>();
    expectTypeOf<HandlerArgs<typeof ROUTES.createMachine>["principal"]>().toEqualTypeOf<HumanPrincipal>();
    expectTypeOf<HandlerArgs<typeof ROUTES.createOwner>["principal"]>().toEqualTypeOf<OperatorPrincipal>();
    expectTypeOf<HandlerArgs<typeof ROUTES.keys>["principal"]>().toEqualTypeOf<Principal | null>();
    expectTypeOf<HandlerArgs<typeof ROUTES.haltMachine>["params"]>().toEqualTypeOf<{ readonly id: string }>();
    expectTypeOf<HandlerArgs<typeof ROUTES.haltMachine>["body"]>().toEqualTypeOf<{ reason?: string | undefined }>();
    expectTypeOf<HandlerArgs<typeof ROUTES.listMachines>["body"]>().toEqualTypeOf<undefined>();
    // @ts-expect-error a public route's principal may be null
    route(ROUTES.keys, async ({ principal }) => principal.kind);
    // @ts-expect-error a human route's principal is never an agent
    route(ROUTES.listMachines, async ({ principal }) => principal.machineId);
  });
});

describe("FK_CHECK_RESPONSES", () => {
  it("is off unless set to 1", () => {
    expect(parseConfig({}).checkResponses).toBe(false);
    expect(parseConfig({ FK_CHECK_RESPONSES: "1" }).checkResponses).toBe(true);
    expect(() => parseConfig({ FK_CHECK_RESPONSES: "yes" })).toThrow(/FK_CHECK_RESPONSES/);
  });

  describe("when on, route() answers 500 for a response its entry does not allow", () => {
    const saved = process.env.FK_CHECK_RESPONSES;
    beforeAll(() => {
      // config() parses process.env once per module instance; this file has its own.
      process.env.FK_CHECK_RESPONSES = "1";
    });
    afterAll(() => {
      if (saved === undefined) delete process.env.FK_CHECK_RESPONSES;
      else process.env.FK_CHECK_RESPONSES = saved;
    });
    const ctx = { params: Promise.resolve({}) };
    const get = (p = "/x") => new Request(`http://localhost${p}`);
    const spec = { method: "GET", path: "/x", audience: "public", credentials: "ignored", summary: "test", response: z.strictObject({ n: z.number() }) } as const;

    it("passes a matching answer through", async () => {
      const res = await route(spec, async () => ({ n: 1 }))(get(), ctx);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ n: 1 });
      expect(res.headers.get("cache-control")).toBe("no-store");
    });

    it("answers with the entry's status", async () => {
      const created = { ...spec, status: 201 } as const;
      const res = await route(created, async () => ({ n: 2 }))(get(), ctx);
      expect(res.status).toBe(201);
      expect(res.headers.get("x-fk-response-checked")).toBe("1");
    });

    it("refuses a wrong shape, an unknown key, a wrong status and a wrong content type", async () => {
      const answers: unknown[] = [{ n: "1" }, { n: 1, extra: true }, Response.json({ n: 1 }, { status: 201 }), new Response("n=1", { headers: { "cache-control": "no-store" } })];
      for (const a of answers) {
        const res = await route(spec, async () => a)(get(), ctx);
        expect(res.status).toBe(500);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INTERNAL_ERROR");
      }
    });

    it("keeps errors as they are (they match ErrorBody), and agents' errors are refusals", async () => {
      const agent = { method: "POST", path: "/y", audience: "agent", summary: "test", response: z.strictObject({ n: z.number() }) } as const;
      const res = await route(agent, async () => ({ n: 1 }))(new Request("http://localhost/y", { method: "POST" }), ctx);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "UNAUTHENTICATED" }, permitted: false });
    });
  });
});
