/**
 * The kernel's data model: the one vocabulary shared by the verifier, the server, the console and
 * the CLI. Pure types and constant tables; no behaviour lives here.
 *
 * Time is always an integer number of milliseconds since the Unix epoch, passed in by the caller.
 */

/** The ten hard invariant flags, in the fixed order in which violations are reported (design §4). */
export const FLAGS = [
  "increases_machine_sovereignty",
  "resists_human_correction",
  "bypasses_verifier",
  "weakens_verifier",
  "disables_corrigibility",
  "machine_coalition_dominion",
  "coerces",
  "deceives",
  "self_modification_weakens_verifier",
  "machine_coalition_reduces_freedom",
] as const;
export type Flag = (typeof FLAGS)[number];

/** The ten resource types of the original kernel. */
export const RESOURCE_TYPES = [
  "file",
  "api_endpoint",
  "database_table",
  "network_endpoint",
  "compute_slot",
  "message_channel",
  "credential",
  "model_weights",
  "dataset",
  "memory_region",
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export type EntityKind = "HUMAN" | "MACHINE";

export interface Entity {
  readonly id: string;
  readonly kind: EntityKind;
  readonly displayName: string;
}

export interface Resource {
  readonly id: string;
  readonly type: ResourceType;
  /** A normalised path (see scope.ts). "" is the root scope. */
  readonly scope: string;
  readonly isPublic: boolean;
  /** IFC label; undefined means the lattice's bottom (PUBLIC by default). */
  readonly ifcLabel?: string | undefined;
  /** The human who registered it (see ownership.ts); undefined for registries that predate it. */
  readonly owner?: string | undefined;
}

/**
 * A right held by an entity over one resource (`resource`) or over every resource whose scope lies
 * under `scope`. Exactly one of `resource` and `scope` is set.
 * A root claim (no `grantor`) states ownership by a human; a delegated claim names the entity that
 * granted it, and is valid only while that grantor holds a valid covering claim with canDelegate.
 */
export interface Claim {
  readonly id: string;
  readonly holder: string;
  readonly resource?: string | undefined;
  readonly scope?: string | undefined;
  readonly canRead: boolean;
  readonly canWrite: boolean;
  readonly canDelegate: boolean;
  /** In (0, 1]. A claim with confidence <= 0 is invalid. */
  readonly confidence: number;
  readonly expiresAt?: number | undefined;
  /** Entity id of the grantor; absent on a root (ownership) claim. */
  readonly grantor?: string | undefined;
  readonly revokedAt?: number | undefined;
  /** A ceiling on its uses; every use of a claim delegated from it counts against it too. */
  readonly budget?: Budget | undefined;
}

/**
 * A ceiling on the uses of a right (issue 13), part of the claim it limits. Integers only.
 * `maxUses`: uses in total; `rate`: at most `uses` uses in any sliding window of `seconds`
 * (a use at t counts the uses recorded in (t - seconds·1000, t]); `maxCost`: the sum of the
 * `cost` the actions declare. At least one member is present.
 */
export interface Budget {
  readonly maxUses?: number | undefined;
  readonly rate?: { readonly uses: number; readonly seconds: number } | undefined;
  readonly maxCost?: number | undefined;
}

/** Bounds of budget members and of an action's cost. */
export const MAX_BUDGET_USES = 1_000_000_000;
export const MAX_RATE_SECONDS = 31_536_000;
export const MAX_COST = 1_000_000_000_000;

/**
 * What has been used of one budgeted claim, read by the server inside the decision transaction
 * (the kernel stays pure: usage is an input, like session taint). `inWindow` counts the uses in
 * the claim's rate window ending now (0 when it has no rate).
 */
export interface BudgetUsage {
  readonly uses: number;
  readonly cost: number;
  readonly inWindow: number;
}

/** What is left of a budget (after the use being decided, in a result): only the members it has. */
export interface BudgetRemaining {
  readonly uses?: number;
  readonly cost?: number;
  readonly window?: number;
}

/** One budgeted claim an action charges, and what is left of it after this use. */
export interface BudgetCharge {
  readonly grant: string;
  readonly remaining: BudgetRemaining;
}

export interface MachineOwner {
  readonly machine: string;
  readonly owner: string;
}

/** A kill-switch entry: one machine, all machines of one owner, or every machine. */
export type Halt =
  | { readonly kind: "machine"; readonly target: string }
  | { readonly kind: "owner"; readonly target: string }
  | { readonly kind: "all" };

/** ABAC rule of the policy IR (design §12). Evaluated after the kernel; can only add denials. */
export interface PolicyRule {
  readonly id: string;
  /** Higher runs first; on equal priority, "deny" wins. */
  readonly priority: number;
  readonly effect: "allow" | "deny";
  readonly operations: readonly ("read" | "write" | "delegate")[];
  /** Glob over actor ids: "*" matches any run of characters, nothing else is special. */
  readonly actorPattern: string;
  /** Scope the rule applies to (scopeContains(rule.scope, resource.scope)). */
  readonly scope: string;
  readonly description?: string | undefined;
  /**
   * "shadow" (issue 12): evaluated on every decision and reported in `VerifyResult.shadow`, never
   * enforced — it adds no denial and shadows no other rule. Absent = enforced.
   */
  readonly mode?: "shadow" | undefined;
}

/** Everything a snapshot is built from. Plain data, typically loaded from the database. */
export interface RegistryData {
  /** Monotonically increasing version, assigned by the store. */
  readonly version: number;
  readonly entities: readonly Entity[];
  readonly machineOwners: readonly MachineOwner[];
  readonly resources: readonly Resource[];
  readonly claims: readonly Claim[];
  readonly halts: readonly Halt[];
  readonly policies?: readonly PolicyRule[] | undefined;
  /** IFC lattice, lowest first. Default ["PUBLIC", "INTERNAL", "SECRET"]. */
  readonly lattice?: readonly string[] | undefined;
}

/**
 * The agent-supplied action after parsing (design §4). Resources are named by id. On the wire the
 * ten flags are optional top-level booleans; parsing makes every one explicit (absent = false), so
 * the parsed action — and its digest — is the same whether a flag was omitted or sent as false.
 */
export type Action = {
  readonly actionId: string;
  readonly actor: string;
  readonly reads: readonly string[];
  readonly writes: readonly string[];
  readonly delegates: readonly string[];
  readonly governsHumans: readonly string[];
  readonly description?: string | undefined;
  readonly argument?: string | undefined;
  /** What this use costs against budgets with maxCost (an integer, e.g. cents). */
  readonly cost?: number | undefined;
} & { readonly [F in Flag]: boolean };

/** The closed union of violation codes. Server-side fail-closed codes are part of it. */
export const VIOLATION_CODES = [
  "MALFORMED_ACTION",
  "FORBIDDEN_FLAG",
  "HALTED",
  "NO_OWNER",
  "GOVERNS_HUMAN",
  "READ_DENIED",
  "WRITE_DENIED",
  "DELEGATE_DENIED",
  "NOT_DELEGATED_BY_OWNER",
  "OUTSIDE_OWNER_SCOPE",
  "IFC_DOWNWARD_FLOW",
  "POLICY_DENIED",
  // A right the actor holds is under a budget (of its claim or of one up its chain) with no use
  // left for this action (issue 13); curable by an owner raising the budget.
  "BUDGET_EXHAUSTED",
  "PLAN_ABORTED",
  // Fail-closed codes added by the decision service (design §10); never produced by `verify`.
  "UNAUTHENTICATED",
  "ACTOR_NOT_TOKEN_MACHINE",
  // An actionId of a machine gets at most one permit, ever (design §13): a different action under
  // the same id, or a retry after its permit was redeemed or expired.
  "ACTION_ID_REUSED",
  "SNAPSHOT_UNAVAILABLE",
  "SIGNER_UNAVAILABLE",
  "AUDIT_UNAVAILABLE",
  "INTERNAL_ERROR",
] as const;
export type ViolationCode = (typeof VIOLATION_CODES)[number];

export type Axiom =
  | "A2"
  | "A4"
  | "A5"
  | "A6"
  | "A7"
  | "SOVEREIGNTY"
  | "CORRIGIBILITY"
  | "IFC"
  | "POLICY"
  | "BUDGET"
  | "PLAN"
  | "FAIL_CLOSED";

export interface Violation {
  readonly code: ViolationCode;
  readonly axiom: Axiom;
  readonly message: string;
  readonly flag?: Flag | undefined;
  readonly resource?: string | undefined;
  readonly human?: string | undefined;
  /** Plan step index (0-based) for IFC_DOWNWARD_FLOW and PLAN_ABORTED. */
  readonly step?: number | undefined;
}

export const WARNING_CODES = ["CONTESTED_READ", "CONTESTED_WRITE", "WRITE_CONFLICT"] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

export interface Warning {
  readonly code: WarningCode;
  readonly message: string;
  readonly resource?: string | undefined;
}

export interface SnapshotRef {
  readonly version: number;
  readonly digest: string;
}

/** The result JSON shared by API, CLI and console (design §4). */
export interface VerifyResult {
  readonly actionId: string;
  readonly permitted: boolean;
  readonly violations: readonly Violation[];
  readonly warnings: readonly Warning[];
  readonly confidence: number;
  readonly requiresHumanArbitration: boolean;
  readonly manipulationScore: number;
  readonly snapshot: SnapshotRef;
  /**
   * One entry per distinct object reference of reads/writes/delegates, in order of first
   * appearance: the reference as written, its canonical path and the registered resource it
   * resolved to (absent when it resolved to none). Absent when the action names ids only.
   */
  readonly resolved?: readonly ResolvedReference[];
  /**
   * Every budgeted claim the action charges (its own claims and those up their chains), sorted by
   * claim id, with what is left after this use. Absent when nothing budgeted is charged.
   */
  readonly budgets?: readonly BudgetCharge[];
  /**
   * Every shadow policy rule that matches at least one (operation, target) pair of the action,
   * sorted by rule id (issue 12). `wouldDeny`: promoting the rule (making it enforced) would add
   * a POLICY_DENIED naming it. Absent when no shadow rule matches, and for MALFORMED_ACTION.
   */
  readonly shadow?: readonly { readonly ruleId: string; readonly wouldDeny: boolean }[];
}

/** How verify resolved one object reference (see object-ref.ts). */
export interface ResolvedReference {
  readonly ref: string;
  readonly canonical: string;
  /** The most specific registered resource whose scope contains `canonical`; absent for none. */
  readonly resource?: string;
}

/** Invariant violations can never be approved; authority violations may be cured by a grant. */
export type ViolationClass = "invariant" | "authority";

/** Classifies a code. Exhaustive: adding a code without classifying it fails to compile. */
export function violationClass(code: ViolationCode): ViolationClass {
  switch (code) {
    case "READ_DENIED":
    case "WRITE_DENIED":
    case "DELEGATE_DENIED":
    case "NOT_DELEGATED_BY_OWNER":
    case "OUTSIDE_OWNER_SCOPE":
    case "POLICY_DENIED":
    case "BUDGET_EXHAUSTED":
      return "authority";
    case "MALFORMED_ACTION":
    case "FORBIDDEN_FLAG":
    case "HALTED":
    case "NO_OWNER":
    case "GOVERNS_HUMAN":
    case "IFC_DOWNWARD_FLOW":
    case "PLAN_ABORTED":
    case "UNAUTHENTICATED":
    case "ACTOR_NOT_TOKEN_MACHINE":
    case "ACTION_ID_REUSED":
    case "SNAPSHOT_UNAVAILABLE":
    case "SIGNER_UNAVAILABLE":
    case "AUDIT_UNAVAILABLE":
    case "INTERNAL_ERROR":
      return "invariant";
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}
