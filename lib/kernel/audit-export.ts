/**
 * The audit export (design §7): JSON Lines an auditor verifies offline, with the CLI or in the
 * console's audit page, without trusting the server.
 *
 *   line 1   {"type":"header","format":"freedom-kernel/audit-export/v1","domains":{...},"keys":[...]}
 *   then     {"type":"entry", ...AuditEntry}                 in seq order, from seq 0
 *   and      {"type":"checkpoint", ...Checkpoint, "signature"}  after the entries they cover
 *
 * Every line is the RFC 8785 canonical JSON of its object. The parser insists on that: a line
 * with duplicate keys, extra whitespace or another number spelling could mean different things to
 * different JSON parsers, and an audit file must mean one thing.
 *
 * The exporter ends the file with a checkpoint covering every entry, and the verifier requires it
 * by default: a file cut at a line boundary then leaves entries no signed checkpoint covers. A cut
 * exactly after an earlier checkpoint is a valid, shorter export; compare the reported tree size
 * and root with a checkpoint obtained independently (or pass minTreeSize).
 *
 * The header is not signed, so it holds nothing the verifier relies on unchecked: each key's
 * keyId is recomputed from its public key, the domains must equal this verifier's, and a key's
 * `status` is a hint for humans only. When the export was taken is the final checkpoint's signed
 * `createdAt`, not a header field; there is deliberately no `exportedAt`, since an unsigned time
 * could be edited without any check noticing.
 */
import { parseAction } from "./action";
import { canonicalJson } from "./canonical";
import { describeJsonError, parseJsonStrict } from "./json";
import { isHex } from "./bytes";
import {
  checkAuditEntry,
  CHECKPOINT_FAILURE_CODES,
  GENESIS_HASH,
  isCheckpoint,
  lookupKey,
  type AuditEntry,
  type AuditFailureCode,
  type Checkpoint,
  type KeyLookup,
} from "./audit";
import { MerkleAccumulator, merkleRoot } from "./merkle";
import { scanBudgetReceipts } from "./receipts";
import {
  AUDIT_ENTRY_DOMAIN,
  CHECKPOINT_DOMAIN,
  DECISION_DOMAIN,
  actionDigest,
  PLAN_DECISION_DOMAIN,
  isDecisionRecord,
  isKeyId,
  isPlanDecisionRecord,
  keyIdOf,
  signingBytes,
  verifyBytes,
  verifyDecision,
  verifyPlanDecision,
  type KeyInput,
} from "./signing";

/** The `format` of an export header. */
export const AUDIT_EXPORT_FORMAT = "freedom-kernel/audit-export/v1";

/** The signing domains an export is verified under, written into its header. */
export const AUDIT_EXPORT_DOMAINS = {
  decision: DECISION_DOMAIN,
  planDecision: PLAN_DECISION_DOMAIN,
  auditEntry: AUDIT_ENTRY_DOMAIN,
  checkpoint: CHECKPOINT_DOMAIN,
} as const;

/** A public key as listed in the export header (and served by the well-known key endpoint). */
export interface ExportKey {
  readonly keyId: string;
  readonly algorithm: "Ed25519";
  /** 32 bytes, lowercase hex. */
  readonly publicKey: string;
  readonly status: "current" | "retired";
}

/** Line 1 of an export. */
export interface AuditExportHeader {
  readonly type: "header";
  readonly format: typeof AUDIT_EXPORT_FORMAT;
  readonly domains: typeof AUDIT_EXPORT_DOMAINS;
  readonly keys: readonly ExportKey[];
}

/** A checkpoint line: the checkpoint's fields and its signature, flat. */
export type CheckpointLine = { readonly type: "checkpoint"; readonly signature: string } & Checkpoint;
/** An entry line: the entry's fields, flat. */
export type EntryLine = { readonly type: "entry" } & AuditEntry;

/** Thrown by serializeAuditExport for inconsistent input (never by the parser or verifier). */
export class AuditExportError extends Error {
  readonly code = "INVALID_EXPORT_INPUT";
  constructor(message: string) {
    super(message);
    this.name = "AuditExportError";
  }
}

/**
 * Writes an export: header, then entries in the order given, each checkpoint right after the
 * entry that completes it (checkpoints of size 0 right after the header). Every line canonical
 * JSON, newline-terminated. Pass a final checkpoint covering every entry, or verification with the
 * default options fails. Throws AuditExportError for a key whose keyId does not match, a checkpoint
 * larger than the entries, or entries not in seq order from 0; CanonicalizeError for non-JSON data.
 */
export function serializeAuditExport(input: {
  readonly keys: readonly ExportKey[];
  readonly entries: readonly AuditEntry[];
  readonly checkpoints: readonly { readonly checkpoint: Checkpoint; readonly signature: string }[];
}): string {
  for (const k of input.keys) {
    if (keyIdOf(k.publicKey) !== k.keyId) throw new AuditExportError(`key ${k.keyId} does not match its public key`);
  }
  input.entries.forEach((e, i) => {
    if (e.seq !== i) throw new AuditExportError("entries must be in seq order from 0");
  });
  const header: AuditExportHeader = {
    type: "header",
    format: AUDIT_EXPORT_FORMAT,
    domains: AUDIT_EXPORT_DOMAINS,
    keys: input.keys.map((k) => ({ keyId: k.keyId, algorithm: "Ed25519", publicKey: k.publicKey, status: k.status })),
  };
  const bySize = new Map<number, string[]>();
  for (const { checkpoint, signature } of input.checkpoints) {
    if (checkpoint.treeSize > input.entries.length) {
      throw new AuditExportError("a checkpoint covers more entries than the export holds");
    }
    const line = canonicalJson({ type: "checkpoint", ...checkpoint, signature });
    bySize.set(checkpoint.treeSize, [...(bySize.get(checkpoint.treeSize) ?? []), line]);
  }
  const lines = [canonicalJson(header), ...(bySize.get(0) ?? [])];
  input.entries.forEach((entry, i) => {
    lines.push(serializeEntryLine(entry));
    lines.push(...(bySize.get(i + 1) ?? []));
  });
  return lines.join("\n") + "\n";
}

/**
 * One entry as an export line (without the newline): the RFC 8785 canonical JSON of
 * `{ type: "entry", ...entry }`. The export, the audit stream's sinks (NATS payloads, stdout JSON
 * Lines, webhook batches) all write entries with this one function, so an entry reads the same
 * wherever it is shipped. Throws CanonicalizeError for non-JSON data.
 */
export function serializeEntryLine(entry: AuditEntry): string {
  return canonicalJson({ type: "entry", ...entry });
}

/** One parsed line of an export, or why it could not be parsed. */
export type ParsedLine =
  | { readonly line: number; readonly type: "header" | "entry" | "checkpoint"; readonly value: Record<string, unknown> }
  | { readonly line: number; readonly type: "error"; readonly message: string };

/** The outcome of parseAuditExport. */
export interface ParsedAuditExport {
  /** True iff every line parsed. */
  readonly ok: boolean;
  /** Every non-empty line, in file order (1-based line numbers). */
  readonly lines: readonly ParsedLine[];
  /** The unparseable lines, in file order. */
  readonly errors: readonly { readonly line: number; readonly message: string }[];
}

/** Upper bound on a single line; an export line is an entry, not a data dump. */
export const MAX_EXPORT_LINE_LENGTH = 1_000_000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function parseLine(text: string, line: number): ParsedLine {
  const error = (message: string): ParsedLine => ({ line, type: "error", message });
  if (text.length > MAX_EXPORT_LINE_LENGTH) return error("line too long");
  // The strict parser names a duplicated member (the canonical-form check below would refuse it
  // too, but only as "not canonical"); the maximum depth is well above any entry's nesting.
  const parsed = parseJsonStrict(text);
  if (!parsed.ok) {
    return error(parsed.code === "DUPLICATE_MEMBER" ? `has a ${describeJsonError(parsed)}` : `not valid JSON (truncated?): ${describeJsonError(parsed)}`);
  }
  const value = parsed.value;
  if (!isPlainObject(value)) return error("not a JSON object");
  let canonical: string;
  try {
    canonical = canonicalJson(value);
  } catch {
    return error("not representable as canonical JSON");
  }
  if (canonical !== text) return error("not in RFC 8785 canonical form (edited or re-serialised?)");
  const type = value.type;
  if (type !== "header" && type !== "entry" && type !== "checkpoint") {
    return error(`unknown line type ${JSON.stringify(type) ?? "undefined"}`);
  }
  return { line, type, value };
}

/**
 * Splits and parses an export. Lines are separated by "\n"; one trailing newline is allowed, an
 * empty line elsewhere is an error. Returns every line with its 1-based number and every error;
 * never throws, whatever `text` is.
 */
export function parseAuditExport(text: unknown): ParsedAuditExport {
  if (typeof text !== "string") {
    const errors = [{ line: 1, message: "export must be text" }];
    return { ok: false, lines: [{ line: 1, type: "error", message: "export must be text" }], errors };
  }
  const raw = text.split("\n");
  if (raw.length > 1 && raw.at(-1) === "") raw.pop();
  const lines = raw.map((t, i) => (t === "" ? { line: i + 1, type: "error" as const, message: "empty line" } : parseLine(t, i + 1)));
  const errors = lines.flatMap((l) => (l.type === "error" ? [{ line: l.line, message: l.message }] : []));
  return { ok: errors.length === 0, lines, errors };
}

/** Every reason verifyAuditExport can fail. */
export const EXPORT_FAILURE_CODES = [
  "PARSE_ERROR",
  "MISSING_HEADER",
  "BAD_HEADER",
  "BAD_KEY",
  "PINNED_KEY_MISMATCH",
  "DUPLICATE_HEADER",
  // Chain failures (audit.ts), reported as they are.
  "MALFORMED_ENTRY",
  "SEQ_GAP",
  "BROKEN_LINK",
  "BAD_HASH",
  "UNKNOWN_KEY",
  "BAD_SIGNATURE",
  // Records inside decision / plan / key payloads.
  "DECISION_MALFORMED",
  "DECISION_BAD_SIGNATURE",
  "DECISION_MISMATCH",
  "KEY_PAYLOAD_MISMATCH",
  // Checkpoints.
  "CHECKPOINT_MALFORMED",
  "CHECKPOINT_BEYOND_LOG",
  "CHECKPOINT_BAD_SIGNATURE",
  "CHECKPOINT_ROOT_MISMATCH",
  "CHECKPOINT_LAST_ENTRY_MISMATCH",
  // The end of the file.
  "NOT_COVERED",
  "TOO_SHORT",
  // What the verified entries say (receipts.ts): a budget receipt that does not replay exactly
  // (a use beyond a budget, a skipped or repeated use number, a budget or a remainder that lies).
  "BUDGET_EXCEEDED",
] as const;
/** A reason an export fails verification. */
export type ExportFailureCode = (typeof EXPORT_FAILURE_CODES)[number];

/** The first failure found, with where it is. */
export interface ExportFailure {
  /** 1-based line of the failing line (for NOT_COVERED: the first uncovered entry). */
  readonly line: number;
  /** seq of the failing entry, when the failure is about one. */
  readonly seq?: number;
  readonly code: ExportFailureCode;
  /** Human explanation naming what failed. */
  readonly what: string;
}

/** What verifyAuditExport found. */
export interface AuditExportSummary {
  readonly ok: boolean;
  /** Entries verified (before the first failure, if any). */
  readonly entries: number;
  readonly checkpoints: number;
  /** Signed decision and plan records verified inside payloads. */
  readonly decisions: number;
  /**
   * Budget receipts replayed (receipts.ts); present when the export holds any. Optional so that
   * summaries of exports without budgets keep their shape.
   */
  readonly receipts?: number;
  /**
   * "pinned": signatures were checked against keys the auditor supplied.
   * "header": against the keys the file itself lists — that proves integrity, not origin.
   */
  readonly keysFrom: "pinned" | "header";
  readonly keys: readonly { readonly keyId: string; readonly status: string }[];
  /** Last verified entry hash, when any entry verified. */
  readonly headHash?: string;
  /** Largest verified checkpoint. */
  readonly treeSize?: number;
  readonly rootHash?: string;
  readonly firstFailure?: ExportFailure;
}

/** How strictly to verify an export. */
export interface VerifyAuditExportOptions {
  /**
   * Keys the auditor trusts (e.g. from the kernel's well-known key endpoint, fetched separately).
   * When given, only these keys verify anything, and a header key with a pinned keyId must carry
   * the pinned public key.
   */
  readonly pinnedKeys?: KeyLookup | undefined;
  /** Require a final checkpoint covering every entry. Default true. */
  readonly requireFinalCheckpoint?: boolean | undefined;
  /** Fail unless at least this many entries are present and covered (an independently known size). */
  readonly minTreeSize?: number | undefined;
}

const EXPORT_KEY_KEYS: ReadonlySet<string> = new Set(["keyId", "algorithm", "publicKey", "status"]);
const HEADER_KEYS: ReadonlySet<string> = new Set(["type", "format", "domains", "keys"]);

function checkHeader(value: Record<string, unknown>): { keys: ExportKey[] } | { code: ExportFailureCode; what: string } {
  for (const k of Object.keys(value)) {
    if (!HEADER_KEYS.has(k)) return { code: "BAD_HEADER", what: `header has unknown field ${k}` };
  }
  if (value.format !== AUDIT_EXPORT_FORMAT) return { code: "BAD_HEADER", what: "unknown export format" };
  if (canonicalJson(value.domains ?? null) !== canonicalJson(AUDIT_EXPORT_DOMAINS)) {
    return { code: "BAD_HEADER", what: "header domains differ from this verifier's" };
  }
  if (!Array.isArray(value.keys)) return { code: "BAD_HEADER", what: "header keys must be a list" };
  const keys: ExportKey[] = [];
  const seen = new Set<string>();
  for (const k of value.keys as unknown[]) {
    if (
      !isPlainObject(k) ||
      Object.keys(k).some((f) => !EXPORT_KEY_KEYS.has(f)) ||
      !isKeyId(k.keyId) ||
      k.algorithm !== "Ed25519" ||
      !isHex(k.publicKey, 32) ||
      (k.status !== "current" && k.status !== "retired")
    ) {
      return { code: "BAD_HEADER", what: "malformed key in header" };
    }
    if (keyIdOf(k.publicKey) !== k.keyId) {
      return { code: "BAD_KEY", what: `header key ${k.keyId} does not match its public key` };
    }
    if (seen.has(k.keyId)) return { code: "BAD_HEADER", what: `key ${k.keyId} listed twice` };
    seen.add(k.keyId);
    keys.push(k as unknown as ExportKey);
  }
  return { keys };
}

function keyMatches(a: KeyInput, b: KeyInput): boolean {
  try {
    return keyIdOf(a) === keyIdOf(b);
  } catch {
    return false;
  }
}

const CHECKPOINT_REASON: Record<(typeof CHECKPOINT_FAILURE_CODES)[number], ExportFailureCode> = {
  MALFORMED: "CHECKPOINT_MALFORMED",
  WRONG_KEY: "CHECKPOINT_BAD_SIGNATURE",
  BAD_SIGNATURE: "CHECKPOINT_BAD_SIGNATURE",
  BEYOND_LOG: "CHECKPOINT_BEYOND_LOG",
  ROOT_MISMATCH: "CHECKPOINT_ROOT_MISMATCH",
  LAST_ENTRY_MISMATCH: "CHECKPOINT_LAST_ENTRY_MISMATCH",
};

/** Checks the signed record inside a decision or plan payload. Returns a failure or undefined. */
function checkRecordPayload(
  entry: AuditEntry,
  keys: KeyLookup,
): { code: ExportFailureCode; what: string } | undefined {
  const p = entry.payload as Record<string, unknown>;
  const isPlan = p.kind === "plan";
  const record = p.record;
  const wellFormed = isPlan ? isPlanDecisionRecord(record) : isDecisionRecord(record);
  if (!wellFormed || !isKeyId(p.keyId) || !isHex(p.signature, 64)) {
    return { code: "DECISION_MALFORMED", what: `${isPlan ? "plan" : "decision"} payload lacks a well-formed { record, signature, keyId }` };
  }
  const r = record as { keyId: string; mode: string; auditSeq?: number };
  if (r.keyId !== p.keyId) return { code: "DECISION_MISMATCH", what: "payload keyId differs from the record's" };
  // The action a decision entry carries (for what-if replays) must be the one the record signs.
  if (!isPlan && p.action !== undefined) {
    const parsed = parseAction(p.action);
    if (!parsed.ok || actionDigest(parsed.action) !== (record as { actionDigest: string }).actionDigest) {
      return { code: "DECISION_MISMATCH", what: "the payload's action is not the action the record signs (actionDigest differs)" };
    }
  }
  // A live record names the entry that records it; a copy pasted into another entry is caught here.
  if (r.mode === "live" && r.auditSeq !== entry.seq) {
    return { code: "DECISION_MISMATCH", what: `record says auditSeq ${r.auditSeq ?? "none"}, entry is seq ${entry.seq}` };
  }
  const key = lookupKey(keys, p.keyId);
  if (key === undefined) return { code: "UNKNOWN_KEY", what: `no public key for ${p.keyId} (record signature)` };
  const ok = isPlan ? verifyPlanDecision(record, p.signature, key) : verifyDecision(record, p.signature, key);
  return ok ? undefined : { code: "DECISION_BAD_SIGNATURE", what: `${isPlan ? "plan" : "decision"} record signature does not verify` };
}

/**
 * Verifies a parsed export (or its text): header and keys, every entry (shape, seq, link, hash,
 * signature), the signed record inside every decision/plan payload (signature, key, auditSeq),
 * key payloads (keyId matches publicKey), and every checkpoint (signature, and root = Merkle root
 * of the first treeSize entries). Stops at the first failure in file order and names it. Once all
 * of that holds (integrity before meaning), replays the budget receipts of the entries
 * (scanBudgetReceipts) and reports the first that does not replay as BUDGET_EXCEEDED. Never throws.
 */
export function verifyAuditExport(
  input: ParsedAuditExport | string,
  options: VerifyAuditExportOptions = {},
): AuditExportSummary {
  try {
    return verifyParsed(typeof input === "string" ? parseAuditExport(input) : input, options ?? {});
  } catch {
    // Only reachable with hand-made input (not from parseAuditExport) or an unreadable key table.
    return {
      ok: false,
      entries: 0,
      checkpoints: 0,
      decisions: 0,
      keysFrom: options?.pinnedKeys !== undefined ? "pinned" : "header",
      keys: [],
      firstFailure: { line: 1, code: "PARSE_ERROR", what: "the export or the options could not be read" },
    };
  }
}

function verifyParsed(parsed: ParsedAuditExport, options: VerifyAuditExportOptions): AuditExportSummary {
  const pinned = options.pinnedKeys;
  let keys: KeyLookup = new Map<string, KeyInput>();
  let headerKeys: readonly ExportKey[] = [];
  let entries = 0;
  let checkpoints = 0;
  let decisions = 0;
  let headHash: string | undefined;
  let best: { treeSize: number; rootHash: string } | undefined;
  let firstEntryLine: number | undefined;
  const entryLines: number[] = [];
  const entryHashes: string[] = [];
  const verified: AuditEntry[] = [];
  let receipts = 0;
  const acc = new MerkleAccumulator();
  let expected = { seq: 0, prevHash: GENESIS_HASH };
  let sawHeader = false;

  const summary = (failure?: ExportFailure): AuditExportSummary => ({
    ok: failure === undefined,
    entries,
    checkpoints,
    decisions,
    ...(receipts > 0 ? { receipts } : {}),
    keysFrom: pinned !== undefined ? "pinned" : "header",
    keys: headerKeys.map((k) => ({ keyId: k.keyId, status: k.status })),
    ...(headHash !== undefined ? { headHash } : {}),
    ...(best !== undefined ? { treeSize: best.treeSize, rootHash: best.rootHash } : {}),
    ...(failure !== undefined ? { firstFailure: failure } : {}),
  });

  for (const item of parsed.lines) {
    if (item.type === "error") return summary({ line: item.line, code: "PARSE_ERROR", what: item.message });
    if (!sawHeader) {
      if (item.type !== "header" || item.line !== 1) {
        return summary({ line: item.line, code: "MISSING_HEADER", what: "line 1 must be the export header" });
      }
      const header = checkHeader(item.value);
      if ("code" in header) return summary({ line: item.line, code: header.code, what: header.what });
      headerKeys = header.keys;
      if (pinned !== undefined) {
        for (const k of header.keys) {
          const p = lookupKey(pinned, k.keyId);
          if (p !== undefined && !keyMatches(p, k.publicKey)) {
            return summary({ line: item.line, code: "PINNED_KEY_MISMATCH", what: `header key ${k.keyId} differs from the pinned key` });
          }
        }
        keys = pinned;
      } else {
        keys = new Map(header.keys.map((k) => [k.keyId, k.publicKey]));
      }
      sawHeader = true;
      continue;
    }
    if (item.type === "header") {
      return summary({ line: item.line, code: "DUPLICATE_HEADER", what: "a second header" });
    }
    if (item.type === "entry") {
      const { type: _type, ...entry } = item.value;
      const seq = typeof entry.seq === "number" ? entry.seq : undefined;
      const failure = checkAuditEntry(entry, expected, keys);
      if (failure) {
        return summary({
          line: item.line,
          ...(seq !== undefined ? { seq } : {}),
          code: failure.reason satisfies AuditFailureCode,
          what: `entry ${seq !== undefined ? `seq ${seq}` : "?"}: ${failure.message}`,
        });
      }
      const e = entry as unknown as AuditEntry;
      const kind = e.payload.kind;
      if (kind === "decision" || kind === "plan") {
        const bad = checkRecordPayload(e, keys);
        if (bad) return summary({ line: item.line, seq: e.seq, code: bad.code, what: `entry seq ${e.seq}: ${bad.what}` });
        decisions += 1;
      } else if (kind === "key") {
        const p = e.payload as Record<string, unknown>;
        if (p.publicKey !== undefined || p.keyId !== undefined) {
          let matches = false;
          try {
            matches = isKeyId(p.keyId) && keyIdOf(p.publicKey as KeyInput) === p.keyId;
          } catch {
            matches = false;
          }
          if (!matches) {
            return summary({ line: item.line, seq: e.seq, code: "KEY_PAYLOAD_MISMATCH", what: `entry seq ${e.seq}: key event keyId does not match its publicKey` });
          }
        }
      }
      firstEntryLine ??= item.line;
      entryLines.push(item.line);
      entryHashes.push(e.entryHash);
      verified.push(e);
      acc.append(e.entryHash);
      entries += 1;
      headHash = e.entryHash;
      expected = { seq: e.seq + 1, prevHash: e.entryHash };
      continue;
    }
    // checkpoint
    const { type: _type, signature, ...checkpoint } = item.value;
    if (!isCheckpoint(checkpoint)) {
      return summary({ line: item.line, code: "CHECKPOINT_MALFORMED", what: "not a well-formed checkpoint" });
    }
    const cp = checkpoint;
    if (cp.treeSize > entries) {
      return summary({
        line: item.line,
        code: "CHECKPOINT_BEYOND_LOG",
        what: `checkpoint covers ${cp.treeSize} entries but only ${entries} precede it (entries deleted?)`,
      });
    }
    const key = lookupKey(keys, cp.keyId);
    if (key === undefined) return summary({ line: item.line, code: "UNKNOWN_KEY", what: `no public key for ${cp.keyId} (checkpoint)` });
    let sigOk = false;
    try {
      sigOk = verifyBytes(signingBytes(CHECKPOINT_DOMAIN, cp), signature, key);
    } catch {
      sigOk = false;
    }
    if (!sigOk) return summary({ line: item.line, code: CHECKPOINT_REASON.BAD_SIGNATURE, what: `checkpoint of size ${cp.treeSize}: signature does not verify` });
    const root = cp.treeSize === entries ? acc.root() : merkleRoot(entryHashes.slice(0, cp.treeSize));
    if (root !== cp.rootHash) {
      return summary({ line: item.line, code: CHECKPOINT_REASON.ROOT_MISMATCH, what: `checkpoint of size ${cp.treeSize}: root is not the Merkle root of the first ${cp.treeSize} entries` });
    }
    if (cp.lastEntryHash !== entryHashes[cp.treeSize - 1]) {
      return summary({ line: item.line, code: CHECKPOINT_REASON.LAST_ENTRY_MISMATCH, what: `checkpoint of size ${cp.treeSize}: lastEntryHash is not entry ${cp.treeSize - 1}'s hash` });
    }
    checkpoints += 1;
    if (best === undefined || cp.treeSize >= best.treeSize) best = { treeSize: cp.treeSize, rootHash: cp.rootHash };
  }

  if (!sawHeader) return summary({ line: 1, code: "MISSING_HEADER", what: "empty export" });
  const covered = best?.treeSize ?? 0;
  if ((options.requireFinalCheckpoint ?? true) && covered < entries) {
    const line = entryLines[covered] ?? firstEntryLine ?? 1;
    return summary({
      line,
      seq: covered,
      code: "NOT_COVERED",
      what: `entries from seq ${covered} on are covered by no signed checkpoint (file truncated, or exported without a final checkpoint)`,
    });
  }
  if (options.minTreeSize !== undefined && covered < options.minTreeSize) {
    return summary({
      line: parsed.lines.length,
      code: "TOO_SHORT",
      what: `the export's checkpoints cover ${covered} entries, at least ${options.minTreeSize} were expected`,
    });
  }
  // Meaning after integrity: the receipts are replayed only over a chain that verified to its end,
  // so a budget failure is never reported for entries an earlier failure already discredits.
  const scan = scanBudgetReceipts(verified);
  receipts = scan.receipts;
  if (scan.problem !== undefined) {
    const { seq, message } = scan.problem;
    return summary({ line: entryLines[seq] ?? firstEntryLine ?? 1, seq, code: "BUDGET_EXCEEDED", what: `entry seq ${seq}: ${message}` });
  }
  return summary();
}
