/**
 * The MCP gating proxy: sits between any MCP host (Claude Desktop, an IDE, an agent) and any MCP
 * server, passes `tools/list` through unchanged, and asks the Freedom Kernel about every
 * `tools/call` before forwarding it. A refused call never reaches the server; the host gets a tool
 * error (`isError: true`) whose text lists the kernel's reasons, which the model can read. Tools
 * without a mapping are refused.
 *
 * Only tools are proxied. Resources and prompts are not exposed: reading them would be an ungated
 * data flow, and a gate that lets some reads around it is not a gate.
 *
 * Upstream: a command over stdio, or a Streamable HTTP URL. Host side: stdio, or Streamable HTTP on a
 * local port (sessions, DNS-rebinding protection, optional bearer token).
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  ListToolsRequestSchema,
  ListToolsResultSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
} from "@modelcontextprotocol/sdk/types.js";
import { describeJsonError, parseJsonStrict } from "../../kernel/json";
import { refusalText, KernelBlockedError } from "../errors";
import type { Gate } from "../gate";
import { toToolMap, type ToolMap } from "../mapping";
import { authorizeToolCall } from "../tools";

export const PROXY_NAME = "freedom-kernel-mcp-proxy";
export const PROXY_VERSION = "0.1.0";

export type UpstreamSpec =
  | { readonly kind: "stdio"; readonly command: string; readonly args: readonly string[]; readonly env?: Record<string, string> | undefined; readonly cwd?: string | undefined }
  | { readonly kind: "http"; readonly url: string; readonly headers?: Record<string, string> | undefined };

/** Environment variables never passed to the upstream server: the kernel token is the proxy's alone. */
const PRIVATE_ENV = ["FK_TOKEN", "FK_PROXY_TOKEN"];

/** Connects to the upstream MCP server. */
export async function connectUpstream(spec: UpstreamSpec): Promise<Client> {
  const client = new Client({ name: PROXY_NAME, version: PROXY_VERSION });
  let transport: Transport;
  if (spec.kind === "stdio") {
    const env: Record<string, string> = { ...getDefaultEnvironment(), ...(spec.env ?? {}) };
    for (const name of PRIVATE_ENV) delete env[name];
    transport = new StdioClientTransport({ command: spec.command, args: [...spec.args], env, stderr: "inherit", ...(spec.cwd ? { cwd: spec.cwd } : {}) });
  } else {
    transport = new StreamableHTTPClientTransport(new URL(spec.url), spec.headers ? { requestInit: { headers: spec.headers } } : undefined);
  }
  await client.connect(transport);
  return client;
}

export interface GatingProxyOptions {
  readonly gate: Gate;
  readonly tools: ToolMap;
  readonly upstream: Client;
  /** Session id for the kernel's information-flow tracking (one per proxy). */
  readonly session?: string | undefined;
  /** Called for every gated call (for logs); never affects the decision. */
  readonly onDecision?: ((event: { tool: string; permitted: boolean; code?: string }) => void) | undefined;
}

/**
 * The host-facing side: makes one MCP Server per host connection, each forwarding to the shared
 * upstream client. `notifications/tools/list_changed` from upstream reaches every host.
 */
export class GatingProxy {
  readonly #o: GatingProxyOptions;
  readonly #servers = new Set<Server>();

  constructor(options: GatingProxyOptions) {
    this.#o = options;
    options.upstream.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      for (const s of this.#servers) await s.sendToolListChanged().catch(() => undefined);
    });
  }

  /** A new Server for one host connection. */
  createServer(): Server {
    const instructions = this.#o.upstream.getInstructions();
    const server = new Server(
      { name: PROXY_NAME, version: PROXY_VERSION },
      { capabilities: { tools: { listChanged: true } }, ...(instructions ? { instructions } : {}) },
    );
    server.setRequestHandler(ListToolsRequestSchema, async (request, extra) =>
      this.#o.upstream.request({ method: "tools/list", params: request.params }, ListToolsResultSchema, { signal: extra.signal }),
    );
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => this.callTool(request.params.name, request.params.arguments, extra.signal));
    server.onclose = () => void this.#servers.delete(server);
    this.#servers.add(server);
    return server;
  }

  /** Gates one call; forwards it upstream only on a verified, redeemed permit. */
  async callTool(name: string, args: Record<string, unknown> | undefined, signal?: AbortSignal): Promise<CallToolResult> {
    let decision;
    try {
      decision = await authorizeToolCall(this.#o.gate, this.#o.tools, name, args ?? {}, { session: this.#o.session, signal, forwardsRewrittenArgs: true });
    } catch (error) {
      decision = { permitted: false as const, error: new KernelBlockedError("KERNEL_UNAVAILABLE", "the kernel check failed unexpectedly", { tool: name, cause: error }) };
    }
    this.#o.onDecision?.({ tool: name, permitted: decision.permitted, ...(decision.permitted ? {} : { code: decision.error.code }) });
    if (!decision.permitted) {
      return { content: [{ type: "text", text: refusalText(decision.error, name) }], isError: true, _meta: { "freedom-kernel/code": decision.error.code } };
    }
    // The arguments the kernel decided on: a relative path of a `file:` template goes upstream as
    // the absolute path it was resolved to (the mapping is a pure function of the arguments).
    const mapped = toToolMap(this.#o.tools).map(name, args ?? {});
    const forwarded = mapped.ok && mapped.args !== undefined ? mapped.args : args;
    // request(), not callTool(): the proxy passes results through as the server sent them.
    return (await this.#o.upstream.request({ method: "tools/call", params: { name, ...(forwarded ? { arguments: forwarded } : {}) } }, CallToolResultSchema, {
      signal,
    })) as CallToolResult;
  }

  async close(): Promise<void> {
    for (const s of this.#servers) await s.close().catch(() => undefined);
    this.#servers.clear();
  }
}

/** Serves the proxy to one host over stdio (this process's stdin/stdout). */
export async function serveStdio(proxy: GatingProxy): Promise<{ close(): Promise<void> }> {
  const server = proxy.createServer();
  await server.connect(new StdioServerTransport());
  return { close: () => server.close() };
}

export interface HttpHostOptions {
  readonly port: number;
  /** Default 127.0.0.1. */
  readonly host?: string | undefined;
  /** When set, hosts must send `Authorization: Bearer <token>`. */
  readonly bearerToken?: string | undefined;
  /** Largest request body. Default 4 MiB. */
  readonly maxBodyBytes?: number | undefined;
}

/** Serves the proxy over Streamable HTTP at http://host:port/mcp, one MCP session per host. */
export async function serveHttp(proxy: GatingProxy, options: HttpHostOptions): Promise<{ url: string; close(): Promise<void> }> {
  const host = options.host ?? "127.0.0.1";
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let port = options.port;
  const httpServer = http.createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32603, message: "internal error" }, id: null }));
    });
  });
  const fail = (res: http.ServerResponse, status: number, message: string): void => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== "/mcp") return fail(res, 404, "the MCP endpoint is /mcp");
    if (options.bearerToken !== undefined && req.headers.authorization !== `Bearer ${options.bearerToken}`) return fail(res, 401, "unauthorized");
    const sid = req.headers["mcp-session-id"];
    let body: unknown;
    if (req.method === "POST") {
      const text = await readBody(req, maxBody);
      if (text === undefined) return fail(res, 413, "request body too large");
      const parsed = parseJsonStrict(text);
      if (!parsed.ok) return fail(res, 400, `the body is not strict JSON: ${describeJsonError(parsed)}`);
      body = parsed.value;
    }
    let transport = typeof sid === "string" ? sessions.get(sid) : undefined;
    if (transport === undefined) {
      if (typeof sid === "string") return fail(res, 404, "unknown session");
      if (req.method !== "POST") return fail(res, 400, "start a session with an initialize request");
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, created),
        onsessionclosed: (id) => void sessions.delete(id),
        enableDnsRebindingProtection: true,
        allowedHosts: [`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`],
      });
      created.onclose = () => {
        if (created.sessionId) sessions.delete(created.sessionId);
      };
      await proxy.createServer().connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, body);
  }

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(options.port, host, () => resolve());
  });
  port = (httpServer.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/mcp`,
    close: async () => {
      for (const t of sessions.values()) await t.close().catch(() => undefined);
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(c);
    });
    req.on("end", () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
