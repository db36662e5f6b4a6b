/**
 * verifyPlan (design §6): every step against the same snapshot and time, with information-flow
 * taint carried from step to step, and PLAN_ABORTED for every step after one with an invariant
 * violation (decided by violationClass over codes, never by message text).
 *
 * Taint folds over every step, permitted or not: a plan is judged as a whole, so an owner who
 * approves a blocked read must already see that a later write would leak what it read.
 * Aborted steps are still verified, so their own violations are reported after PLAN_ABORTED.
 */
import { parseAction } from "./action";
import { joinLabels, stepTaint } from "./ifc";
import { readArray, snapshotIndex } from "./internal";
import type { Snapshot } from "./snapshot";
import { violationClass, type VerifyResult, type Violation } from "./types";
import { NO_SNAPSHOT_REF, internalErrorResult, malformedResult, verify } from "./verify";

/** Most steps in one plan. */
export const MAX_PLAN_STEPS = 1000;

export interface PlanResult {
  /** True iff every step is permitted (so true for an empty plan). */
  readonly permitted: boolean;
  readonly steps: readonly VerifyResult[];
  /** The taint after the last step (join of everything the plan reads, and the initial taint). */
  readonly taint: string;
}

export interface PlanOptions {
  /** Taint carried in (e.g. a session's); undefined = the bottom. */
  readonly taint?: string | undefined;
}

function planRefusal(result: VerifyResult, taint: string): PlanResult {
  return { permitted: false, steps: [result], taint };
}

/**
 * Verifies a plan: `actions` must be an array of at most MAX_PLAN_STEPS actions. Never throws.
 *
 * An empty plan is permitted (it does nothing). On bad input — not an array, too many steps,
 * holes or getters in the array, a snapshot not made by buildSnapshot, a bad `now` or options —
 * it returns `permitted: false` with a single BLOCKED step that explains (MALFORMED_ACTION or
 * INTERNAL_ERROR). A malformed individual step is BLOCKED with MALFORMED_ACTION, an invariant
 * violation, so every later step is PLAN_ABORTED.
 */
export function verifyPlan(snapshot: Snapshot, actions: unknown, now: number, options?: PlanOptions): PlanResult {
  try {
    const ix = snapshotIndex(snapshot);
    if (ix === undefined) return planRefusal(internalErrorResult("", NO_SNAPSHOT_REF, "not a snapshot built by buildSnapshot"), "");
    const ref = snapshot.ref;
    let initial: unknown = undefined;
    if (options !== undefined) {
      if (typeof options !== "object" || options === null) return planRefusal(internalErrorResult("", ref, "invalid options"), joinLabels(ix.lattice, undefined, undefined));
      initial = options.taint;
    }
    if (initial !== undefined && typeof initial !== "string") {
      return planRefusal(internalErrorResult("", ref, "options.taint must be a string"), joinLabels(ix.lattice, undefined, undefined));
    }
    let taint = joinLabels(ix.lattice, initial as string | undefined, undefined);
    const list = readArray(actions, "plan", MAX_PLAN_STEPS);
    if (!list.ok) return planRefusal(malformedResult("", ref, [`${list.error} (a plan is an array of at most ${MAX_PLAN_STEPS} actions)`]), taint);

    const steps: VerifyResult[] = [];
    let abortedBy: { step: number; codes: string[] } | undefined;
    for (let i = 0; i < list.value.length; i++) {
      // Parse once: a Proxy must not be able to show verify one action and the taint another.
      const parsed = parseAction(list.value[i]);
      const own = parsed.ok
        ? verify(snapshot, parsed.action, now, { taint, step: i, budgets: "forbid" })
        : malformedResult(parsed.actionId ?? "", ref, parsed.errors);
      let result = own;
      if (abortedBy !== undefined) {
        const aborted: Violation = {
          code: "PLAN_ABORTED",
          axiom: "PLAN",
          message: `PLAN ABORTED at step ${i}: step ${abortedBy.step} violated an invariant (${abortedBy.codes.join(", ")})`,
          step: i,
        };
        result = { ...own, permitted: false, violations: [aborted, ...own.violations] };
      }
      steps.push(result);
      if (abortedBy === undefined) {
        const invariants = own.violations.filter((v) => violationClass(v.code) === "invariant").map((v) => v.code);
        if (invariants.length > 0) abortedBy = { step: i, codes: [...new Set(invariants)] };
      }
      // A malformed step cannot be read, so it adds nothing to the taint; it aborts the rest.
      if (parsed.ok) taint = stepTaint(snapshot, taint, parsed.action);
    }
    return { permitted: steps.every((s) => s.permitted), steps, taint };
  } catch {
    return planRefusal(internalErrorResult("", NO_SNAPSHOT_REF, "the plan verifier failed"), "");
  }
}
