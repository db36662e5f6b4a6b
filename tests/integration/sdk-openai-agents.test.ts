/**
 * OpenAI Agents SDK adapter: a real Runner with a scripted model (the SDK's own ScriptedModel) and
 * a real kernel. The model's second turn is a responder that reads what the runner sent it, so the
 * tests see exactly what the model would see.
 */
import { Agent, Runner, tool } from "@openai/agents";
import { ScriptedModel, assistantMessage, functionCall, modelResponder } from "@openai/agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createGate, defineToolMap, type Gate } from "@/lib/sdk";
import { gateTool, gateTools, type KernelGuardrailInfo } from "@/lib/sdk/adapters/openai-agents";
import { startForger, startJunkKernel, startKernel, switchableFetch, type FakeKernel, type KernelFixture } from "./sdk-fixture";

let k: KernelFixture;
let gate: Gate;
const closers: FakeKernel[] = [];
const runs = { read_data: 0, write_report: 0, unmapped: 0 };

const readData = tool({
  name: "read_data",
  description: "Reads the dataset",
  parameters: z.object({ query: z.string() }),
  execute: async ({ query }) => {
    runs.read_data += 1;
    return `rows for ${query}: 42`;
  },
});
const writeReport = tool({
  name: "write_report",
  description: "Writes the report",
  parameters: z.object({ text: z.string() }),
  execute: async () => {
    runs.write_report += 1;
    return "written";
  },
});
const unmapped = tool({
  name: "unmapped",
  description: "A tool nobody mapped",
  parameters: z.object({}),
  execute: async () => {
    runs.unmapped += 1;
    return "ran";
  },
});

let toolMap: ReturnType<typeof defineToolMap>;

/** Runs one agent turn calling `toolName`, and returns what the model saw as that call's output. */
async function runCalling(g: Gate, toolName: string, args: Record<string, unknown>) {
  let seen: unknown;
  const model = new ScriptedModel([
    [functionCall(toolName, args, { callId: "call-1" })],
    modelResponder((call) => {
      const input = call.request.input as { type?: string; callId?: string; output?: { text?: string } }[];
      seen = input.find((i) => i.type === "function_call_result" && i.callId === "call-1")?.output?.text;
      return [assistantMessage("ok")];
    }),
  ]);
  const agent = new Agent({ name: "researcher", instructions: "Use the tools.", model, tools: gateTools(g, toolMap, [readData, writeReport, unmapped]) });
  const result = await new Runner({ tracingDisabled: true }).run(agent, "go");
  model.assertComplete();
  return { seen: String(seen), result };
}

beforeAll(async () => {
  k = await startKernel();
  gate = await createGate({ url: k.url, token: k.token, machine: k.machine, publicKey: k.publicKey });
  toolMap = defineToolMap({
    read_data: { reads: [k.data] },
    write_report: (args: { text: string }) => ({ writes: [k.report], description: `report of ${args.text.length} chars` }),
  });
});
afterAll(async () => {
  for (const c of closers) await c.close();
  await k?.server.stop();
});

describe("OpenAI Agents SDK: tool input guardrail", () => {
  it("a permitted tool runs once and the model sees its output", async () => {
    const before = runs.read_data;
    const { seen, result } = await runCalling(gate, "read_data", { query: "q1" });
    expect(runs.read_data).toBe(before + 1);
    expect(seen).toBe("rows for q1: 42");
    expect(result.finalOutput).toBe("ok");
    const info = result.toolInputGuardrailResults[0]?.output.outputInfo as KernelGuardrailInfo;
    expect(info.permitted).toBe(true);
  });

  it("a blocked tool never runs and the model's next turn reads the kernel's reasons", async () => {
    const before = runs.write_report;
    const { seen, result } = await runCalling(gate, "write_report", { text: "draft" });
    expect(runs.write_report).toBe(before);
    expect(seen).toContain('Freedom Kernel BLOCKED the call to tool "write_report"');
    expect(seen).toContain("WRITE_DENIED");
    expect(result.finalOutput).toBe("ok");
    const info = result.toolInputGuardrailResults[0]?.output.outputInfo as KernelGuardrailInfo;
    expect(info).toMatchObject({ permitted: false, code: "BLOCKED" });
  });

  it("an unmapped tool is blocked without asking", async () => {
    const { seen } = await runCalling(gate, "unmapped", {});
    expect(runs.unmapped).toBe(0);
    expect(seen).toContain("UNMAPPED_TOOL");
  });

  it("a stopped kernel blocks the call and the run still completes", async () => {
    const net = await switchableFetch(k.url);
    const g = await createGate({ url: k.url, token: k.token, machine: k.machine, publicKey: k.publicKey, fetch: net.fetch });
    net.down();
    const before = runs.read_data;
    const { seen, result } = await runCalling(g, "read_data", { query: "q" });
    expect(runs.read_data).toBe(before);
    expect(seen).toContain("KERNEL_UNAVAILABLE");
    expect(result.finalOutput).toBe("ok");
  });

  it("garbage or a forged signature blocks the call and the run still completes", async () => {
    const junk = await startJunkKernel(k);
    const forger = await startForger(k);
    closers.push(junk, forger);
    const before = runs.read_data;
    const viaJunk = await runCalling(await createGate({ url: junk.url, token: k.token, machine: k.machine, publicKey: k.publicKey }), "read_data", { query: "q" });
    expect(viaJunk.seen).toContain("BAD_RESPONSE");
    const viaForger = await runCalling(await createGate({ url: forger.url, token: k.token, machine: k.machine, publicKey: k.publicKey }), "read_data", { query: "q" });
    expect(viaForger.seen).toContain("BAD_SIGNATURE");
    expect(forger.hits).toContain("POST /api/v1/verify");
    expect(runs.read_data).toBe(before);
  });

  it("gateTool keeps the tool's own guardrails after the kernel's", async () => {
    const own = { type: "tool_input" as const, name: "own", run: async () => ({ behavior: { type: "allow" as const } }) };
    const gated = gateTool(gate, toolMap, tool({ ...{ name: "read_data", description: "d", parameters: z.object({}) }, inputGuardrails: [own], execute: async () => "x" }));
    expect(gated.inputGuardrails?.map((g) => g.name)).toEqual(["freedom-kernel", "own"]);
  });
});
