/**
 * What-if replay (issue 12): logged actions verified against two snapshots — the registry as it
 * is and as a proposed change of authority would leave it — and the actions whose outcome differs.
 *
 * Pure, like verify: the caller supplies the two snapshots, the actions (as the audit log recorded
 * them) and the time both are judged at. Both sides are judged at the same `now` and with no
 * budget use and no session taint, so the only difference between them is the change itself: an
 * action that expired, or was tainted, at decision time is judged alike on both sides and is
 * never a flip. An action that no longer parses is MALFORMED_ACTION on both sides, not a flip.
 *
 * The answer is signed under its own domain (SIMULATION_DOMAIN): a simulation record has none of
 * a decision's or a plan's shape and is signed over other bytes, so it can never pass verifyPermit,
 * verifyDecision or verifyPlanDecision. It proves what the kernel answered for the window; it
 * authorises nothing.
 */
import { parseAction } from "./action";
import { fromHex, isHex } from "./bytes";
import { formatIso, parseIso } from "./iso-time";
import { isKeyId, keyIdOf, signBytes, signingBytes, SigningError, verifyBytes, type KeyInput } from "./signing";
import type { Snapshot } from "./snapshot";
import type { SnapshotRef, VerifyResult } from "./types";
import { verify } from "./verify";

/** Domain of simulation records: separate from every other signed thing of the kernel. */
export const SIMULATION_DOMAIN = "freedom-kernel/simulation/v1\n";

/** One logged action to replay, as the audit log holds it. */
export interface ReplayItem {
  readonly auditSeq: number;
  readonly actionId: string;
  readonly machine: string;
  /** The parsed action the decision was about (the decision entry's `action`). */
  readonly action: unknown;
}

/** An outcome as a replay reports it: permitted, and the violation codes, each once, in verify's order. */
export interface ReplayOutcome {
  readonly permitted: boolean;
  readonly codes: readonly string[];
}

/**
 * An action permitted on one side and blocked on the other. A blocked action whose reasons change
 * but that stays blocked is not a flip: what an owner weighs is what would pass and what would not.
 */
export interface SimulationFlip {
  readonly auditSeq: number;
  readonly actionId: string;
  readonly machine: string;
  readonly before: ReplayOutcome;
  readonly after: ReplayOutcome;
}

/** Tallies of the flips. */
export interface SimulationCounts {
  /** Flips per machine. */
  readonly byMachine: Readonly<Record<string, number>>;
  /** Per violation code, how many flipped actions gain it (it is in `after`, not in `before`). */
  readonly byCode: Readonly<Record<string, number>>;
  /** Flips from permitted to blocked. */
  readonly blocked: number;
  /** Flips from blocked to permitted. */
  readonly permitted: number;
}

export interface ReplayResult {
  readonly replayed: number;
  readonly flips: readonly SimulationFlip[];
  readonly counts: SimulationCounts;
}

/** The outcome of one verify result: permitted and its distinct codes in verify's order. */
export function outcomeOf(result: VerifyResult): ReplayOutcome {
  const codes: string[] = [];
  for (const v of result.violations) if (!codes.includes(v.code)) codes.push(v.code);
  return { permitted: result.permitted, codes };
}


/** The counts of a list of flips (a dictionary with no prototype members, then copied into a plain object in key order). */
export function countFlips(flips: readonly SimulationFlip[]): SimulationCounts {
  const byMachine = new Map<string, number>();
  const byCode = new Map<string, number>();
  let blocked = 0;
  let permitted = 0;
  for (const f of flips) {
    byMachine.set(f.machine, (byMachine.get(f.machine) ?? 0) + 1);
    for (const c of f.after.codes) if (!f.before.codes.includes(c)) byCode.set(c, (byCode.get(c) ?? 0) + 1);
    if (f.before.permitted && !f.after.permitted) blocked++;
    if (!f.before.permitted && f.after.permitted) permitted++;
  }
  return { byMachine: sortedRecord(byMachine), byCode: sortedRecord(byCode), blocked, permitted };
}

function sortedRecord(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of [...m.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    Object.defineProperty(out, k, { value: m.get(k), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Replays `items` against `current` and `proposed` at `now`; returns how many were replayed, the
 * flips (permitted on one side, blocked on the other) in the items' order, and their counts. When both snapshots are one and the same object,
 * nothing can flip and verify runs once per item. Never throws for well-formed snapshots: verify
 * answers every action, malformed ones included.
 */
export function replayDecisions(current: Snapshot, proposed: Snapshot, items: readonly ReplayItem[], now: number): ReplayResult {
  const flips: SimulationFlip[] = [];
  if (current !== proposed) {
    for (const item of items) {
      // Parsed once: verify takes the parsed action (frozen) without parsing it again.
      const parsed = parseAction(item.action);
      const action = parsed.ok ? parsed.action : item.action;
      const before = outcomeOf(verify(current, action, now));
      const after = outcomeOf(verify(proposed, action, now));
      if (before.permitted === after.permitted) continue;
      flips.push({ auditSeq: item.auditSeq, actionId: item.actionId, machine: item.machine, before, after });
    }
  }
  return { replayed: items.length, flips, counts: countFlips(flips) };
}

/** The window a simulation replayed: which machines ("*" = all), how many decisions, since when. */
export interface SimulationWindow {
  readonly machines: readonly string[];
  readonly last: number;
  readonly since?: string;
}

/** The signed answer of a simulation (signingBytes(SIMULATION_DOMAIN, record)). */
export interface SimulationRecord {
  readonly v: 1;
  readonly kind: "simulation";
  /** Who asked: "owner:<id>" or "operator". */
  readonly requestedBy: string;
  /** Hex SHA-256 of the canonical JSON of the change set as asked. */
  readonly changesDigest: string;
  readonly current: SnapshotRef;
  readonly proposed: SnapshotRef;
  readonly window: SimulationWindow;
  readonly replayed: number;
  readonly flips: readonly SimulationFlip[];
  readonly counts: SimulationCounts;
  readonly simulatedAt: string;
  readonly nonce: string;
  readonly keyId: string;
}

/** What buildSimulationRecord takes: the record's content, with the time as integer ms since the epoch. */
export type BuildSimulationInput = Omit<SimulationRecord, "v" | "kind" | "simulatedAt"> & { readonly now: number };

const NONCE = /^[0-9a-f]{16,128}$/;

/** Builds the record to sign (deep copy, in canonical member order). Throws SigningError("BAD_RECORD") when it would be malformed. */
export function buildSimulationRecord(input: BuildSimulationInput): SimulationRecord {
  const copyOutcome = (o: ReplayOutcome): ReplayOutcome => ({ codes: [...o.codes], permitted: o.permitted });
  const record: SimulationRecord = {
    changesDigest: input.changesDigest,
    counts: {
      blocked: input.counts.blocked,
      byCode: { ...input.counts.byCode },
      byMachine: { ...input.counts.byMachine },
      permitted: input.counts.permitted,
    },
    current: { digest: input.current.digest, version: input.current.version },
    flips: input.flips.map((f) => ({ actionId: f.actionId, after: copyOutcome(f.after), auditSeq: f.auditSeq, before: copyOutcome(f.before), machine: f.machine })),
    keyId: input.keyId,
    kind: "simulation",
    nonce: input.nonce,
    proposed: { digest: input.proposed.digest, version: input.proposed.version },
    replayed: input.replayed,
    requestedBy: input.requestedBy,
    simulatedAt: formatIso(input.now),
    v: 1,
    window: { last: input.window.last, machines: [...input.window.machines], ...(input.window.since !== undefined ? { since: input.window.since } : {}) },
  };
  if (!isSimulationRecord(record)) throw new SigningError("BAD_RECORD", "malformed simulation record");
  return record;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
const onlyKeys = (o: Record<string, unknown>, keys: readonly string[], required: readonly string[]): boolean =>
  Object.keys(o).every((k) => keys.includes(k)) && required.every((k) => Object.prototype.hasOwnProperty.call(o, k));
const isStr = (v: unknown): v is string => typeof v === "string";
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isRef = (v: unknown): boolean => isObj(v) && onlyKeys(v, ["version", "digest"], ["version", "digest"]) && typeof v.version === "number" && Number.isSafeInteger(v.version) && isStr(v.digest);
const isOutcome = (v: unknown): boolean => isObj(v) && onlyKeys(v, ["permitted", "codes"], ["permitted", "codes"]) && typeof v.permitted === "boolean" && Array.isArray(v.codes) && v.codes.every(isStr);
const isTally = (v: unknown): boolean => isObj(v) && Object.values(v).every(isCount);

/** True iff `value` is a well-formed SimulationRecord (no unknown members). Never throws. */
export function isSimulationRecord(value: unknown): value is SimulationRecord {
  try {
    const v = value;
    if (!isObj(v)) return false;
    const keys = ["v", "kind", "requestedBy", "changesDigest", "current", "proposed", "window", "replayed", "flips", "counts", "simulatedAt", "nonce", "keyId"];
    if (!onlyKeys(v, keys, keys)) return false;
    if (v.v !== 1 || v.kind !== "simulation" || !isStr(v.requestedBy) || !isHex(v.changesDigest, 32)) return false;
    if (!isRef(v.current) || !isRef(v.proposed) || !isCount(v.replayed)) return false;
    if (!isStr(v.simulatedAt) || parseIso(v.simulatedAt) === undefined) return false;
    if (!isStr(v.nonce) || !NONCE.test(v.nonce) || !isKeyId(v.keyId)) return false;
    const w = v.window;
    if (!isObj(w) || !onlyKeys(w, ["machines", "last", "since"], ["machines", "last"]) || !Array.isArray(w.machines) || !w.machines.every(isStr)) return false;
    if (!isCount(w.last)) return false;
    if (w.since !== undefined && (!isStr(w.since) || parseIso(w.since) === undefined)) return false;
    if (!Array.isArray(v.flips) || v.flips.length > v.replayed) return false;
    for (const f of v.flips as unknown[]) {
      if (!isObj(f) || !onlyKeys(f, ["auditSeq", "actionId", "machine", "before", "after"], ["auditSeq", "actionId", "machine", "before", "after"])) return false;
      if (!isCount(f.auditSeq) || !isStr(f.actionId) || !isStr(f.machine) || !isOutcome(f.before) || !isOutcome(f.after)) return false;
    }
    const c = v.counts;
    if (!isObj(c) || !onlyKeys(c, ["byMachine", "byCode", "blocked", "permitted"], ["byMachine", "byCode", "blocked", "permitted"])) return false;
    return isTally(c.byMachine) && isTally(c.byCode) && isCount(c.blocked) && isCount(c.permitted);
  } catch {
    return false;
  }
}

/** The exact bytes a simulation signature covers. Throws SigningError("BAD_RECORD") for a malformed record. */
export function simulationSigningBytes(record: SimulationRecord): Uint8Array {
  if (!isSimulationRecord(record)) throw new SigningError("BAD_RECORD", "malformed simulation record");
  return signingBytes(SIMULATION_DOMAIN, record);
}

/** Signs a simulation record; returns the hex signature. */
export function signSimulation(record: SimulationRecord, secretKey: KeyInput): string {
  return signBytes(simulationSigningBytes(record), secretKey);
}

/** True iff `record` is a well-formed simulation record naming `publicKey`, signed by it under SIMULATION_DOMAIN. Never throws. */
export function verifySimulation(record: unknown, signatureHex: unknown, publicKey: unknown): boolean {
  if (!isSimulationRecord(record)) return false;
  const pk = publicKey instanceof Uint8Array ? (publicKey.length === 32 ? publicKey : undefined) : fromHex(publicKey, 32);
  if (!pk || record.keyId !== keyIdOf(pk)) return false;
  try {
    return verifyBytes(signingBytes(SIMULATION_DOMAIN, record), signatureHex, pk);
  } catch {
    return false;
  }
}
