/**
 * LangChain.js v1 adapter (langchain >= 1 and @langchain/core >= 1, optional peer dependencies).
 * A refusal is what LangChain agents show the model for a failed tool: a ToolMessage with
 * `status: "error"` answering the tool call, whose content lists the kernel's reasons.
 *
 * - kernelMiddleware: agent middleware for `createAgent({ middleware: [...] })`; its `wrapToolCall`
 *   asks the kernel about every tool call and calls the tool only on a verified, redeemed permit.
 * - gateLangChainTool: a plain tool wrapper for @langchain/core users (no agent): a copy of the tool
 *   that asks the kernel first. Called with a tool call it answers a refusal as an error
 *   ToolMessage; called with bare arguments it throws KernelBlockedError.
 */
import { ToolMessage } from "@langchain/core/messages";
import { DynamicStructuredTool, type StructuredToolInterface } from "@langchain/core/tools";
import { createMiddleware } from "langchain";
import { KernelBlockedError, refusalText } from "../errors";
import type { Gate } from "../gate";
import type { ToolMap, ToolMappings } from "../mapping";
import { authorizeToolCall } from "../tools";

export interface LangChainGateOptions {
  /** Middleware name. Default "FreedomKernel". */
  readonly name?: string | undefined;
  readonly session?: string | undefined;
}

/** The error ToolMessage refusing a tool call. */
export function refusalToolMessage(error: KernelBlockedError, toolCall: { id?: string | undefined; name: string }): ToolMessage {
  return new ToolMessage({
    content: refusalText(error, toolCall.name),
    tool_call_id: toolCall.id ?? "",
    name: toolCall.name,
    status: "error",
    artifact: { freedomKernel: { code: error.code, violations: error.violations } },
  });
}

/** Agent middleware gating every tool call of a `createAgent` agent. */
export function kernelMiddleware(gate: Gate, tools: ToolMap | ToolMappings, options: LangChainGateOptions = {}) {
  return createMiddleware({
    name: options.name ?? "FreedomKernel",
    wrapToolCall: async (request, handler) => {
      const call = request.toolCall;
      let decision;
      try {
        decision = await authorizeToolCall(gate, tools, call.name, call.args, { session: options.session, signal: request.runtime?.signal });
      } catch (error) {
        return refusalToolMessage(new KernelBlockedError("KERNEL_UNAVAILABLE", "the kernel check failed unexpectedly", { tool: call.name, cause: error }), call);
      }
      if (!decision.permitted) return refusalToolMessage(decision.error, call);
      return handler(request);
    },
  });
}

/**
 * A copy of a LangChain tool that asks the kernel before it runs. The copy has the same name,
 * description and schema; the original is called only on a verified, redeemed permit.
 */
export function gateLangChainTool(gate: Gate, tools: ToolMap | ToolMappings, tool: StructuredToolInterface, options: LangChainGateOptions = {}): DynamicStructuredTool {
  return new DynamicStructuredTool({
    name: tool.name,
    description: tool.description,
    schema: tool.schema as never,
    func: async (args: unknown, _runManager, config) => {
      const toolCall = (config as { toolCall?: { id?: string; name: string } } | undefined)?.toolCall;
      const decision = await authorizeToolCall(gate, tools, tool.name, args, { session: options.session, signal: config?.signal });
      if (!decision.permitted) {
        if (toolCall !== undefined) return refusalToolMessage(decision.error, { id: toolCall.id, name: tool.name });
        throw decision.error.forTool(tool.name);
      }
      // The original validates its own input again; pass the tool call through so it answers a
      // ToolMessage with the right id when one was given.
      return tool.invoke(toolCall !== undefined ? { ...toolCall, args, type: "tool_call" } : args, config) as Promise<unknown>;
    },
  });
}
