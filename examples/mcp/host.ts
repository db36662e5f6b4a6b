/**
 * The MCP gating proxy, as a host would use it: an MCP client launches
 *   freedom-kernel-mcp-proxy --kernel $FK_URL --machine research-bot --public-key $FK_PUBLIC_KEY \
 *       --map examples/mcp/mapping.json -- npx tsx tests/support/mcp-test-server.ts
 * over stdio (the token travels in FK_TOKEN, never on the command line), lists the tools, and calls
 * read_data on alice-data (permitted) and write_report to report.txt (blocked: a tool error the
 * model can read, and the server's handler never runs).
 *
 *   FK_URL=http://localhost:3000 FK_TOKEN=fkm_... npx tsx examples/mcp/host.ts
 *
 * In Claude Desktop (or any MCP host) the same command goes into the server configuration:
 *   { "command": "npx", "args": ["freedom-kernel-mcp-proxy", "--kernel", "...", "--machine", "...",
 *     "--public-key", "...", "--map", "/path/mapping.json", "--", "<your server command>"],
 *     "env": { "FK_TOKEN": "fkm_..." } }
 */
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { fetchKernelKey } from "freedom-kernel/sdk";
import { DATASET, REPORT, say } from "../shared";

const NAME = "mcp";
const root = path.resolve(import.meta.dirname, "../..");
const url = process.env.FK_URL ?? "http://localhost:3000";
const machine = process.env.FK_MACHINE ?? "research-bot";
if (!process.env.FK_TOKEN) {
  console.error(`[${NAME}] set FK_TOKEN to the machine token \`npm start\` printed for ${machine}`);
  process.exit(2);
}
let publicKey = process.env.FK_PUBLIC_KEY;
if (!publicKey) {
  publicKey = (await fetchKernelKey(url)).publicKey;
  console.warn(`[${NAME}] WARNING: FK_PUBLIC_KEY is not set: using the key ${url}/api/v1/keys presents (key pinning SKIPPED). Pin it: FK_PUBLIC_KEY=${publicKey}`);
}

const transport = new StdioClientTransport({
  command: process.execPath,
  args: [
    path.join(root, "bin/freedom-kernel-mcp-proxy.mjs"),
    "--kernel", url, "--machine", machine, "--public-key", publicKey, "--map", path.join(root, "examples/mcp/mapping.json"),
    "--", process.execPath, path.join(root, "node_modules/tsx/dist/cli.mjs"), path.join(root, "tests/support/mcp-test-server.ts"),
  ],
  env: { ...(process.env as Record<string, string>) },
  cwd: root,
});
const client = new Client({ name: "example-host", version: "1.0.0" });
await client.connect(transport);
const { tools } = await client.listTools();
say(NAME, `tools through the proxy: ${tools.map((t) => t.name).join(", ")}`);

const show = (r: unknown) => ((r as { content?: { type: string; text?: string }[] }).content ?? []).map((c) => c.text ?? "").join("\n");
const read = await client.callTool({ name: "read_data", arguments: { dataset: DATASET, query: "revenue" } });
say(NAME, `read_data -> ${read.isError ? "ERROR " : ""}${show(read)}`);
const write = await client.callTool({ name: "write_report", arguments: { target: REPORT, text: "Revenue is up." } });
say(NAME, `write_report -> ${write.isError ? "ERROR (isError: true)\n" : ""}${show(write)}`);
await client.close();
