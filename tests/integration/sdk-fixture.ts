/**
 * Shared setup of the SDK, adapter and MCP proxy suites: a real kernel server with one owner, one
 * machine with a token, a dataset the machine may read and a report file it may not write; plus
 * small fake kernels (junk answers, forged signatures, silence) on local ports.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseAction } from "@/lib/kernel/action";
import { toHex } from "@/lib/kernel/bytes";
import { buildDecisionRecord, signDecision } from "@/lib/kernel/signing";
import { createGate, type Gate } from "@/lib/sdk";
import { call, OPERATOR_TOKEN, startServer, type StartOptions, type TestServer } from "../support/server";

export interface KernelFixture {
  readonly server: TestServer;
  /** Base URL of the server (http://127.0.0.1:PORT). */
  readonly url: string;
  readonly machine: string;
  readonly owner: string;
  readonly token: string;
  readonly publicKey: string;
  readonly keyId: string;
  /** Readable by the machine. */
  readonly data: string;
  /** Not writable by the machine. */
  readonly report: string;
  /** Writable by the machine (for write paths that are permitted). */
  readonly scratch: string;
}

async function must(server: TestServer, method: string, path: string, body: unknown): Promise<unknown> {
  const res = await call(server, method, path, { token: OPERATOR_TOKEN, body });
  if (res.status !== 200 && res.status !== 201) throw new Error(`${method} ${path} -> ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as unknown;
}

/** Starts a server and registers the fixture's owner, machine, resources, grants and token. */
export async function startKernel(options: StartOptions = {}): Promise<KernelFixture> {
  const server = await startServer(options);
  const tag = Math.random().toString(36).slice(2, 8);
  const owner = `sdk-owner-${tag}`;
  const machine = `sdk-bot-${tag}`;
  const data = `sdk-data-${tag}`;
  const report = `sdk-report-${tag}`;
  const scratch = `sdk-scratch-${tag}`;
  await must(server, "POST", "/owners", { id: owner, displayName: "SDK owner", email: `${owner}@sdk.test`, password: "sdk-owner-password" });
  await must(server, "POST", "/machines", { id: machine, owner });
  await must(server, "POST", "/resources", { id: data, type: "dataset", scope: `/sdk/${tag}/data`, isPublic: false, owner });
  await must(server, "POST", "/resources", { id: report, type: "file", scope: `/sdk/${tag}/report`, isPublic: false, owner });
  await must(server, "POST", "/resources", { id: scratch, type: "file", scope: `/sdk/${tag}/scratch`, isPublic: false, owner });
  await must(server, "POST", "/grants", { holder: machine, resource: data, canRead: true, canWrite: false, canDelegate: false, grantor: owner });
  await must(server, "POST", "/grants", { holder: machine, resource: scratch, canRead: true, canWrite: true, canDelegate: false, grantor: owner });
  const token = (await must(server, "POST", `/machines/${machine}/tokens`, { label: "sdk-tests" })) as { secret: string };
  const keys = (await call(server, "GET", "/keys")).body as { keys: { keyId: string; publicKey: string; status: string }[] };
  const current = keys.keys.find((k) => k.status === "current")!;
  return { server, url: server.url, machine, owner, token: token.secret, publicKey: current.publicKey, keyId: current.keyId, data, report, scratch };
}

export interface FakeKernel {
  readonly url: string;
  /** Requests received, by "METHOD /path". */
  readonly hits: string[];
  close(): Promise<void>;
}

export type FakeAnswer = { status: number; body: string; contentType?: string } | "hang";
export type FakeHandler = (req: http.IncomingMessage, body: string) => FakeAnswer | Promise<FakeAnswer>;

/** A local HTTP server answering with `handler`; "hang" never answers. */
export async function startFakeKernel(handler: FakeHandler): Promise<FakeKernel> {
  const hits: string[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", async () => {
      hits.push(`${req.method} ${new URL(req.url ?? "/", "http://x").pathname}`);
      const out = await handler(req, body);
      if (out === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(out.status, { "content-type": out.contentType ?? "application/json" });
      res.end(out.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A URL on which nothing listens (a port that was free a moment ago). */
export async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * A fetch that goes to the real kernel until down() is called, then to a closed port (a real
 * connection refused), so a gate created against a live kernel can watch it disappear.
 */
export async function switchableFetch(kernelUrl: string): Promise<{ fetch: (input: string, init: RequestInit) => Promise<Response>; down(): void; up(): void }> {
  const dead = await closedPortUrl();
  let isDown = false;
  return {
    fetch: (input, init) => globalThis.fetch(isDown ? input.replace(kernelUrl, dead) : input, init),
    down: () => void (isDown = true),
    up: () => void (isDown = false),
  };
}

/**
 * A fake kernel that passes createGate's start-up checks (it serves the real kernel's keys and
 * accepts the token probe) and then answers /verify and /permits/redeem with `answer`.
 */
export async function startImpostor(k: KernelFixture, answer: FakeHandler): Promise<FakeKernel> {
  const keys = await (await fetch(`${k.url}/api/v1/keys`)).text();
  return startFakeKernel(async (req, body) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/api/v1/keys") return { status: 200, body: keys };
    if (path === "/api/v1/permits/redeem" && body === "{}") {
      return { status: 400, body: JSON.stringify({ error: { code: "VALIDATION_FAILED", message: "the body does not match the contract" }, permitted: false }) };
    }
    return answer(req, body);
  });
}

/**
 * An impostor that answers every /verify with a PERMITTED decision for exactly the asked action,
 * under the real kernel's key id, signed with a key of its own: only the signature check can tell.
 */
export async function startForger(k: KernelFixture): Promise<FakeKernel> {
  const secret = randomBytes(32);
  return startImpostor(k, (req, body) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/api/v1/permits/redeem") return { status: 200, body: body };
    const { action } = JSON.parse(body) as { action: unknown };
    const parsed = parseAction(action);
    if (!parsed.ok) return { status: 400, body: "{}" };
    const record = buildDecisionRecord({
      mode: "live",
      now: Date.now(),
      nonce: toHex(randomBytes(16)),
      keyId: k.keyId,
      auditSeq: 1,
      action: parsed.action,
      result: {
        actionId: parsed.action.actionId,
        permitted: true,
        violations: [],
        warnings: [],
        confidence: 1,
        requiresHumanArbitration: false,
        manipulationScore: 0,
        snapshot: { version: 1, digest: "ab".repeat(32) },
      },
    });
    return { status: 200, body: JSON.stringify({ record, signature: signDecision(record, secret), keyId: k.keyId }) };
  });
}

/** An impostor answering junk with status 200. */
export function startJunkKernel(k: KernelFixture): Promise<FakeKernel> {
  return startImpostor(k, () => ({ status: 200, body: '{"permitted":true,"record":"trust me"}' }));
}

/**
 * Three gates that must refuse everything, each with the code it must refuse with: the kernel
 * went away after start-up, a kernel answering junk, and one forging signatures. The fake kernels
 * are pushed onto `closers` for the suite to close.
 */
export async function brokenKernelGates(k: KernelFixture, closers: FakeKernel[]): Promise<[Gate, string][]> {
  const net = await switchableFetch(k.url);
  const down = await createGate({ url: k.url, token: k.token, machine: k.machine, publicKey: k.publicKey, fetch: net.fetch });
  net.down();
  const junk = await startJunkKernel(k);
  const forger = await startForger(k);
  closers.push(junk, forger);
  return [
    [down, "KERNEL_UNAVAILABLE"],
    [await createGate({ url: junk.url, token: k.token, machine: k.machine, publicKey: k.publicKey }), "BAD_RESPONSE"],
    [await createGate({ url: forger.url, token: k.token, machine: k.machine, publicKey: k.publicKey }), "BAD_SIGNATURE"],
  ];
}

/** Registers one more resource of the fixture's owner (no grant to the machine). */
export async function addResource(k: KernelFixture, id: string, type: "file" | "dataset" = "file"): Promise<void> {
  await must(k.server, "POST", "/resources", { id, type, scope: `/sdk/extra/${id}`, isPublic: false, owner: k.owner });
}

/** The newest PENDING approval of the fixture's machine, as the owner's inbox shows it. */
export async function pendingApproval(k: KernelFixture): Promise<{ id: string; action: unknown; curable: boolean } | undefined> {
  const res = await call(k.server, "GET", "/approvals?status=PENDING", { token: OPERATOR_TOKEN });
  const rows = res.body as { id: string; machineId: string; action: unknown; curable: boolean }[];
  return rows.find((r) => r.machineId === k.machine);
}

/** The owner approves (operator token standing in for the owner's console session). */
export async function approve(k: KernelFixture, approvalId: string): Promise<void> {
  await must(k.server, "POST", `/approvals/${approvalId}/approve`, { ttlSeconds: 300 });
}
