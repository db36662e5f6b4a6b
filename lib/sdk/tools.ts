/**
 * Tool calls through the gate: map (name, arguments) to an action with the tool's mapping, then
 * authorize (check + redeem) it. Adapters for the agent frameworks are thin layers over these two
 * functions; they differ only in how the framework shows a refusal to the model.
 */
import { KernelBlockedError, refusalText } from "./errors";
import type { CheckOptions, Decision, Gate, Permit } from "./gate";
import { refusal } from "./gate";
import { toToolMap, type ToolMap, type ToolMappings } from "./mapping";

export interface ToolCallOptions {
  readonly session?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /**
   * The caller runs the tool with MapResult.args when the mapping rewrote the arguments (a
   * relative path of a `file:` template resolved against the map's root), as the MCP proxy does.
   * Without it such a call is refused: the tool would resolve the relative path itself, against
   * a directory the kernel did not decide on.
   */
  readonly forwardsRewrittenArgs?: boolean | undefined;
}

/**
 * Maps one tool call and asks the kernel, redeeming the permit it gets; never throws. The returned
 * Permit is spent: run the tool now, once. An unmapped tool is refused without asking.
 */
export async function authorizeToolCall(
  gate: Gate,
  tools: ToolMap | ToolMappings,
  tool: string,
  args: unknown,
  options: ToolCallOptions = {},
): Promise<Decision> {
  const mapped = toToolMap(tools).map(tool, args);
  if (!mapped.ok) return refusal(mapped.error);
  if (mapped.args !== undefined && options.forwardsRewrittenArgs !== true) {
    return refusal(
      new KernelBlockedError("MAPPING_FAILED", `tool "${tool}" was called with a relative path; give an absolute path (only the MCP proxy runs tools with the path resolved against the map's root)`, { tool }),
    );
  }
  const check: CheckOptions = { tool, session: options.session, signal: options.signal };
  return gate.authorize({ description: `tool call: ${tool}`, ...mapped.fields }, check);
}

/**
 * Runs `run` only on a verified, redeemed permit for this tool call; otherwise throws the refusal
 * (KernelBlockedError) and `run` never starts.
 */
export async function guardToolCall<T>(
  gate: Gate,
  tools: ToolMap | ToolMappings,
  tool: string,
  args: unknown,
  run: (permit: Permit) => T | Promise<T>,
  options: ToolCallOptions = {},
): Promise<T> {
  const decision = await authorizeToolCall(gate, tools, tool, args, options);
  if (!decision.permitted) throw decision.error;
  return run(decision);
}

/** The model-facing text of a refused decision. */
export function refusalMessage(decision: Extract<Decision, { permitted: false }>, tool?: string): string {
  return refusalText(decision.error, tool);
}
