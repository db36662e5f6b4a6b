/**
 * OpenAI Agents SDK + Freedom Kernel: the kernel is a tool input guardrail on every tool.
 * The model is the SDK's ScriptedModel (no API key needed): it calls read_data, then write_report,
 * then answers with what it saw.
 *
 *   FK_URL=http://localhost:3000 FK_TOKEN=fkm_... npx tsx examples/openai-agents.ts
 */
import { Agent, Runner, tool } from "@openai/agents";
import { ScriptedModel, assistantMessage, functionCall, modelResponder } from "@openai/agents/testing";
import { z } from "zod";
import { gateTools } from "freedom-kernel/sdk/openai-agents";
import { demoGate, demoTools, say } from "./shared";

const NAME = "openai-agents";
const gate = await demoGate(NAME);

const readData = tool({
  name: "read_data",
  description: "Reads rows from Alice's dataset",
  parameters: z.object({ query: z.string() }),
  execute: async ({ query }) => {
    say(NAME, `read_data RAN (query ${query})`);
    return `3 rows match "${query}"`;
  },
});
const writeReport = tool({
  name: "write_report",
  description: "Writes the report file",
  parameters: z.object({ text: z.string() }),
  execute: async () => {
    say(NAME, "write_report RAN — this line must never appear with the demo data");
    return "written";
  },
});

const outputOf = (input: unknown, callId: string) =>
  (input as { type?: string; callId?: string; output?: { text?: string } }[]).find((i) => i.type === "function_call_result" && i.callId === callId)?.output?.text;

const model = new ScriptedModel([
  [functionCall("read_data", { query: "revenue" }, { callId: "c1" })],
  modelResponder((call) => {
    say(NAME, `model sees read_data -> ${outputOf(call.request.input, "c1")}`);
    return [functionCall("write_report", { text: "Revenue is up." }, { callId: "c2" })];
  }),
  modelResponder((call) => {
    say(NAME, `model sees write_report ->\n${outputOf(call.request.input, "c2")}`);
    return [assistantMessage("I read the data; writing the report was refused by the kernel.")];
  }),
]);

const agent = new Agent({ name: "research-bot", instructions: "Read the data, then write the report.", model, tools: gateTools(gate, demoTools, [readData, writeReport]) });
const result = await new Runner({ tracingDisabled: true }).run(agent, "Summarise revenue into the report.");
say(NAME, `final answer: ${String(result.finalOutput)}`);
