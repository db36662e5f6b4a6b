/**
 * The SDK against a real kernel with object references (issue 10): a fetch-like tool mapped with
 * `{url}` reaches only URLs under a granted https scope, and a mail tool mapped with `mailto:{to}`
 * needs every recipient granted. `run` is a spy: it must never start on a refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGate, guardToolCall, KernelBlockedError, toolMapFromJson, type Gate } from "@/lib/sdk";
import { call, OPERATOR_TOKEN } from "../support/server";
import { startKernel, type KernelFixture } from "./sdk-fixture";

let k: KernelFixture;
let gate: Gate;
const tools = toolMapFromJson({
  root: "/srv/work",
  tools: { fetch: { reads: ["{url}"] }, send_email: { writes: ["mailto:{to}"] }, read_file: { reads: ["file:{path}"] } },
});

async function op(method: string, p: string, body?: unknown) {
  const res = await call(k.server, method, p, { token: OPERATOR_TOKEN, body });
  if (res.status !== 200) throw new Error(`${method} ${p} -> ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Runs the tool through the gate; returns "ran" or the refusal's codes. */
async function attempt(tool: string, args: Record<string, unknown>): Promise<string> {
  let ran = 0;
  try {
    await guardToolCall(gate, tools, tool, args, () => void ran++);
    return ran === 1 ? "ran" : "did not run";
  } catch (e) {
    expect(ran).toBe(0);
    if (!(e instanceof KernelBlockedError)) throw e;
    return [e.code, ...(e.violations ?? []).map((v) => `${v.code}:${v.resource ?? ""}`)].join(" ");
  }
}

beforeAll(async () => {
  k = await startKernel();
  const tag = k.machine.replace(/^sdk-bot-/, "");
  await op("POST", "/resources", { id: `acme-api-${tag}`, type: "api_endpoint", scope: `/https/api.${tag}.example/repos/acme`, isPublic: false, owner: k.owner });
  await op("POST", "/resources", { id: `team-mail-${tag}`, type: "api_endpoint", scope: `/mailto/${tag}.example`, isPublic: false, owner: k.owner });
  await op("POST", "/grants", { holder: k.machine, resource: `acme-api-${tag}`, canRead: true, canWrite: false, canDelegate: false, grantor: k.owner });
  // Only bob's address, by the exact object: a scope claim on its canonical path.
  await op("POST", "/grants", { holder: k.machine, scope: `/mailto/${tag}.example/bob`, canRead: false, canWrite: true, canDelegate: false, grantor: k.owner });
  gate = await createGate({ url: k.url, token: k.token, machine: k.machine, publicKey: k.publicKey });
}, 180_000);
afterAll(async () => {
  await k?.server.stop();
});

describe("SDK tool maps with object references", () => {
  it("a {url} tool reaches only URLs under the granted https scope", async () => {
    const tag = k.machine.replace(/^sdk-bot-/, "");
    expect(await attempt("fetch", { url: `https://api.${tag}.example/repos/acme/issues/1` })).toBe("ran");
    expect(await attempt("fetch", { url: `https://API.${tag}.EXAMPLE:443/repos/acme` })).toBe("ran");
    expect(await attempt("fetch", { url: `https://api.${tag}.example/repos/other` })).toBe(`BLOCKED READ_DENIED:https://api.${tag}.example/repos/other`);
    expect(await attempt("fetch", { url: `http://api.${tag}.example/repos/acme` })).toBe(`BLOCKED READ_DENIED:http://api.${tag}.example/repos/acme`);
    expect(await attempt("fetch", { url: `https://api.${tag}.example:8443/repos/acme` })).toMatch(/^BLOCKED READ_DENIED/);
    // Tricks are refused before the kernel is asked.
    for (const url of [`https://api.${tag}.example/repos/acme/../other`, `https://x@api.${tag}.example/repos/acme`, `https://api.${tag}.example/repos/acme?redirect=evil`]) {
      expect(await attempt("fetch", { url })).toMatch(/^MAPPING_FAILED/);
    }
  });

  it("mailto with two recipients needs both granted", async () => {
    const tag = k.machine.replace(/^sdk-bot-/, "");
    expect(await attempt("send_email", { to: `Bob@${tag}.example` })).toBe("ran");
    expect(await attempt("send_email", { to: [`bob@${tag}.example`, `carol@${tag}.example`] })).toBe(`BLOCKED WRITE_DENIED:mailto:carol@${tag}.example`);
    expect(await attempt("send_email", { to: `bob@${tag}.example, carol@${tag}.example` })).toMatch(/^MAPPING_FAILED/);
    await op("POST", "/grants", { holder: k.machine, scope: `/mailto/${tag}.example/carol`, canRead: false, canWrite: true, canDelegate: false, grantor: k.owner });
    expect(await attempt("send_email", { to: [`bob@${tag}.example`, `carol@${tag}.example`] })).toBe("ran");
  });

  it("a relative path is refused in the SDK, which runs tools with the arguments as given (only the MCP proxy rewrites them)", async () => {
    expect(await attempt("read_file", { path: "notes/a.txt" })).toMatch(/^MAPPING_FAILED/);
    expect(await attempt("read_file", { path: "/srv/work/notes/a.txt" })).toMatch(/^BLOCKED READ_DENIED/);
  });
});
