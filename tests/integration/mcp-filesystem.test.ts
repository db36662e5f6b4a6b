/**
 * The real `@modelcontextprotocol/server-filesystem` behind the real MCP gating proxy, over stdio
 * on both sides, against a real kernel (issue 10). Nothing under the tree is registered file by
 * file: one resource covers the granted folder, and the proxy's mapping turns tool arguments into
 * object references (`file:{path}`). The upstream server is allowed the whole temporary tree, wider
 * than what is granted, so every refusal here is the kernel's. A transparent stdio shim in front
 * of the upstream server logs every message the proxy sends it: a refused call must leave none.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, OPERATOR_TOKEN } from "../support/server";
import { approve, pendingApproval, startKernel, type KernelFixture } from "./sdk-fixture";

const ROOT = path.resolve(import.meta.dirname, "../..");
const PROXY = path.join(ROOT, "bin/freedom-kernel-mcp-proxy.mjs");
const TEE = path.join(ROOT, "tests/support/stdio-tee.mjs");
const FS_SERVER = path.join(ROOT, "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js");

let k: KernelFixture;
let tree: string;
let granted: string;
let upstreamLog: string;
let client: Client;

function text(result: unknown): string {
  return ((result as CallToolResult).content ?? []).map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

/** The tools/call requests the upstream server received, as [tool, arguments]. */
function upstreamCalls(): [string, Record<string, unknown>][] {
  if (!fs.existsSync(upstreamLog)) return [];
  return fs
    .readFileSync(upstreamLog, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { method?: string; params?: { name: string; arguments: Record<string, unknown> } })
    .filter((m) => m.method === "tools/call")
    .map((m) => [m.params!.name, m.params!.arguments]);
}

async function op(method: string, p: string, body?: unknown) {
  const res = await call(k.server, method, p, { token: OPERATOR_TOKEN, body });
  if (res.status !== 200) throw new Error(`${method} ${p} -> ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

beforeAll(async () => {
  k = await startKernel();
  // realpath: the upstream server resolves symlinks (macOS /tmp, for one); the kernel sees text.
  tree = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "fk-fs-")));
  granted = path.join(tree, "granted");
  for (const d of ["granted/notes", "secret", "other"]) fs.mkdirSync(path.join(tree, d), { recursive: true });
  fs.writeFileSync(path.join(granted, "notes/q3.txt"), "quarterly numbers: 42\n");
  fs.writeFileSync(path.join(tree, "secret/key.txt"), "do not read\n");
  fs.writeFileSync(path.join(tree, "other/a.txt"), "approved content\n");
  fs.writeFileSync(path.join(tree, "other/b.txt"), "sibling content\n");
  upstreamLog = path.join(tree, "..", `${path.basename(tree)}-upstream.log`);
  // One resource per folder of the owner's, one grant: read and write under granted/ only.
  const tag = path.basename(tree).replace(/[^a-zA-Z0-9]/g, "");
  await op("POST", "/resources", { id: `fs-granted-${tag}`, type: "file", scope: granted, isPublic: false, owner: k.owner });
  await op("POST", "/resources", { id: `fs-secret-${tag}`, type: "file", scope: path.join(tree, "secret"), isPublic: false, owner: k.owner });
  await op("POST", "/resources", { id: `fs-other-${tag}`, type: "file", scope: path.join(tree, "other"), isPublic: false, owner: k.owner });
  await op("POST", "/grants", { holder: k.machine, resource: `fs-granted-${tag}`, canRead: true, canWrite: true, canDelegate: false, grantor: k.owner });

  const mapPath = path.join(tree, "..", `${path.basename(tree)}-map.json`);
  fs.writeFileSync(
    mapPath,
    JSON.stringify({
      root: granted,
      tools: {
        read_text_file: { reads: ["file:{path}"] },
        read_multiple_files: { reads: ["file:{paths}"] },
        write_file: { writes: ["file:{path}"], description: "write {path}" },
        create_directory: { writes: ["file:{path}"] },
        list_directory: { reads: ["file:{path}"] },
        list_allowed_directories: {},
      },
    }),
  );
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [PROXY, "--kernel", k.url, "--machine", k.machine, "--public-key", k.publicKey, "--map", mapPath, "--", process.execPath, TEE, upstreamLog, "--", process.execPath, FS_SERVER, tree],
    env: { ...(process.env as Record<string, string>), FK_TOKEN: k.token },
    cwd: ROOT,
    stderr: "pipe",
  });
  client = new Client({ name: "fs-test-host", version: "1.0.0" });
  await client.connect(transport);
}, 180_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await k?.server.stop();
  if (tree) fs.rmSync(tree, { recursive: true, force: true });
});

describe("MCP proxy in front of @modelcontextprotocol/server-filesystem", () => {
  it("lists the real server's tools, and reads a file under the granted folder without registering it", async () => {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(["read_text_file", "write_file", "list_directory", "read_multiple_files"]));
    const read = await client.callTool({ name: "read_text_file", arguments: { path: path.join(granted, "notes/q3.txt") } });
    expect(read.isError).not.toBe(true);
    expect(text(read)).toContain("quarterly numbers: 42");
    // A relative path is resolved against the mapping's root, and goes upstream as that absolute path.
    const relative = await client.callTool({ name: "read_text_file", arguments: { path: "notes/q3.txt" } });
    expect(text(relative)).toContain("quarterly numbers: 42");
    expect(upstreamCalls().at(-1)).toEqual(["read_text_file", { path: path.join(granted, "notes/q3.txt") }]);
  });

  it("refuses reads outside the grant, traversal and encoding tricks; the upstream server never receives them", async () => {
    const before = upstreamCalls().length;
    const tricks: [string, string][] = [
      [path.join(tree, "secret/key.txt"), "READ_DENIED"],
      [`${granted}/../secret/key.txt`, "MAPPING_FAILED"],
      ["../secret/key.txt", "MAPPING_FAILED"],
      ["notes/../../secret/key.txt", "MAPPING_FAILED"],
      [`file://${granted}/%2e%2e/secret/key.txt`, "MAPPING_FAILED"],
      [`file://${granted}%2F..%2Fsecret/key.txt`, "MAPPING_FAILED"],
      [`${granted}//..//secret/key.txt`, "MAPPING_FAILED"],
      [`${granted}/notes\\..\\..\\secret\\key.txt`, "MAPPING_FAILED"],
      ["~/.ssh/id_rsa", "MAPPING_FAILED"],
      [`${granted}/%2e%2e/secret/key.txt`, "MAPPING_FAILED"],
    ];
    for (const [p, code] of tricks) {
      const res = await client.callTool({ name: "read_text_file", arguments: { path: p } });
      expect(res.isError, p).toBe(true);
      expect(text(res), p).toContain(code);
      expect(text(res), p).not.toContain("do not read");
    }
    // A list argument: one reference per path, and one refused path refuses the whole call.
    const many = await client.callTool({ name: "read_multiple_files", arguments: { paths: [path.join(granted, "notes/q3.txt"), path.join(tree, "secret/key.txt")] } });
    expect(many.isError).toBe(true);
    expect(text(many)).toContain("READ_DENIED");
    expect(upstreamCalls()).toHaveLength(before);
    expect(JSON.stringify(upstreamCalls())).not.toContain("secret");
  });

  it("writes a new file under the granted folder", async () => {
    const target = path.join(granted, "notes/new.txt");
    const res = await client.callTool({ name: "write_file", arguments: { path: target, content: "written through the gate" } });
    expect(res.isError).not.toBe(true);
    expect(fs.readFileSync(target, "utf8")).toBe("written through the gate");
    const outside = await client.callTool({ name: "write_file", arguments: { path: path.join(tree, "other/new.txt"), content: "no" } });
    expect(outside.isError).toBe(true);
    expect(text(outside)).toContain("WRITE_DENIED");
    expect(fs.existsSync(path.join(tree, "other/new.txt"))).toBe(false);
  });

  it("a file: URI as a path argument is refused: the server would create it outside the granted folder", async () => {
    const made = await client.callTool({ name: "create_directory", arguments: { path: path.join(granted, "made") } });
    expect(made.isError).not.toBe(true);
    expect(fs.statSync(path.join(granted, "made")).isDirectory()).toBe(true);
    // The kernel would check <granted>/by-uri, but server-filesystem takes "file://..." as a
    // relative path and resolves it against its allowed directory: <tree>/file:/<granted>/by-uri.
    const before = upstreamCalls().length;
    for (const uri of [`file://${granted}/by-uri`, `file:${granted}/%62y-uri`, `FILE://${granted}/by-uri`]) {
      const res = await client.callTool({ name: "create_directory", arguments: { path: uri } });
      expect(res.isError, uri).toBe(true);
      expect(text(res), uri).toContain("MAPPING_FAILED");
    }
    expect(upstreamCalls()).toHaveLength(before);
    expect(fs.readdirSync(tree).sort()).toEqual(["granted", "other", "secret"]);
    expect(fs.existsSync(path.join(granted, "by-uri"))).toBe(false);
  });

  it("a blocked read approved in the inbox succeeds on retry; its sibling stays blocked", async () => {
    const a = path.join(tree, "other/a.txt");
    const first = await client.callTool({ name: "read_text_file", arguments: { path: a } });
    expect(first.isError).toBe(true);
    expect(text(first)).toContain("READ_DENIED");
    const pending = await pendingApproval(k);
    expect(pending).toBeDefined();
    const inbox = (await op("GET", "/approvals?status=PENDING")) as { id: string; missingGrants: { resource: string; canonical?: string }[] }[];
    expect(inbox.find((x) => x.id === pending!.id)!.missingGrants).toEqual([expect.objectContaining({ resource: a, canonical: a })]);
    await approve(k, pending!.id);
    const retry = await client.callTool({ name: "read_text_file", arguments: { path: a } });
    expect(retry.isError).not.toBe(true);
    expect(text(retry)).toContain("approved content");
    const sibling = await client.callTool({ name: "read_text_file", arguments: { path: path.join(tree, "other/b.txt") } });
    expect(sibling.isError).toBe(true);
    expect(text(sibling)).toContain("READ_DENIED");
    expect(JSON.stringify(upstreamCalls())).not.toContain("b.txt");
  });
});
