import "server-only";
import { z } from "zod";
import * as C from "../contracts";
import { DECISION_DOMAIN } from "../kernel/signing";
import pkg from "../../package.json";

/**
 * The OpenAPI 3.1 document, generated from the same zod contracts the handlers parse with (zod's
 * JSON Schema output is draft 2020-12, the dialect of OpenAPI 3.1). ROUTES is the table of every
 * handler; a test checks it against the route files, so the document cannot drift from the code.
 */
type Audience = "public" | "agent" | "human" | "operator";
type Method = "get" | "post" | "delete";

export interface RouteDoc {
  method: Method;
  path: string;
  summary: string;
  audience: Audience;
  body?: z.ZodType;
  query?: z.ZodType;
  response: z.ZodType;
  status?: number;
}

const List = <T extends z.ZodType>(t: T) => z.array(t);
const Anything = z.unknown();

export const ROUTES: RouteDoc[] = [
  { method: "post", path: "/verify", summary: "Ask before acting: the signed, audited decision; a PERMITTED record is a permit", audience: "agent", body: C.VerifyRequest, response: C.SignedDecision },
  { method: "post", path: "/verify-plan", summary: "Verify a plan step by step against one snapshot", audience: "agent", body: C.VerifyPlanRequest, response: C.SignedPlanDecision },
  { method: "post", path: "/permits/redeem", summary: "Redeem a permit once, just before the tool runs", audience: "agent", body: C.RedeemRequest, response: C.RedeemResponse },
  { method: "get", path: "/keys", summary: "The kernel's public keys (current and retired) and the signing domain", audience: "public", response: C.KeysResponse },
  { method: "post", path: "/stateless/verify", summary: "Verify a request in the original kernel's wire format; signed with mode \"stateless\", never a permit", audience: "public", body: C.StatelessRequest, response: Anything },
  { method: "post", path: "/session", summary: "Sign in (sets the session cookie; returns the CSRF token)", audience: "public", body: C.SessionRequest, response: C.SessionResponse },
  { method: "get", path: "/session", summary: "Who is signed in", audience: "human", response: C.SessionResponse },
  { method: "delete", path: "/session", summary: "Sign out", audience: "human", response: z.strictObject({ signedOut: z.literal(true) }) },
  { method: "post", path: "/owners", summary: "Register an owner (operator)", audience: "operator", body: C.CreateOwnerRequest, response: C.Owner },
  { method: "get", path: "/owners", summary: "Owners visible to the caller", audience: "human", response: List(C.Owner) },
  { method: "post", path: "/owners/{id}/halt", summary: "Halt every machine of an owner", audience: "human", body: C.HaltRequest, response: C.HaltResponse },
  { method: "post", path: "/owners/{id}/resume", summary: "Lift an owner-wide halt", audience: "human", response: z.strictObject({ resumed: z.string(), registryVersion: z.number().int() }) },
  { method: "post", path: "/machines", summary: "Register a machine under its owner", audience: "human", body: C.CreateMachineRequest, response: C.Machine },
  { method: "get", path: "/machines", summary: "The caller's machines", audience: "human", response: List(C.Machine) },
  { method: "get", path: "/machines/{id}", summary: "One machine", audience: "human", response: C.Machine },
  { method: "post", path: "/machines/{id}/halt", summary: "Kill switch: halt one machine", audience: "human", body: C.HaltRequest, response: C.HaltResponse },
  { method: "post", path: "/machines/{id}/resume", summary: "Resume a halted machine", audience: "human", response: C.ResumeResponse },
  { method: "post", path: "/machines/{id}/tokens", summary: "Create an API token (the secret is shown once)", audience: "human", body: C.CreateTokenRequest, response: C.CreatedToken },
  { method: "get", path: "/machines/{id}/tokens", summary: "A machine's tokens (no secrets)", audience: "human", response: List(C.Token) },
  { method: "delete", path: "/tokens/{id}", summary: "Revoke a token", audience: "human", response: C.Token },
  { method: "post", path: "/resources", summary: "Register a resource and the owner's root claim", audience: "human", body: C.CreateResourceRequest, response: C.Resource },
  { method: "get", path: "/resources", summary: "Resources visible to the caller", audience: "human", response: List(C.Resource) },
  { method: "post", path: "/grants", summary: "Delegate rights; the kernel's checkGrant decides (422 with its reasons)", audience: "human", body: C.CreateGrantRequest, response: C.Grant },
  { method: "post", path: "/claims", summary: "Register a root (ownership) claim for a human: imports and disputes; overlaps are queued as conflicts (operator)", audience: "operator", body: C.CreateRootClaimRequest, response: C.Grant },
  { method: "get", path: "/grants", summary: "Grants held or made by the caller and their machines", audience: "human", response: List(C.Grant) },
  { method: "delete", path: "/grants/{id}", summary: "Revoke a grant", audience: "human", response: C.Grant },
  { method: "post", path: "/halt-all", summary: "Halt every machine (operator)", audience: "operator", body: C.HaltRequest, response: C.HaltResponse },
  { method: "post", path: "/resume-all", summary: "Lift the global halt (operator)", audience: "operator", response: z.strictObject({ resumed: z.string(), registryVersion: z.number().int() }) },
  { method: "get", path: "/approvals", summary: "The approval inbox", audience: "human", response: List(C.Approval) },
  { method: "post", path: "/approvals/{id}/approve", summary: "Approve: create the narrow grant the action needs", audience: "human", body: C.ApproveRequest, response: C.Approval },
  { method: "post", path: "/approvals/{id}/refuse", summary: "Refuse with a reason", audience: "human", body: C.RefuseRequest, response: C.Approval },
  { method: "get", path: "/conflicts", summary: "The arbitration queue", audience: "human", response: List(C.Conflict) },
  { method: "post", path: "/conflicts/{id}/resolve", summary: "Resolve a conflict", audience: "human", body: C.ResolveConflictRequest, response: C.Conflict },
  { method: "get", path: "/audit", summary: "Audit entries, filtered", audience: "human", query: C.AuditQuery, response: C.AuditPage },
  { method: "get", path: "/audit/export", summary: "The whole log as JSON Lines with the public keys", audience: "human", response: z.string() },
  { method: "get", path: "/audit/checkpoints/latest", summary: "The newest signed Merkle tree head", audience: "human", response: C.SignedCheckpointBody },
  { method: "get", path: "/audit/proof/inclusion", summary: "Inclusion proof of entry seq in the tree of size size", audience: "human", query: z.strictObject({ seq: z.coerce.number().int(), size: z.coerce.number().int() }), response: C.InclusionProof },
  { method: "get", path: "/audit/proof/consistency", summary: "Consistency proof between tree sizes from and to", audience: "human", query: z.strictObject({ from: z.coerce.number().int(), to: z.coerce.number().int() }), response: C.ConsistencyProof },
  { method: "get", path: "/openapi.json", summary: "This document", audience: "public", response: Anything },
];

const security: Record<Audience, Record<string, string[]>[] | undefined> = {
  public: [],
  agent: [{ machineToken: [] }],
  human: [{ sessionCookie: [] }, { operatorToken: [] }],
  operator: [{ operatorToken: [] }, { sessionCookie: [] }],
};

function schema(t: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(t, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    if (r.query) {
      const q = schema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(q.properties ?? {})) params.push({ name, in: "query", required: (q.required ?? []).includes(name), schema: s as { type: string } });
    }
    const op: Record<string, unknown> = {
      summary: r.summary,
      operationId: `${r.method}${r.path.replace(/[{}]/g, "").replace(/[/-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
      tags: [r.audience],
      security: security[r.audience],
      ...(params.length ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: true, content: { "application/json": { schema: schema(r.body) } } } } : {}),
      responses: {
        [String(r.status ?? 200)]: {
          description: "OK",
          content: r.path === "/audit/export" ? { "application/x-ndjson": { schema: { type: "string" } } } : { "application/json": { schema: schema(r.response) } },
        },
        default: { description: "Error (agents: always a refusal)", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
      },
    };
    (paths[r.path] ??= {})[r.method] = op;
  }
  return {
    openapi: "3.1.0",
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
