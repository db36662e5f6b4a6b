/**
 * A tiny MCP server with two tools, for the MCP gating proxy's tests and example:
 *   read_data({ dataset, query })   -> "rows for <query> in <dataset>: 42"
 *   write_report({ target, text })  -> "wrote <n> chars to <target>"
 * Every handler run appends one line ("<tool> <json args>") to the file named by MCP_TEST_LOG, so a
 * test can prove which handlers ran — and that a blocked one never did.
 *
 * Transports: stdio by default; `--http PORT` serves Streamable HTTP on 127.0.0.1:PORT/mcp (and
 * prints "listening <url>" on stderr once ready).
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

function record(tool: string, args: unknown): void {
  const log = process.env.MCP_TEST_LOG;
  if (log) fs.appendFileSync(log, `${tool} ${JSON.stringify(args)}\n`);
}

export function createTestServer(): McpServer {
  const server = new McpServer({ name: "fk-test-tools", version: "1.0.0" });
  server.registerTool(
    "read_data",
    { description: "Reads rows from a dataset", inputSchema: { dataset: z.string(), query: z.string() } },
    async (args) => {
      record("read_data", args);
      return { content: [{ type: "text", text: `rows for ${args.query} in ${args.dataset}: 42` }] };
    },
  );
  server.registerTool(
    "write_report",
    { description: "Writes a report to a target", inputSchema: { target: z.string(), text: z.string() } },
    async (args) => {
      record("write_report", args);
      return { content: [{ type: "text", text: `wrote ${args.text.length} chars to ${args.target}` }] };
    },
  );
  return server;
}

async function serveHttp(port: number): Promise<void> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const httpServer = http.createServer(async (req, res) => {
    try {
      const sid = req.headers["mcp-session-id"];
      let transport = typeof sid === "string" ? sessions.get(sid) : undefined;
      if (!transport) {
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => void sessions.set(id, transport!),
        });
        await createTestServer().connect(transport);
      }
      await transport.handleRequest(req, res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => httpServer.listen(port, "127.0.0.1", resolve));
  process.stderr.write(`listening http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/mcp\n`);
}

// Serve only when run as a program, never when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const httpAt = process.argv.indexOf("--http");
  if (httpAt >= 0) await serveHttp(Number(process.argv[httpAt + 1] ?? 0));
  else await createTestServer().connect(new StdioServerTransport());
}
