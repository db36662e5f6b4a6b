/**
 * Freedom Kernel SDK for agents: ask the kernel before every tool call and act only on a permit
 * verified in this process. No framework and no Next.js here — adapters live behind their own import
 * paths (freedom-kernel/sdk/openai-agents, /anthropic, /vercel-ai, /langchain) and the MCP gating
 * proxy behind freedom-kernel/mcp-proxy.
 *
 *   const gate = await createGate({ url, token, machine: "research-bot", publicKey });
 *   const tools = defineToolMap({ read_data: { reads: ["alice-data"] } });
 *   await guardToolCall(gate, tools, "read_data", args, () => readData(args));
 */
export { BLOCK_CODES, KernelBlockedError, isKernelBlockedError, refusalText, type BlockCode, type KernelBlockedErrorInit } from "./errors";
export { CircuitBreaker, type BreakerState } from "./breaker";
export {
  apiBase,
  createGate,
  fetchKernelKey,
  refusal,
  type ActionRequest,
  type CheckOptions,
  type Decision,
  type Gate,
  type GateOptions,
  type Permit,
  type PinnedKey,
  type Refusal,
} from "./gate";
export {
  ToolMap,
  ToolMapFile,
  defineToolMap,
  toToolMap,
  toolMapFromJson,
  type ActionFields,
  type DeclarativeToolMapping,
  type ListSpec,
  type MapResult,
  type ToolMapper,
  type ToolMapping,
  type ToolMappings,
} from "./mapping";
export { authorizeToolCall, guardToolCall, refusalMessage, type ToolCallOptions } from "./tools";
export type { FetchLike } from "./http";
export type { DecisionRecord, DecisionViolation } from "../kernel/signing";
export type { Action, Flag } from "../kernel/types";
