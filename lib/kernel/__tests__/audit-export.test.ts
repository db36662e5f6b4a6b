import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  AUDIT_EXPORT_FORMAT,
  AuditExportError,
  parseAuditExport,
  serializeAuditExport,
  verifyAuditExport,
  type ExportKey,
} from "../audit-export";
import { auditEntryHash, auditEntrySigningBytes, buildAuditEntry, buildCheckpoint, type AuditEntry, type AuditPayload } from "../audit";
import {
  buildDecisionRecord,
  buildPlanDecisionRecord,
  keyIdOf,
  publicKeyOf,
  signBytes,
  signDecision,
  signPlanDecision,
} from "../signing";
import { canonicalJson } from "../canonical";
import { toHex } from "../bytes";
import {
  KEY_ID_A,
  KEY_ID_B,
  NONCE,
  NOW,
  PUBLIC_A,
  PUBLIC_B,
  SECRET_A,
  SECRET_B,
  SNAPSHOT,
  blockedResult,
  makeAction,
  permittedResult,
} from "./evidence-fixtures";

const SECRET_EVIL = "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7";
const PUBLIC_EVIL = toHex(publicKeyOf(SECRET_EVIL));
const KEY_ID_EVIL = keyIdOf(PUBLIC_EVIL);

const KEYS: ExportKey[] = [
  { keyId: KEY_ID_A, algorithm: "Ed25519", publicKey: PUBLIC_A, status: "retired" },
  { keyId: KEY_ID_B, algorithm: "Ed25519", publicKey: PUBLIC_B, status: "current" },
];
const PINNED = { [KEY_ID_A]: PUBLIC_A, [KEY_ID_B]: PUBLIC_B };

type Key = { secret: string; keyId: string };
const A: Key = { secret: SECRET_A, keyId: KEY_ID_A };
const B: Key = { secret: SECRET_B, keyId: KEY_ID_B };

/** A realistic log: decisions (permitted and blocked), a plan, authority changes, a key rotation. */
function buildLog() {
  const entries: AuditEntry[] = [];
  const checkpoints: { checkpoint: ReturnType<typeof buildCheckpoint>["checkpoint"]; signature: string }[] = [];
  let key = A;
  const append = (make: (seq: number) => AuditPayload) => {
    const prev = entries.at(-1) ?? null;
    const seq = prev === null ? 0 : prev.seq + 1;
    entries.push(buildAuditEntry(prev, make(seq), (b) => signBytes(b, key.secret), key.keyId, { now: NOW + seq * 1000 }));
  };
  const checkpoint = () => {
    checkpoints.push(
      buildCheckpoint(
        entries.map((e) => e.entryHash),
        { now: NOW + entries.length * 1000, keyId: key.keyId },
        (b) => signBytes(b, key.secret),
      ),
    );
  };
  const decision = (permitted: boolean) => (seq: number): AuditPayload => {
    const action = permitted ? makeAction() : makeAction({ actionId: "self-expand", increases_machine_sovereignty: true });
    const record = buildDecisionRecord({
      result: permitted ? permittedResult() : blockedResult(),
      action,
      mode: "live",
      now: NOW + seq * 1000,
      nonce: NONCE,
      keyId: key.keyId,
      auditSeq: seq,
    });
    return { kind: "decision", record, signature: signDecision(record, key.secret), keyId: key.keyId } as unknown as AuditPayload;
  };

  append(() => ({ kind: "key", op: "activate", keyId: KEY_ID_A, publicKey: PUBLIC_A }));
  append(() => ({ kind: "authority", op: "register_machine", by: "alice", data: { machine: "bot", owner: "alice" } }));
  append(decision(true));
  append(decision(false));
  checkpoint(); // size 4
  append((seq) => {
    const record = buildPlanDecisionRecord({
      results: [permittedResult("a")],
      actions: [makeAction({ actionId: "a" })],
      snapshot: SNAPSHOT,
      mode: "live",
      now: NOW + seq * 1000,
      nonce: NONCE,
      keyId: key.keyId,
      auditSeq: seq,
    });
    return { kind: "plan", record, signature: signPlanDecision(record, key.secret), keyId: key.keyId } as unknown as AuditPayload;
  });
  append(() => ({ kind: "key", op: "rotate", keyId: KEY_ID_B, publicKey: PUBLIC_B, previousKeyId: KEY_ID_A }));
  key = B;
  append(decision(true));
  append(() => ({ kind: "authority", op: "halt", by: "alice", data: { machine: "bot" } }));
  checkpoint(); // size 8, final
  return { entries, checkpoints };
}

const LOG = buildLog();
const TEXT = serializeAuditExport({ keys: KEYS, ...LOG });
const LINES = TEXT.trimEnd().split("\n");
const join = (lines: string[]) => lines.join("\n") + "\n";
const lineOf = (seq: number) => LINES.findIndex((l) => l.includes(`"type":"entry"`) && JSON.parse(l).seq === seq);

function edit(lineIndex: number, change: (o: Record<string, unknown>) => Record<string, unknown>): string {
  const lines = [...LINES];
  lines[lineIndex] = canonicalJson(change(JSON.parse(lines[lineIndex]!) as Record<string, unknown>));
  return join(lines);
}

describe("serializeAuditExport / parseAuditExport", () => {
  it("writes a header, entries in order and checkpoints after the entries they cover", () => {
    const types = LINES.map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types).toEqual(["header", "entry", "entry", "entry", "entry", "checkpoint", "entry", "entry", "entry", "entry", "checkpoint"]);
    const header = JSON.parse(LINES[0]!);
    expect(header).toEqual({
      type: "header",
      format: AUDIT_EXPORT_FORMAT,
      domains: {
        decision: "freedom-kernel/decision/v1\n",
        planDecision: "freedom-kernel/plan-decision/v1\n",
        auditEntry: "freedom-kernel/audit-entry/v1\n",
        checkpoint: "freedom-kernel/checkpoint/v1\n",
      },
      keys: KEYS,
    });
    for (const l of LINES) expect(canonicalJson(JSON.parse(l))).toBe(l);
  });

  it("parses every line, never throws", () => {
    const parsed = parseAuditExport(TEXT);
    expect(parsed.ok).toBe(true);
    expect(parsed.lines).toHaveLength(11);
    fc.assert(
      fc.property(fc.anything(), (x) => {
        expect(() => parseAuditExport(x)).not.toThrow();
        expect(() => verifyAuditExport(parseAuditExport(x))).not.toThrow();
      }),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(verifyAuditExport(s).ok).toBe(false);
      }),
    );
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (x, o) => {
        expect(verifyAuditExport(x as never, o as never).ok).toBe(false);
        expect(() => verifyAuditExport(TEXT, { pinnedKeys: x as never })).not.toThrow();
        // Garbage pinned keys never verify anything (undefined means "no pinning").
        if (x !== undefined) expect(verifyAuditExport(TEXT, { pinnedKeys: x as never }).ok).toBe(false);
      }),
    );
  });

  it("refuses inconsistent input", () => {
    expect(() => serializeAuditExport({ keys: [{ ...KEYS[0]!, publicKey: PUBLIC_B }], ...LOG })).toThrow(AuditExportError);
    expect(() => serializeAuditExport({ keys: KEYS, entries: LOG.entries.slice(1), checkpoints: [] })).toThrow(AuditExportError);
  });
});

describe("verifyAuditExport: an intact export", () => {
  it("verifies with header keys, and reports that trust comes from the file", () => {
    const summary = verifyAuditExport(TEXT);
    expect(summary).toEqual({
      ok: true,
      entries: 8,
      checkpoints: 2,
      decisions: 4,
      keysFrom: "header",
      keys: [
        { keyId: KEY_ID_A, status: "retired" },
        { keyId: KEY_ID_B, status: "current" },
      ],
      headHash: LOG.entries[7]!.entryHash,
      treeSize: 8,
      rootHash: LOG.checkpoints[1]!.checkpoint.rootHash,
    });
  });

  it("verifies with pinned keys (record or Map)", () => {
    expect(verifyAuditExport(TEXT, { pinnedKeys: PINNED })).toMatchObject({ ok: true, keysFrom: "pinned" });
    expect(verifyAuditExport(TEXT, { pinnedKeys: new Map(Object.entries(PINNED)) }).ok).toBe(true);
  });

  it("an empty log exports and verifies", () => {
    const empty = serializeAuditExport({ keys: KEYS, entries: [], checkpoints: [] });
    expect(verifyAuditExport(empty)).toMatchObject({ ok: true, entries: 0 });
  });

  it("minTreeSize: a shorter export than independently known fails", () => {
    expect(verifyAuditExport(TEXT, { minTreeSize: 8 }).ok).toBe(true);
    expect(verifyAuditExport(TEXT, { minTreeSize: 9 }).firstFailure?.code).toBe("TOO_SHORT");
  });
});

describe("verifyAuditExport: detects tampering and names the first failure", () => {
  const failure = (text: string, options = {}) => verifyAuditExport(text, options).firstFailure;

  it("an edited field (re-serialised canonically): BAD_HASH at that entry", () => {
    const i = lineOf(1);
    const text = edit(i, (o) => ({ ...o, payload: { ...(o.payload as object), by: "mallory" } }));
    expect(failure(text)).toMatchObject({ line: i + 1, seq: 1, code: "BAD_HASH" });
  });

  it("an edited decision inside a payload: BAD_HASH (the entry covers the record)", () => {
    const i = lineOf(3);
    const text = edit(i, (o) => {
      const p = o.payload as { record: Record<string, unknown> };
      return { ...o, payload: { ...p, record: { ...p.record, permitted: true, violations: [] } } };
    });
    expect(failure(text)).toMatchObject({ line: i + 1, seq: 3, code: "BAD_HASH" });
  });

  it("an edit that is not canonical JSON: PARSE_ERROR on that line", () => {
    const lines = [...LINES];
    lines[2] = lines[2]!.replace('{"entryHash"', '{ "entryHash"');
    expect(failure(join(lines))).toMatchObject({ line: 3, code: "PARSE_ERROR" });
    const dup = [...LINES];
    dup[2] = dup[2]!.replace('{"entryHash"', '{"seq":5,"entryHash"');
    expect(failure(join(dup))).toMatchObject({ line: 3, code: "PARSE_ERROR" });
  });

  it("a deleted entry: SEQ_GAP at the next entry", () => {
    const i = lineOf(2);
    const lines = LINES.filter((_, j) => j !== i);
    expect(failure(join(lines))).toMatchObject({ line: i + 1, seq: 3, code: "SEQ_GAP" });
  });

  it("reordered entries: SEQ_GAP", () => {
    const lines = [...LINES];
    const i = lineOf(6);
    const j = lineOf(7);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    expect(failure(join(lines))).toMatchObject({ line: i + 1, seq: 7, code: "SEQ_GAP" });
  });

  it("a deleted entry re-linked by the forger: BAD_SIGNATURE", () => {
    // Drop seq 2, renumber and re-hash seq 3 to follow seq 1; the forger cannot sign it.
    const e3 = JSON.parse(LINES[lineOf(3)]!) as AuditEntry & { type: string };
    const moved = { ...e3, seq: 2, prevHash: LOG.entries[1]!.entryHash };
    const { type: _t, ...body } = moved;
    const forged = { ...moved, entryHash: auditEntryHash(body) };
    const lines = [...LINES.slice(0, lineOf(2)), canonicalJson(forged)];
    expect(failure(join(lines))).toMatchObject({ line: lineOf(2) + 1, seq: 2, code: "BAD_SIGNATURE" });
  });

  it("a forged checkpoint (root changed): CHECKPOINT_BAD_SIGNATURE", () => {
    const i = LINES.length - 1;
    const text = edit(i, (o) => ({ ...o, rootHash: "ab".repeat(32) }));
    expect(failure(text)).toMatchObject({ line: i + 1, code: "CHECKPOINT_BAD_SIGNATURE" });
  });

  it("a checkpoint signed by the right key over a wrong root: CHECKPOINT_ROOT_MISMATCH", () => {
    const hashes = LOG.entries.map((e) => e.entryHash);
    hashes[3] = "cd".repeat(32);
    const liar = buildCheckpoint(hashes, { now: NOW, keyId: KEY_ID_B }, (b) => signBytes(b, SECRET_B));
    const lines = [...LINES.slice(0, -1), canonicalJson({ type: "checkpoint", ...liar.checkpoint, signature: liar.signature })];
    expect(failure(join(lines))).toMatchObject({ line: LINES.length, code: "CHECKPOINT_ROOT_MISMATCH" });
  });

  it("a checkpoint placed before the entries it covers: CHECKPOINT_BEYOND_LOG", () => {
    const last = LINES.at(-1)!;
    const lines = [LINES[0]!, last, ...LINES.slice(1, -1)];
    expect(failure(join(lines))).toMatchObject({ line: 2, code: "CHECKPOINT_BEYOND_LOG" });
  });

  it("a checkpoint by an unknown key: UNKNOWN_KEY", () => {
    const evil = buildCheckpoint(LOG.entries.map((e) => e.entryHash), { now: NOW, keyId: KEY_ID_EVIL }, (b) => signBytes(b, SECRET_EVIL));
    const lines = [...LINES, canonicalJson({ type: "checkpoint", ...evil.checkpoint, signature: evil.signature })];
    expect(failure(join(lines))).toMatchObject({ line: LINES.length + 1, code: "UNKNOWN_KEY" });
  });

  it("a wrong key in the header: BAD_KEY", () => {
    const text = edit(0, (o) => ({ ...o, keys: [{ ...KEYS[0], publicKey: PUBLIC_EVIL }, KEYS[1]] }));
    expect(failure(text)).toMatchObject({ line: 1, code: "BAD_KEY" });
  });

  it("a whole log re-signed by an attacker passes on its own keys, fails against pinned keys", () => {
    const forgedEntries: AuditEntry[] = [];
    for (const e of LOG.entries) {
      const prev = forgedEntries.at(-1) ?? null;
      forgedEntries.push(buildAuditEntry(prev, { kind: "system", note: `forged ${e.seq}` }, (b) => signBytes(b, SECRET_EVIL), KEY_ID_EVIL));
    }
    const cp = buildCheckpoint(forgedEntries.map((e) => e.entryHash), { now: NOW, keyId: KEY_ID_EVIL }, (b) => signBytes(b, SECRET_EVIL));
    const forged = serializeAuditExport({
      keys: [{ keyId: KEY_ID_EVIL, algorithm: "Ed25519", publicKey: PUBLIC_EVIL, status: "current" }],
      entries: forgedEntries,
      checkpoints: [cp],
    });
    expect(verifyAuditExport(forged)).toMatchObject({ ok: true, keysFrom: "header" });
    expect(failure(forged, { pinnedKeys: PINNED })).toMatchObject({ line: 2, seq: 0, code: "UNKNOWN_KEY" });
    // The attacker claiming the real key id with their own public key is caught at the header.
    const claimed = forged.replace(
      canonicalJson({ algorithm: "Ed25519", keyId: KEY_ID_EVIL, publicKey: PUBLIC_EVIL, status: "current" }),
      canonicalJson({ algorithm: "Ed25519", keyId: KEY_ID_B, publicKey: PUBLIC_EVIL, status: "current" }),
    );
    expect(failure(claimed)).toMatchObject({ line: 1, code: "BAD_KEY" });
  });

  it("a pinned key that disagrees with the header: PINNED_KEY_MISMATCH", () => {
    expect(failure(TEXT, { pinnedKeys: { [KEY_ID_A]: PUBLIC_EVIL } })).toMatchObject({ line: 1, code: "PINNED_KEY_MISMATCH" });
  });

  it("a retired key not pinned: UNKNOWN_KEY at the first entry it signed", () => {
    expect(failure(TEXT, { pinnedKeys: { [KEY_ID_B]: PUBLIC_B } })).toMatchObject({ line: 2, seq: 0, code: "UNKNOWN_KEY" });
  });

  it("a file truncated mid-line: PARSE_ERROR on the last line", () => {
    const cut = TEXT.slice(0, TEXT.length - 40);
    expect(failure(cut)).toMatchObject({ line: LINES.length, code: "PARSE_ERROR" });
  });

  it("a file truncated at a line boundary: NOT_COVERED names the first uncovered entry", () => {
    const lines = LINES.slice(0, lineOf(6) + 1);
    expect(failure(join(lines))).toMatchObject({ line: lineOf(4) + 1, seq: 4, code: "NOT_COVERED" });
    // Without the final checkpoint requirement the shorter export is merely shorter.
    expect(verifyAuditExport(join(lines), { requireFinalCheckpoint: false }).ok).toBe(true);
  });

  it("a missing or duplicated header", () => {
    expect(failure(join(LINES.slice(1)))).toMatchObject({ line: 1, code: "MISSING_HEADER" });
    expect(failure(join([LINES[0]!, LINES[0]!, ...LINES.slice(1)]))).toMatchObject({ line: 2, code: "DUPLICATE_HEADER" });
    expect(failure("")).toMatchObject({ line: 1 });
  });

  it("an empty line in the middle", () => {
    expect(failure(join([...LINES.slice(0, 3), "", ...LINES.slice(3)]))).toMatchObject({ line: 4, code: "PARSE_ERROR" });
  });

  /** Appends an entry properly signed by the current key, with a caller-made payload, plus a final checkpoint. */
  function withExtraEntry(payload: AuditPayload): { text: string; line: number } {
    const prev = LOG.entries.at(-1)!;
    const e = buildAuditEntry(prev, payload, (b) => signBytes(b, SECRET_B), KEY_ID_B);
    const entries = [...LOG.entries, e];
    const cp = buildCheckpoint(entries.map((x) => x.entryHash), { now: NOW, keyId: KEY_ID_B }, (b) => signBytes(b, SECRET_B));
    const text = serializeAuditExport({ keys: KEYS, entries, checkpoints: [...LOG.checkpoints, cp] });
    return { text, line: text.trimEnd().split("\n").length - 1 };
  }

  it("a decision payload whose record signature is bad: DECISION_BAD_SIGNATURE", () => {
    const record = buildDecisionRecord({
      result: permittedResult(),
      action: makeAction(),
      mode: "live",
      now: NOW,
      nonce: NONCE,
      keyId: KEY_ID_B,
      auditSeq: 8,
    });
    const { text, line } = withExtraEntry({ kind: "decision", record, signature: signDecision(record, SECRET_A), keyId: KEY_ID_B } as never);
    expect(failure(text)).toMatchObject({ line, seq: 8, code: "DECISION_BAD_SIGNATURE" });
  });

  it("a decision payload recorded under another seq: DECISION_MISMATCH", () => {
    const record = buildDecisionRecord({
      result: permittedResult(),
      action: makeAction(),
      mode: "live",
      now: NOW,
      nonce: NONCE,
      keyId: KEY_ID_B,
      auditSeq: 2,
    });
    const { text, line } = withExtraEntry({ kind: "decision", record, signature: signDecision(record, SECRET_B), keyId: KEY_ID_B } as never);
    expect(failure(text)).toMatchObject({ line, seq: 8, code: "DECISION_MISMATCH" });
  });

  it("a decision payload carrying its action (issue 12) verifies; another action under its record is DECISION_MISMATCH", () => {
    const action = makeAction();
    const record = buildDecisionRecord({ result: permittedResult(), action, mode: "live", now: NOW, nonce: NONCE, keyId: KEY_ID_B, auditSeq: 8 });
    const payload = { kind: "decision", record, signature: signDecision(record, SECRET_B), keyId: KEY_ID_B };
    const good = withExtraEntry({ ...payload, action } as never);
    expect(verifyAuditExport(good.text, { pinnedKeys: PINNED }).ok).toBe(true);
    const swapped = withExtraEntry({ ...payload, action: { ...action, reads: ["something-else"] } } as never);
    expect(failure(swapped.text)).toMatchObject({ line: swapped.line, seq: 8, code: "DECISION_MISMATCH" });
    const junk = withExtraEntry({ ...payload, action: "not an action" } as never);
    expect(failure(junk.text)).toMatchObject({ seq: 8, code: "DECISION_MISMATCH" });
  });

  it("a decision payload without a record: DECISION_MALFORMED", () => {
    const { text, line } = withExtraEntry({ kind: "decision", permitted: true });
    expect(failure(text)).toMatchObject({ line, seq: 8, code: "DECISION_MALFORMED" });
  });

  it("a key event whose keyId does not match its public key: KEY_PAYLOAD_MISMATCH", () => {
    const { text, line } = withExtraEntry({ kind: "key", op: "rotate", keyId: KEY_ID_A, publicKey: PUBLIC_B });
    expect(failure(text)).toMatchObject({ line, seq: 8, code: "KEY_PAYLOAD_MISMATCH" });
  });

  it("a signature of an entry moved onto another entry: BAD_SIGNATURE", () => {
    const i = lineOf(5);
    const text = edit(i, (o) => ({ ...o, signature: LOG.entries[4]!.signature }));
    expect(failure(text)).toMatchObject({ line: i + 1, seq: 5, code: "BAD_SIGNATURE" });
    expect(auditEntrySigningBytes(LOG.entries[4]!.entryHash)).not.toEqual(auditEntrySigningBytes(LOG.entries[5]!.entryHash));
  });

  it("every single-character change in the (unsigned) header line is detected", () => {
    const header = LINES[0]!;
    for (let pos = 0; pos < header.length; pos++) {
      for (const ch of ["0", "a", "f", "x", '"']) {
        if (header[pos] === ch) continue;
        const lines = [header.slice(0, pos) + ch + header.slice(pos + 1), ...LINES.slice(1)];
        expect(verifyAuditExport(join(lines)).ok, `${pos}:${ch}`).toBe(false);
      }
    }
  });

  it("any single-character change anywhere in the file is detected", () => {
    fc.assert(
      fc.property(fc.nat({ max: TEXT.length - 2 }), fc.constantFrom(..."0123456789abcdef\"{}:,x"), (pos, ch) => {
        fc.pre(TEXT[pos] !== ch && TEXT[pos] !== "\n");
        const text = TEXT.slice(0, pos) + ch + TEXT.slice(pos + 1);
        const summary = verifyAuditExport(text, { pinnedKeys: PINNED });
        expect(summary.ok).toBe(false);
      }),
      { numRuns: 400 },
    );
  });
});
