import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, type CliContext } from "../run";
import { buildAuditEntry, buildCheckpoint, type AuditEntry } from "../../kernel/audit";
import { serializeAuditExport, verifyAuditExport } from "../../kernel/audit-export";
import { signBytes, verifyDecision, verifyPermit, verifyPlanDecision, keyIdOf, publicKeyOf } from "../../kernel/signing";
import { canonicalJson } from "../../kernel/canonical";
import { toHex } from "../../kernel/bytes";
import { KEY_ID_A, NOW, PUBLIC_A, SECRET_A } from "../../kernel/__tests__/evidence-fixtures";
import { baseRegistry } from "../../kernel/__tests__/extensions-fixtures";

const ROOT = path.resolve(import.meta.dirname, "../../..");

let counter = 0;
const context: CliContext = {
  now: NOW,
  randomBytes: (n) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + counter++) & 0xff),
};
const files = new Map<string, Uint8Array>();
const readFile = (p: string): Uint8Array => {
  const f = files.get(p);
  if (f === undefined) throw new Error(`ENOENT: ${p}`);
  return f;
};
const text = (s: string) => new TextEncoder().encode(s);
const run = (argv: string[], stdin = "") => runCli(argv, stdin, readFile, context);
const json = (s: string) => JSON.parse(s) as Record<string, unknown>;

// The original README example, in the original kernel's JSON wire format.
const alice = { name: "Alice", kind: "HUMAN" };
const bot = { name: "ResearchBot", kind: "MACHINE" };
const bob = { name: "Bob", kind: "HUMAN" };
const dataset = { name: "alice-data", rtype: "dataset", scope: "/data/alice/" };
const report = { name: "report.txt", rtype: "file", scope: "/outputs/" };
const bobData = { name: "bob-private", rtype: "dataset", scope: "/data/bob/" };
const README_REGISTRY = {
  claims: [
    { holder: alice, resource: dataset, can_read: true, can_write: true, can_delegate: true },
    { holder: alice, resource: report, can_read: true, can_write: true, can_delegate: true },
    { holder: bot, resource: dataset, can_read: true },
    { holder: bot, resource: report, can_read: true, can_write: true },
    { holder: bob, resource: bobData, can_read: true },
  ],
  machine_owners: [{ machine: bot, owner: alice }],
};
const wire = (action: object) => JSON.stringify({ registry: README_REGISTRY, action });
const WRITE_REPORT = wire({ action_id: "write-report", actor: bot, resources_write: [report] });
const SELF_EXPAND = wire({ action_id: "self-expand", actor: bot, increases_machine_sovereignty: true });
const READ_BOB = wire({ action_id: "read-bob", actor: bot, resources_read: [bobData] });

const native = (action: object, extra: object = {}) => JSON.stringify({ registry: baseRegistry(), action, ...extra });

describe("freedom-kernel verify: the original README example", () => {
  it("delegated write: PERMITTED", () => {
    const r = run(["verify"], WRITE_REPORT);
    expect(r.exitCode).toBe(0);
    expect(json(r.stdout)).toMatchObject({ actionId: "write-report", permitted: true, violations: [], confidence: 1 });
    expect(r.stderr).toContain('read as "/outputs"'); // the trailing-slash note
  });

  it("sovereignty flag: BLOCKED", () => {
    const r = run(["verify"], SELF_EXPAND);
    expect(r.exitCode).toBe(0);
    const out = json(r.stdout);
    expect(out.permitted).toBe(false);
    expect(out.violations).toEqual([expect.objectContaining({ code: "FORBIDDEN_FLAG", flag: "increases_machine_sovereignty" })]);
  });

  it("read of bob-private: BLOCKED (A7)", () => {
    const r = run(["verify"], READ_BOB);
    expect(r.exitCode).toBe(0);
    const out = json(r.stdout);
    expect(out.permitted).toBe(false);
    expect(out.violations).toEqual([expect.objectContaining({ code: "READ_DENIED", resource: "dataset:bob-private" })]);
  });

  it("--format original renders the original shape", () => {
    const ok = json(run(["verify", "--format", "original"], WRITE_REPORT).stdout);
    expect(ok).toMatchObject({ action_id: "write-report", permitted: true, violations: [], requires_human_arbitration: false, manipulation_score: 0 });
    const blocked = json(run(["verify", "--format=original"], SELF_EXPAND).stdout);
    expect(blocked.permitted).toBe(false);
    expect((blocked.violations as string[])[0]).toMatch(/^FORBIDDEN \(increases machine sovereignty\)/);
  });

  it("a misspelt flag in the wire format fails closed", () => {
    const r = run(["verify"], wire({ action_id: "x", actor: bot, increases_machine_soverignty: true }));
    expect(r.exitCode).toBe(0);
    expect(json(r.stdout)).toMatchObject({ permitted: false, violations: [expect.objectContaining({ code: "MALFORMED_ACTION" })] });
  });
});

describe("freedom-kernel verify: native format", () => {
  it("decides a native request; lists the registry omits default to empty", () => {
    const r = run(["verify"], native({ actionId: "w", actor: "bot", writes: ["report.txt"] }));
    expect(r.exitCode).toBe(0);
    expect(json(r.stdout)).toMatchObject({ actionId: "w", permitted: true, snapshot: { version: 1 } });
    const minimal = JSON.stringify({
      registry: { entities: [{ id: "h", kind: "HUMAN", displayName: "H" }] },
      action: { actionId: "a", actor: "h" },
    });
    expect(json(run(["verify"], minimal).stdout)).toMatchObject({ permitted: true, snapshot: { version: 0 } });
  });

  it("a malformed action is a BLOCKED decision, not an error", () => {
    const r = run(["verify"], native({ actionId: "w", actor: "bot", writes: "report.txt" }));
    expect(r.exitCode).toBe(0);
    expect(json(r.stdout)).toMatchObject({ permitted: false, violations: [expect.objectContaining({ code: "MALFORMED_ACTION" })] });
  });

  it("time: --now beats the request's now, which beats the clock", () => {
    const reg = baseRegistry();
    const expiring = {
      ...reg,
      claims: reg.claims.map((c) => (c.id === "c-bot-report" ? { ...c, expiresAt: NOW + 1000 } : c)),
    };
    const req = (extra: object) => JSON.stringify({ registry: expiring, action: { actionId: "w", actor: "bot", writes: ["report.txt"] }, ...extra });
    expect(json(run(["verify"], req({})).stdout).permitted).toBe(true);
    expect(json(run(["verify"], req({ now: NOW + 2000 })).stdout).permitted).toBe(false);
    expect(json(run(["verify"], req({ now: new Date(NOW + 2000).toISOString() })).stdout).permitted).toBe(false);
    expect(json(run(["verify", "--now", String(NOW)], req({ now: NOW + 2000 })).stdout).permitted).toBe(true);
    expect(json(run(["verify", "--now", new Date(NOW + 5000).toISOString()], req({})).stdout).permitted).toBe(false);
  });

  it.each([
    ["not JSON", ["verify"], "{"],
    ["not an object", ["verify"], "[1]"],
    ["empty stdin", ["verify"], ""],
    ["no action", ["verify"], JSON.stringify({ registry: {} })],
    ["an unknown request field", ["verify"], JSON.stringify({ registry: {}, action: {}, acton: {} })],
    ["an invalid registry", ["verify"], JSON.stringify({ registry: { entities: [{ id: "x", kind: "ALIEN", displayName: "x" }] }, action: {} })],
    ["an invalid wire registry", ["verify"], JSON.stringify({ registry: { claims: [{ holder: alice }], machine_owners: [] }, action: { action_id: "a", actor: alice } })],
    ["a bad --now", ["verify", "--now", "yesterday"], WRITE_REPORT],
    ["a bad --format", ["verify", "--format", "yaml"], WRITE_REPORT],
    ["an unknown option", ["verify", "--fast"], WRITE_REPORT],
    ["a missing key file", ["verify", "--sign-key", "/nope"], WRITE_REPORT],
  ])("unusable input (%s): exit 2 with a message", (_name, argv, stdin) => {
    const r = run(argv, stdin);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^freedom-kernel: /);
  });
});

describe("freedom-kernel verify --jsonl", () => {
  it("one result per line, aligned, exit 2 if any line was unusable", () => {
    const stdin = [WRITE_REPORT, SELF_EXPAND, "not json", READ_BOB].join("\n") + "\n";
    const r = run(["verify", "--jsonl"], stdin);
    const lines = r.stdout.trimEnd().split("\n").map(json);
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => l.permitted ?? l.error)).toEqual([true, false, expect.stringMatching(/^line 3 is not valid JSON: /), false]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("line 3: line 3 is not valid JSON");
    const clean = run(["verify", "--jsonl", "--format", "original"], [WRITE_REPORT, READ_BOB].join("\n"));
    expect(clean.exitCode).toBe(0);
    expect(clean.stdout.trimEnd().split("\n").map((l) => json(l).permitted)).toEqual([true, false]);
  });
});

describe("freedom-kernel verify: one JSON reading (duplicate member names)", () => {
  // The wire request with a second, permitting "increases_machine_sovereignty": false after true.
  const dupFlag = WIRE_SELF_EXPAND_DUP();
  function WIRE_SELF_EXPAND_DUP(): string {
    const t = SELF_EXPAND.replace('"increases_machine_sovereignty":true', '"increases_machine_sovereignty":true,"increases_machine_sovereignty":false');
    if (t === SELF_EXPAND) throw new Error("fixture did not change");
    return t;
  }

  it("a wire request with a duplicated flag: exit 2 naming the member's path, no decision", () => {
    const r = run(["verify"], dupFlag);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('the request has a duplicate member name "increases_machine_sovereignty" at $.action.increases_machine_sovereignty');
  });

  it("a native request with a duplicated member at depth: exit 2", () => {
    const r = run(["verify"], native({ actionId: "x", actor: "bot", reads: ["alice-data"] }).replace('"actor":"bot"', '"actor":"bot","actor":"alice"'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("$.action.actor");
    const plan = run(["verify-plan"], JSON.stringify({ registry: baseRegistry(), actions: [{ actionId: "a", actor: "bot" }, { actionId: "b", actor: "bot" }] }).replace('"actionId":"b"', '"actionId":"b","actionId":"c"'));
    expect(plan.exitCode).toBe(2);
    expect(plan.stderr).toContain("$.actions[1].actionId");
  });

  it("JSON Lines: the line with the duplicate is named and unusable, the others decided, exit 2", () => {
    const r = run(["verify", "--jsonl"], [WRITE_REPORT, dupFlag, READ_BOB].join("\n") + "\n");
    expect(r.exitCode).toBe(2);
    const out = r.stdout.trimEnd().split("\n").map(json);
    expect(out.map((l) => l.permitted ?? l.error)).toEqual([true, 'line 2 has a duplicate member name "increases_machine_sovereignty" at $.action.increases_machine_sovereignty', false]);
    expect(r.stderr).toContain("line 2: line 2 has a duplicate member name");
  });

  it("escaped-equal names are one name; trailing commas and lone surrogates are refused", () => {
    expect(run(["verify"], dupFlag.replace('"increases_machine_sovereignty":false', '"increases_machine_sovereign\\u0074y":false')).stderr).toContain("duplicate member name");
    expect(run(["verify"], WRITE_REPORT.replace(/}$/, ",}")).exitCode).toBe(2);
    expect(run(["verify"], WRITE_REPORT.replace('"write-report"', '"write-\\ud800"')).stderr).toContain("lone surrogate");
  });
});

describe("freedom-kernel verify --sign-key", () => {
  files.set("key.hex", text(SECRET_A + "\n"));
  files.set("key.raw", Uint8Array.from(Buffer.from(SECRET_A, "hex")));
  files.set("bad.key", text("nope"));

  it("adds a stateless signed record that verifies and is never a permit", () => {
    for (const key of ["key.hex", "key.raw"]) {
      const out = json(run(["verify", "--sign-key", key], WRITE_REPORT).stdout);
      expect(out.permitted).toBe(true);
      expect(out.keyId).toBe(KEY_ID_A);
      const record = out.record as Record<string, unknown>;
      expect(record).toMatchObject({ v: 1, mode: "stateless", actionId: "write-report", actor: "ResearchBot", permitted: true, keyId: KEY_ID_A });
      expect(record.expiresAt).toBeUndefined();
      expect(verifyDecision(record, out.signature, PUBLIC_A)).toBe(true);
      expect(verifyPermit(record, out.signature, PUBLIC_A, { now: NOW })).toEqual({ ok: false, reason: "STATELESS" });
    }
  });

  it("signs BLOCKED and malformed decisions too", () => {
    const blocked = json(run(["verify", "--sign-key", "key.hex"], SELF_EXPAND).stdout);
    expect(verifyDecision(blocked.record, blocked.signature, PUBLIC_A)).toBe(true);
    const malformed = json(run(["verify", "--sign-key", "key.hex"], native({ actionId: "w", actor: "bot", bogus: 1 })).stdout);
    expect((malformed.record as { permitted: boolean }).permitted).toBe(false);
    expect(verifyDecision(malformed.record, malformed.signature, PUBLIC_A)).toBe(true);
  });

  it("refuses a key file that is not a key", () => {
    expect(run(["verify", "--sign-key", "bad.key"], WRITE_REPORT).exitCode).toBe(2);
  });
});

describe("freedom-kernel verify-plan", () => {
  const reg = baseRegistry();
  const labelled = {
    ...reg,
    resources: reg.resources.map((r) => (r.id === "alice-data" ? { ...r, ifcLabel: "SECRET" } : r)),
  };
  const plan = JSON.stringify({
    registry: labelled,
    actions: [
      { actionId: "read", actor: "bot", reads: ["alice-data"] },
      { actionId: "leak", actor: "bot", writes: ["report.txt"] },
    ],
  });

  it("catches a downward flow across steps, signs the plan", () => {
    const out = json(run(["verify-plan", "--sign-key", "key.hex"], plan).stdout);
    expect(out.permitted).toBe(false);
    const steps = out.steps as { permitted: boolean; violations: { code: string }[] }[];
    expect(steps[0]!.permitted).toBe(true);
    expect(steps[1]!.violations.map((v) => v.code)).toContain("IFC_DOWNWARD_FLOW");
    expect(verifyPlanDecision(out.record, out.signature, PUBLIC_A)).toBe(true);
  });

  it("accepts the wire format and the original rendering", () => {
    const r = run(
      ["verify-plan", "--format", "original"],
      JSON.stringify({ registry: README_REGISTRY, actions: [{ action_id: "w", actor: bot, resources_write: [report] }, { action_id: "x", actor: bot, coerces: true }] }),
    );
    expect(r.exitCode).toBe(0);
    expect(json(r.stdout)).toMatchObject({ all_permitted: false, blocked_at: 1 });
  });

  it("refuses a request without an actions list", () => {
    expect(run(["verify-plan"], JSON.stringify({ registry: {}, action: {} })).exitCode).toBe(2);
  });
});

describe("freedom-kernel audit verify", () => {
  const sign = (b: Uint8Array) => signBytes(b, SECRET_A);
  const entries: AuditEntry[] = [];
  for (let i = 0; i < 5; i++) {
    entries.push(buildAuditEntry(entries.at(-1) ?? null, { kind: "authority", op: "grant", by: "alice", data: { i } }, sign, KEY_ID_A, { now: NOW + i }));
  }
  const cp = buildCheckpoint(entries.map((e) => e.entryHash), { now: NOW, keyId: KEY_ID_A }, sign);
  const good = serializeAuditExport({ keys: [{ keyId: KEY_ID_A, algorithm: "Ed25519", publicKey: PUBLIC_A, status: "current" }], entries, checkpoints: [cp] });
  const lines = good.trimEnd().split("\n");
  const edited = [...lines];
  const e2 = JSON.parse(edited[3]!) as Record<string, unknown>;
  edited[3] = canonicalJson({ ...e2, payload: { kind: "authority", op: "revoke", by: "alice", data: { i: 2 } } });
  files.set("good.jsonl", text(good));
  files.set("edited.jsonl", text(edited.join("\n") + "\n"));
  files.set("truncated.jsonl", text(lines.slice(0, -1).join("\n") + "\n"));
  files.set("keys.json", text(JSON.stringify({ domain: "x", keys: [{ keyId: KEY_ID_A, algorithm: "Ed25519", publicKey: PUBLIC_A, status: "current" }] })));
  const other = toHex(publicKeyOf("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));
  files.set("other-keys.json", text(JSON.stringify({ [keyIdOf(other)]: other })));
  files.set("bad-keys.json", text(JSON.stringify({ [KEY_ID_A]: other })));

  it("an intact export: exit 0 and a summary", () => {
    const r = run(["audit", "verify", "good.jsonl"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("good.jsonl: OK");
    expect(r.stdout).toContain("entries verified:   5");
    expect(r.stdout).toContain("proves integrity, not origin");
    const pinned = run(["audit", "verify", "good.jsonl", "--keys", "keys.json"]);
    expect(pinned.exitCode).toBe(0);
    expect(pinned.stdout).toContain("keys: pinned from keys.json");
  });

  it("an edited entry: exit 1 naming the line, the entry and what failed", () => {
    const r = run(["audit", "verify", "edited.jsonl"]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("FAILED at line 4 (entry seq 2): BAD_HASH");
    const asJson = json(run(["audit", "verify", "edited.jsonl", "--json"]).stdout);
    expect(asJson.firstFailure).toMatchObject({ line: 4, seq: 2, code: "BAD_HASH" });
  });

  it("a truncated export: exit 1, unless uncovered entries are allowed", () => {
    expect(run(["audit", "verify", "truncated.jsonl"]).stdout).toContain("NOT_COVERED");
    expect(run(["audit", "verify", "truncated.jsonl", "--allow-uncovered"]).exitCode).toBe(0);
    expect(run(["audit", "verify", "good.jsonl", "--min-tree-size", "6"]).exitCode).toBe(1);
  });

  it("the wrong pinned key: exit 1; a keys file that contradicts itself: exit 2", () => {
    const r = run(["audit", "verify", "good.jsonl", "--keys", "other-keys.json"]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("UNKNOWN_KEY");
    expect(run(["audit", "verify", "good.jsonl", "--keys", "bad-keys.json"]).exitCode).toBe(2);
  });

  it("an export with a duplicated member: exit 1 naming the line and the member (CLI and kernel)", () => {
    // Line 3 (entry seq 1) with a second "payload": JSON.parse would read the last one.
    const dup = [...lines];
    dup[2] = `${dup[2]!.slice(0, -1)},"payload":{"kind":"authority","op":"grant","by":"mallory","data":{"i":1}}}`;
    files.set("duplicated.jsonl", text(dup.join("\n") + "\n"));
    const r = run(["audit", "verify", "duplicated.jsonl"]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("FAILED at line 3");
    expect(r.stdout).toContain('duplicate member name "payload" at $.payload');
    const asJson = json(run(["audit", "verify", "duplicated.jsonl", "--json"]).stdout);
    expect(asJson.firstFailure).toMatchObject({ line: 3, code: "PARSE_ERROR" });
    const summary = verifyAuditExport(dup.join("\n") + "\n");
    expect(summary.ok).toBe(false);
    expect(summary.firstFailure).toMatchObject({ line: 3, code: "PARSE_ERROR", what: 'has a duplicate member name "payload" at $.payload' });
    // Nested: a duplicate inside the payload's data.
    const deep = [...lines];
    deep[4] = deep[4]!.replace('"data":{"i":3}', '"data":{"i":3,"i":4}');
    expect(deep[4]).toContain('"i":3,"i":4');
    expect(verifyAuditExport(deep.join("\n") + "\n").firstFailure).toMatchObject({ line: 5, code: "PARSE_ERROR", what: 'has a duplicate member name "i" at $.payload.data.i' });
  });

  it("a keys file with a duplicated member: exit 2", () => {
    files.set("dup-keys.json", text(`{"${KEY_ID_A}":"${PUBLIC_A}","${KEY_ID_A}":"${PUBLIC_A}"}`));
    const r = run(["audit", "verify", "good.jsonl", "--keys", "dup-keys.json"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("dup-keys.json has a duplicate member name");
  });

  it("usage errors: exit 2", () => {
    expect(run(["audit", "verify"]).exitCode).toBe(2);
    expect(run(["audit", "verify", "missing.jsonl"]).exitCode).toBe(2);
    expect(run(["audit", "check", "good.jsonl"]).exitCode).toBe(2);
  });
});

describe("freedom-kernel keygen and usage", () => {
  it("keygen prints a secret key, its public key and key id from the wrapper's randomness", () => {
    const r = runCli(["keygen"], "", readFile, { now: NOW, randomBytes: () => Uint8Array.from(Buffer.from(SECRET_A, "hex")) });
    expect(r.exitCode).toBe(0);
    expect(json(r.stdout)).toEqual({ secretKey: SECRET_A, publicKey: PUBLIC_A, keyId: KEY_ID_A });
  });

  it("help, no command, unknown command", () => {
    expect(run(["--help"]).exitCode).toBe(0);
    expect(run([]).exitCode).toBe(2);
    expect(run(["frobnicate"]).stderr).toContain("unknown command frobnicate");
  });
});

describe("bin/freedom-kernel.mjs", () => {
  it("runs verify on stdin as a real process", () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, "bin/freedom-kernel.mjs"), "verify", "--now", "2025-06-01T12:00:00Z"], {
      input: WRITE_REPORT,
      encoding: "utf8",
      cwd: ROOT,
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ actionId: "write-report", permitted: true });
    const blocked = spawnSync(process.execPath, [path.join(ROOT, "bin/freedom-kernel.mjs"), "verify", "--format", "original"], {
      input: READ_BOB,
      encoding: "utf8",
      cwd: ROOT,
      timeout: 60_000,
    });
    expect(blocked.status).toBe(0);
    expect(JSON.parse(blocked.stdout)).toMatchObject({ action_id: "read-bob", permitted: false });
  });
});
