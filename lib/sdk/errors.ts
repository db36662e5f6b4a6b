/**
 * Why a tool call did not run. Every refusal of the SDK — a signed BLOCKED decision, an unreachable
 * kernel, a forged answer, an unmapped tool — is one error class with a stable `code` from a closed
 * union, so callers switch on codes and never on message text.
 */
import type { DecisionRecord, DecisionViolation } from "../kernel/signing";
import { violationClass } from "../kernel/types";

export const BLOCK_CODES = [
  /** The kernel signed a BLOCKED decision; `violations` holds its reasons. */
  "BLOCKED",
  /** Network error, 5xx, or the kernel refused to decide (nothing was permitted). */
  "KERNEL_UNAVAILABLE",
  /** No answer within the timeout. */
  "TIMEOUT",
  /** The caller aborted the request (its AbortSignal); says nothing about the kernel. */
  "ABORTED",
  /** Too many consecutive failures: the gate stays shut without asking until its cool-down ends. */
  "CIRCUIT_OPEN",
  /** The answer is not JSON, too large, or not the shape of the API contract. */
  "BAD_RESPONSE",
  /** The decision's signature does not verify under the pinned key. */
  "BAD_SIGNATURE",
  /** The kernel signs (or presents) another key than the pinned one. */
  "WRONG_KEY",
  /** The signed decision is about another action (digest, id or session) than the one asked about. */
  "ACTION_MISMATCH",
  /** The signed decision names another actor than this gate's machine. */
  "ACTOR_MISMATCH",
  /** The permit expired before the tool could run. */
  "EXPIRED",
  /** The permit was redeemed before: a permit is good for one tool call. */
  "PERMIT_REUSED",
  /** The kernel refused to redeem the permit (e.g. the machine was halted after it was issued). */
  "PERMIT_INVALID",
  /**
   * The kernel refused to redeem the permit because a budget the owner set is used up (another
   * call spent the last use after this permit was issued). Curable: the owner may raise the budget.
   */
  "BUDGET_EXHAUSTED",
  /** The machine token is missing, wrong, revoked, or not a machine token. */
  "UNAUTHENTICATED",
  /** The kernel rejected the request (4xx other than the above); see `kernelCode`. */
  "KERNEL_REFUSED",
  /** No mapping for this tool: unknown tools are blocked. */
  "UNMAPPED_TOOL",
  /** The tool's mapping threw or returned something that is not an action. */
  "MAPPING_FAILED",
  /** The action does not parse (the kernel's own parser, run locally before asking). */
  "INVALID_ACTION",
  /** createGate was given unusable options. */
  "INVALID_CONFIG",
] as const;
export type BlockCode = (typeof BLOCK_CODES)[number];

export interface KernelBlockedErrorInit {
  readonly violations?: readonly DecisionViolation[] | undefined;
  /** The verified signed record, when the refusal is a signed BLOCKED decision. */
  readonly record?: DecisionRecord | undefined;
  /** The kernel's error code (lib/contracts ERROR_CODES) when it answered with an error body. */
  readonly kernelCode?: string | undefined;
  readonly tool?: string | undefined;
  readonly actionId?: string | undefined;
  readonly cause?: unknown;
}

/**
 * The one error the SDK throws (and carries inside every refusal). `message` is written to be shown
 * to a human or a model as is; `code` is what programs decide on.
 */
export class KernelBlockedError extends Error {
  readonly code: BlockCode;
  readonly violations: readonly DecisionViolation[];
  readonly record: DecisionRecord | undefined;
  readonly kernelCode: string | undefined;
  readonly tool: string | undefined;
  readonly actionId: string | undefined;

  constructor(code: BlockCode, message: string, init: KernelBlockedErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "KernelBlockedError";
    this.code = code;
    this.violations = init.violations ?? [];
    this.record = init.record;
    this.kernelCode = init.kernelCode;
    this.tool = init.tool;
    this.actionId = init.actionId;
  }

  /** The same refusal, attributed to a tool call. */
  forTool(tool: string): KernelBlockedError {
    if (this.tool === tool) return this;
    return new KernelBlockedError(this.code, this.message, {
      violations: this.violations,
      record: this.record,
      kernelCode: this.kernelCode,
      tool,
      actionId: this.actionId,
      cause: this.cause,
    });
  }
}

export function isKernelBlockedError(value: unknown): value is KernelBlockedError {
  return value instanceof KernelBlockedError;
}

/** What a model reads when a budget is used up: not a missing grant, and not worth retrying. */
const BUDGET_USED_UP =
  "The budget the machine's owner set for this authority is used up. The owner may raise it in the Freedom Kernel console; do not retry until then.";

/**
 * The text a model (or a person) reads when a tool call is refused: what was refused, every reason
 * with its code and axiom, and whether anyone can approve it. A used-up budget (BUDGET_EXHAUSTED,
 * in a signed decision or at redemption) says so rather than asking for a grant. Never contains
 * secrets: the token and raw server errors are not part of it.
 */
export function refusalText(error: KernelBlockedError, tool: string | undefined = error.tool): string {
  const what = tool === undefined ? "the action" : `the call to tool "${tool}"`;
  const lines: string[] = [];
  if (error.code === "BLOCKED") {
    lines.push(`Freedom Kernel BLOCKED ${what}; the tool did not run.`);
    for (const v of error.violations) lines.push(`- ${v.code} (${v.axiom}): ${v.message}`);
    const classes = new Set(error.violations.map((v) => violationClass(v.code)));
    const budget = error.violations.some((v) => v.code === "BUDGET_EXHAUSTED");
    const missing = error.violations.some((v) => violationClass(v.code) === "authority" && v.code !== "BUDGET_EXHAUSTED");
    if (classes.has("invariant")) {
      lines.push("At least one reason is an invariant: no one can approve this action. Do not retry it.");
    } else if (budget && missing) {
      lines.push(
        "A budget the machine's owner set is used up, and other authority is missing. The owner may raise the budget and grant the missing authority in the Freedom Kernel console; do not retry until then.",
      );
    } else if (budget) {
      lines.push(BUDGET_USED_UP);
    } else if (classes.has("authority")) {
      lines.push("The machine's owner may grant the missing authority in the Freedom Kernel console; do not retry unchanged until then.");
    }
  } else if (error.code === "BUDGET_EXHAUSTED") {
    lines.push(`Freedom Kernel refused to redeem the permit for ${what} (BUDGET_EXHAUSTED); the tool did not run.`);
    lines.push(`- ${error.message}`);
    lines.push(BUDGET_USED_UP);
  } else {
    lines.push(`Freedom Kernel could not authorise ${what} (${error.code}); the tool did not run.`);
    lines.push(`- ${error.message}`);
    lines.push("Nothing runs without a verified permit from the kernel.");
  }
  return lines.join("\n");
}
