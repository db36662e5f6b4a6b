/**
 * LangChain.js v1 adapter: a real `createAgent` agent with LangChain's own fake chat model
 * (`fakeModel`) and the kernel middleware, against a real kernel; plus the plain tool wrapper for
 * @langchain/core users. The fake model's second response is a function of the messages it was
 * given, so the tests see the ToolMessage the model reads.
 */
import { AIMessage, HumanMessage, ToolMessage, createAgent, fakeModel, tool, type BaseMessage } from "langchain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { KernelBlockedError, createGate, defineToolMap, type Gate, type ToolMap } from "@/lib/sdk";
import { gateLangChainTool, kernelMiddleware } from "@/lib/sdk/adapters/langchain";
import { startKernel, type FakeKernel, type KernelFixture, brokenKernelGates } from "./sdk-fixture";

let k: KernelFixture;
let gate: Gate;
let toolMap: ToolMap;
const closers: FakeKernel[] = [];
const runs = { read_data: 0, write_report: 0 };

const readData = tool(
  async ({ query }: { query: string }) => {
    runs.read_data += 1;
    return `rows for ${query}: 42`;
  },
  { name: "read_data", description: "Reads the dataset", schema: z.object({ query: z.string() }) },
);
const writeReport = tool(
  async () => {
    runs.write_report += 1;
    return "written";
  },
  { name: "write_report", description: "Writes the report", schema: z.object({ text: z.string() }) },
);

/** Runs an agent whose model calls `name` once; returns the ToolMessage the model saw next. */
async function runCalling(g: Gate, name: string, args: Record<string, unknown>) {
  let seen: ToolMessage | undefined;
  const model = fakeModel()
    .respondWithTools([{ name, args, id: "call-1" }])
    .respond((messages: BaseMessage[]) => {
      seen = messages.find((m): m is ToolMessage => ToolMessage.isInstance(m) && m.tool_call_id === "call-1");
      return new AIMessage("done");
    });
  const agent = createAgent({ model, tools: [readData, writeReport], middleware: [kernelMiddleware(g, toolMap)] });
  const result = await agent.invoke({ messages: [new HumanMessage("go")] });
  return { seen, result };
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

describe("LangChain: agent middleware (wrapToolCall)", () => {
  it("a permitted tool runs once and the model sees its output", async () => {
    const before = runs.read_data;
    const { seen, result } = await runCalling(gate, "read_data", { query: "q1" });
    expect(runs.read_data).toBe(before + 1);
    expect(seen?.content).toBe("rows for q1: 42");
    expect(seen?.status).not.toBe("error");
    expect(result.messages.at(-1)?.content).toBe("done");
  });

  it("a blocked tool never runs; the model reads an error ToolMessage with the reasons", async () => {
    const before = runs.write_report;
    const { seen, result } = await runCalling(gate, "write_report", { text: "draft" });
    expect(runs.write_report).toBe(before);
    expect(seen?.status).toBe("error");
    expect(String(seen?.content)).toContain('Freedom Kernel BLOCKED the call to tool "write_report"');
    expect(String(seen?.content)).toContain("WRITE_DENIED");
    expect(result.messages.at(-1)?.content).toBe("done");
  });

  it("a stopped kernel, garbage, or a forged signature: error ToolMessages, the agent completes", async () => {
    const cases = await brokenKernelGates(k, closers);
    const before = runs.read_data;
    for (const [g, code] of cases) {
      const { seen, result } = await runCalling(g, "read_data", { query: "q" });
      expect(seen?.status).toBe("error");
      expect(String(seen?.content)).toContain(code);
      expect(result.messages.at(-1)?.content).toBe("done");
    }
    expect(runs.read_data).toBe(before);
  });
});

describe("LangChain: plain tool wrapper (@langchain/core)", () => {
  it("with a tool call: the result, or an error ToolMessage; with bare arguments a refusal throws", async () => {
    const reads = runs.read_data;
    const writes = runs.write_report;
    const gatedRead = gateLangChainTool(gate, toolMap, readData);
    const gatedWrite = gateLangChainTool(gate, toolMap, writeReport);
    expect(gatedWrite.name).toBe("write_report");

    const ok = (await gatedRead.invoke({ type: "tool_call", id: "c1", name: "read_data", args: { query: "q" } })) as ToolMessage;
    expect(ToolMessage.isInstance(ok)).toBe(true);
    expect(ok.content).toBe("rows for q: 42");
    expect(ok.tool_call_id).toBe("c1");

    const refused = (await gatedWrite.invoke({ type: "tool_call", id: "c2", name: "write_report", args: { text: "t" } })) as ToolMessage;
    expect(refused.status).toBe("error");
    expect(refused.tool_call_id).toBe("c2");
    expect(String(refused.content)).toContain("WRITE_DENIED");

    const e = await gatedWrite.invoke({ text: "t" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KernelBlockedError);
    expect((e as KernelBlockedError).code).toBe("BLOCKED");
    expect(runs.read_data).toBe(reads + 1);
    expect(runs.write_report).toBe(writes);
  });
});
