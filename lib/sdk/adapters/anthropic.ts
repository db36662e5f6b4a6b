/**
 * Anthropic SDK adapter (@anthropic-ai/sdk >= 1, an optional peer dependency). The model reads a
 * refusal the way Claude reads every failed tool: a `tool_result` block with `is_error: true` whose
 * text lists the kernel's reasons.
 *
 * - Tool runner (`client.beta.messages.toolRunner`): gateRunnableTool wraps a runnable tool (from
 *   betaTool / betaZodTool) so that its `run` executes only on a verified, redeemed permit; a refusal
 *   is thrown as the SDK's ToolError, which the runner turns into an `is_error` tool result.
 * - Hand-written loops: gateToolUse takes a `tool_use` block and your function and returns the
 *   `tool_result` block to send back — the function's result, or the refusal with `is_error: true`.
 */
import type { BetaRunnableTool, BetaToolRunContext } from "@anthropic-ai/sdk/lib/tools/BetaRunnableTool";
import { ToolError } from "@anthropic-ai/sdk/lib/tools/ToolError";
import type { ToolResultBlockParam } from "@anthropic-ai/sdk/resources/messages";
import { KernelBlockedError, refusalText } from "../errors";
import type { Gate, Permit } from "../gate";
import type { ToolMap, ToolMappings } from "../mapping";
import { authorizeToolCall } from "../tools";

export interface AnthropicGateOptions {
  readonly session?: string | undefined;
}

/**
 * A copy of a runnable tool whose `run` asks the kernel first. On a refusal `run` throws ToolError
 * with the reasons (the runner sends `is_error: true`), and the original `run` never starts.
 */
export function gateRunnableTool<I>(gate: Gate, tools: ToolMap | ToolMappings, tool: BetaRunnableTool<I>, options: AnthropicGateOptions = {}): BetaRunnableTool<I> {
  if (!("name" in tool) || typeof tool.name !== "string" || typeof tool.run !== "function") {
    throw new TypeError("gateRunnableTool takes a named runnable tool (betaTool / betaZodTool)");
  }
  const name = tool.name;
  const run = tool.run;
  return {
    ...tool,
    run: async (args: I, context?: BetaToolRunContext) => {
      const decision = await authorizeToolCall(gate, tools, name, args, { session: options.session, signal: context?.signal ?? undefined });
      if (!decision.permitted) throw new ToolError(refusalText(decision.error, name));
      return run(args, context);
    },
  };
}

// `any` as in the SDK's own tool lists: each tool has its own input type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function gateRunnableTools<T extends BetaRunnableTool<any>>(gate: Gate, tools: ToolMap | ToolMappings, list: readonly T[], options: AnthropicGateOptions = {}): T[] {
  return list.map((t) => gateRunnableTool(gate, tools, t, options) as T);
}

/** The part of a `tool_use` block the gate needs. */
export interface ToolUseLike {
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
}

export type ToolContent = NonNullable<ToolResultBlockParam["content"]>;

/** The `tool_result` block refusing a `tool_use`: `is_error: true` and the kernel's reasons. */
export function refusalToolResult(block: ToolUseLike, error: KernelBlockedError): ToolResultBlockParam {
  return { type: "tool_result", tool_use_id: block.id, is_error: true, content: refusalText(error, block.name) };
}

/**
 * For a hand-written `tool_use` loop: asks the kernel about `block`, runs `run` only on a verified,
 * redeemed permit, and returns the `tool_result` block to send back. Never throws for a refusal; an
 * error thrown by `run` becomes an `is_error` result too (its message, as the tool runner does).
 */
export async function gateToolUse(
  gate: Gate,
  tools: ToolMap | ToolMappings,
  block: ToolUseLike,
  run: (input: unknown, permit: Permit) => string | ToolContent | Promise<string | ToolContent>,
  options: AnthropicGateOptions = {},
): Promise<ToolResultBlockParam> {
  const decision = await authorizeToolCall(gate, tools, block.name, block.input, { session: options.session });
  if (!decision.permitted) return refusalToolResult(block, decision.error);
  try {
    return { type: "tool_result", tool_use_id: block.id, content: await run(block.input, decision) };
  } catch (error) {
    return { type: "tool_result", tool_use_id: block.id, is_error: true, content: `Error: ${error instanceof Error ? error.message : String(error)}` };
  }
}
