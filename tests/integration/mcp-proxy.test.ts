/**
 * The MCP gating proxy, end to end: a real MCP client talks to the real proxy command
 * (bin/freedom-kernel-mcp-proxy.mjs), which talks to a real MCP server (tests/support/mcp-test-server.ts)
 * and a real kernel — over stdio on both sides, and over Streamable HTTP on both sides. The test
 * server appends a line to a log file whenever a handler runs: a blocked call must leave none.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGate, toolMapFromJson } from "@/lib/sdk";
import { GatingProxy, connectUpstream } from "@/lib/sdk/mcp/proxy";
import { freePort } from "../support/server";
import { closedPortUrl, startKernel, switchableFetch, type KernelFixture } from "./sdk-fixture";

const ROOT = path.resolve(import.meta.dirname, "../..");
const TSX = path.join(ROOT, "node_modules/tsx/dist/cli.mjs");
const PROXY = path.join(ROOT, "bin/freedom-kernel-mcp-proxy.mjs");
const TEST_SERVER = path.join(ROOT, "tests/support/mcp-test-server.ts");

let k: KernelFixture;
let dir: string;
let mapPath: string;
const children: ChildProcess[] = [];
const clients: Client[] = [];

/** Which handlers of the test server ran, in order ("read_data" / "write_report" + args). */
function handlerRuns(log: string): string[] {
  return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : [];
}

function text(result: unknown): string {
  return ((result as CallToolResult).content ?? []).map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

/** The calls every configuration must get right. */
async function exercise(client: Client, log: string): Promise<void> {
  const listed = await client.listTools();
  expect(listed.tools.map((t) => t.name).sort()).toEqual(["read_data", "write_report"]);

  const read = await client.callTool({ name: "read_data", arguments: { dataset: k.data, query: "q1" } });
  expect(read.isError).not.toBe(true);
  expect(text(read)).toBe(`rows for q1 in ${k.data}: 42`);
  expect(handlerRuns(log)).toHaveLength(1);

  const blocked = await client.callTool({ name: "write_report", arguments: { target: k.report, text: "draft" } });
  expect(blocked.isError).toBe(true);
  expect(text(blocked)).toContain('Freedom Kernel BLOCKED the call to tool "write_report"');
  expect(text(blocked)).toContain("WRITE_DENIED");
  expect(handlerRuns(log)).toHaveLength(1);

  // The same tool with a target the machine may write: the {target} template decides.
  const allowed = await client.callTool({ name: "write_report", arguments: { target: k.scratch, text: "notes" } });
  expect(allowed.isError).not.toBe(true);
  expect(text(allowed)).toBe(`wrote 5 chars to ${k.scratch}`);

  const unknown = await client.callTool({ name: "wipe_disk", arguments: {} });
  expect(unknown.isError).toBe(true);
  expect(text(unknown)).toContain("UNMAPPED_TOOL");

  const missingArg = await client.callTool({ name: "write_report", arguments: { text: "no target" } });
  expect(missingArg.isError).toBe(true);
  expect(text(missingArg)).toContain("MAPPING_FAILED");

  const runs = handlerRuns(log);
  expect(runs).toHaveLength(2);
  expect(runs[0]).toMatch(/^read_data /);
  expect(runs[1]).toBe(`write_report ${JSON.stringify({ target: k.scratch, text: "notes" })}`);
  expect(runs.join("\n")).not.toContain(k.report);
}

function proxyArgs(extra: string[]): string[] {
  return [PROXY, "--kernel", k.url, "--machine", k.machine, "--public-key", k.publicKey, "--map", mapPath, ...extra];
}

function proxyEnv(log: string): Record<string, string> {
  return { ...(process.env as Record<string, string>), FK_TOKEN: k.token, MCP_TEST_LOG: log };
}
const spawnEnv = (log: string): NodeJS.ProcessEnv => proxyEnv(log) as NodeJS.ProcessEnv;

/** Spawns a process and waits for `pattern` on its stderr. */
async function spawnAndWait(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let err = "";
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}:\n${err}`)), 30_000);
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = pattern.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${err}`)));
  });
  return { child, match };
}

beforeAll(async () => {
  k = await startKernel();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fk-mcp-"));
  mapPath = path.join(dir, "mapping.json");
  fs.writeFileSync(mapPath, JSON.stringify({ tools: { read_data: { reads: ["{dataset}"] }, write_report: { writes: ["{target}"], description: "report to {target}" } } }));
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await k?.server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("MCP gating proxy", () => {
  it("stdio host <-> proxy <-> stdio server: permitted calls reach the server, blocked ones never do", async () => {
    const log = path.join(dir, "stdio.log");
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: proxyArgs(["--", process.execPath, TSX, TEST_SERVER]),
      env: proxyEnv(log),
      cwd: ROOT,
      stderr: "pipe",
    });
    const client = new Client({ name: "test-host", version: "1.0.0" });
    clients.push(client);
    await client.connect(transport);
    expect(client.getServerVersion()?.name).toBe("freedom-kernel-mcp-proxy");
    await exercise(client, log);
    await client.close();
  });

  it("Streamable HTTP host <-> proxy <-> Streamable HTTP server", async () => {
    const log = path.join(dir, "http.log");
    const env = spawnEnv(log);
    const upstream = await spawnAndWait([TSX, TEST_SERVER, "--http", "0"], env, /listening (http:\/\/\S+)/);
    const port = await freePort();
    await spawnAndWait(proxyArgs(["--upstream-url", upstream.match[1]!, "--listen", String(port)]), env, /listening http:\/\/\S+/);
    const client = new Client({ name: "test-host", version: "1.0.0" });
    clients.push(client);
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
    await exercise(client, log);
    // A foreign Host header (DNS rebinding) is refused before any MCP handling. (fetch cannot set
    // Host, so this one request goes through node:http.)
    const rebinding = await new Promise<{ status: number }>((resolve, reject) => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } });
      const req = http.request(
        { host: "127.0.0.1", port, path: "/mcp", method: "POST", headers: { host: "evil.example", "content-type": "application/json", accept: "application/json, text/event-stream" } },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0 });
        },
      );
      req.once("error", reject);
      req.end(body);
    });
    expect(rebinding.status).toBeGreaterThanOrEqual(400);
    await client.close();
  });

  it("refuses to start when the kernel is unreachable (no kernel, no agent)", async () => {
    const child = spawn(process.execPath, [PROXY, "--kernel", await closedPortUrl(), "--machine", k.machine, "--public-key", k.publicKey, "--map", mapPath, "--", process.execPath, TSX, TEST_SERVER], {
      cwd: ROOT,
      env: spawnEnv(path.join(dir, "none.log")),
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.push(child);
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(err).toContain("no kernel, no agent");
    expect(err).toContain("KERNEL_UNAVAILABLE");
    expect(fs.existsSync(path.join(dir, "none.log"))).toBe(false);
  });

  it("refuses a mapping file with unknown keys, and a missing mapping", async () => {
    const bad = path.join(dir, "bad.json");
    fs.writeFileSync(bad, JSON.stringify({ tools: { write_report: { write: ["{target}"] } } }));
    for (const args of [["--map", bad], []]) {
      const child = spawn(process.execPath, [PROXY, "--kernel", k.url, "--machine", k.machine, "--public-key", k.publicKey, ...args, "--", "true"], { cwd: ROOT, env: spawnEnv(path.join(dir, "x.log")) });
      children.push(child);
      let err = "";
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).toBe(2);
      expect(err).toMatch(args.length ? /unrecognized key|write/i : /--map/);
    }
  });

  it("when the kernel goes away mid-session, calls are refused and the server's handler never runs", async () => {
    const log = path.join(dir, "inproc.log");
    const net = await switchableFetch(k.url);
    const gate = await createGate({ url: k.url, token: k.token, machine: k.machine, publicKey: k.publicKey, fetch: net.fetch, timeoutMs: 1000 });
    const upstream = await connectUpstream({ kind: "stdio", command: process.execPath, args: [TSX, TEST_SERVER], env: { MCP_TEST_LOG: log } });
    const proxy = new GatingProxy({ gate, tools: toolMapFromJson(JSON.parse(fs.readFileSync(mapPath, "utf8"))), upstream });
    const [hostSide, proxySide] = InMemoryTransport.createLinkedPair();
    await proxy.createServer().connect(proxySide);
    const client = new Client({ name: "test-host", version: "1.0.0" });
    clients.push(client);
    await client.connect(hostSide);
    try {
      expect((await client.callTool({ name: "read_data", arguments: { dataset: k.data, query: "a" } })).isError).not.toBe(true);
      net.down();
      const refused = await client.callTool({ name: "read_data", arguments: { dataset: k.data, query: "b" } });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toContain("KERNEL_UNAVAILABLE");
      expect(handlerRuns(log)).toHaveLength(1);
    } finally {
      await client.close();
      await proxy.close();
      await upstream.close();
    }
  });
});
