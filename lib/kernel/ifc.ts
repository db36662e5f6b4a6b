/**
 * Information-flow control (design §6): a configurable totally ordered lattice of labels, lowest
 * first (default PUBLIC < INTERNAL < SECRET). A resource without a label is the bottom.
 *
 * Taint is the join of the labels read so far; a write into a resource whose label is below the
 * taint is a downward flow (Bell-LaPadula "no write down").
 *
 * Unknown labels fail closed. buildSnapshot refuses resource labels outside the lattice, so an
 * unknown label can only arrive as a taint (e.g. a session taint stored under an older lattice,
 * or a corrupted value). As a SOURCE (taint, or a read) an unknown label ranks above the top, so
 * it taints everything after it and every later write is a downward flow; as a SINK an unknown
 * label ranks below the bottom, so nothing may be written into it. Joining with an unknown label
 * yields that unknown label, so it is sticky. Either way an unknown label can never let
 * information flow down. (The original kernel ranked unknown labels as PUBLIC: it failed open.)
 *
 * A resource id the registry does not know behaves like an unlabeled resource (the bottom), the
 * same as an unknown id behaves like an undelegated resource for access checks: no information
 * can be read from it (the read is always denied), and probing ids teaches nothing.
 */
import { snapshotIndex } from "./internal";
import { resolveEntry } from "./resolve";
import type { Snapshot } from "./snapshot";
import type { Action } from "./types";

export const DEFAULT_LATTICE: readonly string[] = Object.freeze(["PUBLIC", "INTERNAL", "SECRET"]);

/**
 * Rank of `label` as an information SOURCE in `lattice` (lowest first): its index; undefined is
 * the bottom (0); an unknown label (or a non-string) ranks lattice.length, above the top.
 */
export function sourceRank(lattice: readonly string[], label: string | undefined): number {
  if (label === undefined) return 0;
  const i = typeof label === "string" ? lattice.indexOf(label) : -1;
  return i < 0 ? lattice.length : i;
}

/**
 * Rank of `label` as an information SINK: its index; undefined is the bottom (0); an unknown
 * label (or a non-string) ranks -1, below the bottom, so no flow into it is ever allowed.
 */
export function sinkRank(lattice: readonly string[], label: string | undefined): number {
  if (label === undefined) return 0;
  return typeof label === "string" ? lattice.indexOf(label) : -1;
}

/** Alias of sourceRank: the rank used when comparing taints (unknown or non-string labels rank above the top). */
export function labelRank(lattice: readonly string[], label: string | undefined): number {
  return sourceRank(lattice, label);
}

/**
 * The least upper bound of two labels. undefined counts as the bottom (lattice[0]); if either
 * label is unknown, the result is that unknown label (the first one when both are), so the taint
 * stays above every known label; a non-string label yields UNKNOWN_TAINT. Returns lattice[0] (or
 * "" for an empty lattice) when both are undefined. Never throws for a real lattice array.
 */
export function joinLabels(lattice: readonly string[], a: string | undefined, b: string | undefined): string {
  const bottom = lattice[0] ?? "";
  const la = a ?? bottom;
  const lb = b ?? bottom;
  // A label that is not even a string is unknown; it cannot be echoed, so it becomes UNKNOWN_TAINT.
  if (typeof la !== "string" || typeof lb !== "string") return UNKNOWN_TAINT;
  const ra = sourceRank(lattice, la);
  const rb = sourceRank(lattice, lb);
  if (ra >= lattice.length) return la;
  if (rb >= lattice.length) return lb;
  return ra >= rb ? la : lb;
}

/**
 * True when writing information labelled `taint` into a sink labelled `sink` flows downward.
 * Fails closed on bad input: an unknown or non-string taint, or an unknown sink label, is a
 * downward flow. Never throws.
 */
export function isDownwardFlow(lattice: readonly string[], taint: string | undefined, sink: string | undefined): boolean {
  return sourceRank(lattice, taint) > sinkRank(lattice, sink);
}

/**
 * The IFC label of resource `id` in the snapshot, undefined when unlabeled or unknown. An object
 * reference has the label of the resource it resolves to; one that does not canonicalize has
 * UNKNOWN_TAINT (above the top: fail closed).
 */
export function resourceLabel(snapshot: Snapshot, id: string): string | undefined {
  const ix = snapshotIndex(snapshot);
  if (ix === undefined) return undefined;
  const r = resolveEntry(ix, id);
  return r.ok ? r.rn?.resource.ifcLabel : UNKNOWN_TAINT;
}

/**
 * One step of the taint fold: join(taint, labels of the action's reads), using the registry's
 * labels (never the agent's). `taint` undefined means the bottom. Usable server-side to keep a
 * session's taint across separate calls. On bad input (not a snapshot, reads not an array) it
 * returns an unknown label "UNKNOWN" that ranks above the top: fail closed, never throws.
 */
export function stepTaint(snapshot: Snapshot, taint: string | undefined, action: Pick<Action, "reads">): string {
  try {
    const ix = snapshotIndex(snapshot);
    if (ix === undefined || !Array.isArray(action.reads)) return UNKNOWN_TAINT;
    let t = joinLabels(ix.lattice, taint, undefined);
    for (const id of action.reads) {
      // An object reference carries the label of the resource it resolves to (issue 10).
      const r = typeof id === "string" ? resolveEntry(ix, id) : undefined;
      const label = r?.ok === true ? r.rn?.resource.ifcLabel : UNKNOWN_TAINT;
      t = joinLabels(ix.lattice, t, label);
    }
    return t;
  } catch {
    return UNKNOWN_TAINT;
  }
}

/**
 * The label stepTaint returns when it cannot compute a taint. It is not a valid lattice label
 * (buildSnapshot refuses labels containing "?"), so it ranks above every lattice's top.
 */
export const UNKNOWN_TAINT = "?UNKNOWN";

export interface DownwardFlow {
  /** The resource written into. */
  readonly resource: string;
  /** The taint (source label) at the time of the write. */
  readonly source: string;
  /** The sink's label; undefined when the resource is unlabeled or unknown (the bottom). */
  readonly sink: string | undefined;
}

/**
 * The writes of `action` that would carry information down: each write whose label is below
 * join(taint, labels of this action's reads). Returns them in the order of `action.writes`.
 * Returns [] when the snapshot is not one built by buildSnapshot — callers that need a decision
 * use verify, which blocks in that case.
 */
export function downwardFlows(snapshot: Snapshot, taint: string | undefined, action: Pick<Action, "reads" | "writes">): DownwardFlow[] {
  const ix = snapshotIndex(snapshot);
  if (ix === undefined) return [];
  const source = stepTaint(snapshot, taint, action);
  const out: DownwardFlow[] = [];
  for (const id of action.writes) {
    const r = resolveEntry(ix, id);
    const sink = r.ok ? r.rn?.resource.ifcLabel : UNKNOWN_TAINT;
    if (isDownwardFlow(ix.lattice, source, sink)) out.push({ resource: id, source, sink });
  }
  return out;
}
