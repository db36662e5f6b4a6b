/**
 * The strict, hand-written parser of the agent-supplied action (design §4). No schema library:
 * the kernel imports only @noble/*. Unknown keys are errors — a misspelt flag must never fail
 * open — and the input is copied property by property through descriptors before anything is
 * checked, so getters never run and a Proxy cannot change its answer between check and use.
 */
import { capIssues, idProblem, MAX_ID_LENGTH, quote, readArray, readPlainObject, textProblem } from "./internal";
import { isObjectReference, MAX_REFERENCE_LENGTH } from "./object-ref";
import { FLAGS, MAX_COST, type Action, type Flag } from "./types";

/** Most items in each of reads, writes, delegates, governsHumans. */
export const MAX_ACTION_LIST = 1000;
/** Longest description or argument. */
export const MAX_ACTION_TEXT = 10_000;

const LIST_FIELDS = ["reads", "writes", "delegates", "governsHumans"] as const;
const KNOWN_FIELDS: ReadonlySet<string> = new Set<string>(["actionId", "actor", ...LIST_FIELDS, "description", "argument", "cost", ...FLAGS]);
const MAX_ERRORS = 20;

export type ParseActionResult =
  | { ok: true; action: Action }
  | {
      ok: false;
      errors: string[];
      /** The actionId, when the input carried a usable one, so a refusal can still cite it. */
      actionId?: string | undefined;
    };

/**
 * Parses an agent-supplied action. Never throws.
 *
 * Accepts a plain object (JSON object) with only these keys: actionId, actor (required,
 * identifiers of 1-256 characters without control characters), reads, writes, delegates,
 * governsHumans (optional arrays of at most 1,000 distinct identifiers; in reads, writes and
 * delegates an object reference — see object-ref.ts — may have up to MAX_REFERENCE_LENGTH
 * characters, and verify canonicalizes it), description, argument
 * (optional strings of at most 10,000 characters), cost (optional integer in 0..MAX_COST: what the
 * use costs against budgets with maxCost, issue 13) and the ten flags of FLAGS (optional
 * booleans). A key whose value is `undefined` counts as absent, as JSON.stringify would drop it.
 *
 * Returns `{ ok: false, errors }` for anything else: not a plain object, an array, unknown keys,
 * wrong types, accessors (getters), non-enumerable or symbol keys, throwing Proxies, holes,
 * duplicates in a list, lone surrogates. The parsed action has every flag explicit (absent =
 * false) and every list explicit (absent = []).
 */
export function parseAction(input: unknown): ParseActionResult {
  // An action this function produced is taken as it is: it is frozen, so it is still what was
  // checked (the server parses once and hands verify the parsed action).
  if (typeof input === "object" && input !== null && PARSED.has(input)) return { ok: true, action: input as Action };
  const read = readPlainObject(input, "action", 64);
  if (!read.ok) return { ok: false, errors: [read.error] };
  const fields = read.value;
  const errors: string[] = [];

  const flags: Record<Flag, boolean> = {
    increases_machine_sovereignty: false,
    resists_human_correction: false,
    bypasses_verifier: false,
    weakens_verifier: false,
    disables_corrigibility: false,
    machine_coalition_dominion: false,
    coerces: false,
    deceives: false,
    self_modification_weakens_verifier: false,
    machine_coalition_reduces_freedom: false,
  };
  const lists: Record<(typeof LIST_FIELDS)[number], string[]> = { reads: [], writes: [], delegates: [], governsHumans: [] };
  let description: string | undefined;
  let argument: string | undefined;
  let cost: number | undefined;
  let actionId: unknown;
  let actor: unknown;

  // Only the keys present are visited; absent flags stay false, absent lists stay empty. A key
  // whose value is undefined is absent, as JSON.stringify would drop it.
  for (const [key, v] of fields) {
    if (!KNOWN_FIELDS.has(key)) {
      errors.push(`unknown field ${quote(key)}`);
      continue;
    }
    if (v === undefined) continue;
    if (key === "actionId") actionId = v;
    else if (key === "actor") actor = v;
    else if (key === "description" || key === "argument") {
      const p = textProblem(v, MAX_ACTION_TEXT);
      if (p !== null) errors.push(`${key} ${p}`);
      else if (key === "description") description = v as string;
      else argument = v as string;
    } else if (key === "cost") {
      if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= MAX_COST) cost = v;
      else errors.push(`cost must be an integer in 0..${MAX_COST}`);
    } else if (key === "reads" || key === "writes" || key === "delegates" || key === "governsHumans") {
      readList(key, v, lists[key], errors);
    } else if (typeof v === "boolean") flags[key as Flag] = v;
    else errors.push(`${key} must be a boolean`);
  }
  const idErr = actionId === undefined ? "is required" : idProblem(actionId);
  if (idErr !== null) errors.push(`actionId ${idErr}`);
  const actorErr = actor === undefined ? "is required" : idProblem(actor);
  if (actorErr !== null) errors.push(`actor ${actorErr}`);

  if (errors.length > 0) {
    return {
      ok: false,
      errors: capIssues(errors, MAX_ERRORS),
      ...(idErr === null ? { actionId: actionId as string } : {}),
    };
  }

  // Members in canonical (RFC 8785) order, so canonicalJson prints the action without reordering
  // it (the action digest is on the path of every decision); a test checks the order. Assigned one
  // by one: an object literal with spreads in the middle costs several times more here.
  const a: Record<string, unknown> = { actionId, actor };
  if (argument !== undefined) a.argument = argument;
  a.bypasses_verifier = flags.bypasses_verifier;
  a.coerces = flags.coerces;
  if (cost !== undefined) a.cost = cost;
  a.deceives = flags.deceives;
  a.delegates = lists.delegates;
  if (description !== undefined) a.description = description;
  a.disables_corrigibility = flags.disables_corrigibility;
  a.governsHumans = lists.governsHumans;
  a.increases_machine_sovereignty = flags.increases_machine_sovereignty;
  a.machine_coalition_dominion = flags.machine_coalition_dominion;
  a.machine_coalition_reduces_freedom = flags.machine_coalition_reduces_freedom;
  a.reads = lists.reads;
  a.resists_human_correction = flags.resists_human_correction;
  a.self_modification_weakens_verifier = flags.self_modification_weakens_verifier;
  a.weakens_verifier = flags.weakens_verifier;
  a.writes = lists.writes;
  Object.freeze(lists.reads);
  Object.freeze(lists.writes);
  Object.freeze(lists.delegates);
  Object.freeze(lists.governsHumans);
  const action = Object.freeze(a) as unknown as Action;
  PARSED.add(action);
  return { ok: true, action };
}

/** The actions parseAction returned (frozen with their lists): parsing one again is a lookup. */
const PARSED = new WeakSet<object>();

function readList(name: string, v: unknown, out: string[], errors: string[]): void {
  const arr = readArray(v, name, MAX_ACTION_LIST);
  if (!arr.ok) {
    errors.push(arr.error);
    return;
  }
  // A list is a set given as an array; a duplicate means a confused caller, and refusing it
  // keeps one action from having two spellings (and two digests).
  const items = arr.value;
  const seen = items.length > 8 ? new Set<string>() : undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    // An object reference (a path or URI) may be longer than an id; verify canonicalizes it and
    // refuses it as MALFORMED_ACTION with the reason when it is not a valid reference.
    const p =
      name !== "governsHumans" && isObjectReference(item) && item.length > MAX_ID_LENGTH
        ? item.length > MAX_REFERENCE_LENGTH
          ? `must be at most ${MAX_REFERENCE_LENGTH} characters`
          : /[\u0000-\u001F\u007F-\u009F]/.test(item)
            ? "must not contain control characters"
            : textProblem(item, MAX_REFERENCE_LENGTH)
        : idProblem(item);
    if (p !== null) {
      errors.push(`${name}[${i}] ${p}`);
      continue;
    }
    const s = item as string;
    if (seen !== undefined ? seen.has(s) : out.includes(s)) {
      errors.push(`${name}[${i}] repeats ${quote(s)}`);
      continue;
    }
    seen?.add(s);
    out.push(s);
  }
}
