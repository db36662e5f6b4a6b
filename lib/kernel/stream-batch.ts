/**
 * Audit stream batches (issue 14): how the kernel ships a run of consecutive audit entries to a
 * webhook so that the receiver can check, without trusting the network, that the batch comes from
 * this kernel, holds exactly the entries it names, and where it sits in the log.
 *
 * A batch is one JSON document, the RFC 8785 canonical JSON of
 *
 *   { "batch": StreamBatch, "entries": [ <export entry line>, ... ], "signature": "<hex>" }
 *
 * where each element of `entries` is byte for byte the entry's line in the audit export
 * (serializeEntryLine), and `signature` is Ed25519 over
 *
 *   utf8("freedom-kernel/stream-batch/v1\n") ++ JCS(batch)
 *
 * `batch` names the first and last seq, the seq and hash of the entry before the batch (the link
 * to the previous batch: `previousSeq` is the previous batch's last seq), the last entry's hash,
 * and the SHA-256 of the entry lines, each followed by "\n" (exactly those lines of an export).
 * The signature binds all of it; the entries carry their own chain and signatures on top.
 *
 * Verification never throws and checks integrity before meaning: shape, key, signature, digest,
 * then every entry's hash, link and signature with the audit chain's own checkAuditEntry.
 */
import { checkAuditEntry, GENESIS_HASH, lookupKey, type AuditEntry, type KeyLookup } from "./audit";
import { serializeEntryLine } from "./audit-export";
import { isHex, sha256Hex } from "./bytes";
import { canonicalJson, utf8 } from "./canonical";
import { readArray, readPlainObject } from "./internal";
import { parseJsonStrict } from "./json";
import { isKeyId, keyIdOf, signingBytes, STREAM_BATCH_DOMAIN, verifyBytes } from "./signing";

/** The signed description of one batch. */
export interface StreamBatch {
  readonly v: 1;
  /** Which sink it was made for (e.g. "webhook"); a receiver may pin it. */
  readonly sink: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** firstSeq - 1: the last seq of the batch before this one (-1 before the log's first entry). */
  readonly previousSeq: number;
  /** prevHash of the first entry: the entryHash of entry previousSeq (GENESIS_HASH for seq 0). */
  readonly previousHash: string;
  /** entryHash of the last entry. */
  readonly lastHash: string;
  /** Number of entries: lastSeq - firstSeq + 1. */
  readonly count: number;
  /** Hex SHA-256 of the entry lines, each followed by "\n". */
  readonly linesDigest: string;
  /** Key id of the key that signs the batch. */
  readonly keyId: string;
}

/** Most entries one batch may hold (the verifier refuses more). */
export const MAX_STREAM_BATCH_ENTRIES = 10_000;

/** Thrown by buildStreamBatch for input that cannot make a batch (a caller bug, never a decision). */
export class StreamBatchError extends Error {
  readonly code = "INVALID_STREAM_BATCH_INPUT";
  constructor(message: string) {
    super(message);
    this.name = "StreamBatchError";
  }
}

const SINK = /^[a-z][a-z0-9_-]{0,31}$/;

function digestLines(lines: readonly string[]): string {
  return sha256Hex(utf8(lines.join("\n") + "\n"));
}

/**
 * The batch description and entry lines for consecutive `entries` (in seq order, at most
 * MAX_STREAM_BATCH_ENTRIES). Pure. Throws StreamBatchError for no entries, a gap or a broken
 * link between them, a bad sink name or key id; CanonicalizeError for non-JSON entry data.
 */
export function buildStreamBatch(input: { readonly sink: string; readonly keyId: string; readonly entries: readonly AuditEntry[] }): {
  batch: StreamBatch;
  lines: string[];
} {
  const { entries } = input;
  const first = entries[0];
  const last = entries.at(-1);
  if (first === undefined || last === undefined) throw new StreamBatchError("a batch holds at least one entry");
  if (entries.length > MAX_STREAM_BATCH_ENTRIES) throw new StreamBatchError(`a batch holds at most ${MAX_STREAM_BATCH_ENTRIES} entries`);
  if (!SINK.test(input.sink)) throw new StreamBatchError("sink: 1-32 characters of a-z, 0-9, _ and -, starting with a letter");
  if (!isKeyId(input.keyId)) throw new StreamBatchError("keyId is not a key id");
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i]!;
    const prev = entries[i - 1]!;
    if (e.seq !== prev.seq + 1 || e.prevHash !== prev.entryHash) throw new StreamBatchError(`entries must be consecutive (seq ${prev.seq} then ${e.seq})`);
  }
  const lines = entries.map(serializeEntryLine);
  const batch: StreamBatch = {
    v: 1,
    sink: input.sink,
    firstSeq: first.seq,
    lastSeq: last.seq,
    previousSeq: first.seq - 1,
    previousHash: first.prevHash,
    lastHash: last.entryHash,
    count: entries.length,
    linesDigest: digestLines(lines),
    keyId: input.keyId,
  };
  return { batch, lines };
}

/** The bytes a batch signature covers: signingBytes(STREAM_BATCH_DOMAIN, batch). */
export function streamBatchSigningBytes(batch: StreamBatch): Uint8Array {
  return signingBytes(STREAM_BATCH_DOMAIN, batch);
}

/**
 * The HTTP body of a signed batch: canonical JSON of { batch, entries, signature }, built around
 * the entry lines as they are (a canonical array of canonical objects is their comma-join), so the
 * entries are not serialised twice.
 */
export function serializeStreamBatch(batch: StreamBatch, lines: readonly string[], signature: string): string {
  return `{"batch":${canonicalJson(batch)},"entries":[${lines.join(",")}],"signature":${JSON.stringify(signature)}}`;
}

/** Every reason verifyStreamBatch can refuse a batch. */
export const STREAM_BATCH_FAILURE_CODES = [
  "MALFORMED",
  "UNKNOWN_KEY",
  "BAD_SIGNATURE",
  "COUNT_MISMATCH",
  "DIGEST_MISMATCH",
  "BAD_ENTRY",
  "GAP",
  "FORK",
] as const;
/** A reason a batch fails verification. */
export type StreamBatchFailureCode = (typeof STREAM_BATCH_FAILURE_CODES)[number];

/** Where a receiver is: the last entry it holds (seq and entryHash), or null before the first. */
export type StreamPosition = { readonly seq: number; readonly entryHash: string } | null;

export type StreamBatchVerification =
  | {
      readonly ok: true;
      readonly batch: StreamBatch;
      /** Every entry of the batch, in seq order, as parsed. */
      readonly entries: readonly AuditEntry[];
      /** The entries after `receivedUpTo` (all of them without it): what the receiver did not have. */
      readonly fresh: readonly AuditEntry[];
    }
  | { readonly ok: false; readonly code: StreamBatchFailureCode; readonly message: string };

const BATCH_KEYS: ReadonlySet<string> = new Set(["v", "sink", "firstSeq", "lastSeq", "previousSeq", "previousHash", "lastHash", "count", "linesDigest", "keyId"]);
const isSeq = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function readBatch(v: unknown): StreamBatch | string {
  const read = readPlainObject(v, "batch");
  if (!read.ok) return read.error;
  const f = read.value;
  for (const k of f.keys()) if (!BATCH_KEYS.has(k)) return `batch has unknown field ${JSON.stringify(k)}`;
  const b = Object.fromEntries(f) as Record<string, unknown>;
  if (b.v !== 1) return "batch.v must be 1";
  if (typeof b.sink !== "string" || !SINK.test(b.sink)) return "batch.sink is malformed";
  if (!isSeq(b.firstSeq) || !isSeq(b.lastSeq) || b.lastSeq < b.firstSeq) return "batch.firstSeq/lastSeq are malformed";
  if (b.previousSeq !== b.firstSeq - 1) return "batch.previousSeq must be firstSeq - 1";
  if (b.count !== b.lastSeq - b.firstSeq + 1) return "batch.count must be lastSeq - firstSeq + 1";
  if (b.count > MAX_STREAM_BATCH_ENTRIES) return "batch holds too many entries";
  if (!isHex(b.previousHash, 32) || !isHex(b.lastHash, 32) || !isHex(b.linesDigest, 32)) return "batch hashes are malformed";
  if (b.firstSeq === 0 && b.previousHash !== GENESIS_HASH) return "the batch of seq 0 must follow the genesis hash";
  if (!isKeyId(b.keyId)) return "batch.keyId is malformed";
  return b as unknown as StreamBatch;
}

/**
 * Checks a signed batch: `body` is the HTTP body (text, parsed with the strict JSON parser) or the
 * parsed document. `keys` are the kernel's public keys (GET /api/v1/keys), by key id.
 * With `receivedUpTo` (the last entry the receiver holds) it also checks the order: the batch must
 * start at or before the entry after it (a redelivered batch overlaps what was received), and
 * where it overlaps, its entry at that seq must be the one received (else FORK); a batch starting
 * later is a GAP. Returns the batch, its entries and those not yet received; never throws.
 */
export function verifyStreamBatch(body: unknown, keys: KeyLookup, options: { readonly receivedUpTo?: StreamPosition } = {}): StreamBatchVerification {
  const fail = (code: StreamBatchFailureCode, message: string): StreamBatchVerification => ({ ok: false, code, message });
  try {
    let doc = body;
    if (typeof body === "string") {
      const parsed = parseJsonStrict(body);
      if (!parsed.ok) return fail("MALFORMED", "the body is not valid JSON");
      doc = parsed.value;
    }
    const top = readPlainObject(doc, "body", 3);
    if (!top.ok) return fail("MALFORMED", top.error);
    for (const k of top.value.keys()) if (k !== "batch" && k !== "entries" && k !== "signature") return fail("MALFORMED", `body has unknown field ${JSON.stringify(k)}`);
    const batch = readBatch(top.value.get("batch"));
    if (typeof batch === "string") return fail("MALFORMED", batch);
    const signature = top.value.get("signature");
    if (!isHex(signature, 64)) return fail("MALFORMED", "signature must be 128 hex characters");
    const list = readArray(top.value.get("entries"), "entries", MAX_STREAM_BATCH_ENTRIES);
    if (!list.ok) return fail("MALFORMED", list.error);

    // Integrity first: the key, the signature over the description, the digest of the lines.
    const key = lookupKey(keys, batch.keyId);
    if (key === undefined) return fail("UNKNOWN_KEY", `no public key for ${batch.keyId}`);
    let keyOk = false;
    try {
      keyOk = keyIdOf(key) === batch.keyId;
    } catch {
      keyOk = false;
    }
    if (!keyOk || !verifyBytes(streamBatchSigningBytes(batch), signature, key)) return fail("BAD_SIGNATURE", "the batch signature does not verify under its key");
    if (list.value.length !== batch.count) return fail("COUNT_MISMATCH", `the batch names ${batch.count} entries and holds ${list.value.length}`);
    const lines = list.value.map((e) => canonicalJson(e));
    if (digestLines(lines) !== batch.linesDigest) return fail("DIGEST_MISMATCH", "the entries are not the ones the batch was signed over");

    // Then meaning: each entry extends the chain from previousHash, under a key the receiver knows.
    const entries: AuditEntry[] = [];
    let expected = { seq: batch.firstSeq, prevHash: batch.previousHash };
    for (const raw of list.value) {
      const read = readPlainObject(raw, "entry");
      if (!read.ok || read.value.get("type") !== "entry") return fail("BAD_ENTRY", `entry seq ${expected.seq}: not an export entry line`);
      const { type: _type, ...entry } = Object.fromEntries(read.value) as Record<string, unknown>;
      const failure = checkAuditEntry(entry, expected, keys);
      if (failure) return fail("BAD_ENTRY", `entry seq ${expected.seq}: ${failure.reason}: ${failure.message}`);
      const e = entry as unknown as AuditEntry;
      entries.push(e);
      expected = { seq: e.seq + 1, prevHash: e.entryHash };
    }
    if (expected.prevHash !== batch.lastHash) return fail("BAD_ENTRY", "lastHash is not the last entry's hash");

    let fresh: readonly AuditEntry[] = entries;
    const at = options.receivedUpTo;
    if (at !== undefined) {
      const upTo = at === null ? -1 : at.seq;
      if (batch.previousSeq > upTo) return fail("GAP", `the batch starts after seq ${batch.previousSeq}, the receiver holds up to ${upTo}`);
      if (at !== null) {
        const linkHash = at.seq === batch.previousSeq ? batch.previousHash : entries.find((e) => e.seq === at.seq)?.entryHash;
        if (linkHash !== undefined && linkHash !== at.entryHash) return fail("FORK", `entry seq ${at.seq} differs from the one received`);
      }
      fresh = entries.filter((e) => e.seq > upTo);
    }
    return { ok: true, batch, entries, fresh };
  } catch {
    return fail("MALFORMED", "the batch could not be read");
  }
}
