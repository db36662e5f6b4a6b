/**
 * OpenAI Agents SDK adapter (@openai/agents >= 0.20, an optional peer dependency; only its types are
 * imported here). Gating is a tool input guardrail: the runner calls it right before the tool, and a
 * refusal is `rejectContent`, so the tool never runs and the model reads the reasons as the tool's
 * output on its next turn. The guardrail redeems the permit before answering `allow`.
 *
 *   const tools = gateTools(gate, toolMap, [readData, writeReport]);
 *   const agent = new Agent({ name: "research", tools, model });
 *
 * The guardrail never throws: a throwing guardrail would end the run; a failure of any kind is a
 * refusal the model can read.
 */
import type { FunctionTool, ToolGuardrailFunctionOutput, ToolInputGuardrailDefinition } from "@openai/agents";
import { parseJsonStrict } from "../../kernel/json";
import { KernelBlockedError, refusalText } from "../errors";
import type { Gate } from "../gate";
import type { ToolMap, ToolMappings } from "../mapping";
import { authorizeToolCall } from "../tools";

export interface KernelGuardrailOptions<TContext = unknown> {
  /** Guardrail name shown in traces. Default "freedom-kernel". */
  readonly name?: string;
  /** Session id for the kernel's information-flow tracking, per run context. */
  readonly session?: (context: TContext | undefined) => string | undefined;
}

/** What the guardrail records as `outputInfo` (visible in run results and traces). */
export type KernelGuardrailInfo =
  | { readonly permitted: true; readonly actionId: string; readonly auditSeq: number | undefined }
  | { readonly permitted: false; readonly code: string; readonly violations: readonly { readonly code: string; readonly message: string }[] };

function parseArguments(raw: string): { ok: true; args: unknown } | { ok: false } {
  if (raw.trim() === "") return { ok: true, args: {} };
  // Strict: arguments with a duplicated member name are refused (the tool and the kernel must not
  // read two different calls out of one text).
  const parsed = parseJsonStrict(raw);
  return parsed.ok ? { ok: true, args: parsed.value } : { ok: false };
}

/**
 * A tool input guardrail that asks the kernel about every call of the tools it is attached to.
 * Attach it with gateTool/gateTools, or put it in a tool's `inputGuardrails` yourself.
 */
export function kernelToolGuardrail<TContext = unknown>(
  gate: Gate,
  tools: ToolMap | ToolMappings,
  options: KernelGuardrailOptions<TContext> = {},
): ToolInputGuardrailDefinition<TContext> {
  const reject = (error: KernelBlockedError, tool: string): ToolGuardrailFunctionOutput => ({
    behavior: { type: "rejectContent", message: refusalText(error, tool) },
    outputInfo: { permitted: false, code: error.code, violations: error.violations.map((v) => ({ code: v.code, message: v.message })) } satisfies KernelGuardrailInfo,
  });
  return {
    type: "tool_input",
    name: options.name ?? "freedom-kernel",
    run: async ({ toolCall, context }) => {
      const tool = toolCall.name;
      try {
        const parsed = parseArguments(toolCall.arguments);
        if (!parsed.ok) return reject(new KernelBlockedError("MAPPING_FAILED", "the tool arguments are not JSON", { tool }), tool);
        const session = options.session?.(context.context);
        const decision = await authorizeToolCall(gate, tools, tool, parsed.args, { session });
        if (!decision.permitted) return reject(decision.error, tool);
        return {
          behavior: { type: "allow" },
          outputInfo: { permitted: true, actionId: decision.record.actionId, auditSeq: decision.record.auditSeq } satisfies KernelGuardrailInfo,
        };
      } catch (error) {
        return reject(new KernelBlockedError("KERNEL_UNAVAILABLE", "the kernel check failed unexpectedly", { tool, cause: error }), tool);
      }
    },
  };
}

// The agents SDK's own generic bound for "any function tool".
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunctionTool = FunctionTool<any, any, any>;

/** A copy of `tool` with the kernel guardrail first among its input guardrails. */
export function gateTool<T extends AnyFunctionTool>(gate: Gate, tools: ToolMap | ToolMappings, tool: T, options: KernelGuardrailOptions = {}): T {
  return withGuardrail(tool, kernelToolGuardrail(gate, tools, options));
}

/** gateTool for each tool, sharing one guardrail. */
export function gateTools<T extends AnyFunctionTool>(gate: Gate, tools: ToolMap | ToolMappings, list: readonly T[], options: KernelGuardrailOptions = {}): T[] {
  const guardrail = kernelToolGuardrail(gate, tools, options);
  return list.map((t) => withGuardrail(t, guardrail));
}

function withGuardrail<T extends AnyFunctionTool>(tool: T, guardrail: ToolInputGuardrailDefinition): T {
  if (tool?.type !== "function") throw new TypeError("gateTool takes function tools (tool({...}) from @openai/agents)");
  // Copy with descriptors: the SDK's tools are plain objects today, and this keeps any accessor intact.
  const descriptors = Object.getOwnPropertyDescriptors(tool);
  const copy = Object.create(Object.getPrototypeOf(tool) as object | null, descriptors) as T;
  Object.defineProperty(copy, "inputGuardrails", {
    value: [guardrail, ...(tool.inputGuardrails ?? [])],
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}
