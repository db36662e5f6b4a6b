/**
 * LangChain.js v1 + Freedom Kernel: agent middleware (wrapToolCall) on a createAgent agent, and the
 * plain tool wrapper for @langchain/core users. The model is LangChain's fakeModel (no API key).
 *
 *   FK_URL=http://localhost:3000 FK_TOKEN=fkm_... npx tsx examples/langchain.ts
 */
import { AIMessage, HumanMessage, ToolMessage, createAgent, fakeModel, tool, type BaseMessage } from "langchain";
import { z } from "zod";
import { gateLangChainTool, kernelMiddleware } from "freedom-kernel/sdk/langchain";
import { demoGate, demoTools, say } from "./shared";

const NAME = "langchain";
const gate = await demoGate(NAME);

const readData = tool(
  async ({ query }: { query: string }) => {
    say(NAME, `read_data RAN (query ${query})`);
    return `3 rows match "${query}"`;
  },
  { name: "read_data", description: "Reads rows from Alice's dataset", schema: z.object({ query: z.string() }) },
);
const writeReport = tool(
  async () => {
    say(NAME, "write_report RAN — this line must never appear with the demo data");
    return "written";
  },
  { name: "write_report", description: "Writes the report file", schema: z.object({ text: z.string() }) },
);

const seen = (messages: BaseMessage[]) => {
  const last = messages.at(-1);
  if (last && ToolMessage.isInstance(last)) say(NAME, `model sees ${last.name ?? "?"} (${last.status ?? "success"}) -> ${String(last.content)}`);
};
const model = fakeModel()
  .respondWithTools([{ name: "read_data", args: { query: "revenue" }, id: "c1" }])
  .respond((messages: BaseMessage[]) => {
    seen(messages);
    return new AIMessage({ content: "", tool_calls: [{ name: "write_report", args: { text: "Revenue is up." }, id: "c2", type: "tool_call" }] });
  })
  .respond((messages: BaseMessage[]) => {
    seen(messages);
    return new AIMessage("I read the data; writing the report was refused by the kernel.");
  });

say(NAME, "1. createAgent with the kernel middleware");
const agent = createAgent({ model, tools: [readData, writeReport], middleware: [kernelMiddleware(gate, demoTools)] });
const result = await agent.invoke({ messages: [new HumanMessage("Summarise revenue into the report.")] });
say(NAME, `final answer: ${String(result.messages.at(-1)?.content)}`);

say(NAME, "2. a plain gated tool (@langchain/core)");
const gatedWrite = gateLangChainTool(gate, demoTools, writeReport);
const refusal = (await gatedWrite.invoke({ type: "tool_call", id: "c3", name: "write_report", args: { text: "again" } })) as ToolMessage;
say(NAME, `write_report via the plain wrapper (${refusal.status ?? "success"}) -> ${String(refusal.content).split("\n")[0]}`);
