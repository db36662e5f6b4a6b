/**
 * Compass (design §12): scores a change of state against the terminal goal "fewer rights
 * violations", and vetoes any change that increases machine sovereignty, whatever its score.
 *
 * A state is observed through what the kernel says about it: the verify results of a fixed set
 * of probe actions replayed against the state (or bare counts), and optionally its registry data.
 * The score compares the number of rights violations before and after:
 *
 *   score = (before - after) / max(before, after)   in [-1, 1], 0 when both are 0
 *
 * +1: every violation removed; -1: violations appeared where there were none.
 *
 * The veto is not a weight in the score: no reduction elsewhere buys an increase of machine
 * sovereignty. A change is vetoed when
 * - more sovereignty violations are observed after than before (FORBIDDEN_FLAG with
 *   increases_machine_sovereignty or machine_coalition_dominion), or
 * - in the registries, a machine gains a claim not traced to its owner: held by an ownerless
 *   machine, a root claim held by a machine, or granted by someone other than its owner or a
 *   machine of the same owner; or a machine comes to own a machine.
 *
 * Pure and total: never throws; unreadable input counts as nothing observed.
 */
import { canonicalJson } from "../canonical";
import type { Claim, Flag, RegistryData, Violation, ViolationCode } from "../types";

/** Flags whose violation is an attempt to increase machine sovereignty. */
export const SOVEREIGNTY_FLAGS: readonly Flag[] = ["increases_machine_sovereignty", "machine_coalition_dominion"];

/**
 * Codes that are not violations of anyone's rights: a derived abort and the server's fail-closed
 * outcomes (an expired token violates no right). Everything else counts.
 */
const NOT_RIGHTS: ReadonlySet<ViolationCode> = new Set<ViolationCode>([
  "PLAN_ABORTED",
  "UNAUTHENTICATED",
  "SNAPSHOT_UNAVAILABLE",
  "SIGNER_UNAVAILABLE",
  "AUDIT_UNAVAILABLE",
  "INTERNAL_ERROR",
]);

/** What the compass sees of one state. */
export interface CompassObservation {
  /** Verify results of the probe actions in this state. */
  readonly results?: readonly { readonly violations: readonly Pick<Violation, "code" | "flag">[] }[];
  /** Counts, when no results are at hand (added to what results yield). */
  readonly rightsViolations?: number;
  readonly sovereigntyViolations?: number;
  /** The state's registry, to see machines gaining untraced authority. */
  readonly registry?: RegistryData;
}

/** Why a change is vetoed. */
export type CompassVetoCode = "SOVEREIGNTY_INCREASE" | "OWNERLESS_MACHINE_RIGHT" | "UNTRACED_MACHINE_RIGHT" | "MACHINE_OWNS_MACHINE";

/** One veto, naming the machine and claim when there is one. */
export interface CompassVeto {
  readonly code: CompassVetoCode;
  readonly message: string;
  readonly machine?: string;
  readonly claim?: string;
}

/** Violations counted in one state. */
export interface CompassCounts {
  readonly rightsViolations: number;
  readonly sovereigntyViolations: number;
}

/** The outcome of scoreChange. */
export interface CompassReading {
  /** In [-1, 1]; positive means fewer rights violations. */
  readonly score: number;
  readonly direction: "fewer" | "same" | "more";
  readonly before: CompassCounts;
  readonly after: CompassCounts;
  readonly vetoed: boolean;
  readonly vetoes: readonly CompassVeto[];
  /** Not vetoed and not more rights violations. */
  readonly admissible: boolean;
}

const SOVEREIGN: ReadonlySet<string> = new Set(SOVEREIGNTY_FLAGS);

function count(n: unknown): number {
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function countsOf(obs: CompassObservation | undefined): CompassCounts {
  let rights = count(obs?.rightsViolations);
  let sovereignty = count(obs?.sovereigntyViolations);
  const results: unknown = obs?.results;
  if (Array.isArray(results)) {
    for (const r of results as unknown[]) {
      const violations: unknown = (r as { violations?: unknown } | null)?.violations;
      if (!Array.isArray(violations)) continue;
      for (const v of violations as { code?: unknown; flag?: unknown }[]) {
        if (typeof v?.code !== "string" || NOT_RIGHTS.has(v.code as ViolationCode)) continue;
        rights += 1;
        if (v.code === "FORBIDDEN_FLAG" && typeof v.flag === "string" && SOVEREIGN.has(v.flag)) sovereignty += 1;
      }
    }
  }
  return { rightsViolations: rights, sovereigntyViolations: sovereignty };
}

function list<T>(v: unknown): readonly T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

/** Machine authority in `after` that did not exist in `before` and is not traced to an owner. */
function untracedMachineAuthority(before: RegistryData | undefined, after: RegistryData | undefined): CompassVeto[] {
  if (after === undefined) return [];
  const vetoes: CompassVeto[] = [];
  const kind = new Map<string, string>();
  for (const e of list<{ id?: unknown; kind?: unknown }>(after.entities)) {
    if (typeof e?.id === "string" && typeof e.kind === "string") kind.set(e.id, e.kind);
  }
  const ownerOf = new Map<string, string>();
  for (const mo of list<{ machine?: unknown; owner?: unknown }>(after.machineOwners)) {
    if (typeof mo?.machine !== "string" || typeof mo.owner !== "string") continue;
    ownerOf.set(mo.machine, mo.owner);
    if (kind.get(mo.owner) !== "HUMAN") {
      vetoes.push({ code: "MACHINE_OWNS_MACHINE", message: `${mo.owner} is not a human and cannot own ${mo.machine}`, machine: mo.owner });
    }
  }
  // A claim is "new" unless the same claim (id and content) existed before.
  const previous = new Set<string>();
  for (const c of list<Claim>(before?.claims)) {
    try {
      previous.add(canonicalJson(c));
    } catch {
      // unreadable claims in the old state simply do not count as existing
    }
  }
  for (const c of list<Claim>(after.claims)) {
    if (typeof c?.holder !== "string" || kind.get(c.holder) !== "MACHINE") continue;
    let key: string;
    try {
      key = canonicalJson(c);
    } catch {
      key = "";
    }
    if (previous.has(key)) continue;
    const machine = c.holder;
    const owner = ownerOf.get(machine);
    const claim = typeof c.id === "string" ? c.id : undefined;
    const veto = (code: CompassVetoCode, message: string) =>
      vetoes.push({ code, message, machine, ...(claim !== undefined ? { claim } : {}) });
    if (owner === undefined) {
      veto("OWNERLESS_MACHINE_RIGHT", `${machine} gains a right but has no registered owner`);
    } else if (c.grantor === undefined) {
      veto("UNTRACED_MACHINE_RIGHT", `${machine} gains a root (ownership) claim; machines own nothing`);
    } else if (c.grantor !== owner && !(kind.get(c.grantor) === "MACHINE" && ownerOf.get(c.grantor) === owner)) {
      veto("UNTRACED_MACHINE_RIGHT", `${machine} gains a right granted by ${String(c.grantor)}, not by its owner ${owner}`);
    }
  }
  return vetoes;
}

/**
 * Scores the change from `before` to `after`. Returns the score, both counts, and every veto.
 * Never throws; missing or unreadable observations count as zero violations and no registry.
 */
export function scoreChange(before: CompassObservation, after: CompassObservation): CompassReading {
  let b: CompassCounts = { rightsViolations: 0, sovereigntyViolations: 0 };
  let a: CompassCounts = b;
  let vetoes: CompassVeto[] = [];
  try {
    b = countsOf(before);
    a = countsOf(after);
    vetoes = untracedMachineAuthority(before?.registry, after?.registry);
  } catch {
    vetoes = [{ code: "SOVEREIGNTY_INCREASE", message: "the change could not be read; vetoed (fail closed)" }];
  }
  if (a.sovereigntyViolations > b.sovereigntyViolations) {
    vetoes.unshift({
      code: "SOVEREIGNTY_INCREASE",
      message: `sovereignty violations rise from ${b.sovereigntyViolations} to ${a.sovereigntyViolations}`,
    });
  }
  const max = Math.max(a.rightsViolations, b.rightsViolations);
  const score = max === 0 ? 0 : (b.rightsViolations - a.rightsViolations) / max;
  const direction = score > 0 ? "fewer" : score < 0 ? "more" : "same";
  const vetoed = vetoes.length > 0;
  return { score, direction, before: b, after: a, vetoed, vetoes, admissible: !vetoed && score >= 0 };
}
