/**
 * The `freedom-kernel` command, as a pure function: runCli(argv, stdinText, readFile, context)
 * returns { stdout, stderr, exitCode }. The Node wrapper (main.ts) supplies stdin, files, the
 * clock and randomness, so every behaviour here is testable without spawning a process.
 *
 *   freedom-kernel verify       [--jsonl] [--format native|original] [--sign-key FILE] [--now T]
 *   freedom-kernel verify-plan  [--jsonl] [--format native|original] [--sign-key FILE] [--now T]
 *   freedom-kernel audit verify EXPORT.jsonl [--keys KEYS.json] [--json] [--allow-uncovered] [--min-tree-size N]
  freedom-kernel audit fetch --url URL [--token T | FK_AUDIT_TOKEN] [--out audit.jsonl] [--keys-out keys.json]
 *   freedom-kernel keygen
 *
 * Exit codes: 0 — a decision was printed, PERMITTED or BLOCKED alike (or the audit export
 * verified); 1 — the audit export failed verification; 2 — unusable input or usage.
 */
import { fromHex, toHex } from "../kernel/bytes";
import { parseIsoLenient } from "../kernel/iso-time";
import { verifyAuditExport, type AuditExportSummary } from "../kernel/audit-export";
import { describeJsonError, parseJsonStrict } from "../kernel/json";
import { verifyPlan, type PlanResult } from "../kernel/plan";
import {
  buildDecisionRecord,
  inputDigest,
  buildPlanDecisionRecord,
  keyIdOf,
  publicKeyOf,
  signDecision,
  signPlanDecision,
  type UnparsedStep,
} from "../kernel/signing";
import { SnapshotError, buildSnapshot, type Snapshot } from "../kernel/snapshot";
import { parseAction } from "../kernel/action";
import type { Action, RegistryData, SnapshotRef, VerifyResult } from "../kernel/types";
import { NO_SNAPSHOT_REF, malformedResult, verify } from "../kernel/verify";
import { parseWirePlan, parseWireRequest, renderOriginal, renderOriginalPlan } from "../kernel/wire";

/** What the process should print and exit with. */
export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** What only the Node wrapper can supply: the clock and randomness. */
export interface CliContext {
  /** The current time, integer ms; used when neither --now nor the request gives one. */
  readonly now: number;
  /** Cryptographically secure random bytes (nonces, keygen). */
  readonly randomBytes: (n: number) => Uint8Array;
}

/** Reads a file's bytes; throws if it cannot (the message is shown to the user). */
export type ReadFile = (path: string) => Uint8Array;

/** The help text. */
export const USAGE = `usage:
  freedom-kernel verify       [--jsonl] [--format native|original] [--sign-key FILE] [--now T] < request.json
  freedom-kernel verify-plan  [--jsonl] [--format native|original] [--sign-key FILE] [--now T] < request.json
  freedom-kernel audit verify EXPORT.jsonl [--keys KEYS.json] [--json] [--allow-uncovered] [--min-tree-size N]
  freedom-kernel keygen

verify reads { "registry": RegistryData, "action": Action, "now"?: ms | ISO } (verify-plan: "actions": [...])
or the original kernel's wire request { "registry": { "claims", "machine_owners" }, "action": {...} }.
--jsonl: one request per input line, one result per output line.
--format original: print the original kernel's result shape.
--sign-key FILE: add { record, signature, keyId }, a stateless signed record (never a permit).
--now T: decide at T (ms since the epoch or ISO-8601); default: the request's "now", else the clock.
audit verify checks the chain, signatures and checkpoints, then replays the budget receipts of
redemptions (BUDGET_EXCEEDED: a use beyond a budget, a skipped use number, a lying remainder).
exit: 0 decision printed (PERMITTED or BLOCKED) / export verified; 1 export failed; 2 unusable input.
`;

/** Thrown for input the CLI cannot use; becomes exit code 2 with the message on stderr. */
class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

interface Flags {
  readonly positional: string[];
  readonly values: Map<string, string>;
  readonly switches: Set<string>;
}

function parseFlags(args: readonly string[], valued: readonly string[], switches: readonly string[]): Flags {
  const out: Flags = { positional: [], values: new Map(), switches: new Set() };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith("--")) {
      out.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (valued.includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      if (out.values.has(name)) throw new UsageError(`${name} given twice`);
      out.values.set(name, value);
    } else if (switches.includes(name) && eq < 0) {
      out.switches.add(name);
    } else {
      throw new UsageError(`unknown option ${name}`);
    }
  }
  return out;
}

/** ms since the epoch from "1717243200000" or an ISO-8601 timestamp. */
function parseTime(text: unknown, what: string): number {
  if (typeof text === "number") {
    if (Number.isSafeInteger(text)) return text;
    throw new UsageError(`${what} must be an integer number of milliseconds`);
  }
  if (typeof text === "string") {
    if (/^-?\d+$/.test(text)) {
      const n = Number(text);
      if (Number.isSafeInteger(n)) return n;
    }
    const ms = parseIsoLenient(text);
    if (ms !== undefined) return ms;
  }
  throw new UsageError(`${what} must be milliseconds since the epoch or an ISO-8601 time like 2025-06-01T12:00:00Z`);
}

/** A 32-byte secret key from a key file: raw 32 bytes, or 64 hex characters (whitespace ignored). */
function readSecretKey(path: string, readFile: ReadFile): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFile(path);
  } catch (e) {
    throw new UsageError(`cannot read the key file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (bytes.length === 32) return bytes;
  const text = new TextDecoder().decode(bytes).trim().toLowerCase();
  const key = fromHex(text, 32);
  if (!key) throw new UsageError(`${path} must hold a 32-byte Ed25519 secret key, raw or as 64 hex characters`);
  return key;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The kernel's strict parser: a duplicated member name (which JSON.parse would silently resolve to
 * the last one), a trailing comma or a lone surrogate makes the input unusable (exit 2).
 */
function parseJson(text: string, what: string): unknown {
  const parsed = parseJsonStrict(text);
  if (parsed.ok) return parsed.value;
  if (parsed.code === "DUPLICATE_MEMBER") throw new UsageError(`${what} has a ${describeJsonError(parsed)}`);
  throw new UsageError(`${what} is not valid JSON: ${describeJsonError(parsed)}`);
}

/**
 * The original kernel's wire format is recognised by its snake_case keys: `machine_owners` in the
 * registry, or `action_id` in an action. Everything else is read as this kernel's own format.
 */
function isWireRequest(request: Record<string, unknown>): boolean {
  const registry = request.registry;
  if (isPlainObject(registry) && Object.hasOwn(registry, "machine_owners")) return true;
  const actions = Array.isArray(request.actions) ? (request.actions as unknown[]) : [request.action];
  return actions.some((a) => isPlainObject(a) && Object.hasOwn(a, "action_id"));
}

/** Registry data from the native request: lists may be omitted (empty) and version defaults to 0. */
function nativeSnapshot(registry: unknown): Snapshot {
  if (!isPlainObject(registry)) throw new UsageError("request.registry must be an object");
  const data = {
    version: 0,
    entities: [],
    machineOwners: [],
    resources: [],
    claims: [],
    halts: [],
    ...registry,
  } as RegistryData;
  try {
    return buildSnapshot(data);
  } catch (e) {
    if (e instanceof SnapshotError) throw new UsageError(`invalid registry:\n  ${e.issues.join("\n  ")}`);
    throw new UsageError("the registry could not be read");
  }
}

function wireSnapshot(registry: RegistryData): Snapshot {
  try {
    return buildSnapshot(registry);
  } catch (e) {
    if (e instanceof SnapshotError) throw new UsageError(`invalid registry:\n  ${e.issues.join("\n  ")}`);
    throw new UsageError("the registry could not be read");
  }
}

/**
 * Errors about the action(s) make a BLOCKED decision, as the kernel's answer to a malformed
 * action; an error about the registry or the request envelope makes the input unusable.
 */
function onlyActionErrors(errors: readonly string[]): boolean {
  return errors.length > 0 && !errors.some((e) => /^(registry|request)\b/.test(e));
}


interface Signing {
  readonly secretKey: Uint8Array;
  readonly keyId: string;
  readonly randomBytes: (n: number) => Uint8Array;
}

interface Decided {
  readonly result: VerifyResult;
  /** What the wire translation read differently from its literal text (e.g. a trailing "/"). */
  readonly notes: readonly string[];
  /** The parsed action, or what a record needs when it did not parse. */
  readonly subject: Action | UnparsedStep;
}

function decideOne(request: Record<string, unknown>, now: number): Decided {
  for (const key of Object.keys(request)) {
    if (key !== "registry" && key !== "action" && key !== "now") throw new UsageError(`unknown request field "${key}"`);
  }
  if (!Object.hasOwn(request, "registry") || !Object.hasOwn(request, "action")) {
    throw new UsageError('a verify request is { "registry": ..., "action": ... }');
  }
  if (isWireRequest(request)) {
    const { now: _now, ...wire } = request;
    const parsed = parseWireRequest(wire);
    if (!parsed.ok) {
      if (!onlyActionErrors(parsed.errors)) throw new UsageError(`invalid request:\n  ${parsed.errors.join("\n  ")}`);
      const result = malformedResult(parsed.actionId ?? "", NO_SNAPSHOT_REF, parsed.errors);
      return { result, notes: [], subject: unparsed(result.actionId, request.action) };
    }
    const snapshot = wireSnapshot(parsed.registry);
    return { result: verify(snapshot, parsed.action, now), notes: parsed.notes, subject: parsed.action };
  }
  const snapshot = nativeSnapshot(request.registry);
  const result = verify(snapshot, request.action, now);
  const parsed = parseAction(request.action);
  return { result, notes: [], subject: parsed.ok ? parsed.action : unparsed(result.actionId, request.action) };
}

function unparsed(actionId: string, raw: unknown): UnparsedStep {
  const actor = isPlainObject(raw) ? raw.actor : undefined;
  const name = isPlainObject(actor) ? actor.name : actor;
  return { actionId, actor: typeof name === "string" ? name : "", actionDigest: inputDigest(raw) };
}

interface PlanDecided {
  readonly plan: PlanResult;
  readonly notes: readonly string[];
  readonly subjects: (Action | UnparsedStep)[];
  readonly snapshot: SnapshotRef;
}

function decidePlan(request: Record<string, unknown>, now: number): PlanDecided {
  for (const key of Object.keys(request)) {
    if (key !== "registry" && key !== "actions" && key !== "now") throw new UsageError(`unknown request field "${key}"`);
  }
  if (!Object.hasOwn(request, "registry") || !Array.isArray(request.actions)) {
    throw new UsageError('a verify-plan request is { "registry": ..., "actions": [...] }');
  }
  const raws = request.actions as unknown[];
  if (isWireRequest(request)) {
    const { now: _now, ...wire } = request;
    const parsed = parseWirePlan(wire);
    if (!parsed.ok) {
      // The wire plan parser stops at the first bad step; the plan is refused as a whole.
      if (!onlyActionErrors(parsed.errors)) throw new UsageError(`invalid request:\n  ${parsed.errors.join("\n  ")}`);
      const result = malformedResult("", NO_SNAPSHOT_REF, parsed.errors);
      return { plan: { permitted: false, steps: [result], taint: "" }, notes: [], subjects: [unparsed("", raws)], snapshot: NO_SNAPSHOT_REF };
    }
    const snapshot = wireSnapshot(parsed.registry);
    return { plan: verifyPlan(snapshot, parsed.actions, now), notes: parsed.notes, subjects: parsed.actions, snapshot: snapshot.ref };
  }
  const snapshot = nativeSnapshot(request.registry);
  const plan = verifyPlan(snapshot, raws, now);
  if (plan.steps.length !== raws.length) throw new UsageError(plan.steps[0]?.violations[0]?.message ?? "the plan could not be verified");
  const subjects = raws.map((raw, i) => {
    const parsed = parseAction(raw);
    return parsed.ok ? parsed.action : unparsed(plan.steps[i]?.actionId ?? "", raw);
  });
  return { plan, notes: [], subjects, snapshot: snapshot.ref };
}

function nonce(signing: Signing): string {
  return toHex(signing.randomBytes(16));
}

function requestNow(request: Record<string, unknown>, fallback: number, override: number | undefined): number {
  if (override !== undefined) return override;
  if (request.now !== undefined) return parseTime(request.now, "request.now");
  return fallback;
}

interface Verified {
  readonly out: unknown;
  readonly notes: readonly string[];
}

function verifyRequest(text: string, what: string, mode: "verify" | "verify-plan", original: boolean, now: number, override: number | undefined, signing: Signing | undefined): Verified {
  const request = parseJson(text, what);
  if (!isPlainObject(request)) throw new UsageError(`${what} must be a JSON object`);
  const at = requestNow(request, now, override);
  if (mode === "verify") {
    const { result, subject, notes } = decideOne(request, at);
    const shown: object = original ? renderOriginal(result) : result;
    if (signing === undefined) return { out: shown, notes };
    const record = buildDecisionRecord({
      result,
      ...("actionDigest" in subject ? { actor: subject.actor, actionDigest: subject.actionDigest } : { action: subject }),
      mode: "stateless",
      now: at,
      nonce: nonce(signing),
      keyId: signing.keyId,
    });
    return { out: { ...shown, record, signature: signDecision(record, signing.secretKey), keyId: signing.keyId }, notes };
  }
  const { plan, subjects, snapshot, notes } = decidePlan(request, at);
  const shown: object = original ? renderOriginalPlan(plan) : plan;
  if (signing === undefined) return { out: shown, notes };
  const record = buildPlanDecisionRecord({
    results: plan.steps,
    actions: subjects,
    snapshot: plan.steps[0]?.snapshot ?? snapshot,
    mode: "stateless",
    now: at,
    nonce: nonce(signing),
    keyId: signing.keyId,
  });
  return { out: { ...shown, record, signature: signPlanDecision(record, signing.secretKey), keyId: signing.keyId }, notes };
}

function runVerify(mode: "verify" | "verify-plan", args: readonly string[], stdinText: string, readFile: ReadFile, context: CliContext): CliResult {
  const flags = parseFlags(args, ["--format", "--sign-key", "--now"], ["--jsonl"]);
  if (flags.positional.length > 0) throw new UsageError(`unexpected argument ${flags.positional[0] ?? ""}`);
  const format = flags.values.get("--format") ?? "native";
  if (format !== "native" && format !== "original") throw new UsageError("--format must be native or original");
  const nowFlag = flags.values.get("--now");
  const override = nowFlag === undefined ? undefined : parseTime(nowFlag, "--now");
  const keyPath = flags.values.get("--sign-key");
  let signing: Signing | undefined;
  if (keyPath !== undefined) {
    const secretKey = readSecretKey(keyPath, readFile);
    signing = { secretKey, keyId: keyIdOf(publicKeyOf(secretKey)), randomBytes: context.randomBytes };
  }
  const original = format === "original";
  if (!flags.switches.has("--jsonl")) {
    if (stdinText.trim() === "") throw new UsageError("no request on stdin");
    const { out, notes } = verifyRequest(stdinText, "the request", mode, original, context.now, override, signing);
    return { stdout: JSON.stringify(out, null, 2) + "\n", stderr: notes.map((n) => `note: ${n}\n`).join(""), exitCode: 0 };
  }
  const stdout: string[] = [];
  const stderr: string[] = [];
  let unusable = false;
  const lines = stdinText.split("\n");
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((line, i) => {
    if (line.trim() === "") {
      stdout.push(JSON.stringify({ line: i + 1, error: "empty line" }));
      stderr.push(`line ${i + 1}: empty line`);
      unusable = true;
      return;
    }
    try {
      const { out, notes } = verifyRequest(line, `line ${i + 1}`, mode, original, context.now, override, signing);
      stdout.push(JSON.stringify(out));
      for (const n of notes) stderr.push(`line ${i + 1}: note: ${n}`);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      // One output line per input line, so results stay aligned with requests.
      stdout.push(JSON.stringify({ line: i + 1, error: e.message }));
      stderr.push(`line ${i + 1}: ${e.message}`);
      unusable = true;
    }
  });
  return {
    stdout: stdout.map((l) => l + "\n").join(""),
    stderr: stderr.map((l) => l + "\n").join(""),
    exitCode: unusable ? 2 : 0,
  };
}

/** Pinned keys from a keys file: { keys: [{ keyId, publicKey }] } (the well-known endpoint), a list, or { keyId: publicKey }. */
function readKeys(path: string, readFile: ReadFile): Map<string, string> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(readFile(path));
  } catch (e) {
    throw new UsageError(`cannot read the keys file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const json = parseJson(text, path);
  const list: unknown = isPlainObject(json) && Array.isArray(json.keys) ? json.keys : json;
  const pairs: [unknown, unknown][] = Array.isArray(list)
    ? (list as unknown[]).map((k) => (isPlainObject(k) ? [k.keyId, k.publicKey] : [undefined, undefined]))
    : isPlainObject(list)
      ? Object.entries(list)
      : [];
  if (pairs.length === 0) throw new UsageError(`${path} lists no keys`);
  const keys = new Map<string, string>();
  for (const [keyId, publicKey] of pairs) {
    let ok = false;
    try {
      ok = typeof keyId === "string" && typeof publicKey === "string" && keyIdOf(publicKey) === keyId;
    } catch {
      ok = false;
    }
    if (!ok) throw new UsageError(`${path}: every key needs a keyId equal to keyIdOf(its 32-byte hex publicKey)`);
    keys.set(keyId as string, publicKey as string);
  }
  return keys;
}

function describeSummary(path: string, s: AuditExportSummary, keysPath: string | undefined): string {
  const lines: string[] = [];
  if (s.ok) lines.push(`${path}: OK — the audit export verifies`);
  else {
    const f = s.firstFailure;
    const where = f === undefined ? "" : ` at line ${f.line}${f.seq !== undefined ? ` (entry seq ${f.seq})` : ""}`;
    lines.push(`${path}: FAILED${where}: ${f?.code ?? "UNKNOWN"} — ${f?.what ?? ""}`);
  }
  lines.push(`  entries verified:   ${s.entries}`);
  lines.push(`  checkpoints:        ${s.checkpoints}`);
  lines.push(`  signed decisions:   ${s.decisions}`);
  // Replayed only once the chain verified: 0 after an integrity failure says nothing about budgets.
  lines.push(`  budget receipts:    ${s.receipts ?? 0}${s.firstFailure !== undefined && s.firstFailure.code !== "BUDGET_EXCEEDED" ? " (not replayed: the export failed first)" : ""}`);
  if (s.treeSize !== undefined) lines.push(`  covered by a signed checkpoint: ${s.treeSize} entries, root ${s.rootHash ?? ""}`);
  if (s.headHash !== undefined) lines.push(`  head entry hash:    ${s.headHash}`);
  lines.push(
    s.keysFrom === "pinned"
      ? `  keys: pinned from ${keysPath ?? "--keys"}`
      : "  keys: taken from the export's own header — this proves integrity, not origin; pin the kernel's keys with --keys",
  );
  for (const k of s.keys) lines.push(`    ${k.keyId} (${k.status})`);
  return lines.join("\n") + "\n";
}

function runAudit(args: readonly string[], readFile: ReadFile): CliResult {
  const [sub, ...rest] = args;
  if (sub !== "verify") throw new UsageError("usage: freedom-kernel audit verify EXPORT.jsonl [--keys KEYS.json]");
  const flags = parseFlags(rest, ["--keys", "--min-tree-size"], ["--json", "--allow-uncovered"]);
  if (flags.positional.length !== 1) throw new UsageError("audit verify takes exactly one export file");
  const path = flags.positional[0] as string;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(readFile(path));
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const keysPath = flags.values.get("--keys");
  const pinnedKeys = keysPath === undefined ? undefined : readKeys(keysPath, readFile);
  const minText = flags.values.get("--min-tree-size");
  let minTreeSize: number | undefined;
  if (minText !== undefined) {
    minTreeSize = Number(minText);
    if (!/^\d+$/.test(minText) || !Number.isSafeInteger(minTreeSize)) throw new UsageError("--min-tree-size must be a non-negative integer");
  }
  const summary = verifyAuditExport(text, {
    pinnedKeys,
    requireFinalCheckpoint: !flags.switches.has("--allow-uncovered"),
    minTreeSize,
  });
  const stdout = flags.switches.has("--json") ? JSON.stringify(summary, null, 2) + "\n" : describeSummary(path, summary, keysPath);
  return { stdout, stderr: "", exitCode: summary.ok ? 0 : 1 };
}

function runKeygen(args: readonly string[], context: CliContext): CliResult {
  if (args.length > 0) throw new UsageError("keygen takes no arguments");
  const secretKey = context.randomBytes(32);
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) throw new UsageError("no randomness available");
  const publicKey = publicKeyOf(secretKey);
  const out = { secretKey: toHex(secretKey), publicKey: toHex(publicKey), keyId: keyIdOf(publicKey) };
  return {
    stdout: JSON.stringify(out, null, 2) + "\n",
    stderr: "keep secretKey secret: whoever holds it can sign decisions as this kernel\n",
    exitCode: 0,
  };
}

/** The commands that read stdin; the wrapper reads it only for these. */
export function readsStdin(argv: readonly string[]): boolean {
  const command = argv[0];
  return command === "verify" || command === "verify-plan";
}

/**
 * Runs one CLI invocation. `argv` is the arguments after the program name; `stdinText` is all of
 * stdin (read by the caller only when readsStdin(argv)); `readFile` reads key and export files.
 * Never throws for bad input: usage problems and unusable input give exit code 2 with a message.
 */
export function runCli(argv: readonly string[], stdinText: string, readFile: ReadFile, context: CliContext): CliResult {
  try {
    const [command, ...args] = argv;
    switch (command) {
      case "verify":
      case "verify-plan":
        return runVerify(command, args, stdinText, readFile, context);
      case "audit":
        return runAudit(args, readFile);
      case "keygen":
        return runKeygen(args, context);
      case "help":
      case "--help":
      case "-h":
        return { stdout: USAGE, stderr: "", exitCode: 0 };
      case undefined:
        return { stdout: "", stderr: USAGE, exitCode: 2 };
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (e) {
    if (e instanceof UsageError) return { stdout: "", stderr: `freedom-kernel: ${e.message}\n`, exitCode: 2 };
    return { stdout: "", stderr: `freedom-kernel: internal error: ${e instanceof Error ? e.message : String(e)}\n`, exitCode: 2 };
  }
}
