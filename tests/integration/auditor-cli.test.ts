/**
 * The auditor's command line against a REAL export: `audit fetch` (lib/sdk/audit-fetch.ts) downloads
 * the export and the keys from a running kernel, and the real `freedom-kernel audit verify` command
 * (bin/freedom-kernel.mjs) checks it — clean, and after each kind of tampering an attacker with write
 * access to the file could try. Edits are written back in canonical form, so it is the cryptography
 * (hashes, links, signatures, Merkle roots) that catches them, not the parser.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson } from "@/lib/kernel/canonical";
import { toHex } from "@/lib/kernel/bytes";
import { CHECKPOINT_DOMAIN, keyIdOf, publicKeyOf, signBytes, signingBytes } from "@/lib/kernel/signing";
import { createGate } from "@/lib/sdk";
import { runAuditFetchCli } from "@/lib/sdk/audit-fetch";
import { OPERATOR_TOKEN } from "../support/server";
import { startKernel, type KernelFixture } from "./sdk-fixture";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "bin/freedom-kernel.mjs");

let k: KernelFixture;
let dir: string;
let exportPath: string;
let keysPath: string;
let lines: string[];

type Line = Record<string, unknown> & { type: string };
const parse = (l: string) => JSON.parse(l) as Line;

/** Runs the real CLI; resolves with its exit code and output. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Writes `content` lines as a variant of the export and verifies it with the pinned keys. */
async function verifyVariant(name: string, content: string[], keys = keysPath) {
  const file = path.join(dir, `${name}.jsonl`);
  fs.writeFileSync(file, content.join("\n") + "\n");
  return cli(["audit", "verify", file, "--keys", keys]);
}

const entryIndexes = () => lines.flatMap((l, i) => (parse(l).type === "entry" ? [i] : []));

beforeAll(async () => {
  k = await startKernel();
  // Some agent traffic, so the log holds permits, refusals and redemptions besides registrations.
  const gate = await createGate({ url: k.url, token: k.token, machine: k.machine, publicKey: k.publicKey });
  await gate.authorize({ reads: [k.data] });
  await gate.check({ writes: [k.report] });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fk-audit-"));
  exportPath = path.join(dir, "audit.jsonl");
  keysPath = path.join(dir, "keys.json");
  // The real command: `freedom-kernel audit fetch` (bin -> lib/cli/main.ts -> lib/sdk/audit-fetch.ts).
  const fetched = await cli(["audit", "fetch", "--url", k.url, "--out", exportPath, "--keys-out", keysPath], { FK_AUDIT_TOKEN: OPERATOR_TOKEN });
  expect(fetched.code, fetched.stderr).toBe(0);
  lines = fs.readFileSync(exportPath, "utf8").trimEnd().split("\n");
});
afterAll(async () => {
  await k?.server.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("audit fetch", () => {
  it("downloads the export and the keys from a running kernel", async () => {
    expect(parse(lines[0]!).type).toBe("header");
    expect(parse(lines.at(-1)!).type).toBe("checkpoint");
    expect(entryIndexes().length).toBeGreaterThan(10);
    const keys = JSON.parse(fs.readFileSync(keysPath, "utf8")) as { keys: { keyId: string; publicKey: string }[] };
    expect(keys.keys.map((x) => x.keyId)).toContain(k.keyId);
    expect((fs.statSync(exportPath).mode & 0o777).toString(8)).toBe("600");
  });

  it("fails clearly without the right token or server", async () => {
    const wrong = await runAuditFetchCli(["--url", k.url, "--out", path.join(dir, "x.jsonl")], { FK_AUDIT_TOKEN: k.token });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toContain("REFUSED");
    expect(fs.existsSync(path.join(dir, "x.jsonl"))).toBe(false);
    const missing = await runAuditFetchCli(["--url", k.url], {});
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("--token");
  });
});

describe("audit verify on the real export", () => {
  it("a clean export verifies against the pinned keys (exit 0)", async () => {
    const r = await cli(["audit", "verify", exportPath, "--keys", keysPath]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("OK — the audit export verifies");
    expect(r.stdout).toContain(`keys: pinned from ${keysPath}`);
    expect(r.stdout).toMatch(/signed decisions:\s+[1-9]/);
  });

  it("an edited field is caught (exit 1, names the entry)", async () => {
    const i = entryIndexes().find((j) => (parse(lines[j]!).payload as { kind?: string }).kind === "decision")!;
    const entry = parse(lines[i]!);
    const payload = entry.payload as { record: Record<string, unknown> };
    const edited = [...lines];
    edited[i] = canonicalJson({ ...entry, payload: { ...payload, record: { ...payload.record, actor: "someone-else" } } });
    const r = await verifyVariant("edited", edited);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`FAILED at line ${i + 1} \\(entry seq ${String(entry.seq)}\\): BAD_HASH`));
  });

  it("a deleted entry is caught", async () => {
    const i = entryIndexes()[5]!;
    const r = await verifyVariant("deleted", lines.filter((_, j) => j !== i));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED at line \d+ \(entry seq 6\): SEQ_GAP/);
  });

  it("reordered entries are caught", async () => {
    const [a, b] = [entryIndexes()[3]!, entryIndexes()[4]!];
    const swapped = [...lines];
    [swapped[a], swapped[b]] = [lines[b]!, lines[a]!];
    const r = await verifyVariant("reordered", swapped);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`FAILED at line ${a + 1} \\(entry seq 4\\): SEQ_GAP`));
  });

  it("a forged checkpoint is caught: an edited root, or one signed by another key", async () => {
    const last = lines.length - 1;
    const checkpoint = parse(lines[last]!);
    const editedRoot = [...lines];
    editedRoot[last] = canonicalJson({ ...checkpoint, rootHash: "ab".repeat(32) });
    const r1 = await verifyVariant("checkpoint-root", editedRoot);
    expect(r1.code).toBe(1);
    expect(r1.stdout).toContain("CHECKPOINT_BAD_SIGNATURE");

    const attacker = randomBytes(32);
    const { type: _type, signature: _sig, ...body } = checkpoint;
    const forged = { ...body, keyId: keyIdOf(publicKeyOf(attacker)) };
    const resigned = [...lines];
    resigned[last] = canonicalJson({ type: "checkpoint", ...forged, signature: signBytes(signingBytes(CHECKPOINT_DOMAIN, forged), attacker) });
    const r2 = await verifyVariant("checkpoint-foreign", resigned);
    expect(r2.code).toBe(1);
    expect(r2.stdout).toMatch(/FAILED at line \d+: UNKNOWN_KEY — no public key for ed25519:[0-9a-f]+ \(checkpoint\)/);
  });

  it("a cut-off export (final checkpoint removed) is caught", async () => {
    const r = await verifyVariant("truncated", lines.slice(0, -1));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("NOT_COVERED");
  });

  it("the wrong pinned key is caught", async () => {
    const other = toHex(publicKeyOf(randomBytes(32)));
    const wrongKeys = path.join(dir, "wrong-keys.json");
    fs.writeFileSync(wrongKeys, JSON.stringify({ keys: [{ keyId: keyIdOf(other), publicKey: other }] }));
    const r = await verifyVariant("wrong-key", lines, wrongKeys);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED at line 2 \(entry seq 0\): UNKNOWN_KEY/);
  });

  it("a re-serialised (non-canonical) line is refused as such", async () => {
    const edited = [...lines];
    edited[1] = JSON.stringify(parse(lines[1]!), null, 1).replace(/\n/g, " ");
    const r = await verifyVariant("reformatted", edited);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("PARSE_ERROR");
  });
});
