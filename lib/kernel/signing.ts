/**
 * Signed decisions and permits (design §5).
 *
 * Signing is split, as in noble, into "build the bytes" and "sign": the bytes are always
 * `utf8(domain) ++ RFC 8785 canonical JSON(value)`. The domain string names what is signed, so a
 * signature over a decision can never be replayed as a signature over an audit entry or a
 * checkpoint. Nothing is ever re-serialised except through canonical JSON: a verifier recomputes
 * the canonical bytes of the record it was handed, so any edit to any field changes the bytes.
 *
 * Ed25519 comes from @noble/ed25519 used synchronously (SHA-512 from @noble/hashes), with RFC 8032
 * strict verification (`zip215: false`): non-canonical point encodings, S >= L and small-order
 * public keys are refused, so one message has one valid signature per key (non-malleable).
 *
 * Verification functions return false (or a failure reason) on bad input and never throw.
 * Builders throw typed errors: building a malformed record is a caller bug, never a decision.
 */
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import { canonicalBytes, canonicalJson, utf8 } from "./canonical";
import { fromHex, isHex, sha256Hex, toHex } from "./bytes";
import { formatIso, parseIso } from "./iso-time";
import {
  FLAGS,
  VIOLATION_CODES,
  WARNING_CODES,
  type Action,
  type Axiom,
  type BudgetCharge,
  type BudgetRemaining,
  type Flag,
  type ResolvedReference,
  type SnapshotRef,
  type VerifyResult,
  type ViolationCode,
  type WarningCode,
} from "./types";

// noble ships only async methods unless it is given a synchronous SHA-512. Setting it here, once,
// keeps every kernel caller synchronous (and deterministic) in Node and in the browser alike.
ed.hashes.sha512 = sha512;

/** Domain of a single decision record (and therefore of a permit). */
export const DECISION_DOMAIN = "freedom-kernel/decision/v1\n";
/** Domain of a plan decision record: separate, so a plan record can never pass as a permit. */
export const PLAN_DECISION_DOMAIN = "freedom-kernel/plan-decision/v1\n";
/** Domain of audit entries (hash input and signature). */
export const AUDIT_ENTRY_DOMAIN = "freedom-kernel/audit-entry/v1\n";
/** Domain of audit checkpoints (signed Merkle roots). */
export const CHECKPOINT_DOMAIN = "freedom-kernel/checkpoint/v1\n";
/**
 * Domain of audit stream batches (stream-batch.ts): what a webhook receiver checks to know a batch
 * comes from this kernel and where it sits in the log. Separate, so a batch signature can never
 * pass for a decision, a permit, a plan, an entry or a checkpoint.
 */
export const STREAM_BATCH_DOMAIN = "freedom-kernel/stream-batch/v1\n";

/** Default lifetime of a permit (a live PERMITTED decision). */
export const DEFAULT_PERMIT_TTL_MS = 60_000;

/** Why a key or record was refused for signing. */
export type SigningErrorCode = "BAD_SECRET_KEY" | "BAD_PUBLIC_KEY" | "BAD_RECORD";

/** Thrown by builders and signers (never by verifiers) for a bad key or a malformed record. */
export class SigningError extends Error {
  constructor(
    readonly code: SigningErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "SigningError";
  }
}

/** A 32-byte key as raw bytes or lowercase hex. */
export type KeyInput = Uint8Array | string;

function keyBytes(key: unknown): Uint8Array | undefined {
  if (key instanceof Uint8Array) return key.length === 32 ? key : undefined;
  return fromHex(key, 32);
}

/**
 * The bytes that get signed: utf8(domain) ++ canonicalBytes(value).
 * Throws CanonicalizeError when `value` is not representable as canonical JSON.
 */
export function signingBytes(domain: string, value: unknown): Uint8Array {
  // One UTF-8 encoding of the joined text: the same bytes as encoding each part (UTF-8 of a
  // concatenation is the concatenation of the UTF-8s, as neither part ends in half a pair).
  return utf8(domain + canonicalJson(value));
}

const KEY_ID = /^ed25519:[0-9a-f]{32}$/;

/**
 * Key id of an Ed25519 public key: `"ed25519:"` followed by the first 32 hex characters (128 bits)
 * of SHA-256 over the 32 raw public key bytes. 128 bits is far beyond any accidental collision
 * and a forged collision would still need the matching secret key to sign anything.
 * Throws SigningError("BAD_PUBLIC_KEY") for anything but 32 bytes (raw or lowercase hex).
 */
export function keyIdOf(publicKey: KeyInput): string {
  const pk = keyBytes(publicKey);
  if (!pk) throw new SigningError("BAD_PUBLIC_KEY", "a public key is 32 bytes");
  return "ed25519:" + sha256Hex(pk).slice(0, 32);
}

/** True iff `text` has the shape of a key id. Never throws. */
export function isKeyId(text: unknown): text is string {
  return typeof text === "string" && KEY_ID.test(text);
}

/**
 * The 32-byte public key of a 32-byte secret key (RFC 8032 seed).
 * Throws SigningError("BAD_SECRET_KEY") for anything but 32 bytes (raw or lowercase hex).
 */
export function publicKeyOf(secretKey: KeyInput): Uint8Array {
  const sk = keyBytes(secretKey);
  if (!sk) throw new SigningError("BAD_SECRET_KEY", "a secret key is 32 bytes");
  return ed.getPublicKey(sk);
}

/**
 * Ed25519 signature (lowercase hex, 128 characters) of `bytes` under `secretKey`.
 * Deterministic (RFC 8032): same key and bytes, same signature.
 * Throws SigningError("BAD_SECRET_KEY") for a key that is not 32 bytes.
 */
export function signBytes(bytes: Uint8Array, secretKey: KeyInput): string {
  const sk = keyBytes(secretKey);
  if (!sk) throw new SigningError("BAD_SECRET_KEY", "a secret key is 32 bytes");
  return toHex(ed.sign(bytes, sk));
}

/**
 * Strict RFC 8032 verification of a hex signature. Returns false — never throws — for a wrong
 * signature, a signature that is not exactly 128 lowercase hex characters, a public key that is
 * not 32 bytes (raw or lowercase hex), non-canonical point or scalar encodings, small-order keys,
 * and any non-byte `bytes`.
 */
export function verifyBytes(bytes: unknown, signatureHex: unknown, publicKey: unknown): boolean {
  if (!(bytes instanceof Uint8Array)) return false;
  const sig = fromHex(signatureHex, 64);
  const pk = keyBytes(publicKey);
  if (!sig || !pk) return false;
  try {
    return ed.verify(sig, bytes, pk, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * Hex SHA-256 of the canonical JSON of a parsed action: what a permit is bound to.
 * Parsing makes every flag explicit, so the digest does not depend on whether the agent omitted a
 * flag or sent it as false. Throws CanonicalizeError if `action` is not canonical-JSON data.
 *
 * Object references are digested as written: the canonical path is a pure function of the
 * written reference (canonicalizeReference, same bytes in, same path out), so the digest binds
 * the canonical reference too, while the digest of an id-only action stays what it always was.
 * The decision record additionally signs the canonical path and the resource of each reference
 * (`resolved`), so a reader never has to recompute it.
 */
export function actionDigest(action: Action): string {
  return sha256Hex(canonicalBytes(action));
}

/**
 * The digest a record carries for input that did not parse as an action (a MALFORMED_ACTION
 * decision): hex SHA-256 of the canonical JSON of the input as given, or of the text
 * `unrepresentable` when even that cannot be written (a lone surrogate, a cycle, too deep). The
 * server, the stateless route and the CLI all use this one definition.
 */
export function inputDigest(input: unknown): string {
  let text: string;
  try {
    text = canonicalJson(input);
  } catch {
    text = "unrepresentable";
  }
  return sha256Hex(utf8(text));
}

// ---------------------------------------------------------------------------------------------
// Decision records
// ---------------------------------------------------------------------------------------------

export interface DecisionViolation {
  readonly code: ViolationCode;
  readonly axiom: Axiom;
  readonly message: string;
  readonly flag?: Flag;
  readonly resource?: string;
  readonly human?: string;
  readonly step?: number;
}

/** A warning as signed in a record: code, message and optional resource only. */
export interface DecisionWarning {
  readonly code: WarningCode;
  readonly message: string;
  readonly resource?: string;
}

/**
 * "live": decided by the server against the registry, recorded in the audit log; a live PERMITTED
 * record is a permit. "stateless": decided over a registry supplied with the request (CLI,
 * stateless endpoint); it proves what the kernel answered for that input, never authorises anything.
 */
export type DecisionMode = "live" | "stateless";

/**
 * The signed form of one decision. Every field the agent relies on is in it; it is signed over
 * signingBytes(DECISION_DOMAIN, record).
 *
 * A PERMITTED live record is a permit: it carries `expiresAt` (default 60 s after decidedAt) and
 * is bound to the action digest, the actor, the snapshot and a single-use nonce. A stateless
 * record never carries `expiresAt` and verifyPermit refuses it, so it can never be a permit.
 */
export interface DecisionRecord {
  readonly v: 1;
  readonly mode: DecisionMode;
  readonly actionId: string;
  readonly actor: string;
  /** Hex SHA-256 of the canonical parsed action (see actionDigest). */
  readonly actionDigest: string;
  readonly permitted: boolean;
  readonly violations: readonly DecisionViolation[];
  readonly warnings: readonly DecisionWarning[];
  readonly confidence: number;
  readonly requiresHumanArbitration: boolean;
  readonly manipulationScore: number;
  readonly snapshot: SnapshotRef;
  /** Object references of the action: as written, canonical path, resolved resource. Absent for id-only actions. */
  readonly resolved?: readonly ResolvedReference[];
  /**
   * Budgeted grants the action charges and what is left of each after this use (issue 13), sorted
   * by grant id. Absent when nothing budgeted is charged.
   */
  readonly budgets?: readonly BudgetCharge[];
  /**
   * Shadow rules matching the action and whether promoting each would deny it (issue 12), sorted
   * by rule id. Reported, never enforced. Absent when no shadow rule matches.
   */
  readonly shadow?: readonly ShadowEntry[];
  /** ISO-8601 UTC, as Date#toISOString prints it. */
  readonly decidedAt: string;
  /** Only on a live PERMITTED record: the permit's expiry. */
  readonly expiresAt?: string;
  /** Lowercase hex, 16..128 characters; single-use for permits. */
  readonly nonce: string;
  /** Key id (keyIdOf) of the key that signs this record. */
  readonly keyId: string;
  /** Sequence number of the audit entry that records this decision. Required when live. */
  readonly auditSeq?: number;
  readonly session?: string;
}

/** The stable code of DecisionRecordError. */
export type DecisionRecordErrorCode = "INVALID_DECISION_INPUT";

/** Thrown by buildDecisionRecord / buildPlanDecisionRecord when the input cannot make a well-formed record. */
export class DecisionRecordError extends Error {
  readonly code: DecisionRecordErrorCode = "INVALID_DECISION_INPUT";
  constructor(message: string) {
    super(message);
    this.name = "DecisionRecordError";
  }
}

const NONCE = /^(?:[0-9a-f]{2}){8,64}$/;
const AXIOMS: ReadonlySet<string> = new Set<Axiom>([
  "A2",
  "A4",
  "A5",
  "A6",
  "A7",
  "SOVEREIGNTY",
  "CORRIGIBILITY",
  "IFC",
  "POLICY",
  "BUDGET",
  "PLAN",
  "FAIL_CLOSED",
]);
const VIOLATION_CODE_SET: ReadonlySet<string> = new Set(VIOLATION_CODES);
const WARNING_CODE_SET: ReadonlySet<string> = new Set(WARNING_CODES);
const FLAG_SET: ReadonlySet<string> = new Set(FLAGS);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function hasOnlyKeys(obj: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const k of Object.keys(obj)) if (!allowed.has(k) && obj[k] !== undefined) return false;
  return true;
}

function optional(obj: Record<string, unknown>, key: string, check: (v: unknown) => boolean): boolean {
  const v = obj[key];
  return v === undefined || check(v);
}

const isString = (v: unknown): v is string => typeof v === "string";
const isBool = (v: unknown): v is boolean => typeof v === "boolean";
const isUnit = (v: unknown): v is number =>
  typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1;
const isSeq = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

const VIOLATION_KEYS: ReadonlySet<string> = new Set([
  "code",
  "axiom",
  "message",
  "flag",
  "resource",
  "human",
  "step",
]);
const WARNING_KEYS: ReadonlySet<string> = new Set(["code", "message", "resource"]);

function isDecisionViolation(v: unknown): v is DecisionViolation {
  return (
    isPlainObject(v) &&
    hasOnlyKeys(v, VIOLATION_KEYS) &&
    isString(v.code) &&
    VIOLATION_CODE_SET.has(v.code) &&
    isString(v.axiom) &&
    AXIOMS.has(v.axiom) &&
    isString(v.message) &&
    optional(v, "flag", (f) => isString(f) && FLAG_SET.has(f)) &&
    optional(v, "resource", isString) &&
    optional(v, "human", isString) &&
    optional(v, "step", isSeq)
  );
}

const RESOLVED_KEYS: ReadonlySet<string> = new Set(["ref", "canonical", "resource"]);

function isResolvedReference(v: unknown): v is ResolvedReference {
  return (
    isPlainObject(v) &&
    hasOnlyKeys(v, RESOLVED_KEYS) &&
    isString(v.ref) &&
    isString(v.canonical) &&
    optional(v, "resource", isString)
  );
}

const REMAINING_KEYS: ReadonlySet<string> = new Set(["uses", "cost", "window"]);
const isCount = (v: unknown): boolean => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** What is left of a budget: only non-negative integers, at least one member. */
export function isBudgetRemaining(v: unknown): v is BudgetRemaining {
  return (
    isPlainObject(v) &&
    hasOnlyKeys(v, REMAINING_KEYS) &&
    Object.keys(v).length > 0 &&
    optional(v, "uses", isCount) &&
    optional(v, "cost", isCount) &&
    optional(v, "window", isCount)
  );
}

/** Absent, or a non-empty list of { grant, remaining } sorted by grant id, each grant once. */
function isBudgetList(v: unknown): boolean {
  if (v === undefined) return true;
  if (!Array.isArray(v) || v.length === 0) return false;
  let last: string | undefined;
  for (const b of v as unknown[]) {
    if (!isPlainObject(b) || !hasOnlyKeys(b, BUDGET_CHARGE_KEYS) || !isString(b.grant) || !isBudgetRemaining(b.remaining)) return false;
    if (last !== undefined && !(last < b.grant)) return false;
    last = b.grant;
  }
  return true;
}
const BUDGET_CHARGE_KEYS: ReadonlySet<string> = new Set(["grant", "remaining"]);

/** One shadow rule's verdict on a decision (DecisionRecord.shadow). */
export interface ShadowEntry {
  readonly ruleId: string;
  readonly wouldDeny: boolean;
}
const SHADOW_KEYS: ReadonlySet<string> = new Set(["ruleId", "wouldDeny"]);

/** Absent, or a non-empty list of { ruleId, wouldDeny } sorted by rule id, each rule once. */
function isShadowList(v: unknown): boolean {
  if (v === undefined) return true;
  if (!Array.isArray(v) || v.length === 0) return false;
  let last: string | undefined;
  for (const s of v as unknown[]) {
    if (!isPlainObject(s) || !hasOnlyKeys(s, SHADOW_KEYS) || !isString(s.ruleId) || !isBool(s.wouldDeny)) return false;
    if (last !== undefined && !(last < s.ruleId)) return false;
    last = s.ruleId;
  }
  return true;
}

/** Absent, or a non-empty array of resolved references (an empty list is written as absent). */
function isResolvedList(v: unknown): boolean {
  return v === undefined || (Array.isArray(v) && v.length > 0 && v.every(isResolvedReference));
}

function isDecisionWarning(v: unknown): v is DecisionWarning {
  return (
    isPlainObject(v) &&
    hasOnlyKeys(v, WARNING_KEYS) &&
    isString(v.code) &&
    WARNING_CODE_SET.has(v.code) &&
    isString(v.message) &&
    optional(v, "resource", isString)
  );
}

function isSnapshotRef(v: unknown): v is SnapshotRef {
  return (
    isPlainObject(v) &&
    hasOnlyKeys(v, new Set(["version", "digest"])) &&
    // -1 is verify's NO_SNAPSHOT_REF: a fail-closed decision taken when no snapshot could be loaded.
    typeof v.version === "number" &&
    Number.isSafeInteger(v.version) &&
    v.version >= -1 &&
    isString(v.digest)
  );
}

const isIso = (v: unknown): v is string => parseIso(v) !== undefined;

function isOutcome(v: Record<string, unknown>): boolean {
  return (
    isString(v.actionId) &&
    isString(v.actor) &&
    isHex(v.actionDigest, 32) &&
    isBool(v.permitted) &&
    Array.isArray(v.violations) &&
    v.violations.every(isDecisionViolation) &&
    Array.isArray(v.warnings) &&
    v.warnings.every(isDecisionWarning) &&
    isUnit(v.confidence) &&
    isBool(v.requiresHumanArbitration) &&
    isUnit(v.manipulationScore) &&
    isResolvedList(v.resolved) &&
    isBudgetList(v.budgets) &&
    isShadowList(v.shadow) &&
    // Only a permitted outcome charges a budget.
    !(v.budgets !== undefined && v.permitted !== true) &&
    // A permitted outcome with a violation is a contradiction; refuse it rather than guess.
    !(v.permitted === true && v.violations.length > 0)
  );
}

/**
 * Checks the common envelope of decision and plan records: mode, times, nonce, key, audit seq.
 * A permit (live + permitted) must expire after it was decided; nothing else may carry an expiry.
 */
function isEnvelope(v: Record<string, unknown>): boolean {
  if (v.v !== 1 || (v.mode !== "live" && v.mode !== "stateless")) return false;
  if (!isSnapshotRef(v.snapshot) || !isIso(v.decidedAt)) return false;
  if (!isString(v.nonce) || !NONCE.test(v.nonce) || !isKeyId(v.keyId)) return false;
  if (!optional(v, "auditSeq", isSeq) || !optional(v, "session", isString)) return false;
  if (v.mode === "live" && v.auditSeq === undefined) return false;
  const isPermit = v.mode === "live" && v.permitted === true;
  if (!isPermit) return v.expiresAt === undefined;
  const decided = parseIso(v.decidedAt);
  const expires = parseIso(v.expiresAt);
  return decided !== undefined && expires !== undefined && expires > decided;
}

const DECISION_KEYS: ReadonlySet<string> = new Set([
  "v",
  "mode",
  "actionId",
  "actor",
  "actionDigest",
  "permitted",
  "violations",
  "warnings",
  "confidence",
  "requiresHumanArbitration",
  "manipulationScore",
  "snapshot",
  "resolved",
  "budgets",
  "shadow",
  "decidedAt",
  "expiresAt",
  "nonce",
  "keyId",
  "auditSeq",
  "session",
]);

/**
 * True iff `value` is a well-formed DecisionRecord: no unknown keys, every field of the right type,
 * known violation/warning codes, canonical ISO times, expiresAt exactly on live permitted records,
 * auditSeq on live records, no violations on a permitted record. Never throws.
 */
export function isDecisionRecord(value: unknown): value is DecisionRecord {
  return (
    isPlainObject(value) &&
    hasOnlyKeys(value, DECISION_KEYS) &&
    isOutcome(value) &&
    isEnvelope(value)
  );
}

function copyViolation(v: {
  readonly code: ViolationCode;
  readonly axiom: Axiom;
  readonly message: string;
  readonly flag?: Flag | undefined;
  readonly resource?: string | undefined;
  readonly human?: string | undefined;
  readonly step?: number | undefined;
}): DecisionViolation {
  // Copy field by field: only the documented fields are signed, whatever else the object carries.
  // Members in canonical order (here and in every record builder), so canonicalJson prints the
  // record as it is, without reordering (a test checks it).
  const out: { -readonly [K in keyof DecisionViolation]: DecisionViolation[K] } = { axiom: v.axiom, code: v.code } as DecisionViolation;
  if (v.flag !== undefined) out.flag = v.flag;
  if (v.human !== undefined) out.human = v.human;
  out.message = v.message;
  if (v.resource !== undefined) out.resource = v.resource;
  if (v.step !== undefined) out.step = v.step;
  return out;
}

function copyCharge(b: BudgetCharge): BudgetCharge {
  const r = b.remaining;
  const remaining: { cost?: number; uses?: number; window?: number } = {};
  if (r.cost !== undefined) remaining.cost = r.cost;
  if (r.uses !== undefined) remaining.uses = r.uses;
  if (r.window !== undefined) remaining.window = r.window;
  return { grant: b.grant, remaining };
}

function copyWarning(w: {
  readonly code: WarningCode;
  readonly message: string;
  readonly resource?: string | undefined;
}): DecisionWarning {
  return w.resource === undefined
    ? { code: w.code, message: w.message }
    : { code: w.code, message: w.message, resource: w.resource };
}

/** What buildDecisionRecord needs besides the verify result. */
interface RecordEnvelopeInput {
  readonly mode: DecisionMode;
  /** Decision time, integer ms since the epoch. */
  readonly now: number;
  /** Fresh random lowercase hex (16..128 chars), supplied by the caller. */
  readonly nonce: string;
  readonly keyId: string;
  /** Audit entry sequence number; required when mode is "live". */
  readonly auditSeq?: number | undefined;
  /** Permit lifetime for a live permitted record; default DEFAULT_PERMIT_TTL_MS. */
  readonly ttlMs?: number | undefined;
  readonly session?: string | undefined;
}

/** The action a decision is about: the parsed action, or (when it could not be parsed) its actor and digest. */
export type DecisionSubject =
  | { readonly action: Action; readonly actor?: undefined; readonly actionDigest?: undefined }
  | { readonly action?: undefined; readonly actor: string; readonly actionDigest: string };

/** Input of buildDecisionRecord: the verify result, its subject, and the envelope (mode, time, nonce, key, seq). */
export type BuildDecisionInput = RecordEnvelopeInput &
  DecisionSubject & {
    readonly result: VerifyResult;
  };

function envelope(input: RecordEnvelopeInput, permitted: boolean) {
  const ttl = input.ttlMs ?? DEFAULT_PERMIT_TTL_MS;
  if (!Number.isSafeInteger(ttl) || ttl <= 0) {
    throw new DecisionRecordError("ttlMs must be a positive integer");
  }
  const isPermit = input.mode === "live" && permitted;
  return {
    decidedAt: formatIso(input.now),
    ...(isPermit ? { expiresAt: formatIso(input.now + ttl) } : {}),
    nonce: input.nonce,
    keyId: input.keyId,
    ...(input.auditSeq !== undefined ? { auditSeq: input.auditSeq } : {}),
    ...(input.session !== undefined ? { session: input.session } : {}),
  };
}

/**
 * Builds the record to sign for one decision. Pure: the same input gives the same record, which
 * is returned deep-frozen (what gets signed cannot change after it was checked).
 * Throws DecisionRecordError when the input cannot make a well-formed record (result and action
 * disagree on actionId, permitted with violations, bad nonce or key id, live without auditSeq,
 * non-integer time, ...) — and IsoTimeError for an unrepresentable time.
 */
export function buildDecisionRecord(input: BuildDecisionInput): DecisionRecord {
  const { result } = input;
  let actor: string;
  let digest: string;
  if (input.action !== undefined) {
    if (input.action.actionId !== result.actionId) {
      throw new DecisionRecordError("the result is not about this action (actionId differs)");
    }
    actor = input.action.actor;
    digest = actionDigest(input.action);
  } else {
    actor = input.actor;
    digest = input.actionDigest;
  }
  const env = envelope(input, result.permitted);
  // Members in canonical order (see copyViolation).
  const record: DecisionRecord = {
    actionDigest: digest,
    actionId: result.actionId,
    actor,
    ...(env.auditSeq !== undefined ? { auditSeq: env.auditSeq } : {}),
    ...(result.budgets !== undefined && result.budgets.length > 0 && result.permitted ? { budgets: result.budgets.map(copyCharge) } : {}),
    confidence: result.confidence,
    decidedAt: env.decidedAt,
    ...(env.expiresAt !== undefined ? { expiresAt: env.expiresAt } : {}),
    keyId: env.keyId,
    manipulationScore: result.manipulationScore,
    mode: input.mode,
    nonce: env.nonce,
    permitted: result.permitted,
    requiresHumanArbitration: result.requiresHumanArbitration,
    // Copied field by field, and only when non-empty: records of id-only actions keep their bytes.
    ...(result.resolved !== undefined && result.resolved.length > 0
      ? {
          resolved: result.resolved.map((r) =>
            r.resource === undefined ? { canonical: r.canonical, ref: r.ref } : { canonical: r.canonical, ref: r.ref, resource: r.resource },
          ),
        }
      : {}),
    ...(env.session !== undefined ? { session: env.session } : {}),
    ...(result.shadow !== undefined && result.shadow.length > 0
      ? { shadow: result.shadow.map((e) => ({ ruleId: e.ruleId, wouldDeny: e.wouldDeny })) }
      : {}),
    snapshot: { digest: result.snapshot.digest, version: result.snapshot.version },
    v: 1,
    violations: result.violations.map(copyViolation),
    warnings: result.warnings.map(copyWarning),
  };
  if (!isDecisionRecord(record)) {
    throw new DecisionRecordError("the input does not make a well-formed decision record");
  }
  return sealRecord(record);
}

// Records made by the builders are validated once, deep-frozen and remembered here, so signing
// them does not validate them a second time (it is on the hot path of every decision); any other
// object is validated before it is signed.
const sealed = new WeakSet<object>();

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function sealRecord<T extends object>(record: T): T {
  deepFreeze(record);
  sealed.add(record);
  return record;
}

/**
 * The exact bytes a decision signature covers: signingBytes(DECISION_DOMAIN, record).
 * For signers outside the kernel (e.g. node:crypto in the server).
 * Throws SigningError("BAD_RECORD") for a malformed record.
 */
export function decisionSigningBytes(record: DecisionRecord): Uint8Array {
  if (!sealed.has(record) && !isDecisionRecord(record)) throw new SigningError("BAD_RECORD", "malformed decision record");
  return signingBytes(DECISION_DOMAIN, record);
}

/**
 * Signs a decision record; returns the hex signature.
 * The record's keyId must be keyIdOf(publicKeyOf(secretKey)); it is not re-derived here (that
 * would cost a second scalar multiplication per decision), and verifyDecision rejects a mismatch.
 * Throws SigningError for a malformed record or key.
 */
export function signDecision(record: DecisionRecord, secretKey: KeyInput): string {
  return signBytes(decisionSigningBytes(record), secretKey);
}

/**
 * True iff `record` is a well-formed DecisionRecord, names `publicKey` as its keyId, and
 * `signatureHex` is a valid signature of signingBytes(DECISION_DOMAIN, record) under it.
 * Returns false on any bad input; never throws.
 */
export function verifyDecision(record: unknown, signatureHex: unknown, publicKey: unknown): boolean {
  return verifySignedRecord(isDecisionRecord, DECISION_DOMAIN, record, signatureHex, publicKey);
}

/**
 * Integrity before meaning: the record's shape, then the key id it names, then the signature over
 * signingBytes(domain, record). Shared by decision and plan records. Never throws.
 */
function verifySignedRecord(
  isRecord: (value: unknown) => value is { readonly keyId: string },
  domain: string,
  record: unknown,
  signatureHex: unknown,
  publicKey: unknown,
): boolean {
  if (!isRecord(record)) return false;
  const pk = keyBytes(publicKey);
  if (!pk || record.keyId !== keyIdOf(pk)) return false;
  try {
    return verifyBytes(signingBytes(domain, record), signatureHex, pk);
  } catch {
    return false;
  }
}

/** Every reason verifyPermit can give, in the order it checks them. */
export const PERMIT_FAILURE_CODES = [
  "MALFORMED",
  "WRONG_KEY",
  "BAD_SIGNATURE",
  "STATELESS",
  "NOT_PERMITTED",
  "EXPIRED",
  "ACTION_MISMATCH",
  "ACTOR_MISMATCH",
] as const;
/** A reason a permit is refused. */
export type PermitFailureCode = (typeof PERMIT_FAILURE_CODES)[number];

/** What the agent expects of the permit it holds. */
export interface VerifyPermitOptions {
  /** Current time, integer ms. The permit is valid while now <= expiresAt. */
  readonly now: number;
  /** actionDigest of the action about to run; strongly recommended. */
  readonly expectedActionDigest?: string | undefined;
  /** The agent's own machine id. */
  readonly expectedActor?: string | undefined;
}

/** The outcome of verifyPermit. */
export type PermitCheck = { readonly ok: true } | { readonly ok: false; readonly reason: PermitFailureCode };

/**
 * What an agent (the SDK) checks before letting a tool run. Integrity before meaning: the record's
 * shape, then the pinned key, then the signature, and only then what the signed record says.
 * Returns { ok: true } only for a well-formed live PERMITTED record signed by `publicKey`, not
 * expired at `now`, and matching the expected action digest and actor when given. Any bad input
 * yields { ok: false, reason }; never throws. Nonce single-use is the server's job (redemption).
 */
export function verifyPermit(
  record: unknown,
  signatureHex: unknown,
  publicKey: unknown,
  options: VerifyPermitOptions,
): PermitCheck {
  const fail = (reason: PermitFailureCode): PermitCheck => ({ ok: false, reason });
  const now: unknown = (options as { now?: unknown } | undefined)?.now;
  if (!isDecisionRecord(record) || typeof now !== "number" || !Number.isFinite(now)) {
    return fail("MALFORMED");
  }
  const pk = keyBytes(publicKey);
  if (!pk) return fail("MALFORMED");
  if (record.keyId !== keyIdOf(pk)) return fail("WRONG_KEY");
  let bytes: Uint8Array;
  try {
    bytes = signingBytes(DECISION_DOMAIN, record);
  } catch {
    return fail("MALFORMED");
  }
  if (!verifyBytes(bytes, signatureHex, pk)) return fail("BAD_SIGNATURE");
  if (record.mode !== "live") return fail("STATELESS");
  if (!record.permitted) return fail("NOT_PERMITTED");
  const expires = parseIso(record.expiresAt);
  if (expires === undefined) return fail("MALFORMED");
  if (now > expires) return fail("EXPIRED");
  if (options.expectedActionDigest !== undefined && options.expectedActionDigest !== record.actionDigest) {
    return fail("ACTION_MISMATCH");
  }
  if (options.expectedActor !== undefined && options.expectedActor !== record.actor) {
    return fail("ACTOR_MISMATCH");
  }
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------
// Plan decision records
// ---------------------------------------------------------------------------------------------

/** One step of a verified plan, as signed. */
export interface PlanStepRecord {
  readonly actionId: string;
  readonly actor: string;
  readonly actionDigest: string;
  readonly permitted: boolean;
  readonly violations: readonly DecisionViolation[];
  readonly warnings: readonly DecisionWarning[];
  readonly confidence: number;
  readonly requiresHumanArbitration: boolean;
  readonly manipulationScore: number;
}

/**
 * The signed form of a verified plan, signed over signingBytes(PLAN_DECISION_DOMAIN, record).
 * `permitted` is true iff every step is permitted, as verifyPlan decides (an empty plan does
 * nothing and is permitted). A live
 * permitted plan record carries `expiresAt` like a permit, but verifyPermit never accepts it (its
 * domain differs): each step's tool call still needs its own permit, or the plan-aware check of
 * the caller against `steps[i].actionDigest`.
 */
export interface PlanDecisionRecord {
  readonly v: 1;
  readonly kind: "plan";
  readonly mode: DecisionMode;
  readonly permitted: boolean;
  readonly steps: readonly PlanStepRecord[];
  readonly snapshot: SnapshotRef;
  readonly decidedAt: string;
  readonly expiresAt?: string;
  readonly nonce: string;
  readonly keyId: string;
  readonly auditSeq?: number;
  readonly session?: string;
}

const PLAN_KEYS: ReadonlySet<string> = new Set([
  "v",
  "kind",
  "mode",
  "permitted",
  "steps",
  "snapshot",
  "decidedAt",
  "expiresAt",
  "nonce",
  "keyId",
  "auditSeq",
  "session",
]);
const STEP_KEYS: ReadonlySet<string> = new Set([
  "actionId",
  "actor",
  "actionDigest",
  "permitted",
  "violations",
  "warnings",
  "confidence",
  "requiresHumanArbitration",
  "manipulationScore",
]);

function isPlanStep(v: unknown): v is PlanStepRecord {
  return isPlainObject(v) && hasOnlyKeys(v, STEP_KEYS) && isOutcome(v);
}

/** True iff `value` is a well-formed PlanDecisionRecord (same rules as isDecisionRecord). Never throws. */
export function isPlanDecisionRecord(value: unknown): value is PlanDecisionRecord {
  if (!isPlainObject(value) || !hasOnlyKeys(value, PLAN_KEYS) || value.kind !== "plan") return false;
  if (!Array.isArray(value.steps) || !value.steps.every(isPlanStep) || !isBool(value.permitted)) {
    return false;
  }
  const steps = value.steps as readonly PlanStepRecord[];
  const allPermitted = steps.every((s) => s.permitted);
  return value.permitted === allPermitted && isEnvelope(value);
}

/** A plan step's action when it could not be parsed: its id, actor and the digest of what was sent. */
export interface UnparsedStep {
  readonly actionId: string;
  readonly actor: string;
  readonly actionDigest: string;
}

/** Input of buildPlanDecisionRecord. */
export type BuildPlanDecisionInput = RecordEnvelopeInput & {
  /** One verify result per step, in plan order. */
  readonly results: readonly VerifyResult[];
  /** The parsed actions (or, for a step that did not parse, an UnparsedStep), same order and length as results. */
  readonly actions: readonly (Action | UnparsedStep)[];
  /** The snapshot every step was verified against. */
  readonly snapshot: SnapshotRef;
};

/**
 * Builds the record to sign for a verified plan. Throws DecisionRecordError when results and
 * actions differ in length or actionId, or a result cites another snapshot than `snapshot`.
 */
export function buildPlanDecisionRecord(input: BuildPlanDecisionInput): PlanDecisionRecord {
  if (input.results.length !== input.actions.length) {
    throw new DecisionRecordError("one result per action is required");
  }
  const steps = input.results.map((result, i): PlanStepRecord => {
    const action = input.actions[i];
    if (action === undefined || action.actionId !== result.actionId) {
      throw new DecisionRecordError(`step ${i}: the result is not about this action`);
    }
    if (
      result.snapshot.version !== input.snapshot.version ||
      result.snapshot.digest !== input.snapshot.digest
    ) {
      throw new DecisionRecordError(`step ${i}: verified against another snapshot`);
    }
    return {
      actionId: result.actionId,
      actor: action.actor,
      actionDigest: "actionDigest" in action ? action.actionDigest : actionDigest(action),
      permitted: result.permitted,
      violations: result.violations.map(copyViolation),
      warnings: result.warnings.map(copyWarning),
      confidence: result.confidence,
      requiresHumanArbitration: result.requiresHumanArbitration,
      manipulationScore: result.manipulationScore,
    };
  });
  const permitted = steps.every((s) => s.permitted);
  const env = envelope(input, permitted);
  const record: PlanDecisionRecord = {
    v: 1,
    kind: "plan",
    mode: input.mode,
    permitted,
    steps,
    snapshot: { version: input.snapshot.version, digest: input.snapshot.digest },
    ...env,
  };
  if (!isPlanDecisionRecord(record)) {
    throw new DecisionRecordError("the input does not make a well-formed plan decision record");
  }
  return sealRecord(record);
}

/**
 * The exact bytes a plan signature covers: signingBytes(PLAN_DECISION_DOMAIN, record).
 * Throws SigningError("BAD_RECORD") for a malformed record.
 */
export function planDecisionSigningBytes(record: PlanDecisionRecord): Uint8Array {
  if (!sealed.has(record) && !isPlanDecisionRecord(record)) throw new SigningError("BAD_RECORD", "malformed plan record");
  return signingBytes(PLAN_DECISION_DOMAIN, record);
}

/** Signs a plan decision record; returns the hex signature. Throws SigningError on bad input. */
export function signPlanDecision(record: PlanDecisionRecord, secretKey: KeyInput): string {
  return signBytes(planDecisionSigningBytes(record), secretKey);
}

/**
 * True iff `record` is a well-formed PlanDecisionRecord naming `publicKey`'s key id and the
 * signature verifies over signingBytes(PLAN_DECISION_DOMAIN, record). Never throws.
 */
export function verifyPlanDecision(record: unknown, signatureHex: unknown, publicKey: unknown): boolean {
  return verifySignedRecord(isPlanDecisionRecord, PLAN_DECISION_DOMAIN, record, signatureHex, publicKey);
}
