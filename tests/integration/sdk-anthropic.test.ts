/**
 * Anthropic SDK adapter: the real client with a fake `fetch` answering canned Messages API replies
 * (a `tool_use`, then text), against a real kernel. The fake records every request, so the tests see
 * the `tool_result` the model would receive on its next turn.
 */
import Anthropic from "@anthropic-ai/sdk";
import { betaTool } from "@anthropic-ai/sdk/helpers/beta/json-schema";
import type { MessageParam, ToolResultBlockParam } from "@anthropic-ai/sdk/resources/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGate, defineToolMap, type Gate, type ToolMap } from "@/lib/sdk";
import { gateRunnableTools, gateToolUse } from "@/lib/sdk/adapters/anthropic";
import { startKernel, type FakeKernel, type KernelFixture, brokenKernelGates } from "./sdk-fixture";

let k: KernelFixture;
let gate: Gate;
let toolMap: ToolMap;
const closers: FakeKernel[] = [];
const runs = { read_data: 0, write_report: 0 };

type ToolUse = { id: string; name: string; input: Record<string, unknown> };

/** A fake Messages API: the first reply calls `use`, the second says "done". Records request bodies. */
function fakeAnthropic(use: ToolUse) {
  const requests: { messages: MessageParam[] }[] = [];
  const fetch = async (_url: unknown, init?: { body?: unknown }) => {
    requests.push(JSON.parse(String(init?.body)) as { messages: MessageParam[] });
    const first = requests.length === 1;
    const content = first ? [{ type: "tool_use", ...use }] : [{ type: "text", text: "done" }];
    const message = { id: `msg_${requests.length}`, type: "message", role: "assistant", model: "claude-test", content, stop_reason: first ? "tool_use" : "end_turn", stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } };
    return new Response(JSON.stringify(message), { status: 200, headers: { "content-type": "application/json" } });
  };
  const client = new Anthropic({ apiKey: "test-key", baseURL: "http://anthropic.invalid", fetch: fetch as never, maxRetries: 0 });
  return { client, requests };
}

/** The tool_result blocks of the last request: what the model reads on its next turn. */
function lastToolResults(requests: { messages: MessageParam[] }[]): ToolResultBlockParam[] {
  const messages = requests.at(-1)?.messages ?? [];
  const blocks = messages.flatMap((m) => (typeof m.content === "string" ? [] : m.content));
  return blocks.filter((b): b is ToolResultBlockParam => b.type === "tool_result");
}

function tools() {
  return [
    betaTool({
      name: "read_data",
      description: "Reads the dataset",
      inputSchema: { type: "object", properties: { query: { type: "string" } }, required: ["query"] },
      run: async ({ query }) => {
        runs.read_data += 1;
        return `rows for ${query}: 42`;
      },
    }),
    betaTool({
      name: "write_report",
      description: "Writes the report",
      inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
      run: async () => {
        runs.write_report += 1;
        return "written";
      },
    }),
  ];
}

async function runWithToolRunner(g: Gate, use: ToolUse) {
  const { client, requests } = fakeAnthropic(use);
  const final = await client.beta.messages.toolRunner({
    model: "claude-test",
    max_tokens: 256,
    messages: [{ role: "user", content: "go" }],
    tools: gateRunnableTools(g, toolMap, tools()),
  });
  return { final, result: lastToolResults(requests)[0], requests };
}

beforeAll(async () => {
  k = await startKernel();
  gate = await createGate({ url: k.url, token: k.token, machine: k.machine, publicKey: k.publicKey });
  toolMap = defineToolMap({ read_data: { reads: [k.data] }, write_report: { writes: [k.report] } });
});
afterAll(async () => {
  for (const c of closers) await c.close();
  await k?.server.stop();
});

describe("Anthropic SDK: tool runner", () => {
  it("a permitted tool runs once and its result goes back to the model", async () => {
    const before = runs.read_data;
    const { final, result } = await runWithToolRunner(gate, { id: "toolu_1", name: "read_data", input: { query: "q1" } });
    expect(runs.read_data).toBe(before + 1);
    expect(result).toMatchObject({ type: "tool_result", tool_use_id: "toolu_1", content: "rows for q1: 42" });
    expect(result?.is_error).not.toBe(true);
    expect(final.content).toEqual([{ type: "text", text: "done" }]);
  });

  it("a blocked tool never runs; the model gets an is_error tool_result with the reasons", async () => {
    const before = runs.write_report;
    const { final, result } = await runWithToolRunner(gate, { id: "toolu_2", name: "write_report", input: { text: "draft" } });
    expect(runs.write_report).toBe(before);
    expect(result).toMatchObject({ type: "tool_result", tool_use_id: "toolu_2", is_error: true });
    expect(String(result?.content)).toContain('Freedom Kernel BLOCKED the call to tool "write_report"');
    expect(String(result?.content)).toContain("WRITE_DENIED");
    expect(final.content).toEqual([{ type: "text", text: "done" }]);
  });

  it("a stopped kernel, garbage, or a forged signature: is_error results, the runner completes", async () => {
    const cases = await brokenKernelGates(k, closers);
    const before = runs.read_data;
    for (const [g, code] of cases) {
      const { final, result } = await runWithToolRunner(g, { id: "toolu_3", name: "read_data", input: { query: "q" } });
      expect(result?.is_error).toBe(true);
      expect(String(result?.content)).toContain(code);
      expect(final.content).toEqual([{ type: "text", text: "done" }]);
    }
    expect(runs.read_data).toBe(before);
  });
});

describe("Anthropic SDK: hand-written tool_use loop", () => {
  async function loop(g: Gate, use: ToolUse, handlers: Record<string, (input: unknown) => string>) {
    const { client, requests } = fakeAnthropic(use);
    const messages: MessageParam[] = [{ role: "user", content: "go" }];
    for (;;) {
      const reply = await client.messages.create({ model: "claude-test", max_tokens: 256, messages });
      messages.push({ role: "assistant", content: reply.content });
      if (reply.stop_reason !== "tool_use") return { reply, requests };
      const results: ToolResultBlockParam[] = [];
      for (const block of reply.content) {
        if (block.type !== "tool_use") continue;
        const handler = handlers[block.name] ?? (() => "no such tool");
        results.push(await gateToolUse(g, toolMap, block, (input) => handler(input)));
      }
      messages.push({ role: "user", content: results });
    }
  }

  it("returns the tool's result on a permit and an is_error refusal otherwise", async () => {
    let reads = 0;
    let writes = 0;
    const handlers = { read_data: () => `read ${++reads}`, write_report: () => `write ${++writes}` };
    const ok = await loop(gate, { id: "toolu_a", name: "read_data", input: { query: "q" } }, handlers);
    expect(lastToolResults(ok.requests)).toEqual([{ type: "tool_result", tool_use_id: "toolu_a", content: "read 1" }]);
    const blocked = await loop(gate, { id: "toolu_b", name: "write_report", input: { text: "t" } }, handlers);
    const [refusal] = lastToolResults(blocked.requests);
    expect(refusal).toMatchObject({ tool_use_id: "toolu_b", is_error: true });
    expect(String(refusal?.content)).toContain("WRITE_DENIED");
    const unknown = await loop(gate, { id: "toolu_c", name: "delete_everything", input: {} }, handlers);
    expect(String(lastToolResults(unknown.requests)[0]?.content)).toContain("UNMAPPED_TOOL");
    expect(reads).toBe(1);
    expect(writes).toBe(0);
    expect(blocked.reply.content).toEqual([{ type: "text", text: "done" }]);
  });
});
