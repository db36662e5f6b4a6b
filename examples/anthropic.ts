/**
 * Anthropic SDK + Freedom Kernel, both ways:
 *  1. the tool runner (client.beta.messages.toolRunner) with gated runnable tools;
 *  2. a hand-written tool_use loop with gateToolUse.
 * The "model" is a fake fetch returning canned Messages API replies (no API key needed).
 *
 *   FK_URL=http://localhost:3000 FK_TOKEN=fkm_... npx tsx examples/anthropic.ts
 */
import Anthropic from "@anthropic-ai/sdk";
import { betaTool } from "@anthropic-ai/sdk/helpers/beta/json-schema";
import type { MessageParam, ToolResultBlockParam } from "@anthropic-ai/sdk/resources/messages";
import { gateRunnableTools, gateToolUse } from "freedom-kernel/sdk/anthropic";
import { demoGate, demoTools, say } from "./shared";

const NAME = "anthropic";
const gate = await demoGate(NAME);

/** A fake Claude: calls read_data, then write_report, then answers; prints each tool_result it gets. */
function fakeClaude(): Anthropic {
  let turn = 0;
  const replies = [
    [{ type: "tool_use", id: "toolu_1", name: "read_data", input: { query: "revenue" } }],
    [{ type: "tool_use", id: "toolu_2", name: "write_report", input: { text: "Revenue is up." } }],
    [{ type: "text", text: "I read the data; writing the report was refused by the kernel." }],
  ];
  const fetch = async (_url: unknown, init?: { body?: unknown }) => {
    const body = JSON.parse(String(init?.body)) as { messages: MessageParam[] };
    for (const m of body.messages.slice(-1)) {
      if (typeof m.content === "string") continue;
      for (const b of m.content) if (b.type === "tool_result") say(NAME, `model sees ${b.tool_use_id}${b.is_error ? " (is_error)" : ""} -> ${String(b.content)}`);
    }
    const content = replies[Math.min(turn++, replies.length - 1)];
    const last = turn >= replies.length;
    const message = { id: `msg_${turn}`, type: "message", role: "assistant", model: "claude-fake", content, stop_reason: last ? "end_turn" : "tool_use", stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } };
    return new Response(JSON.stringify(message), { headers: { "content-type": "application/json" } });
  };
  return new Anthropic({ apiKey: "not-needed", baseURL: "http://fake-claude.invalid", fetch: fetch as never, maxRetries: 0 });
}

const tools = [
  betaTool({
    name: "read_data",
    description: "Reads rows from Alice's dataset",
    inputSchema: { type: "object", properties: { query: { type: "string" } }, required: ["query"] },
    run: async ({ query }) => {
      say(NAME, `read_data RAN (query ${query})`);
      return `3 rows match "${query}"`;
    },
  }),
  betaTool({
    name: "write_report",
    description: "Writes the report file",
    inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
    run: async () => {
      say(NAME, "write_report RAN — this line must never appear with the demo data");
      return "written";
    },
  }),
];

say(NAME, "1. tool runner");
const final = await fakeClaude().beta.messages.toolRunner({
  model: "claude-fake",
  max_tokens: 512,
  messages: [{ role: "user", content: "Summarise revenue into the report." }],
  tools: gateRunnableTools(gate, demoTools, tools),
});
say(NAME, `final answer: ${final.content.map((b) => (b.type === "text" ? b.text : "")).join("")}`);

say(NAME, "2. hand-written tool_use loop");
const client = fakeClaude();
const messages: MessageParam[] = [{ role: "user", content: "Summarise revenue into the report." }];
const handlers: Record<string, (input: unknown) => string> = {
  read_data: () => (say(NAME, "read_data RAN"), "3 rows"),
  write_report: () => (say(NAME, "write_report RAN — this line must never appear with the demo data"), "written"),
};
for (;;) {
  const reply = await client.messages.create({ model: "claude-fake", max_tokens: 512, messages });
  messages.push({ role: "assistant", content: reply.content });
  if (reply.stop_reason !== "tool_use") {
    say(NAME, `final answer: ${reply.content.map((b) => (b.type === "text" ? b.text : "")).join("")}`);
    break;
  }
  const results: ToolResultBlockParam[] = [];
  for (const block of reply.content) {
    if (block.type === "tool_use") results.push(await gateToolUse(gate, demoTools, block, (input) => (handlers[block.name] ?? (() => "unknown tool"))(input)));
  }
  messages.push({ role: "user", content: results });
}
