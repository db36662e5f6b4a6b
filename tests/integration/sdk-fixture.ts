/**
 * Shared setup of the SDK, adapter and MCP proxy suites: a real kernel server with one owner, one
 * machine with a token, a dataset the machine may read and a report file it may not write; plus
 * small fake kernels (junk answers, forged signatures, silence) on local ports.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
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

async function must(server: TestServer, method: string, path: string, body: unknown): Promise<any> {
  const res = await call(server, method, path, { token: OPERATOR_TOKEN, body });
  if (res.status !== 200 && res.status !== 201) throw new Error(`${method} ${path} -> ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
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
