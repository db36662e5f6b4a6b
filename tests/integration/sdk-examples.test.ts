/**
 * The examples in examples/ stay runnable: each one runs with tsx against a real kernel (the
 * fixture's machine and resources stand in for the demo data) and must show one permitted and one
 * blocked tool call — and never the blocked tool's body.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type KernelFixture } from "./sdk-fixture";

const ROOT = path.resolve(import.meta.dirname, "../..");
let k: KernelFixture;

function runExample(file: string, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), path.join(ROOT, "examples", file)], {
      cwd: ROOT,
      env: {
        ...process.env,
        FK_URL: k.url,
        FK_TOKEN: k.token,
        FK_MACHINE: k.machine,
        FK_PUBLIC_KEY: k.publicKey,
        FK_DEMO_DATASET: k.data,
        FK_DEMO_REPORT: k.report,
        ...extraEnv,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  k = await startKernel();
});
afterAll(async () => {
  await k?.server.stop();
});

describe("examples", () => {
  it.each(["openai-agents.ts", "anthropic.ts", "vercel-ai.ts", "langchain.ts", "mcp/host.ts"])("%s shows a permitted and a blocked call", async (file) => {
    const r = await runExample(file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/read_data (RAN|-> rows)/);
    expect(r.stdout).toContain('Freedom Kernel BLOCKED the call to tool "write_report"');
    expect(r.stdout).toContain("WRITE_DENIED");
    expect(r.stdout).not.toContain("write_report RAN");
    // The key was pinned: no trust-on-first-use warning.
    expect(r.stderr).not.toContain("pinning is SKIPPED");
  });

  it("without FK_PUBLIC_KEY an example warns that pinning is skipped", async () => {
    const r = await runExample("vercel-ai.ts", { FK_PUBLIC_KEY: "" });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("key pinning is SKIPPED");
    expect(r.stderr).toContain(k.publicKey);
  });

  it("with the kernel unreachable an example refuses to start (no kernel, no agent)", async () => {
    const r = await runExample("langchain.ts", { FK_URL: "http://127.0.0.1:9" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no kernel, no agent (KERNEL_UNAVAILABLE)");
    expect(r.stdout).not.toContain("RAN");
  });
});
