import "server-only";
import { z } from "zod";
import * as C from "../contracts";
import { ROUTES, type Audience, type RouteSpec } from "../contracts/routes";
import { DECISION_DOMAIN } from "../kernel/signing";
import pkg from "../../package.json";

/**
 * The OpenAPI 3.1 document, generated from the route table (lib/contracts/routes.ts) — the same
 * entries route() parses and answers with — so it cannot drift from the handlers (zod's JSON
 * Schema output is draft 2020-12, the dialect of OpenAPI 3.1). A test validates it with an
 * OpenAPI 3.1 validator and checks the table against the route files.
 */
const security: Record<Audience, Record<string, string[]>[]> = {
  public: [],
  agent: [{ machineToken: [] }],
  human: [{ sessionCookie: [] }, { operatorToken: [] }],
  operator: [{ operatorToken: [] }, { sessionCookie: [] }],
};

function schema(t: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(t, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  // One dialect for the whole document (jsonSchemaDialect below); a $schema per schema is noise.
  delete out.$schema;
  return out;
}

function operationId(r: RouteSpec): string {
  return `${r.method.toLowerCase()}${r.path.replace(/[{}]/g, "").replace(/[/.-](\w)/g, (_m, c: string) => c.toUpperCase())}`;
}

function operation(r: RouteSpec): Record<string, unknown> {
  const params: Record<string, unknown>[] = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
  if (r.query) {
    const q = schema(r.query) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
    for (const [name, s] of Object.entries(q.properties ?? {})) {
      params.push({ name, in: "query", required: (q.required ?? []).includes(name), schema: s, ...(typeof s.description === "string" ? { description: s.description } : {}) });
    }
  }
  const body = r.documentedBody ?? r.body;
  const contentType = r.contentType ?? "application/json";
  const ok = { description: "OK", content: { [contentType]: { schema: contentType === "application/json" ? schema(r.response) : { type: "string" } } } };
  const responses: Record<string, unknown> = { [String(r.status ?? 200)]: ok };
  for (const s of r.alsoStatus ?? []) responses[String(s)] = { ...ok, description: "See the body" };
  responses.default = {
    description: r.audience === "agent" ? "Error (always a refusal: permitted is false)" : "Error",
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  };
  return {
    summary: r.summary,
    operationId: operationId(r),
    tags: [r.audience],
    security: security[r.audience],
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: { required: true, content: { "application/json": { schema: schema(body) } } } } : {}),
    responses,
  };
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of Object.values(ROUTES) as RouteSpec[]) {
    const base = r.base ?? "/api/v1";
    // Routes outside /api/v1 (health, metrics) keep their own server, and a key of their own.
    const key = base === "/api/v1" ? r.path : `${base.slice("/api".length)}${r.path}`;
    const item = (paths[key] ??= base === "/api/v1" ? {} : { servers: [{ url: "/api" }] });
    item[r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "Freedom Kernel API",
      version: pkg.version,
      description: `Decisions are signed with Ed25519 over the UTF-8 bytes of the domain prefix ${JSON.stringify(DECISION_DOMAIN)} followed by the RFC 8785 canonical JSON of \`record\`.`,
    },
    servers: [{ url: "/api/v1" }],
    paths,
    components: {
      schemas: { Error: schema(C.ErrorBody) },
      securitySchemes: {
        machineToken: { type: "http", scheme: "bearer", description: "A machine's API token (fkm_…)" },
        operatorToken: { type: "http", scheme: "bearer", description: "FK_OPERATOR_TOKEN" },
        sessionCookie: { type: "apiKey", in: "cookie", name: "fk_session", description: "Console session; state changes also need the x-csrf-token header" },
      },
    },
  };
}
