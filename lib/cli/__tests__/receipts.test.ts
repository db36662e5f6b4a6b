/**
 * `freedom-kernel audit verify` on exports with budget receipts (issue 13). Every export here is
 * genuinely signed and chained with the kernel's own builders, doctored ones included: the server
 * key signed the lie, so only the replay of the receipts can catch it.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, type CliContext } from "../run";
import { buildAuditEntry, buildCheckpoint, type AuditEntry, type AuditPayload, type JsonValue } from "../../kernel/audit";
import { serializeAuditExport } from "../../kernel/audit-export";
import { buildDecisionRecord, signBytes, signDecision } from "../../kernel/signing";
import type { BudgetReceipt } from "../../kernel/receipts";
import type { Budget } from "../../kernel/types";
import { KEY_ID_A, NOW, PUBLIC_A, SECRET_A, makeAction, permittedResult } from "../../kernel/__tests__/evidence-fixtures";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const context: CliContext = { now: NOW, randomBytes: (n) => new Uint8Array(n) };
const files = new Map<string, Uint8Array>();
const readFile = (p: string): Uint8Array => {
  const f = files.get(p);
  if (f === undefined) throw new Error(`ENOENT: ${p}`);
  return f;
};
const run = (argv: string[]) => runCli(argv, "", readFile, context);
const sign = (b: Uint8Array) => signBytes(b, SECRET_A);
const KEYS = [{ keyId: KEY_ID_A, algorithm: "Ed25519" as const, publicKey: PUBLIC_A, status: "current" as const }];

const BUDGET: Budget = { maxUses: 2 };
const GRANT = "clm_bot_report";
const ROOT_CLAIM = "clm_alice_report";

/** One redemption: its use of GRANT as the receipt states it, when, and the action's cost. */
type Use = { readonly receipt: Partial<BudgetReceipt>; readonly at: number };

/**
 * A realistic log: the owner's root claim, a grant to the bot under BUDGET, then per use the
 * signed decision (a live permit naming its entry) and the redemption with its receipt.
 */
function exportWith(uses: readonly Use[], grantBudget: Budget | null = BUDGET): string {
  const entries: AuditEntry[] = [];
  const append = (payload: AuditPayload | ((seq: number) => AuditPayload), at: number) => {
    const prev = entries.at(-1) ?? null;
    const seq = prev === null ? 0 : prev.seq + 1;
    entries.push(buildAuditEntry(prev, typeof payload === "function" ? payload(seq) : payload, sign, KEY_ID_A, { now: at }));
  };
  const claim = (id: string, holder: string, grantor: string | null, budget: Budget | null) => ({
    id,
    holder,
    resource: "report.txt",
    scope: null,
    canRead: true,
    canWrite: true,
    canDelegate: grantor === null,
    confidence: 1,
    grantor,
    // A Budget (an interface with optional members) as the JSON data a payload holds.
    budget: budget as unknown as JsonValue,
  });
  append({ kind: "authority", op: "register-claim", by: "operator", data: { claim: claim(ROOT_CLAIM, "alice", null, null), registryVersion: 1 } }, NOW);
  append({ kind: "authority", op: "grant", by: "alice", data: { claim: claim(GRANT, "bot", "alice", grantBudget), registryVersion: 2 } }, NOW + 1);
  uses.forEach((u, i) => {
    const actionId = `write-${i + 1}`;
    const action = makeAction({ actionId });
    const nonce = `${i + 1}`.padStart(32, "0");
    let decisionSeq = -1;
    const receipt: BudgetReceipt = { grant: GRANT, chain: [GRANT, ROOT_CLAIM], use: i + 1, cost: 0, budget: BUDGET, remaining: { uses: Math.max(0, 1 - i) }, ...u.receipt };
    append((seq) => {
      decisionSeq = seq;
      const result = { ...permittedResult(actionId), budgets: [{ grant: GRANT, remaining: receipt.remaining }] };
      const record = buildDecisionRecord({ mode: "live", now: u.at - 10, nonce, keyId: KEY_ID_A, auditSeq: seq, action, result });
      return { kind: "decision", record, signature: signDecision(record, SECRET_A), keyId: KEY_ID_A };
    }, u.at - 10);
    append({ kind: "system", op: "redeem", machine: "bot", nonce, actionId, actionDigest: "ab".repeat(32), decisionSeq, receipts: [receipt as never] }, u.at);
  });
  const checkpoint = buildCheckpoint(
    entries.map((e) => e.entryHash),
    { now: NOW + 1_000_000, keyId: KEY_ID_A },
    sign,
  );
  return serializeAuditExport({ keys: KEYS, entries, checkpoints: [checkpoint] });
}

const at = (s: number) => NOW + s * 1000;
const honest: Use[] = [
  { receipt: {}, at: at(10) },
  { receipt: {}, at: at(20) },
];

function verify(name: string, text: string) {
  files.set(name, new TextEncoder().encode(text));
  const r = run(["audit", "verify", name]);
  const asJson = JSON.parse(run(["audit", "verify", name, "--json"]).stdout) as { ok: boolean; receipts?: number; firstFailure?: { code: string; seq?: number; line: number; what: string } };
  return { ...r, summary: asJson };
}

describe("freedom-kernel audit verify: budget receipts", () => {
  it("two uses of a budget of two: exit 0, receipts counted", () => {
    const r = verify("honest.jsonl", exportWith(honest));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("honest.jsonl: OK");
    expect(r.stdout).toContain("budget receipts:    2");
    expect(r.summary).toMatchObject({ ok: true, receipts: 2 });
  });

  it("a third use, properly signed and chained: exit 1, BUDGET_EXCEEDED naming the grant", () => {
    // Entries: 0 root claim, 1 grant, then (decision, redeem) per use: the third redeem is seq 7, line 9.
    const r = verify("third-use.jsonl", exportWith([...honest, { receipt: { remaining: { uses: 0 } }, at: at(30) }]));
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("third-use.jsonl: FAILED at line 9 (entry seq 7): BUDGET_EXCEEDED");
    expect(r.stdout).toContain(`grant ${GRANT}: use 3 is beyond its maxUses of 2`);
    expect(r.stdout).toContain("entries verified:   8"); // the chain itself is intact
    expect(r.summary.firstFailure).toMatchObject({ code: "BUDGET_EXCEEDED", seq: 7, line: 9 });
    expect(r.summary.firstFailure?.what).toContain(GRANT);
  });

  const failures: [string, Use[], string, Budget | null][] = [
    ["a gap in the use numbers", [{ receipt: {}, at: at(10) }, { receipt: { use: 3 }, at: at(20) }], "use 3 where use 2 was next", BUDGET],
    ["a repeated use number", [{ receipt: {}, at: at(10) }, { receipt: { use: 1 }, at: at(20) }], "use 1 where use 2 was next", BUDGET],
    [
      "the cost beyond maxCost",
      [
        { receipt: { budget: { maxCost: 100 }, cost: 70, remaining: { cost: 30 } }, at: at(10) },
        { receipt: { budget: { maxCost: 100 }, cost: 70, remaining: { cost: 0 } }, at: at(20) },
      ],
      "use 2 brings its cost to 140, beyond its maxCost of 100",
      { maxCost: 100 },
    ],
    [
      "a rate window exceeded",
      [
        { receipt: { budget: { rate: { uses: 1, seconds: 60 } }, remaining: { window: 0 } }, at: at(10) },
        { receipt: { budget: { rate: { uses: 1, seconds: 60 } }, remaining: { window: 0 } }, at: at(69) },
      ],
      "use 2 makes 2 uses within 60 s, beyond its rate of 1 per 60 s",
      { rate: { uses: 1, seconds: 60 } },
    ],
    ["a remainder that lies", [{ receipt: {}, at: at(10) }, { receipt: { remaining: { uses: 5 } }, at: at(20) }], `the receipt says {"uses":5} is left, the budget and the uses so far leave {"uses":0}`, BUDGET],
    [
      "a receipt whose budget is not the grant's",
      [{ receipt: { budget: { maxUses: 50 }, remaining: { uses: 49 } }, at: at(10) }],
      'the receipt states budget {"maxUses":50}, but the budget in force (set at seq 1) is {"maxUses":2}',
      BUDGET,
    ],
  ];
  for (const [name, uses, message, grantBudget] of failures) {
    it(`${name}: exit 1, BUDGET_EXCEEDED`, () => {
      const r = verify(`${name}.jsonl`, exportWith(uses, grantBudget));
      expect(r.exitCode).toBe(1);
      expect(r.summary.firstFailure?.code).toBe("BUDGET_EXCEEDED");
      expect(r.stdout).toContain(`BUDGET_EXCEEDED — entry seq ${r.summary.firstFailure?.seq}: grant ${GRANT}: ${message}`);
    });
  }

  it("the same rate uses a full window apart replay: exit 0", () => {
    const rate = { rate: { uses: 1, seconds: 60 } };
    const uses = [at(10), at(70)].map((t) => ({ receipt: { budget: rate, remaining: { window: 0 } }, at: t }));
    expect(verify("rate-ok.jsonl", exportWith(uses, rate)).exitCode).toBe(0);
  });

  describe("the installed command prints it the same way", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fk-receipts-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("bin/freedom-kernel.mjs audit verify: exit 1 with the failure on stdout", () => {
      const file = path.join(dir, "third-use.jsonl");
      fs.writeFileSync(file, exportWith([...honest, { receipt: { remaining: { uses: 0 } }, at: at(30) }]));
      const r = spawnSync(process.execPath, [path.join(ROOT, "bin/freedom-kernel.mjs"), "audit", "verify", file], { encoding: "utf8", cwd: ROOT, timeout: 60_000 });
      expect(r.status).toBe(1);
      expect(r.stdout).toContain("(entry seq 7): BUDGET_EXCEEDED");
      expect(r.stdout).toContain(`grant ${GRANT}`);
    });
  });
});
