import { describe, expect, it } from "vitest";
import { buildAuditEntry, GENESIS_HASH, type AuditEntry } from "../audit";
import { parseAuditExport, serializeAuditExport, serializeEntryLine } from "../audit-export";
import { canonicalJson } from "../canonical";
import { buildDecisionRecord, DECISION_DOMAIN, signBytes, signDecision, signingBytes, STREAM_BATCH_DOMAIN, verifyBytes, verifyDecision, verifyPermit } from "../signing";
import {
  buildStreamBatch,
  serializeStreamBatch,
  streamBatchSigningBytes,
  StreamBatchError,
  verifyStreamBatch,
  type StreamBatch,
} from "../stream-batch";
import { KEY_ID_A, KEY_ID_B, makeAction, NONCE, NOW, permittedResult, PUBLIC_A, PUBLIC_B, SECRET_A, SECRET_B } from "./evidence-fixtures";

const KEYS = { [KEY_ID_A]: PUBLIC_A };

function log(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let i = 0; i < n; i++) {
    const prev = out.at(-1) ?? null;
    out.push(buildAuditEntry(prev && { seq: prev.seq, entryHash: prev.entryHash }, { kind: "system", op: "test", i }, (b) => signBytes(b, SECRET_A), KEY_ID_A, { now: NOW + i }));
  }
  return out;
}

function signed(entries: readonly AuditEntry[], secret = SECRET_A, keyId = KEY_ID_A): { body: string; batch: StreamBatch; lines: string[]; signature: string } {
  const { batch, lines } = buildStreamBatch({ sink: "webhook", keyId, entries });
  const signature = signBytes(streamBatchSigningBytes(batch), secret);
  return { body: serializeStreamBatch(batch, lines, signature), batch, lines, signature };
}

const ENTRIES = log(12);

describe("stream batches", () => {
  it("a batch verifies, its body is canonical JSON and its entries are the export's lines", () => {
    const { body, batch } = signed(ENTRIES.slice(3, 8));
    expect(batch).toMatchObject({ firstSeq: 3, lastSeq: 7, previousSeq: 2, previousHash: ENTRIES[2]!.entryHash, lastHash: ENTRIES[7]!.entryHash, count: 5 });
    const parsed = JSON.parse(body);
    expect(canonicalJson(parsed)).toBe(body);
    const exported = parseAuditExport(serializeAuditExport({ keys: [], entries: ENTRIES, checkpoints: [] }));
    const exportLines = exported.lines.filter((l) => l.type === "entry").map((l) => canonicalJson((l as { value: unknown }).value));
    expect(parsed.entries.map((e: unknown) => canonicalJson(e))).toEqual(exportLines.slice(3, 8));
    expect(ENTRIES.slice(3, 8).map(serializeEntryLine)).toEqual(exportLines.slice(3, 8));
    const v = verifyStreamBatch(body, KEYS);
    expect(v.ok).toBe(true);
    if (v.ok) expect(v.entries.map((e) => e.seq)).toEqual([3, 4, 5, 6, 7]);
    // the parsed document verifies too
    expect(verifyStreamBatch(parsed, new Map([[KEY_ID_A, PUBLIC_A]])).ok).toBe(true);
  });

  it("the first batch follows the genesis hash", () => {
    const { body, batch } = signed(ENTRIES.slice(0, 2));
    expect(batch.previousSeq).toBe(-1);
    expect(batch.previousHash).toBe(GENESIS_HASH);
    expect(verifyStreamBatch(body, KEYS, { receivedUpTo: null }).ok).toBe(true);
  });

  it("a doctored batch fails", () => {
    const { body } = signed(ENTRIES.slice(3, 8));
    const doc = () => JSON.parse(body);
    const cases: [string, (d: any) => void, string][] = [
      ["a payload edited", (d) => (d.entries[1].payload.i = 99), "DIGEST_MISMATCH"],
      ["an entry dropped", (d) => d.entries.splice(2, 1), "COUNT_MISMATCH"],
      ["entries swapped", (d) => ([d.entries[0], d.entries[1]] = [d.entries[1], d.entries[0]]), "DIGEST_MISMATCH"],
      ["lastSeq moved", (d) => (d.batch.lastSeq = 8), "MALFORMED"],
      ["range shifted consistently", (d) => { d.batch.firstSeq = 4; d.batch.lastSeq = 8; d.batch.previousSeq = 3; }, "BAD_SIGNATURE"],
      ["previousHash changed", (d) => (d.batch.previousHash = "00".repeat(32)), "BAD_SIGNATURE"],
      ["signature flipped", (d) => (d.signature = (d.signature[0] === "0" ? "1" : "0") + d.signature.slice(1)), "BAD_SIGNATURE"],
      ["signed by another key", (d) => (d.batch.keyId = KEY_ID_B), "UNKNOWN_KEY"],
      ["an unknown field", (d) => (d.batch.extra = 1), "MALFORMED"],
      ["an unknown top-level field", (d) => (d.note = "x"), "MALFORMED"],
    ];
    for (const [what, edit, code] of cases) {
      const d = doc();
      edit(d);
      const v = verifyStreamBatch(JSON.stringify(d), KEYS);
      expect(v.ok, what).toBe(false);
      if (!v.ok) expect(v.code, what).toBe(code);
    }
    // a batch re-signed by a key the receiver does not trust
    const other = signed(ENTRIES.slice(3, 8), SECRET_B, KEY_ID_B);
    const v = verifyStreamBatch(other.body, KEYS);
    expect(v.ok).toBe(false);
    // the right key id but the wrong public key
    const w = verifyStreamBatch(signed(ENTRIES.slice(3, 8)).body, { [KEY_ID_A]: PUBLIC_B });
    expect(w.ok).toBe(false);
  });

  it("entries are checked with the audit chain's own rules", () => {
    // A batch whose description and digest match doctored entries still fails: the entry hash no longer matches.
    const entries = ENTRIES.slice(3, 6).map((e) => ({ ...e }));
    entries[1] = { ...entries[1]!, payload: { kind: "system", op: "forged" } };
    const { batch, lines } = buildStreamBatch({ sink: "webhook", keyId: KEY_ID_A, entries });
    const body = serializeStreamBatch(batch, lines, signBytes(streamBatchSigningBytes(batch), SECRET_A));
    const v = verifyStreamBatch(body, KEYS);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.code).toBe("BAD_ENTRY");
  });

  it("order: a redelivered overlap is accepted and only the fresh entries are new; a gap or a fork is refused", () => {
    const { body } = signed(ENTRIES.slice(3, 8));
    const overlap = verifyStreamBatch(body, KEYS, { receivedUpTo: { seq: 5, entryHash: ENTRIES[5]!.entryHash } });
    expect(overlap.ok).toBe(true);
    if (overlap.ok) expect(overlap.fresh.map((e) => e.seq)).toEqual([6, 7]);
    const next = verifyStreamBatch(body, KEYS, { receivedUpTo: { seq: 2, entryHash: ENTRIES[2]!.entryHash } });
    expect(next.ok && next.fresh.length).toBe(5);
    const gap = verifyStreamBatch(body, KEYS, { receivedUpTo: { seq: 1, entryHash: ENTRIES[1]!.entryHash } });
    expect(gap.ok === false && gap.code).toBe("GAP");
    const fork = verifyStreamBatch(body, KEYS, { receivedUpTo: { seq: 2, entryHash: "11".repeat(32) } });
    expect(fork.ok === false && fork.code).toBe("FORK");
    const forkInside = verifyStreamBatch(body, KEYS, { receivedUpTo: { seq: 4, entryHash: "11".repeat(32) } });
    expect(forkInside.ok === false && forkInside.code).toBe("FORK");
    expect(verifyStreamBatch(body, KEYS, { receivedUpTo: null }).ok === false).toBe(true);
  });

  it("a batch signature can never pass for a decision or a permit, nor the reverse", () => {
    const { batch, signature } = signed(ENTRIES.slice(0, 3));
    // Same bytes under the decision domain: the batch's signature does not cover them.
    expect(verifyBytes(signingBytes(DECISION_DOMAIN, batch), signature, PUBLIC_A)).toBe(false);
    expect(verifyDecision(batch, signature, PUBLIC_A)).toBe(false);
    expect(verifyPermit(batch, signature, PUBLIC_A, { now: NOW }).ok).toBe(false);
    // A decision record's signature does not make a batch out of anything.
    const record = buildDecisionRecord({ action: makeAction(), result: permittedResult(), mode: "live", now: NOW, nonce: NONCE, keyId: KEY_ID_A, auditSeq: 0 });
    const decisionSig = signDecision(record, SECRET_A);
    expect(verifyBytes(signingBytes(STREAM_BATCH_DOMAIN, record), decisionSig, PUBLIC_A)).toBe(false);
    const forged = JSON.parse(signed(ENTRIES.slice(0, 3)).body);
    forged.signature = decisionSig;
    const v = verifyStreamBatch(JSON.stringify(forged), KEYS);
    expect(v.ok === false && v.code).toBe("BAD_SIGNATURE");
    expect(STREAM_BATCH_DOMAIN).toBe("freedom-kernel/stream-batch/v1\n");
  });

  it("build refuses what cannot be a batch", () => {
    expect(() => buildStreamBatch({ sink: "webhook", keyId: KEY_ID_A, entries: [] })).toThrow(StreamBatchError);
    expect(() => buildStreamBatch({ sink: "webhook", keyId: KEY_ID_A, entries: [ENTRIES[0]!, ENTRIES[2]!] })).toThrow(StreamBatchError);
    expect(() => buildStreamBatch({ sink: "Web Hook", keyId: KEY_ID_A, entries: [ENTRIES[0]!] })).toThrow(StreamBatchError);
    expect(() => buildStreamBatch({ sink: "webhook", keyId: "nope", entries: [ENTRIES[0]!] })).toThrow(StreamBatchError);
  });

  it("bad input never throws", () => {
    for (const bad of [undefined, null, 1, "", "{", "[]", "{}", { batch: null }, { batch: {}, entries: [], signature: "" }, new Proxy({}, { ownKeys: () => { throw new Error("x"); } })]) {
      const v = verifyStreamBatch(bad, KEYS);
      expect(v.ok).toBe(false);
    }
    // duplicate members are refused by the strict parser
    const { body } = signed(ENTRIES.slice(0, 1));
    expect(verifyStreamBatch(body.replace('{"batch":', '{"signature":"00","batch":'), KEYS).ok).toBe(false);
  });
});
