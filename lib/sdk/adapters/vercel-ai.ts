/**
 * Vercel AI SDK adapter (ai >= 6, an optional peer dependency; only its types are imported here).
 *
 * gateTool wraps a tool's `execute`: it runs only on a verified, redeemed permit; a refusal is
 * thrown as KernelBlockedError, which generateText/streamText record as a `tool-error` and show the
 * model on its next step as the tool's error output (the reasons, in the error message).
 *
 * Tool approval: with `{ approval: true }` the tool also gets `needsApproval`, which asks the kernel
 * first and requests human approval exactly when the kernel blocked the call with authority
 * violations only (the kind the machine's owner can cure — with a grant, or by raising a budget that
 * is used up (BUDGET_EXHAUSTED) — and which the kernel has put in the owner's approval inbox).
 * Approving in the app does not permit anything by itself: `execute` still asks the kernel, and runs
 * only if the owner granted the authority or raised the budget in the meantime.
 */
import type { Tool, ToolExecutionOptions, ToolSet } from "ai";
import { violationClass } from "../../kernel/types";
import { KernelBlockedError, refusalText } from "../errors";
import type { Gate } from "../gate";
import { toToolMap, type ToolMap, type ToolMappings } from "../mapping";
import { authorizeToolCall } from "../tools";

export interface VercelGateOptions {
  /** Add `needsApproval` driven by the kernel (see the module comment). Default false. */
  readonly approval?: boolean | undefined;
  /** Session id for the kernel's information-flow tracking. */
  readonly session?: string | undefined;
}

/** The error a refused `execute` throws; its message is the model-facing refusal. */
export class ToolRefusedError extends KernelBlockedError {}

// `any` mirrors the AI SDK's own ToolSet bound (Tool<any, any>).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTool = Tool<any, any>;

/** A copy of `tool` (named `name` in the tool set) whose `execute` asks the kernel first. */
export function gateTool<T extends AnyTool>(gate: Gate, tools: ToolMap | ToolMappings, name: string, tool: T, options: VercelGateOptions = {}): T {
  const map = toToolMap(tools);
  const execute = tool.execute;
  if (typeof execute !== "function") throw new TypeError(`tool "${name}" has no execute function to gate`);
  const gated = {
    ...tool,
    execute: async (input: unknown, exec: ToolExecutionOptions) => {
      const decision = await authorizeToolCall(gate, map, name, input, { session: options.session, signal: exec.abortSignal });
      if (!decision.permitted) {
        const e = decision.error;
        // The AI SDK shows the model the error's message: make it the full refusal.
        throw new ToolRefusedError(e.code, refusalText(e, name), { violations: e.violations, record: e.record, kernelCode: e.kernelCode, tool: name, actionId: e.actionId });
      }
      // An async-iterable (streaming) result is returned as is: the permit covered starting it.
      return execute.call(tool, input, exec) as unknown;
    },
  } as T;
  if (options.approval) {
    const own = tool.needsApproval as boolean | ((input: unknown, o: ApprovalOptions) => boolean | PromiseLike<boolean>) | undefined;
    // The AI SDK asks needsApproval again when a run resumes with the user's answer, and turns an
    // approval into a denial if the answer has become "no approval needed" — which is exactly what
    // happens once the owner granted the authority. A call that was sent for approval therefore stays
    // "needs approval" here, and `execute` (which asks the kernel again) decides.
    const asked = askedFor(gate);
    const needsApproval = async (input: unknown, approvalOptions: ApprovalOptions): Promise<boolean> => {
      const key = `${name}\u0000${approvalOptions.toolCallId}`;
      if (asked.has(key)) return true;
      // The tool's own approval rule still applies; the kernel can only add approvals.
      if (own === true || (typeof own === "function" && (await own(input, approvalOptions)))) return true;
      // A pre-check (audited like any decision). Only a curable refusal needs a human; a permit needs
      // nothing, and every other refusal is left to `execute`, which refuses it with the reasons.
      // Curable is decided by class, never by message: BUDGET_EXHAUSTED is authority class.
      const mapped = map.map(name, input);
      if (!mapped.ok) return false;
      const decision = await gate.check({ description: `tool call: ${name}`, ...mapped.fields }, { tool: name, session: options.session });
      if (decision.permitted || decision.code !== "BLOCKED") return false;
      const curable = decision.violations.length > 0 && decision.violations.every((v) => violationClass(v.code) === "authority");
      if (curable) asked.add(key);
      return curable;
    };
    (gated as { needsApproval?: unknown }).needsApproval = needsApproval;
  }
  return gated;
}

type ApprovalOptions = { readonly toolCallId: string };

// Per gate (apps usually create one gate and rebuild tool sets per request), bounded.
const askedByGate = new WeakMap<Gate, BoundedSet>();
function askedFor(gate: Gate): BoundedSet {
  let set = askedByGate.get(gate);
  if (set === undefined) askedByGate.set(gate, (set = new BoundedSet(10_000)));
  return set;
}

/** A set that forgets its oldest members beyond `limit`. */
class BoundedSet {
  readonly #items = new Set<string>();
  constructor(readonly limit: number) {}
  has(item: string): boolean {
    return this.#items.has(item);
  }
  add(item: string): void {
    this.#items.add(item);
    if (this.#items.size > this.limit) this.#items.delete(this.#items.values().next().value as string);
  }
}

/** gateTool for every tool of a tool set; tools without `execute` are refused at wrap time. */
export function gateTools<TS extends ToolSet>(gate: Gate, tools: ToolMap | ToolMappings, set: TS, options: VercelGateOptions = {}): TS {
  const map = toToolMap(tools);
  const out: Record<string, AnyTool> = {};
  for (const [name, t] of Object.entries(set)) out[name] = gateTool(gate, map, name, t, options);
  return out as TS;
}
