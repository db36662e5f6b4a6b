/**
 * Vercel AI SDK v6 + Freedom Kernel: gated `execute` on every tool. The model is the SDK's own
 * MockLanguageModelV3 (no API key needed): it calls read_data, then write_report, then answers.
 *
 *   FK_URL=http://localhost:3000 FK_TOKEN=fkm_... npx tsx examples/vercel-ai.ts
 */
import { generateText, stepCountIs, tool, type ModelMessage } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { z } from "zod";
import { gateTools } from "freedom-kernel/sdk/vercel-ai";
import { demoGate, demoTools, say } from "./shared";

const NAME = "vercel-ai";
const gate = await demoGate(NAME);

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
const calls = [
  { toolName: "read_data", input: { query: "revenue" } },
  { toolName: "write_report", input: { text: "Revenue is up." } },
];
let step = 0;
const model = new MockLanguageModelV3({
  doGenerate: async ({ prompt }) => {
    for (const m of (prompt as ModelMessage[]).slice(-1)) {
      if (m.role !== "tool") continue;
      for (const p of m.content) {
        if (p.type !== "tool-result") continue;
        const value = "value" in p.output ? p.output.value : undefined;
        say(NAME, `model sees ${p.toolName} (${p.output.type}) -> ${typeof value === "string" ? value : JSON.stringify(value)}`);
      }
    }
    const next = calls[step++];
    if (next) {
      return { content: [{ type: "tool-call", toolCallId: `call-${step}`, toolName: next.toolName, input: JSON.stringify(next.input) }], finishReason: { unified: "tool-calls", raw: undefined }, usage, warnings: [] };
    }
    return { content: [{ type: "text", text: "I read the data; writing the report was refused by the kernel." }], finishReason: { unified: "stop", raw: undefined }, usage, warnings: [] };
  },
});

const tools = gateTools(gate, demoTools, {
  read_data: tool({
    description: "Reads rows from Alice's dataset",
    inputSchema: z.object({ query: z.string() }),
    execute: async ({ query }) => {
      say(NAME, `read_data RAN (query ${query})`);
      return `3 rows match "${query}"`;
    },
  }),
  write_report: tool({
    description: "Writes the report file",
    inputSchema: z.object({ text: z.string() }),
    execute: async () => {
      say(NAME, "write_report RAN — this line must never appear with the demo data");
      return "written";
    },
  }),
});

const result = await generateText({ model, prompt: "Summarise revenue into the report.", tools, stopWhen: stepCountIs(5) });
say(NAME, `final answer: ${result.text}`);
