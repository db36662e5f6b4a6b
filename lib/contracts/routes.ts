/**
 * The one table of HTTP routes (STYLE "one table"): method, path, audience, summary, the zod
 * schemas of the request body and query, the response schema and status. Read by
 *   - the route handlers: `export const POST = route(ROUTES.verify, handler)` (lib/server/http.ts
 *     parses with these schemas and types the handler's principal by the audience),
 *   - the OpenAPI document (lib/server/openapi.ts),
 *   - the SDK (lib/sdk: the paths it calls),
 *   - the tests: every response of a test server is checked against its entry
 *     (FK_CHECK_RESPONSES=1), and a test keeps this table and the route files in step.
 * Contracts only: zod and lib/kernel, nothing server-side, so the SDK and the browser may import it.
 */
import { z } from "zod";
import * as C from "./index";
import { ConsoleRegistry, ConsoleStats, StatsQuery } from "./console";

/**
 * Who may call a route. `public`: anyone (credentials that are sent are still checked);
 * `agent`: a machine token; `human`: an owner or the operator (session or operator token);
 * `operator`: the operator only.
 */
export type Audience = "public" | "agent" | "human" | "operator";
export type Method = "GET" | "POST" | "DELETE";

export interface RouteSpec {
  readonly method: Method;
  /** OpenAPI-style path under `base`: `/machines/{id}`; `{name}` is the route file's `[name]`. */
  readonly path: string;
  /** Where `path` is mounted; default `/api/v1` (health and metrics live under `/api`). */
  readonly base?: "/api/v1" | "/api";
  readonly audience: Audience;
  readonly summary: string;
  /** What route() parses the JSON body with (strict: unknown keys are refused). */
  readonly body?: z.ZodType;
  /**
   * What the OpenAPI document shows as the body, when route() parses a looser envelope on
   * purpose: the agent routes take `action: unknown` so that the kernel's own parser turns a
   * malformed action into a signed MALFORMED_ACTION decision instead of a bare 400.
   */
  readonly documentedBody?: z.ZodType;
  /** What route() parses the query string with (an object of strings). */
  readonly query?: z.ZodType;
  /** The body of a successful answer, as JSON on the wire (or the text, for non-JSON types). */
  readonly response: z.ZodType;
  /** The status of a successful answer; default 200. */
  readonly status?: number;
  /** Other statuses whose body is also `response` (health answers 503 with its report). */
  readonly alsoStatus?: readonly number[];
  /** Default `application/json`. */
  readonly contentType?: "application/json" | "application/x-ndjson" | "text/plain";
  /** Body limit in bytes; default 64 KiB. */
  readonly maxBytes?: number;
  /**
   * `ignored`: the route answers without reading credentials at all, so that a monitor sending a
   * stale or foreign token still gets an answer and the database is not asked who it is.
   */
  readonly credentials?: "ignored";
}

/** Keeps each entry's literal types (audience, path, schemas) so route() can type the handler. */
const spec = <const S extends RouteSpec>(s: S): S => s;

// --------------------------------------------------------------------------------------------
// Schemas of routes that have no contract of their own elsewhere
// --------------------------------------------------------------------------------------------

export const SignedOut = z.strictObject({ signedOut: z.literal(true) });

/**
 * `?status=` filters the inbox; any other value (or none) lists every approval, and other
 * parameters are ignored, as the inbox always did.
 */
export const ApprovalsQuery = z.object({
  status: z.enum(["PENDING", "APPROVED", "REFUSED"]).optional().catch(undefined).describe("PENDING, APPROVED or REFUSED; anything else lists every approval"),
});
export const InclusionQuery = z.strictObject({ seq: z.coerce.number().int().min(0), size: z.coerce.number().int().min(1) });
export const ConsistencyQuery = z.strictObject({ from: z.coerce.number().int().min(1), to: z.coerce.number().int().min(1) });

/** The original kernel's verdict and ours, signed with mode "stateless" (never a permit). */
const WireObject = z.record(z.string(), z.unknown());
export const StatelessDecision = z.strictObject({
  result: WireObject,
  original: WireObject,
  record: C.DecisionRecord,
  signature: C.Hex,
  keyId: z.string(),
});
/** A wire plan: every step's result; signed only when every step parsed. */
export const StatelessPlanDecision = z.strictObject({
  permitted: z.boolean(),
  steps: z.array(WireObject),
  original: z.array(WireObject),
  record: WireObject.optional(),
  signature: C.Hex.optional(),
  keyId: z.string().optional(),
});
export const StatelessResponse = z.union([StatelessDecision, StatelessPlanDecision]);

export const HealthResponse = z.strictObject({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  database: z.strictObject({
    provider: z.string(),
    location: z.string(),
    reachable: z.boolean(),
    migrations: z.strictObject({
      expected: z.number().int(),
      applied: z.number().int(),
      pending: z.array(z.string()),
      latest: z.string().nullable(),
    }),
  }),
});

export const OpenApiResponse = z.looseObject({ openapi: z.literal("3.1.0") });

const List = <T extends z.ZodType>(t: T) => z.array(t);

// --------------------------------------------------------------------------------------------
// The table
// --------------------------------------------------------------------------------------------

export const ROUTES = {
  // Agents
  verify: spec({ method: "POST", path: "/verify", audience: "agent", summary: "Ask before acting: the signed, audited decision; a PERMITTED record is a permit", body: C.VerifyEnvelope, documentedBody: C.VerifyRequest, response: C.SignedDecision }),
  verifyPlan: spec({ method: "POST", path: "/verify-plan", audience: "agent", summary: "Verify a plan step by step against one snapshot", body: C.VerifyPlanEnvelope, documentedBody: C.VerifyPlanRequest, response: C.SignedPlanDecision, maxBytes: 1024 * 1024 }),
  redeemPermit: spec({ method: "POST", path: "/permits/redeem", audience: "agent", summary: "Redeem a permit once, just before the tool runs", body: C.RedeemRequest, response: C.RedeemResponse }),

  // Anyone
  keys: spec({ method: "GET", path: "/keys", audience: "public", summary: "The kernel's public keys (current and retired) and the signing domain", response: C.KeysResponse }),
  statelessVerify: spec({ method: "POST", path: "/stateless/verify", audience: "public", summary: 'Verify a request in the original kernel\'s wire format; signed with mode "stateless", never a permit', body: C.StatelessRequest, response: StatelessResponse, maxBytes: 1024 * 1024 }),
  openapi: spec({ method: "GET", path: "/openapi.json", audience: "public", summary: "This document", response: OpenApiResponse }),
  health: spec({ method: "GET", path: "/health", base: "/api", audience: "public", credentials: "ignored", summary: "Database reachability and migrations; 503 while degraded", response: HealthResponse, alsoStatus: [503] }),
  metrics: spec({ method: "GET", path: "/metrics", base: "/api", audience: "public", credentials: "ignored", summary: "Prometheus text: decisions, violations, decision latency, audit length", response: z.string(), contentType: "text/plain" }),

  // Sessions
  signIn: spec({ method: "POST", path: "/session", audience: "public", summary: "Sign in (sets the session cookie; returns the CSRF token)", body: C.SessionRequest, response: C.SessionResponse }),
  getSession: spec({ method: "GET", path: "/session", audience: "human", summary: "Who is signed in", response: C.SessionResponse }),
  signOut: spec({ method: "DELETE", path: "/session", audience: "human", summary: "Sign out", response: SignedOut }),

  // Owners, machines, tokens, resources, grants, claims, halts
  createOwner: spec({ method: "POST", path: "/owners", audience: "operator", summary: "Register an owner (operator)", body: C.CreateOwnerRequest, response: C.Owner }),
  listOwners: spec({ method: "GET", path: "/owners", audience: "human", summary: "Owners visible to the caller", response: List(C.Owner) }),
  haltOwner: spec({ method: "POST", path: "/owners/{id}/halt", audience: "human", summary: "Halt every machine of an owner", body: C.HaltRequest, response: C.HaltResponse }),
  resumeOwner: spec({ method: "POST", path: "/owners/{id}/resume", audience: "human", summary: "Lift an owner-wide halt", response: C.ResumeResponse }),
  createMachine: spec({ method: "POST", path: "/machines", audience: "human", summary: "Register a machine under its owner", body: C.CreateMachineRequest, response: C.Machine }),
  listMachines: spec({ method: "GET", path: "/machines", audience: "human", summary: "The caller's machines", response: List(C.Machine) }),
  getMachine: spec({ method: "GET", path: "/machines/{id}", audience: "human", summary: "One machine", response: C.Machine }),
  haltMachine: spec({ method: "POST", path: "/machines/{id}/halt", audience: "human", summary: "Kill switch: halt one machine", body: C.HaltRequest, response: C.HaltResponse }),
  resumeMachine: spec({ method: "POST", path: "/machines/{id}/resume", audience: "human", summary: "Resume a halted machine", response: C.ResumeResponse }),
  createToken: spec({ method: "POST", path: "/machines/{id}/tokens", audience: "human", summary: "Create an API token (the secret is shown once)", body: C.CreateTokenRequest, response: C.CreatedToken }),
  listTokens: spec({ method: "GET", path: "/machines/{id}/tokens", audience: "human", summary: "A machine's tokens (no secrets)", response: List(C.Token) }),
  revokeToken: spec({ method: "DELETE", path: "/tokens/{id}", audience: "human", summary: "Revoke a token", response: C.Token }),
  createResource: spec({ method: "POST", path: "/resources", audience: "human", summary: "Register a resource and the owner's root claim", body: C.CreateResourceRequest, response: C.Resource }),
  listResources: spec({ method: "GET", path: "/resources", audience: "human", summary: "Resources visible to the caller", response: List(C.Resource) }),
  removeResource: spec({ method: "DELETE", path: "/resources/{id}", audience: "human", summary: "Remove a resource its owner registered, with every claim on it", response: C.Resource }),
  listRules: spec({ method: "GET", path: "/rules", audience: "human", summary: "ABAC policy rules, enforced and shadow (with what each shadow rule would have denied)", response: List(C.ListedRule) }),
  addRule: spec({ method: "POST", path: "/rules", audience: "operator", summary: "Add a policy rule (mode shadow: reported, never blocks)", body: C.CreateRuleRequest, response: C.Rule }),
  removeRule: spec({ method: "DELETE", path: "/rules/{id}", audience: "operator", summary: "Remove a policy rule", response: C.Rule }),
  setRuleMode: spec({ method: "POST", path: "/rules/{id}/mode", audience: "operator", summary: "Promote a shadow rule to enforce, or put a rule back in shadow", body: C.SetRuleModeRequest, response: C.Rule }),
  simulate: spec({ method: "POST", path: "/simulate", audience: "human", summary: "What-if: replay recent decisions against the registry with a change set applied; signed, audited, nothing changed", body: C.SimulateRequest, response: C.SignedSimulation }),
  createGrant: spec({ method: "POST", path: "/grants", audience: "human", summary: "Delegate rights; the kernel's checkGrant decides (422 with its reasons)", body: C.CreateGrantRequest, response: C.Grant }),
  listGrants: spec({ method: "GET", path: "/grants", audience: "human", summary: "Grants held or made by the caller and their machines", response: List(C.Grant) }),
  revokeGrant: spec({ method: "DELETE", path: "/grants/{id}", audience: "human", summary: "Revoke a grant", response: C.Grant }),
  setGrantBudget: spec({ method: "POST", path: "/grants/{id}/budget", audience: "human", summary: "Set, raise or remove a grant's budget (it must still fit the grantor's; usage is kept)", body: C.SetBudgetRequest, response: C.Grant }),
  createRootClaim: spec({ method: "POST", path: "/claims", audience: "operator", summary: "Register a root (ownership) claim for a human: imports and disputes; overlaps are queued as conflicts (operator)", body: C.CreateRootClaimRequest, response: C.Grant }),
  haltAll: spec({ method: "POST", path: "/halt-all", audience: "operator", summary: "Halt every machine (operator)", body: C.HaltRequest, response: C.HaltResponse }),
  resumeAll: spec({ method: "POST", path: "/resume-all", audience: "operator", summary: "Lift the global halt (operator)", response: C.ResumeResponse }),

  // Approvals and conflicts
  listApprovals: spec({ method: "GET", path: "/approvals", audience: "human", summary: "The approval inbox", query: ApprovalsQuery, response: List(C.Approval) }),
  approve: spec({ method: "POST", path: "/approvals/{id}/approve", audience: "human", summary: "Approve: create the narrow grant the action needs (exactly the object, or a wider scope)", body: C.ApproveRequest, response: C.Approval }),
  refuse: spec({ method: "POST", path: "/approvals/{id}/refuse", audience: "human", summary: "Refuse with a reason", body: C.RefuseRequest, response: C.Approval }),
  listConflicts: spec({ method: "GET", path: "/conflicts", audience: "human", summary: "The arbitration queue", response: List(C.Conflict) }),
  resolveConflict: spec({ method: "POST", path: "/conflicts/{id}/resolve", audience: "human", summary: "Resolve a conflict", body: C.ResolveConflictRequest, response: C.Conflict }),

  // Audit
  listAudit: spec({ method: "GET", path: "/audit", audience: "human", summary: "Audit entries, filtered", query: C.AuditQuery, response: C.AuditPage }),
  exportAudit: spec({ method: "GET", path: "/audit/export", audience: "human", summary: "The whole log as JSON Lines with the public keys (operator)", response: z.string(), contentType: "application/x-ndjson" }),
  latestCheckpoint: spec({ method: "GET", path: "/audit/checkpoints/latest", audience: "human", summary: "The newest signed Merkle tree head", response: C.SignedCheckpointBody }),
  inclusionProof: spec({ method: "GET", path: "/audit/proof/inclusion", audience: "human", summary: "Inclusion proof of entry seq in the tree of size size", query: InclusionQuery, response: C.InclusionProof }),
  consistencyProof: spec({ method: "GET", path: "/audit/proof/consistency", audience: "human", summary: "Consistency proof between tree sizes from and to", query: ConsistencyQuery, response: C.ConsistencyProof }),

  // The console's own reads
  consoleRegistry: spec({ method: "GET", path: "/console/registry", audience: "human", summary: "The registry as the caller may see it, for the console's in-browser checkGrant and verify", response: ConsoleRegistry }),
  consoleStats: spec({ method: "GET", path: "/console/stats", audience: "human", summary: "Dashboard counts over the caller's decisions, approvals, conflicts and machines", query: StatsQuery, response: ConsoleStats }),
} as const;

export type RouteName = keyof typeof ROUTES;

/** The URL path of a route with its parameters filled in (encoded), relative to the origin. */
export function routeUrl(s: Pick<RouteSpec, "path" | "base">, params: Readonly<Record<string, string>> = {}): string {
  const filled = s.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = Object.hasOwn(params, name) ? params[name] : undefined;
    if (v === undefined) throw new Error(`routeUrl: missing parameter ${name} of ${s.path}`);
    return encodeURIComponent(v);
  });
  return `${s.base ?? "/api/v1"}${filled}`;
}
