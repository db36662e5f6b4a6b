/**
 * The contracts of the REST API: one zod schema per request and response, shared by the route
 * handlers, the OpenAPI document, the SDK and the console. Objects are strict: unknown keys are
 * rejected, never ignored.
 */
import { z } from "zod";
import { isObjectReference } from "../kernel/object-ref";
import { FLAGS, MAX_BUDGET_USES, MAX_COST, MAX_RATE_SECONDS, RESOURCE_TYPES, VIOLATION_CODES, WARNING_CODES } from "../kernel/types";

// --------------------------------------------------------------------------------------------
// Building blocks
// --------------------------------------------------------------------------------------------

const NO_CONTROL = /^[^\u0000-\u001f\u007f-\u009f]*$/;

export const Id = z
  .string()
  .min(1)
  .max(256)
  .regex(NO_CONTROL, "must not contain control characters")
  .describe("An identifier: 1-256 characters without control characters");

export const Hex = z.string().regex(/^[0-9a-f]*$/, "lowercase hex");
export const IsoTime = z.iso.datetime({ offset: false }).describe("ISO-8601 UTC time, e.g. 2026-01-01T00:00:00.000Z");
export const ResourceType = z.enum(RESOURCE_TYPES);
export const ViolationCode = z.enum(VIOLATION_CODES);
export const WarningCode = z.enum(WARNING_CODES);

export const ERROR_CODES = [
  "BAD_REQUEST",
  "VALIDATION_FAILED",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "CSRF_FAILED",
  "NOT_FOUND",
  "CONFLICT",
  "GRANT_REFUSED",
  "NOT_APPROVABLE",
  "PROPOSAL_REFUSED",
  "PERMIT_INVALID",
  "PERMIT_REUSED",
  "RATE_LIMITED",
  "SERVICE_UNAVAILABLE",
  "INTERNAL_ERROR",
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.strictObject({
  error: z.strictObject({
    code: ErrorCode,
    message: z.string(),
    details: z.unknown().optional(),
  }),
  /** On agent routes every error is also a refusal: nothing was permitted. */
  permitted: z.literal(false).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

// --------------------------------------------------------------------------------------------
// Actions and decisions
// --------------------------------------------------------------------------------------------

const flagShape = Object.fromEntries(FLAGS.map((f) => [f, z.boolean().optional()])) as Record<
  (typeof FLAGS)[number],
  z.ZodOptional<z.ZodBoolean>
>;

/**
 * An action as an agent sends it (design §4). Documented here; at run time the kernel's own
 * strict parser decides, so that a malformed action becomes a signed, audited BLOCKED decision
 * (MALFORMED_ACTION) rather than a bare HTTP error.
 */
/** An entry of reads/writes/delegates: a resource id, or an object reference (the kernel canonicalizes it). */
export const Target = z
  .string()
  .min(1)
  .max(2048)
  .regex(NO_CONTROL, "must not contain control characters")
  .refine((t): boolean => t.length <= 256 || isObjectReference(t), "a resource id has at most 256 characters (an object reference at most 2048)")
  .describe("A resource id (1-256 characters), or an object reference: an absolute path or a URI such as https://…, file:/…, mailto:… (at most 2048 characters)");
export const Action = z.strictObject({
  actionId: Id,
  actor: Id,
  reads: z.array(Target).max(1000).optional(),
  writes: z.array(Target).max(1000).optional(),
  delegates: z.array(Target).max(1000).optional(),
  governsHumans: z.array(Id).max(1000).optional(),
  description: z.string().max(10_000).optional(),
  argument: z.string().max(10_000).optional(),
  cost: z.number().int().min(0).max(MAX_COST).optional().describe("What this use costs against budgets with maxCost (an integer, e.g. cents)"),
  ...flagShape,
});
export type ActionInput = z.infer<typeof Action>;

export const SessionId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, "letters, digits and . _ : -");

/** What the route parses; `action` goes to the kernel unparsed. */
export const VerifyEnvelope = z.strictObject({ action: z.unknown(), session: SessionId.optional() });
export const VerifyRequest = z.strictObject({ action: Action, session: SessionId.optional() });
export const VerifyPlanEnvelope = z.strictObject({ actions: z.array(z.unknown()).min(1).max(1000), session: SessionId.optional() });
export const VerifyPlanRequest = z.strictObject({ actions: z.array(Action).min(1).max(1000), session: SessionId.optional() });

export const DecisionViolation = z.strictObject({
  code: ViolationCode,
  axiom: z.string(),
  message: z.string(),
  flag: z.enum(FLAGS).optional(),
  resource: z.string().optional(),
  human: z.string().optional(),
  step: z.number().int().optional(),
});
export const DecisionWarning = z.strictObject({ code: WarningCode, message: z.string(), resource: z.string().optional() });
export const SnapshotRef = z.strictObject({ version: z.number().int(), digest: z.string() });

export const DecisionRecord = z.strictObject({
  v: z.literal(1),
  mode: z.enum(["live", "stateless"]),
  actionId: z.string(),
  actor: z.string(),
  actionDigest: Hex,
  permitted: z.boolean(),
  violations: z.array(DecisionViolation),
  warnings: z.array(DecisionWarning),
  confidence: z.number(),
  requiresHumanArbitration: z.boolean(),
  manipulationScore: z.number(),
  snapshot: SnapshotRef,
  resolved: z.array(z.strictObject({ ref: z.string(), canonical: z.string(), resource: z.string().optional() })).min(1).optional(),
  budgets: z
    .array(z.strictObject({ grant: z.string(), remaining: z.strictObject({ uses: z.number().int().optional(), cost: z.number().int().optional(), window: z.number().int().optional() }) }))
    .min(1)
    .optional()
    .describe("Budgeted grants this action charges, with what is left of each after this use"),
  shadow: z
    .array(z.strictObject({ ruleId: z.string(), wouldDeny: z.boolean() }))
    .min(1)
    .optional()
    .describe("Shadow rules matching the action, and whether promoting each would have denied it (never enforced)"),
  decidedAt: z.string(),
  expiresAt: z.string().optional(),
  nonce: Hex,
  keyId: z.string(),
  auditSeq: z.number().int().optional(),
  session: z.string().optional(),
});

/** `record` is exactly the signed object: verify it as domain prefix ++ RFC 8785 JSON of record. */
export const SignedDecision = z.strictObject({ record: DecisionRecord, signature: Hex, keyId: z.string() });
export type SignedDecision = z.infer<typeof SignedDecision>;

export const SignedPlanDecision = z.strictObject({
  record: z.record(z.string(), z.unknown()),
  signature: Hex,
  keyId: z.string(),
});

export const RedeemRequest = z.strictObject({ record: DecisionRecord, signature: Hex, keyId: z.string() });
export const RedeemResponse = z.strictObject({ redeemed: z.literal(true), nonce: z.string(), actionId: z.string() });

/** The original kernel's wire request, accepted by the stateless endpoint (validated by the kernel). */
export const StatelessRequest = z.record(z.string(), z.unknown()).describe(
  "The original kernel's JSON wire request: { registry: { claims, machine_owners }, action } or { registry, actions }",
);

export const PublicKeyInfo = z.strictObject({
  keyId: z.string(),
  algorithm: z.literal("Ed25519"),
  publicKey: Hex,
  status: z.enum(["current", "retired"]),
});
export const KeysResponse = z.strictObject({ domain: z.string(), keys: z.array(PublicKeyInfo) });

// --------------------------------------------------------------------------------------------
// Authority: owners, machines, resources, grants, halts, tokens
// --------------------------------------------------------------------------------------------

export const Email = z.email().max(254);
export const Password = z.string().min(12, "at least 12 characters").max(256);

export const SessionRequest = z.strictObject({ email: Email, password: z.string().min(1).max(256) });
export const Principal = z.strictObject({
  accountId: z.string(),
  role: z.enum(["OWNER", "OPERATOR"]),
  entityId: z.string().nullable(),
  email: z.string(),
  displayName: z.string(),
});
export const SessionResponse = z.strictObject({ principal: Principal, csrfToken: z.string() });

export const CreateOwnerRequest = z.strictObject({
  id: Id,
  displayName: z.string().min(1).max(200),
  email: Email,
  password: Password,
});
export const Owner = z.strictObject({ id: z.string(), displayName: z.string(), email: z.string().nullable(), createdAt: IsoTime });

export const CreateMachineRequest = z.strictObject({
  id: Id,
  owner: Id.optional().describe("The owning human; defaults to the signed-in owner. The operator must name one."),
  displayName: z.string().min(1).max(200).optional(),
});
export const Machine = z.strictObject({
  id: z.string(),
  displayName: z.string(),
  owner: z.string(),
  halted: z.boolean(),
  createdAt: IsoTime,
});

export const CreateResourceRequest = z.strictObject({
  id: Id.refine((id): boolean => !isObjectReference(id), 'must not start with "/" or look like a URI (scheme:/ or mailto:): such strings are object references').describe(
    "A resource id: 1-256 characters without control characters, not shaped like an object reference",
  ),
  type: ResourceType,
  scope: z.string().max(1024),
  isPublic: z.boolean().default(false),
  ifcLabel: z.string().min(1).max(64).optional(),
  owner: Id.optional(),
});
export const Resource = z.strictObject({
  id: z.string(),
  type: ResourceType,
  scope: z.string(),
  isPublic: z.boolean(),
  ifcLabel: z.string().nullable(),
  owner: z.string().nullable(),
  createdAt: IsoTime,
});

/** What a claim is over and which rights it holds: shared by grants and root claims. */
/** A ceiling on the uses of a grant (issue 13); the kernel's parseBudget checks it again. */
export const Budget = z
  .strictObject({
    maxUses: z.number().int().min(1).max(MAX_BUDGET_USES).optional().describe("Uses in total"),
    rate: z
      .strictObject({ uses: z.number().int().min(1).max(MAX_BUDGET_USES), seconds: z.number().int().min(1).max(MAX_RATE_SECONDS) })
      .optional()
      .describe("At most `uses` uses in any sliding window of `seconds`"),
    maxCost: z.number().int().min(0).max(MAX_COST).optional().describe("Sum of the `cost` the actions declare"),
  })
  .refine((b) => b.maxUses !== undefined || b.rate !== undefined || b.maxCost !== undefined, { message: "set at least one of maxUses, rate and maxCost" });
export const BudgetRemaining = z.strictObject({ uses: z.number().int().optional(), cost: z.number().int().optional(), window: z.number().int().optional() });
export const BudgetUsage = z.strictObject({
  uses: z.number().int(),
  cost: z.number().int(),
  inWindow: z.number().int().describe("Uses in the rate window ending now (0 without a rate)"),
  remaining: BudgetRemaining,
});

const claimFields = {
  holder: Id,
  resource: Id.optional(),
  scope: z.string().max(1024).optional(),
  canRead: z.boolean(),
  canWrite: z.boolean(),
  canDelegate: z.boolean(),
};
const oneTarget = (g: { resource?: string | undefined; scope?: string | undefined }) => (g.resource === undefined) !== (g.scope === undefined);
const ONE_TARGET = { message: "name exactly one of resource and scope" };

export const CreateGrantRequest = z
  .strictObject({
    ...claimFields,
    confidence: z.number().gt(0).lte(1).optional(),
    expiresAt: IsoTime.optional(),
    grantor: Id.optional().describe("Defaults to the signed-in owner."),
    budget: Budget.optional().describe("A ceiling on uses, never larger than the grantor's own budget over the target"),
  })
  .refine(oneTarget, ONE_TARGET);
export const SetBudgetRequest = z.strictObject({ budget: Budget.nullable().describe("null removes the budget (only where the grantor's own authority is unlimited)") });
export const Grant = z.strictObject({
  id: z.string(),
  holder: z.string(),
  resource: z.string().nullable(),
  scope: z.string().nullable(),
  canRead: z.boolean(),
  canWrite: z.boolean(),
  canDelegate: z.boolean(),
  confidence: z.number(),
  expiresAt: IsoTime.nullable(),
  grantor: z.string().nullable(),
  revokedAt: IsoTime.nullable(),
  createdAt: IsoTime,
  budget: Budget.nullable(),
  usage: BudgetUsage.nullable().describe("What is used and left of the budget; null without one"),
});
export const GrantRefusal = z.strictObject({
  error: z.strictObject({
    code: z.literal("GRANT_REFUSED"),
    message: z.string(),
    details: z.array(z.strictObject({ code: z.string(), message: z.string() })),
  }),
});

/**
 * A root (ownership) claim registered by the operator for a human: an import, or a disputed claim
 * to arbitrate. Overlapping write claims of two humans are queued as conflicts.
 */
export const CreateRootClaimRequest = z
  .strictObject({ ...claimFields, confidence: z.number().gt(0).lte(1).default(1), budget: Budget.optional().describe("A ceiling the owner sets on themselves") })
  .refine(oneTarget, ONE_TARGET);

export const HaltRequest = z.strictObject({ reason: z.string().max(1000).optional() });
export const HaltResponse = z.strictObject({ halted: z.array(z.string()), registryVersion: z.number().int() });
export const ResumeResponse = z.strictObject({ resumed: z.string(), registryVersion: z.number().int() });

export const CreateTokenRequest = z.strictObject({ label: z.string().min(1).max(100).default("agent") });
export const Token = z.strictObject({
  id: z.string(),
  machineId: z.string(),
  label: z.string(),
  createdAt: IsoTime,
  revokedAt: IsoTime.nullable(),
  lastUsedAt: IsoTime.nullable(),
});
export const CreatedToken = Token.extend({ secret: z.string().describe("Shown once; only its hash is stored") });

// --------------------------------------------------------------------------------------------
// Approvals, conflicts, audit
// --------------------------------------------------------------------------------------------

export const WidenOption = z.strictObject({
  scope: z.string().describe("An enclosing scope the owner could grant instead of exactly the object"),
  covers: z.array(z.string()).describe("Registered resources inside that scope: what else widening would cover (at most 50)"),
});
export const MissingGrant = z.strictObject({
  resource: z.string().describe("The entry as written in the action: a resource id or an object reference"),
  right: z.enum(["read", "write", "delegate"]),
  code: ViolationCode,
  canonical: z.string().optional().describe("Object references only: the canonical path approving grants by default"),
  resolvedTo: z.string().optional().describe("Object references only: the registered resource the object resolved to"),
  widenOptions: z.array(WidenOption).optional().describe("Object references of a pending approval only: enclosing scopes the owner may grant, most specific first"),
});
export const Approval = z.strictObject({
  id: z.string(),
  machineId: z.string(),
  ownerId: z.string(),
  actionId: z.string(),
  action: z.unknown(),
  actionDigest: z.string(),
  auditSeq: z.number().int(),
  violations: z.array(DecisionViolation),
  missingGrants: z.array(MissingGrant),
  exhaustedBudgets: z
    .array(z.strictObject({ grant: z.string(), holder: z.string(), budget: Budget, usage: BudgetUsage, canRaise: z.boolean() }))
    .describe("BUDGET_EXHAUSTED refusals: the budgets used up, and whether the caller may raise each"),
  curable: z.boolean(),
  status: z.enum(["PENDING", "APPROVED", "REFUSED"]),
  reason: z.string().nullable(),
  createdAt: IsoTime,
  decidedAt: IsoTime.nullable(),
  decidedBy: z.string().nullable(),
});
export const ApproveRequest = z.strictObject({
  ttlSeconds: z.number().int().min(10).max(86_400).default(300).describe("Lifetime of the narrow grant"),
  widen: z
    .array(z.strictObject({ ref: z.string().max(2048), scope: z.string().max(1024) }))
    .max(1000)
    .optional()
    .describe("Object references only: grant `scope` (which must contain the reference's canonical path) instead of exactly the object"),
  raise: z
    .array(z.strictObject({ grant: Id, budget: Budget }))
    .max(100)
    .optional()
    .describe("BUDGET_EXHAUSTED: new budgets for exhausted grants, set in the same commit (attenuation applies)"),
});
export const RefuseRequest = z.strictObject({ reason: z.string().min(1).max(1000) });

export const Conflict = z.strictObject({
  id: z.string(),
  resourceId: z.string(),
  claimA: Grant,
  claimB: Grant,
  suggestion: z.unknown(),
  status: z.enum(["OPEN", "RESOLVED"]),
  resolution: z.unknown().nullable(),
  createdAt: IsoTime,
  resolvedAt: IsoTime.nullable(),
  resolvedBy: z.string().nullable(),
});
export const ResolveConflictRequest = z.discriminatedUnion("strategy", [
  z.strictObject({ strategy: z.literal("keep"), keep: z.enum(["A", "B"]) }),
  z.strictObject({ strategy: z.literal("split"), scopeA: z.string().max(1024), scopeB: z.string().max(1024) }),
  // Lowers both claims (to at most `confidence`), so every write on the resource stays contested.
  z.strictObject({ strategy: z.literal("lower-confidence"), confidence: z.number().gt(0).lt(0.8) }),
]);

export const AuditQuery = z.strictObject({
  machine: Id.optional(),
  kind: z.enum(["decision", "plan", "authority", "key", "system"]).optional(),
  outcome: z.enum(["permitted", "blocked"]).optional(),
  code: ViolationCode.optional(),
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  afterSeq: z.coerce.number().int().min(-1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const AuditEntry = z.strictObject({
  seq: z.number().int(),
  prevHash: z.string(),
  payload: z.unknown(),
  entryHash: z.string(),
  signature: z.string(),
  keyId: z.string(),
  recordedAt: z.string().optional(),
});
export const AuditPage = z.strictObject({ entries: z.array(AuditEntry), nextAfterSeq: z.number().int().nullable() });
export const SignedCheckpointBody = z.strictObject({
  checkpoint: z.record(z.string(), z.unknown()),
  signature: Hex,
});
export const InclusionProof = z.strictObject({
  seq: z.number().int(),
  treeSize: z.number().int(),
  leaf: z.string(),
  proof: z.array(z.string()),
  rootHash: z.string(),
});
export const ConsistencyProof = z.strictObject({
  from: z.number().int(),
  to: z.number().int(),
  proof: z.array(z.string()),
  fromRoot: z.string(),
  toRoot: z.string(),
});

// --------------------------------------------------------------------------------------------
// Policy rules and what-if simulation (issue 12)
// --------------------------------------------------------------------------------------------

const Operation = z.enum(["read", "write", "delegate"]);
export const CreateRuleRequest = z.strictObject({
  id: Id.optional().describe("Default: a fresh rul_… id"),
  priority: z.number().int().min(-1_000_000).max(1_000_000),
  effect: z.enum(["allow", "deny"]),
  operations: z.array(Operation).min(1).max(3),
  actorPattern: z.string().min(1).max(256).describe('Glob over actor ids; only "*" is special'),
  scope: z.string().max(1024).describe("The rule applies to resources and objects under this scope"),
  description: z.string().max(10_000).optional(),
  mode: z.enum(["enforce", "shadow"]).default("enforce").describe("shadow: evaluated on every decision, never blocks, reported in the signed record"),
});
export const Rule = z.strictObject({
  id: z.string(),
  priority: z.number().int(),
  effect: z.enum(["allow", "deny"]),
  operations: z.array(Operation),
  actorPattern: z.string(),
  scope: z.string(),
  description: z.string().nullable(),
  mode: z.enum(["enforce", "shadow"]),
  createdAt: IsoTime,
});
export const ListedRule = Rule.extend({
  shadowReport: z
    .strictObject({
      matched: z.number().int(),
      wouldDeny: z.number().int(),
      recent: z.array(z.strictObject({ auditSeq: z.number().int(), actionId: z.string(), machine: z.string(), permitted: z.boolean() })),
    })
    .nullable()
    .describe("Shadow rules: over the newest decisions since the rule was added (at most 2000) the caller may see, how many it matched and would have denied, and the newest it would have denied"),
});
export const SetRuleModeRequest = z.strictObject({ mode: z.enum(["enforce", "shadow"]) });

/** One proposed change of authority; each is applied through the same code as its real commit. */
export const SimulationChange = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("grant"), ...claimFields, confidence: z.number().gt(0).lte(1).optional(), expiresAt: IsoTime.optional(), grantor: Id.optional(), budget: Budget.optional() }),
  z.strictObject({ op: z.literal("revoke"), grant: Id }),
  z.strictObject({ op: z.literal("halt"), machine: Id }),
  z.strictObject({ op: z.literal("resume"), machine: Id }),
  CreateResourceRequest.extend({ op: z.literal("addResource") }),
  z.strictObject({ op: z.literal("removeResource"), resource: Id }),
  CreateRuleRequest.extend({ op: z.literal("addRule") }),
  z.strictObject({ op: z.literal("removeRule"), rule: Id }),
]);
export const SimulateRequest = z.strictObject({
  changes: z.array(SimulationChange).min(1).max(100),
  window: z
    .strictObject({
      machines: z.array(Id).max(1000).optional().describe("Default: every machine of the caller (the operator: every machine)"),
      last: z.number().int().min(1).max(10_000).optional().describe("The last N decisions (default 500)"),
      since: IsoTime.optional(),
    })
    .optional(),
});
const Outcome = z.strictObject({ permitted: z.boolean(), codes: z.array(z.string()) });
export const SimulationFlip = z.strictObject({ auditSeq: z.number().int(), actionId: z.string(), machine: z.string(), before: Outcome, after: Outcome });
export const SimulationRecord = z.strictObject({
  v: z.literal(1),
  kind: z.literal("simulation"),
  requestedBy: z.string().describe('"owner:<id>" or "operator"'),
  changesDigest: Hex.describe("SHA-256 of the RFC 8785 JSON of the change set as asked"),
  current: SnapshotRef,
  proposed: SnapshotRef,
  window: z.strictObject({ machines: z.array(z.string()).describe('"*" = every machine'), last: z.number().int(), since: z.string().optional() }),
  replayed: z.number().int().describe("How many logged actions were replayed"),
  flips: z.array(SimulationFlip).describe("The actions whose outcome differs, oldest first"),
  counts: z.strictObject({
    byMachine: z.record(z.string(), z.number().int()),
    byCode: z.record(z.string(), z.number().int()).describe("Per violation code, how many flipped actions gain it"),
    blocked: z.number().int().describe("Flips from permitted to blocked"),
    permitted: z.number().int().describe("Flips from blocked to permitted"),
  }),
  simulatedAt: z.string(),
  nonce: Hex,
  keyId: z.string(),
});
export const SignedSimulation = z.strictObject({ record: SimulationRecord, signature: Hex, keyId: z.string() });
