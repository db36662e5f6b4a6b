import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  AuditError,
  GENESIS_HASH,
  auditEntryHash,
  auditEntrySigningBytes,
  buildAuditEntry,
  buildCheckpoint,
  verifyAuditChain,
  verifyCheckpoint,
  type AuditEntry,
  type AuditPayload,
} from "../audit";
import { canonicalJson } from "../canonical";
import { AUDIT_ENTRY_DOMAIN, signBytes, verifyBytes } from "../signing";
import { merkleRoot } from "../merkle";
import { KEY_ID_A, KEY_ID_B, NOW, PUBLIC_A, PUBLIC_B, SECRET_A, SECRET_B } from "./evidence-fixtures";

const signA = (bytes: Uint8Array) => signBytes(bytes, SECRET_A);
const signB = (bytes: Uint8Array) => signBytes(bytes, SECRET_B);
const KEYS = { [KEY_ID_A]: PUBLIC_A, [KEY_ID_B]: PUBLIC_B };

function payload(i: number): AuditPayload {
  return i % 2 === 0
    ? { kind: "authority", op: "grant", by: "alice", data: { holder: "bot", resource: `r${i}`, canWrite: true } }
    : { kind: "system", note: `tick ${i}`, n: i * 0.5 };
}

function chain(n: number, from: AuditEntry | null = null): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prev = from;
  for (let i = 0; i < n; i++) {
    const e = buildAuditEntry(prev, payload(i), i >= 6 ? signB : signA, i >= 6 ? KEY_ID_B : KEY_ID_A, { now: NOW + i });
    out.push(e);
    prev = e;
  }
  return out;
}

describe("auditEntryHash", () => {
  it("is SHA-256 of the domain and the canonical { seq, prevHash, payload, recordedAt? }", () => {
    const p = payload(0);
    const text = AUDIT_ENTRY_DOMAIN + canonicalJson({ seq: 0, prevHash: GENESIS_HASH, payload: p });
    expect(auditEntryHash({ seq: 0, prevHash: GENESIS_HASH, payload: p })).toBe(createHash("sha256").update(text).digest("hex"));
    const withTime = AUDIT_ENTRY_DOMAIN + canonicalJson({ seq: 0, prevHash: GENESIS_HASH, payload: p, recordedAt: "x" });
    expect(auditEntryHash({ seq: 0, prevHash: GENESIS_HASH, payload: p, recordedAt: "x" })).toBe(
      createHash("sha256").update(withTime).digest("hex"),
    );
  });
});

describe("buildAuditEntry", () => {
  it("starts at seq 0 on the genesis hash, links each entry to the last, signs the entry hash", () => {
    const entries = chain(3);
    expect(entries[0]!.seq).toBe(0);
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    expect(entries[1]!.prevHash).toBe(entries[0]!.entryHash);
    expect(entries[2]!.seq).toBe(2);
    expect(entries[0]!.recordedAt).toBe("2025-06-01T12:00:00.000Z");
    expect(verifyBytes(auditEntrySigningBytes(entries[1]!.entryHash), entries[1]!.signature, PUBLIC_A)).toBe(true);
  });

  it("is deterministic and copies the payload", () => {
    const p = { kind: "system", list: [1, 2] } as unknown as AuditPayload & { list: number[] };
    const a = buildAuditEntry(null, p, signA, KEY_ID_A);
    p.list.push(3);
    const b = buildAuditEntry(null, { kind: "system", list: [1, 2] }, signA, KEY_ID_A);
    expect(a).toEqual(b);
    expect(verifyAuditChain([a], KEYS).ok).toBe(true);
  });

  it("refuses unknown kinds, bad key ids, bad prev and bad signers", () => {
    expect(() => buildAuditEntry(null, { kind: "nope" } as never, signA, KEY_ID_A)).toThrow(AuditError);
    expect(() => buildAuditEntry(null, payload(0), signA, "k1")).toThrow(AuditError);
    expect(() => buildAuditEntry({ seq: -1, entryHash: GENESIS_HASH }, payload(0), signA, KEY_ID_A)).toThrow(AuditError);
    expect(() => buildAuditEntry(null, payload(0), () => "sig", KEY_ID_A)).toThrow(AuditError);
    expect(() => buildAuditEntry(null, { kind: "system", x: NaN } as never, signA, KEY_ID_A)).toThrow();
  });
});

describe("verifyAuditChain", () => {
  const entries = chain(10);

  it("accepts an intact chain across a key rotation", () => {
    expect(verifyAuditChain(entries, KEYS)).toEqual({ ok: true, count: 10, headHash: entries[9]!.entryHash, nextSeq: 10 });
    expect(verifyAuditChain(new Map(Object.entries(KEYS)) as never, KEYS).ok).toBe(false);
    expect(verifyAuditChain(entries, new Map(Object.entries(KEYS))).ok).toBe(true);
    expect(verifyAuditChain([], KEYS)).toEqual({ ok: true, count: 0, headHash: GENESIS_HASH, nextSeq: 0 });
  });

  it("verifies a later segment from a known head", () => {
    expect(verifyAuditChain(entries.slice(4), KEYS, { seq: 4, prevHash: entries[3]!.entryHash }).ok).toBe(true);
    expect(verifyAuditChain(entries.slice(4), KEYS).ok).toBe(false);
  });

  const fail = (list: unknown[], keys: Record<string, string> = KEYS) => {
    const r = verifyAuditChain(list, keys);
    if (r.ok) throw new Error("expected a failure");
    return { index: r.index, seq: r.seq, reason: r.reason };
  };

  it("an edited payload field: BAD_HASH at that seq", () => {
    const edited = entries.map((e, i) => (i === 4 ? { ...e, payload: { ...e.payload, by: "mallory" } } : e));
    expect(fail(edited)).toEqual({ index: 4, seq: 4, reason: "BAD_HASH" });
  });

  it("an edited recordedAt: BAD_HASH", () => {
    const edited = entries.map((e, i) => (i === 2 ? { ...e, recordedAt: "2020-01-01T00:00:00.000Z" } : e));
    expect(fail(edited)).toEqual({ index: 2, seq: 2, reason: "BAD_HASH" });
  });

  it("an edited entry re-hashed by the forger: BAD_SIGNATURE", () => {
    const e = entries[5]!;
    const p = { ...e.payload, note: "forged" };
    const forged = { ...e, payload: p, entryHash: auditEntryHash({ ...e, payload: p }) };
    expect(fail(entries.map((x, i) => (i === 5 ? forged : x)))).toEqual({ index: 5, seq: 5, reason: "BAD_SIGNATURE" });
  });

  it("an entry re-hashed and re-signed by another key: UNKNOWN_KEY or BAD_SIGNATURE", () => {
    const e = entries[5]!;
    const p = { ...e.payload, note: "forged" };
    const entryHash = auditEntryHash({ ...e, payload: p });
    const forged = { ...e, payload: p, entryHash, signature: signB(auditEntrySigningBytes(entryHash)) };
    // Claiming A's key: the signature does not verify.
    expect(fail(entries.map((x, i) => (i === 5 ? forged : x)))).toEqual({ index: 5, seq: 5, reason: "BAD_SIGNATURE" });
    // Claiming an unknown key: refused before any crypto.
    expect(fail(entries.map((x, i) => (i === 5 ? { ...forged, keyId: "ed25519:" + "0".repeat(32) } : x)))).toEqual({
      index: 5,
      seq: 5,
      reason: "UNKNOWN_KEY",
    });
    // Even with B's key accepted for that id, the re-hashed entry breaks the next link.
    expect(fail(entries.map((x, i) => (i === 5 ? { ...forged, keyId: KEY_ID_B } : x)))).toEqual({
      index: 6,
      seq: 6,
      reason: "BROKEN_LINK",
    });
  });

  it("a deleted entry: SEQ_GAP at the entry after it", () => {
    expect(fail([...entries.slice(0, 3), ...entries.slice(4)])).toEqual({ index: 3, seq: 4, reason: "SEQ_GAP" });
  });

  it("reordered entries: SEQ_GAP", () => {
    const swapped = [...entries];
    [swapped[6], swapped[7]] = [swapped[7]!, swapped[6]!];
    expect(fail(swapped)).toEqual({ index: 6, seq: 7, reason: "SEQ_GAP" });
  });

  it("a renumbered deletion (seq rewritten): BROKEN_LINK", () => {
    const e = entries[4]!;
    const renumbered = { ...e, seq: 3 };
    expect(fail([...entries.slice(0, 3), renumbered])).toEqual({ index: 3, seq: 3, reason: "BROKEN_LINK" });
  });

  it("a duplicated entry: SEQ_GAP", () => {
    expect(fail([...entries.slice(0, 3), entries[2], ...entries.slice(3)])).toEqual({ index: 3, seq: 2, reason: "SEQ_GAP" });
  });

  it("a spliced-in foreign chain: BROKEN_LINK", () => {
    const foreign = chain(5).map((e) => ({ ...e }));
    const other = buildAuditEntry({ seq: 2, entryHash: "11".repeat(32) }, payload(9), signA, KEY_ID_A);
    expect(fail([...foreign.slice(0, 3), other])).toEqual({ index: 3, seq: 3, reason: "BROKEN_LINK" });
  });

  it("a retired key missing from the key set: UNKNOWN_KEY", () => {
    expect(fail(entries, { [KEY_ID_B]: PUBLIC_B })).toEqual({ index: 0, seq: 0, reason: "UNKNOWN_KEY" });
  });

  it("a key id swapped to the other key: BAD_SIGNATURE", () => {
    expect(fail(entries.map((e, i) => (i === 1 ? { ...e, keyId: KEY_ID_B } : e)))).toEqual({ index: 1, seq: 1, reason: "BAD_SIGNATURE" });
  });

  it("malformed entries: MALFORMED_ENTRY", () => {
    expect(fail([{ ...entries[0], extra: 1 }]).reason).toBe("MALFORMED_ENTRY");
    expect(fail([{ ...entries[0], signature: entries[0]!.signature.toUpperCase() }]).reason).toBe("MALFORMED_ENTRY");
    expect(fail([{ ...entries[0], payload: { kind: "other" } }]).reason).toBe("MALFORMED_ENTRY");
    expect(fail([null]).reason).toBe("MALFORMED_ENTRY");
    expect(verifyAuditChain("nope", KEYS).ok).toBe(false);
  });

  it("inherited properties of the key record are never keys", () => {
    const e = buildAuditEntry(null, payload(0), signA, KEY_ID_A);
    const keys = Object.create({ [KEY_ID_A]: PUBLIC_A }) as Record<string, string>;
    expect(fail([e], keys).reason).toBe("UNKNOWN_KEY");
  });

  it("any single-field tampering is caught at the tampered seq", () => {
    const fields = ["seq", "prevHash", "payload", "entryHash", "signature", "keyId", "recordedAt"] as const;
    fc.assert(
      fc.property(fc.nat({ max: 9 }), fc.constantFrom(...fields), fc.nat(), (i, field, salt) => {
        const e = entries[i]!;
        const value: Record<(typeof fields)[number], unknown> = {
          seq: e.seq + 1 + (salt % 3),
          prevHash: createHash("sha256").update(String(salt)).digest("hex"),
          payload: { ...e.payload, salt },
          entryHash: createHash("sha256").update(`h${salt}`).digest("hex"),
          signature: e.signature.slice(0, 126) + (e.signature.endsWith("00") ? "01" : "00"),
          keyId: e.keyId === KEY_ID_A ? KEY_ID_B : KEY_ID_A,
          recordedAt: "2030-01-01T00:00:00.000Z",
        };
        const tampered = entries.map((x, j) => (j === i ? { ...x, [field]: value[field] } : x));
        const r = verifyAuditChain(tampered, KEYS);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.index).toBe(i);
      }),
      { numRuns: 200 },
    );
  });

  it("never throws on garbage", () => {
    fc.assert(
      fc.property(fc.anything(), (x) => {
        expect(() => verifyAuditChain(x, KEYS)).not.toThrow();
        expect(() => verifyAuditChain([x], KEYS)).not.toThrow();
      }),
    );
  });
});

describe("checkpoints", () => {
  const entries = chain(9);
  const hashes = entries.map((e) => e.entryHash);

  it("sign the Merkle root over the entry hashes", () => {
    const { checkpoint, signature } = buildCheckpoint(hashes, { now: NOW, keyId: KEY_ID_A }, signA);
    expect(checkpoint).toEqual({
      v: 1,
      treeSize: 9,
      rootHash: merkleRoot(hashes),
      lastEntryHash: hashes[8],
      createdAt: "2025-06-01T12:00:00.000Z",
      keyId: KEY_ID_A,
    });
    expect(verifyCheckpoint(checkpoint, signature, PUBLIC_A)).toEqual({ ok: true });
    expect(verifyCheckpoint(checkpoint, signature, PUBLIC_A, hashes)).toEqual({ ok: true });
    // A longer log still contains the checkpointed prefix.
    expect(verifyCheckpoint(checkpoint, signature, PUBLIC_A, [...hashes, "ab".repeat(32)])).toEqual({ ok: true });
  });

  it("an empty log has a checkpoint without lastEntryHash", () => {
    const { checkpoint, signature } = buildCheckpoint([], { now: NOW, keyId: KEY_ID_A }, signA);
    expect(checkpoint.lastEntryHash).toBeUndefined();
    expect(verifyCheckpoint(checkpoint, signature, PUBLIC_A, [])).toEqual({ ok: true });
  });

  it("detects forgery, wrong keys, truncated and rewritten logs", () => {
    const { checkpoint, signature } = buildCheckpoint(hashes, { now: NOW, keyId: KEY_ID_A }, signA);
    const reason = (r: ReturnType<typeof verifyCheckpoint>) => (r.ok ? "OK" : r.reason);
    expect(reason(verifyCheckpoint({ ...checkpoint, treeSize: 8 }, signature, PUBLIC_A))).toBe("BAD_SIGNATURE");
    expect(reason(verifyCheckpoint(checkpoint, signature, PUBLIC_B))).toBe("WRONG_KEY");
    expect(reason(verifyCheckpoint({ ...checkpoint, keyId: KEY_ID_B }, signature, PUBLIC_B))).toBe("BAD_SIGNATURE");
    expect(reason(verifyCheckpoint(checkpoint, signature, PUBLIC_A, hashes.slice(0, 8)))).toBe("BEYOND_LOG");
    const rewritten = [...hashes];
    rewritten[2] = "cd".repeat(32);
    expect(reason(verifyCheckpoint(checkpoint, signature, PUBLIC_A, rewritten))).toBe("ROOT_MISMATCH");
    expect(reason(verifyCheckpoint({ ...checkpoint, extra: 1 }, signature, PUBLIC_A))).toBe("MALFORMED");
    // A checkpoint signed with a self-consistent but wrong lastEntryHash.
    const liar = { ...checkpoint, lastEntryHash: hashes[7]! };
    const liarSig = signA(new TextEncoder().encode("freedom-kernel/checkpoint/v1\n" + canonicalJson(liar)));
    expect(reason(verifyCheckpoint(liar, liarSig, PUBLIC_A))).toBe("OK");
    expect(reason(verifyCheckpoint(liar, liarSig, PUBLIC_A, hashes))).toBe("LAST_ENTRY_MISMATCH");
  });

  it("never throws on garbage", () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (c, s, k) => {
        expect(verifyCheckpoint(c, s, k).ok).toBe(false);
      }),
    );
  });
});
