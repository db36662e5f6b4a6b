/**
 * The audit log's math (design §7): hash-chained, signed entries and signed Merkle checkpoints.
 *
 * entryHash = hex SHA-256( utf8(AUDIT_ENTRY_DOMAIN) ++ canonical({ seq, prevHash, payload[, recordedAt] }) )
 * signature = Ed25519 over utf8(AUDIT_ENTRY_DOMAIN) ++ canonical({ entryHash })
 *
 * Each entry names the hash of the one before it (the first names GENESIS_HASH), so deleting,
 * inserting or reordering entries breaks a link, and editing any field breaks the entry's own
 * hash. The signature makes the chain the kernel key's statement rather than anyone's. A
 * checkpoint signs the RFC 6962 Merkle root over the entry hashes so far, so an auditor holding an
 * old checkpoint can check inclusion and that the log only grew (merkle.ts).
 *
 * The server signs with node:crypto, so builders take the signer as a callback over bytes; the
 * kernel never holds a secret key here. Verifiers return a report and never throw.
 */
import { canonicalJson } from "./canonical";
import { isHex, sha256Hex } from "./bytes";
import { formatIso, parseIso } from "./iso-time";
import { merkleRoot } from "./merkle";
import {
  AUDIT_ENTRY_DOMAIN,
  CHECKPOINT_DOMAIN,
  isKeyId,
  keyIdOf,
  signingBytes,
  verifyBytes,
  type DecisionRecord,
  type KeyInput,
  type PlanDecisionRecord,
} from "./signing";

/** prevHash of the first entry (seq 0). */
export const GENESIS_HASH = "0".repeat(64);

/** Plain JSON data. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** What an entry records. A closed list: a verifier refuses kinds it does not know. */
export const AUDIT_PAYLOAD_KINDS = ["decision", "plan", "authority", "key", "system"] as const;
/** One of AUDIT_PAYLOAD_KINDS. */
export type AuditPayloadKind = (typeof AUDIT_PAYLOAD_KINDS)[number];

/** A payload of any known kind as plain JSON data. */
export type JsonPayload = { readonly kind: AuditPayloadKind } & { readonly [key: string]: JsonValue };

/**
 * Any audit payload: a JSON object with a known `kind`. The typed shapes below are listed so that
 * a signed record (an interface, which TypeScript will not widen to a JSON index signature) can
 * be recorded without a cast; at runtime every payload is checked as JSON data with a known kind.
 */
export type AuditPayload = DecisionPayload | PlanPayload | AuthorityPayload | KeyPayload | JsonPayload;

/**
 * A decision as recorded: the signed record exactly as returned to the agent. The export verifier
 * checks the record's signature and that a live record's auditSeq is this entry's seq.
 */
export interface DecisionPayload {
  readonly kind: "decision";
  readonly record: DecisionRecord;
  readonly signature: string;
  readonly keyId: string;
  /**
   * The parsed action the record is about (its actionDigest is actionDigest(action)), when the
   * machine asked for itself: what a what-if simulation replays (issue 12). Absent in entries
   * written before it, and for actions that could not be parsed.
   */
  readonly action?: JsonValue;
}

/** A verified plan as recorded, checked like DecisionPayload. */
export interface PlanPayload {
  readonly kind: "plan";
  readonly record: PlanDecisionRecord;
  readonly signature: string;
  readonly keyId: string;
}

/**
 * A change of authority (registration, grant, revoke, halt, resume, approval, arbitration, ...)
 * with the human who made it (`by`) and the change itself (`data`). `op` is the server's name
 * for the change, e.g. "grant", "revoke", "halt", "resume", "approve", "arbitrate".
 */
export interface AuthorityPayload {
  readonly kind: "authority";
  readonly op: string;
  readonly by: string;
  readonly data: JsonValue;
}

/** A signing key event. The export verifier checks keyId === keyIdOf(publicKey). */
export interface KeyPayload {
  readonly kind: "key";
  readonly op: "activate" | "rotate" | "retire";
  readonly keyId: string;
  readonly publicKey: string;
  readonly previousKeyId?: string;
}

/** One link of the hash chain, as stored and exported. */
export interface AuditEntry {
  /** 0-based, gapless. */
  readonly seq: number;
  /** entryHash of entry seq-1, GENESIS_HASH for seq 0. */
  readonly prevHash: string;
  readonly payload: AuditPayload;
  /** hex SHA-256, see auditEntryHash. */
  readonly entryHash: string;
  /** hex Ed25519 over signingBytes(AUDIT_ENTRY_DOMAIN, { entryHash }). */
  readonly signature: string;
  /** Key id of the signing key. Not hashed: a wrong keyId simply fails the signature check. */
  readonly keyId: string;
  /** ISO-8601 time of recording. Covered by the entry hash when present. */
  readonly recordedAt?: string;
}

/** The stable code of AuditError. */
export type AuditErrorCode = "INVALID_AUDIT_INPUT";

/** Thrown by buildAuditEntry / buildCheckpoint for input that cannot make a sound entry (never by verifiers). */
export class AuditError extends Error {
  readonly code: AuditErrorCode = "INVALID_AUDIT_INPUT";
  constructor(message: string) {
    super(message);
    this.name = "AuditError";
  }
}

/**
 * Hex SHA-256 of signingBytes(AUDIT_ENTRY_DOMAIN, { seq, prevHash, payload, recordedAt? }).
 * recordedAt is part of the hash when present — an unauthenticated time in a tamper-evident log
 * would be an editable field. Throws CanonicalizeError when the payload is not JSON data.
 */
export function auditEntryHash(entry: {
  readonly seq: number;
  readonly prevHash: string;
  readonly payload: unknown;
  readonly recordedAt?: string | undefined;
}): string {
  const hashed: Record<string, unknown> = {
    seq: entry.seq,
    prevHash: entry.prevHash,
    payload: entry.payload,
  };
  if (entry.recordedAt !== undefined) hashed.recordedAt = entry.recordedAt;
  return sha256Hex(signingBytes(AUDIT_ENTRY_DOMAIN, hashed));
}

/** The bytes an entry signature covers: signingBytes(AUDIT_ENTRY_DOMAIN, { entryHash }). */
export function auditEntrySigningBytes(entryHash: string): Uint8Array {
  return signingBytes(AUDIT_ENTRY_DOMAIN, { entryHash });
}

/** Signs bytes and returns a hex Ed25519 signature (e.g. node:crypto, or signBytes with a key). */
export type Signer = (bytes: Uint8Array) => string;

const KIND_SET: ReadonlySet<string> = new Set(AUDIT_PAYLOAD_KINDS);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isPayload(value: unknown): value is AuditPayload {
  return isPlainObject(value) && typeof value.kind === "string" && KIND_SET.has(value.kind);
}

/**
 * Builds the next entry after `prev` (null for the first). Pure apart from calling `sign`.
 * The payload is copied through canonical JSON, so later changes to the caller's object cannot
 * silently invalidate the entry. Throws AuditError for an unknown payload kind, a bad keyId or
 * prev, or a signer that does not return 128 lowercase hex characters; CanonicalizeError for a
 * payload that is not JSON data; IsoTimeError for a bad `now`.
 */
export function buildAuditEntry(
  prev: { readonly seq: number; readonly entryHash: string } | null,
  payload: AuditPayload,
  sign: Signer,
  keyId: string,
  options: { readonly now?: number | undefined } = {},
): AuditEntry {
  if (!isPayload(payload)) throw new AuditError("payload must be an object with a known kind");
  if (!isKeyId(keyId)) throw new AuditError("keyId must be a key id (ed25519:<32 hex>)");
  if (prev !== null && (!Number.isSafeInteger(prev.seq) || prev.seq < 0 || !isHex(prev.entryHash, 32))) {
    throw new AuditError("prev must be { seq, entryHash } of the last entry");
  }
  const seq = prev === null ? 0 : prev.seq + 1;
  const prevHash = prev === null ? GENESIS_HASH : prev.entryHash;
  const copied = JSON.parse(canonicalJson(payload)) as AuditPayload;
  const recordedAt = options.now === undefined ? undefined : formatIso(options.now);
  const entryHash = auditEntryHash({ seq, prevHash, payload: copied, recordedAt });
  const signature = sign(auditEntrySigningBytes(entryHash));
  if (!isHex(signature, 64)) throw new AuditError("the signer must return a 64-byte hex signature");
  return {
    seq,
    prevHash,
    payload: copied,
    entryHash,
    signature,
    keyId,
    ...(recordedAt !== undefined ? { recordedAt } : {}),
  };
}

/** Public keys by key id. Records are looked up with Object.hasOwn only. */
export type KeyLookup = ReadonlyMap<string, KeyInput> | Readonly<Record<string, KeyInput>>;

/** The public key for `keyId`, or undefined. Never throws; ignores inherited properties. */
export function lookupKey(keys: KeyLookup, keyId: string): KeyInput | undefined {
  if (keys instanceof Map) return keys.get(keyId) as KeyInput | undefined;
  const record = keys as Readonly<Record<string, KeyInput>>;
  return Object.hasOwn(record, keyId) ? record[keyId] : undefined;
}

/** Every reason an entry fails chain verification, in the order checkAuditEntry checks them. */
export const AUDIT_FAILURE_CODES = [
  "MALFORMED_ENTRY",
  "SEQ_GAP",
  "BROKEN_LINK",
  "BAD_HASH",
  "UNKNOWN_KEY",
  "BAD_SIGNATURE",
] as const;
/** A reason an entry fails chain verification. */
export type AuditFailureCode = (typeof AUDIT_FAILURE_CODES)[number];

/** What is wrong with one entry. */
export interface AuditEntryFailure {
  readonly reason: AuditFailureCode;
  readonly message: string;
}

const ENTRY_KEYS: ReadonlySet<string> = new Set([
  "seq",
  "prevHash",
  "payload",
  "entryHash",
  "signature",
  "keyId",
  "recordedAt",
]);

/** True iff `value` has the shape of an AuditEntry (no unknown keys). Never throws. */
export function isAuditEntry(value: unknown): value is AuditEntry {
  if (!isPlainObject(value)) return false;
  for (const k of Object.keys(value)) if (!ENTRY_KEYS.has(k)) return false;
  return (
    typeof value.seq === "number" &&
    Number.isSafeInteger(value.seq) &&
    value.seq >= 0 &&
    isHex(value.prevHash, 32) &&
    isPayload(value.payload) &&
    isHex(value.entryHash, 32) &&
    isHex(value.signature, 64) &&
    isKeyId(value.keyId) &&
    (value.recordedAt === undefined || parseIso(value.recordedAt) !== undefined)
  );
}

/**
 * Checks one entry against what the chain expects at its position: shape, seq, link, own hash,
 * key, signature — in that order, so the reason names the first thing that is wrong.
 * Returns undefined when the entry is sound, else the failure. Never throws.
 */
export function checkAuditEntry(
  entry: unknown,
  expected: { readonly seq: number; readonly prevHash: string },
  keys: KeyLookup,
): AuditEntryFailure | undefined {
  if (!isAuditEntry(entry)) {
    return { reason: "MALFORMED_ENTRY", message: "not a well-formed audit entry" };
  }
  if (entry.seq !== expected.seq) {
    return {
      reason: "SEQ_GAP",
      message: `expected seq ${expected.seq}, found ${entry.seq} (entry missing, duplicated or reordered)`,
    };
  }
  if (entry.prevHash !== expected.prevHash) {
    return { reason: "BROKEN_LINK", message: "prevHash is not the previous entry's hash" };
  }
  let computed: string;
  try {
    computed = auditEntryHash(entry);
  } catch {
    return { reason: "MALFORMED_ENTRY", message: "payload is not canonical JSON data" };
  }
  if (computed !== entry.entryHash) {
    return { reason: "BAD_HASH", message: "entryHash does not match the entry's contents (edited?)" };
  }
  const key = lookupKey(keys, entry.keyId);
  if (key === undefined) return { reason: "UNKNOWN_KEY", message: `no public key for ${entry.keyId}` };
  if (!verifyBytes(auditEntrySigningBytes(entry.entryHash), entry.signature, key)) {
    return { reason: "BAD_SIGNATURE", message: `signature does not verify under ${entry.keyId}` };
  }
  return undefined;
}

/** The outcome of verifyAuditChain: ok with the head, or the first failure. */
export type AuditChainReport =
  | {
      readonly ok: true;
      /** Entries verified. */
      readonly count: number;
      /** entryHash of the last entry (the start prevHash when there are none). */
      readonly headHash: string;
      readonly nextSeq: number;
    }
  | {
      readonly ok: false;
      /** Position of the failing entry in the array. */
      readonly index: number;
      /** Its seq, when it has a readable one. */
      readonly seq?: number;
      readonly reason: AuditFailureCode;
      readonly message: string;
      /** Entries verified before the failure. */
      readonly count: number;
    };

/**
 * Verifies a run of entries: gapless seqs from `start.seq` (default 0), each linked to the one
 * before (the first to `start.prevHash`, default GENESIS_HASH), each hash recomputed, each
 * signature checked under `keys[keyId]`. Returns the first failure with its index, seq and
 * reason (MALFORMED_ENTRY, SEQ_GAP, BROKEN_LINK, BAD_HASH, UNKNOWN_KEY, BAD_SIGNATURE), or ok.
 * Never throws, whatever `entries` holds.
 */
export function verifyAuditChain(
  entries: unknown,
  keys: KeyLookup,
  start: { readonly seq: number; readonly prevHash: string } = { seq: 0, prevHash: GENESIS_HASH },
): AuditChainReport {
  if (!Array.isArray(entries)) {
    return { ok: false, index: 0, reason: "MALFORMED_ENTRY", message: "entries must be an array", count: 0 };
  }
  let expected = { seq: start.seq, prevHash: start.prevHash };
  let i = 0;
  try {
    for (; i < entries.length; i++) {
      const entry: unknown = entries[i];
      const failure = checkAuditEntry(entry, expected, keys);
      if (failure) {
        const seq = isPlainObject(entry) && Number.isSafeInteger(entry.seq) ? (entry.seq as number) : undefined;
        return { ok: false, index: i, ...(seq !== undefined ? { seq } : {}), ...failure, count: i };
      }
      const e = entry as AuditEntry;
      expected = { seq: e.seq + 1, prevHash: e.entryHash };
    }
  } catch {
    // Input that cannot even be read (throwing getters, a bad key table) fails where it was hit.
    return { ok: false, index: i, reason: "MALFORMED_ENTRY", message: "the entry or the key table could not be read", count: i };
  }
  return { ok: true, count: entries.length, headHash: expected.prevHash, nextSeq: expected.seq };
}

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

/**
 * A signed statement "the log's first treeSize entries have Merkle root rootHash", signed over
 * signingBytes(CHECKPOINT_DOMAIN, checkpoint). lastEntryHash (absent for an empty log) lets an
 * auditor tie the checkpoint to the chain head without recomputing the tree.
 */
export interface Checkpoint {
  readonly v: 1;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly lastEntryHash?: string;
  readonly createdAt: string;
  readonly keyId: string;
}

/** A checkpoint and its hex signature. */
export interface SignedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly signature: string;
}

const CHECKPOINT_KEYS: ReadonlySet<string> = new Set([
  "v",
  "treeSize",
  "rootHash",
  "lastEntryHash",
  "createdAt",
  "keyId",
]);

/**
 * True iff `value` is a well-formed Checkpoint: no unknown keys, lastEntryHash present exactly
 * when treeSize > 0. Never throws.
 */
export function isCheckpoint(value: unknown): value is Checkpoint {
  if (!isPlainObject(value)) return false;
  for (const k of Object.keys(value)) if (!CHECKPOINT_KEYS.has(k)) return false;
  const { v, treeSize, rootHash, lastEntryHash, createdAt, keyId } = value;
  if (v !== 1 || typeof treeSize !== "number" || !Number.isSafeInteger(treeSize) || treeSize < 0) {
    return false;
  }
  if (!isHex(rootHash, 32) || parseIso(createdAt) === undefined || !isKeyId(keyId)) return false;
  return treeSize === 0 ? lastEntryHash === undefined : isHex(lastEntryHash, 32);
}

/** The bytes a checkpoint signature covers. Throws AuditError for a malformed checkpoint. */
export function checkpointSigningBytes(checkpoint: Checkpoint): Uint8Array {
  if (!isCheckpoint(checkpoint)) throw new AuditError("malformed checkpoint");
  return signingBytes(CHECKPOINT_DOMAIN, checkpoint);
}

/**
 * Builds and signs a checkpoint over `entryHashes` (the entryHash of every entry so far, in seq
 * order). Throws AuditError for a bad keyId, non-hex hashes or a signer returning a non-signature;
 * IsoTimeError for a bad `now`.
 */
export function buildCheckpoint(
  entryHashes: readonly string[],
  options: { readonly now: number; readonly keyId: string },
  sign: Signer,
): SignedCheckpoint {
  if (!entryHashes.every((h) => isHex(h, 32))) throw new AuditError("entry hashes must be 32-byte hex");
  const last = entryHashes.at(-1);
  const checkpoint: Checkpoint = {
    v: 1,
    treeSize: entryHashes.length,
    rootHash: merkleRoot(entryHashes),
    ...(last !== undefined ? { lastEntryHash: last } : {}),
    createdAt: formatIso(options.now),
    keyId: options.keyId,
  };
  const signature = sign(checkpointSigningBytes(checkpoint));
  if (!isHex(signature, 64)) throw new AuditError("the signer must return a 64-byte hex signature");
  return { checkpoint, signature };
}

/** Every reason verifyCheckpoint can give. */
export const CHECKPOINT_FAILURE_CODES = [
  "MALFORMED",
  "WRONG_KEY",
  "BAD_SIGNATURE",
  "BEYOND_LOG",
  "ROOT_MISMATCH",
  "LAST_ENTRY_MISMATCH",
] as const;
/** A reason a checkpoint is refused. */
export type CheckpointFailureCode = (typeof CHECKPOINT_FAILURE_CODES)[number];

/** The outcome of verifyCheckpoint. */
export type CheckpointReport =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: CheckpointFailureCode; readonly message: string };

/**
 * Checks a checkpoint's shape, that it names `publicKey`, and its signature; when `entryHashes`
 * (the log's entry hashes in seq order) is given, also that its root and last entry hash are those
 * of the first treeSize entries (BEYOND_LOG if the log is shorter). Never throws.
 */
export function verifyCheckpoint(
  checkpoint: unknown,
  signature: unknown,
  publicKey: unknown,
  entryHashes?: readonly string[],
): CheckpointReport {
  if (!isCheckpoint(checkpoint)) return { ok: false, reason: "MALFORMED", message: "not a well-formed checkpoint" };
  let keyId: string;
  try {
    keyId = keyIdOf(publicKey as KeyInput);
  } catch {
    return { ok: false, reason: "MALFORMED", message: "the public key is not 32 bytes" };
  }
  if (keyId !== checkpoint.keyId) {
    return { ok: false, reason: "WRONG_KEY", message: `checkpoint names ${checkpoint.keyId}, key is ${keyId}` };
  }
  if (!verifyBytes(signingBytes(CHECKPOINT_DOMAIN, checkpoint), signature, publicKey)) {
    return { ok: false, reason: "BAD_SIGNATURE", message: "checkpoint signature does not verify" };
  }
  if (entryHashes === undefined) return { ok: true };
  if (!Array.isArray(entryHashes) || !entryHashes.every((h) => isHex(h, 32))) {
    return { ok: false, reason: "MALFORMED", message: "entry hashes must be 32-byte hex" };
  }
  if (checkpoint.treeSize > entryHashes.length) {
    return {
      ok: false,
      reason: "BEYOND_LOG",
      message: `checkpoint covers ${checkpoint.treeSize} entries, the log has ${entryHashes.length}`,
    };
  }
  const prefix = entryHashes.slice(0, checkpoint.treeSize);
  if (merkleRoot(prefix) !== checkpoint.rootHash) {
    return { ok: false, reason: "ROOT_MISMATCH", message: "root is not the Merkle root of the entries" };
  }
  if (checkpoint.lastEntryHash !== prefix.at(-1)) {
    return { ok: false, reason: "LAST_ENTRY_MISMATCH", message: "lastEntryHash is not the last entry's hash" };
  }
  return { ok: true };
}
