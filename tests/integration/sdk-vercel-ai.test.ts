/**
 * Vercel AI SDK v6 adapter: generateText with the SDK's own MockLanguageModelV3 against a real kernel.
 * The mock records every prompt, so the tests read exactly what the model sees on its next step.
 */
import { generateText, stepCountIs, tool, type ModelMessage, type ToolSet } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createGate, defineToolMap, type Gate, type ToolMap } from "@/lib/sdk";
import { gateTools } from "@/lib/sdk/adapters/vercel-ai";
import { addResource, approve, pendingApproval, startKernel, type FakeKernel, type KernelFixture, brokenKernelGates } from "./sdk-fixture";

let k: KernelFixture;
let gate: Gate;
let toolMap: ToolMap;
let notes: string;
const closers: FakeKernel[] = [];
const runs = { read_data: 0, write_report: 0, write_notes: 0 };

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };

/** A model that calls `toolName` once, then answers "done"; `prompts` are what it was sent. */
function scriptedModel(toolName: string, input: Record<string, unknown>) {
  const prompts: ModelMessage[][] = [];
  let calls = 0;
  const model = new MockLanguageModelV3({
    doGenerate: async (options) => {
      prompts.push(options.prompt as ModelMessage[]);
      calls += 1;
      if (calls === 1) {
        return { content: [{ type: "tool-call", toolCallId: "call-1", toolName, input: JSON.stringify(input) }], finishReason: { unified: "tool-calls", raw: undefined }, usage, warnings: [] };
      }
      return { content: [{ type: "text", text: "done" }], finishReason: { unified: "stop", raw: undefined }, usage, warnings: [] };
    },
  });
  return { model, prompts };
}

/** The tool output the model was shown for call-1 in its last prompt. */
function toolOutputSeen(prompts: ModelMessage[][]): { type: string; value: unknown } | undefined {
  for (const m of prompts.at(-1) ?? []) {
    if (m.role !== "tool") continue;
    for (const part of m.content) if (part.type === "tool-result" && part.toolCallId === "call-1") return part.output as { type: string; value: unknown };
  }
  return undefined;
}

function baseTools(): ToolSet {
  return {
    read_data: tool({
      description: "Reads the dataset",
      inputSchema: z.object({ query: z.string() }),
      execute: async ({ query }) => {
        runs.read_data += 1;
        return `rows for ${query}: 42`;
      },
    }),
    write_report: tool({
      description: "Writes the report",
      inputSchema: z.object({ text: z.string() }),
      execute: async () => {
        runs.write_report += 1;
        return "written";
      },
    }),
    write_notes: tool({
      description: "Writes notes",
      inputSchema: z.object({ text: z.string() }),
      execute: async () => {
        runs.write_notes += 1;
        return "notes written";
      },
    }),
  };
}

async function runCalling(g: Gate, toolName: string, input: Record<string, unknown>) {
  const { model, prompts } = scriptedModel(toolName, input);
  const result = await generateText({ model, prompt: "go", tools: gateTools(g, toolMap, baseTools()), stopWhen: stepCountIs(4) });
  return { result, seen: toolOutputSeen(prompts) };
}

beforeAll(async () => {
  k = await startKernel();
  notes = `sdk-notes-${k.machine}`;
  await addResource(k, notes);
  gate = await createGate({ url: k.url, token: k.token, machine: k.machine, publicKey: k.publicKey });
  toolMap = defineToolMap({ read_data: { reads: [k.data] }, write_report: { writes: [k.report] }, write_notes: { writes: [notes] } });
});
afterAll(async () => {
  for (const c of closers) await c.close();
  await k?.server.stop();
});

describe("Vercel AI SDK: gated execute", () => {
  it("a permitted tool runs once and the model sees its output", async () => {
    const before = runs.read_data;
    const { result, seen } = await runCalling(gate, "read_data", { query: "q1" });
    expect(runs.read_data).toBe(before + 1);
    expect(seen).toEqual({ type: "text", value: "rows for q1: 42" });
    expect(result.text).toBe("done");
  });

  it("a blocked tool never runs; the model's next step sees the refusal as the tool's error", async () => {
    const before = runs.write_report;
    const { result, seen } = await runCalling(gate, "write_report", { text: "draft" });
    expect(runs.write_report).toBe(before);
    expect(seen?.type).toBe("error-text");
    expect(String(seen?.value)).toContain('Freedom Kernel BLOCKED the call to tool "write_report"');
    expect(String(seen?.value)).toContain("WRITE_DENIED");
    expect(result.text).toBe("done");
    expect(result.steps[0]?.content.some((p) => p.type === "tool-error")).toBe(true);
  });

  it("a stopped kernel, garbage, or a forged signature: the tool never runs, generateText completes", async () => {
    const cases = await brokenKernelGates(k, closers);
    const before = runs.read_data;
    for (const [g, code] of cases) {
      const { result, seen } = await runCalling(g, "read_data", { query: "q" });
      expect(seen?.type).toBe("error-text");
      expect(String(seen?.value)).toContain(code);
      expect(result.text).toBe("done");
    }
    expect(runs.read_data).toBe(before);
  });
});

describe("Vercel AI SDK: tool approval driven by the kernel", () => {
  it("a curable refusal asks for approval; approving in the app alone still runs nothing", async () => {
    const tools = gateTools(gate, toolMap, baseTools(), { approval: true });
    const { model, prompts } = scriptedModel("write_report", { text: "draft" });
    const first = await generateText({ model, prompt: "go", tools, stopWhen: stepCountIs(4) });
    const request = first.content.find((p) => p.type === "tool-approval-request");
    expect(request).toBeDefined();
    expect(runs.write_report).toBe(0);
    // The app's user approves, but the owner granted nothing in the kernel: execute still refuses.
    const messages: ModelMessage[] = [
      { role: "user", content: "go" },
      ...first.response.messages,
      { role: "tool", content: [{ type: "tool-approval-response", approvalId: (request as { approvalId: string }).approvalId, approved: true }] },
    ];
    const second = await generateText({ model, messages, tools, stopWhen: stepCountIs(4) });
    expect(runs.write_report).toBe(0);
    const seen = toolOutputSeen(prompts);
    expect(seen?.type).toBe("error-text");
    expect(String(seen?.value)).toContain("WRITE_DENIED");
    expect(second.text).toBe("done");
  });

  it("after the owner approves in the kernel's inbox, the approved call runs once", async () => {
    const tools = gateTools(gate, toolMap, baseTools(), { approval: true });
    const { model, prompts } = scriptedModel("write_notes", { text: "n" });
    const first = await generateText({ model, prompt: "go", tools, stopWhen: stepCountIs(4) });
    const request = first.content.find((p) => p.type === "tool-approval-request") as { approvalId: string } | undefined;
    expect(request).toBeDefined();
    expect(runs.write_notes).toBe(0);
    const inbox = await pendingApproval(k);
    expect(inbox?.curable).toBe(true);
    expect(JSON.stringify(inbox?.action)).toContain(notes);
    await approve(k, inbox!.id);
    const messages: ModelMessage[] = [
      { role: "user", content: "go" },
      ...first.response.messages,
      { role: "tool", content: [{ type: "tool-approval-response", approvalId: request!.approvalId, approved: true }] },
    ];
    const second = await generateText({ model, messages, tools, stopWhen: stepCountIs(4) });
    expect(runs.write_notes).toBe(1);
    expect(toolOutputSeen(prompts)).toEqual({ type: "text", value: "notes written" });
    expect(second.text).toBe("done");
  });

  it("a permitted call and an invariant refusal never ask for approval", async () => {
    const tools = gateTools(gate, { ...{ read_data: { reads: [k.data] } }, self_expand: { reads: [k.data], flags: { increases_machine_sovereignty: true } } }, {
      read_data: baseTools().read_data!,
      self_expand: tool({ description: "x", inputSchema: z.object({}), execute: async () => "expanded" }),
    }, { approval: true });
    const permitted = await generateText({ model: scriptedModel("read_data", { query: "q" }).model, prompt: "go", tools, stopWhen: stepCountIs(4) });
    expect(permitted.content.some((p) => p.type === "tool-approval-request")).toBe(false);
    const invariant = scriptedModel("self_expand", {});
    const blocked = await generateText({ model: invariant.model, prompt: "go", tools, stopWhen: stepCountIs(4) });
    expect(blocked.steps[0]?.content.some((p) => p.type === "tool-approval-request")).toBe(false);
    expect(String(toolOutputSeen(invariant.prompts)?.value)).toContain("no one can approve");
  });
});
