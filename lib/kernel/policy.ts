/**
 * The policy IR (design §12, §14): optional ABAC rules evaluated after the kernel's checks.
 *
 * Policies can only ADD denials (POLICY_DENIED). They never remove a kernel violation and never
 * permit: an "allow" rule only shadows lower-priority deny rules for the (operation, resource)
 * pairs it matches. For each pair, the first matching rule in evaluation order decides —
 * priority descending, deny before allow at equal priority (forbid wins), then rule id — and no
 * matching rule means no policy denial (the kernel's decision stands).
 *
 * Shadow rules (mode "shadow", issue 12) are not part of that evaluation at all: a snapshot keeps
 * them apart, and verify only reports, per shadow rule matching the action, whether promoting it
 * would add a denial (shadowVerdicts). A shadow allow rule is reported with wouldDeny false; that
 * promoting it could lift an enforced denial is not reported (a what-if replay shows that).
 */
import { snapshotIndex, type Op } from "./internal";
import { canonicalizeReference, isObjectReference } from "./object-ref";
import { scopeContains } from "./scope";
import type { Snapshot } from "./snapshot";
import type { Action, PolicyRule } from "./types";

/**
 * Glob match of an actor id against a pattern in which only "*" is special (any run of
 * characters, including none). Implemented directly, never through a RegExp built from input, so
 * a pattern cannot inject regex syntax or backtrack exponentially: linear-time greedy matching
 * with one backtrack point. Returns false (never throws) for non-strings.
 */
export function globMatch(pattern: string, text: string): boolean {
  if (typeof pattern !== "string" || typeof text !== "string") return false;
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern.charCodeAt(p) !== 42 && pattern.charCodeAt(p) === text.charCodeAt(t)) {
      p++;
      t++;
    } else if (p < pattern.length && pattern.charCodeAt(p) === 42) {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
  return p === pattern.length;
}

/**
 * Evaluation order of policy rules: negative when `a` is evaluated before `b` — priority
 * descending, deny before allow at equal priority (forbid wins), then id in code-unit order.
 * Rule ids are unique within a snapshot, so two distinct rules of one snapshot never tie.
 */
export function compareRules(a: PolicyRule, b: PolicyRule): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.effect !== b.effect) return a.effect === "deny" ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Whether `rule` applies to `actor` doing `op` on a resource in `scope`: the operation is one of
 * the rule's, the rule's scope contains `scope` (a resource the registry does not know has no
 * scope and is matched only by root-scope "" rules), and the actor matches the rule's pattern.
 * False, never a throw, for a non-string actor.
 */
export function ruleMatches(rule: PolicyRule, actor: string, op: Op, scope: string | undefined): boolean {
  if (!rule.operations.includes(op)) return false;
  if (scope === undefined ? rule.scope !== "" : !scopeContains(rule.scope, scope)) return false;
  return globMatch(rule.actorPattern, actor);
}

export interface PolicyDenial {
  readonly rule: PolicyRule;
  readonly op: Op;
  readonly resource: string;
}

/**
 * The first rule (in evaluation order, as a snapshot stores them) that matches `actor` doing
 * `op` on a resource in `scope`, or undefined. A resource the registry does not know has no
 * scope: only root-scope ("") rules match it. Returns undefined for a non-string actor (no
 * pattern matches it); never throws for an array of rules.
 */
export function decidingRule(rules: readonly PolicyRule[], actor: string, op: Op, scope: string | undefined): PolicyRule | undefined {
  for (const rule of rules) if (ruleMatches(rule, actor, op, scope)) return rule;
  return undefined;
}

/** What one shadow rule would have done to one action (VerifyResult.shadow). */
export interface ShadowVerdict {
  readonly ruleId: string;
  /** Promoting the rule would add a POLICY_DENIED naming it. */
  readonly wouldDeny: boolean;
}

/**
 * Folds one (operation, target) pair into `found` (shadow rule id -> wouldDeny so far): every
 * shadow rule that matches the pair is entered, and marked wouldDeny when it is a deny that
 * would decide the pair if promoted — that is, decidingRule over the enforced rules plus this
 * one would pick it: no enforced rule decides the pair (`enforced` undefined), or the shadow rule
 * is evaluated before the one that does. Each shadow rule is judged alone, as if it were the only
 * one promoted. Never throws for well-formed rules.
 */
export function foldShadowPair(
  shadows: readonly PolicyRule[],
  enforced: PolicyRule | undefined,
  actor: string,
  op: Op,
  scope: string | undefined,
  found: Map<string, boolean>,
): void {
  for (const rule of shadows) {
    if (!ruleMatches(rule, actor, op, scope)) continue;
    if (rule.effect === "deny" && (enforced === undefined || compareRules(rule, enforced) < 0)) found.set(rule.id, true);
    else if (!found.has(rule.id)) found.set(rule.id, false);
  }
}

/** The verdicts collected by foldShadowPair, sorted by rule id (code-unit order). */
export function shadowVerdictList(found: ReadonlyMap<string, boolean>): ShadowVerdict[] {
  const ids = [...found.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return ids.map((ruleId) => ({ ruleId, wouldDeny: found.get(ruleId) === true }));
}

/**
 * The policy denials for a parsed action: for every read, then write, then delegate, the deciding
 * rule when it is a deny. Returns [] when no rule denies, and [] when `snapshot` was not built by
 * buildSnapshot (verify blocks that case itself).
 */
export function policyDenials(snapshot: Snapshot, action: Action): PolicyDenial[] {
  const ix = snapshotIndex(snapshot);
  if (ix === undefined || ix.policies.length === 0) return [];
  const out: PolicyDenial[] = [];
  const pass = (op: Op, ids: readonly string[]): void => {
    for (const id of ids) {
      // An object reference is matched by its canonical path, as verify does (issue 10).
      const c = isObjectReference(id) ? canonicalizeReference(id) : undefined;
      const scope = c === undefined ? ix.resources.get(id)?.resource.scope : c.ok ? c.canonical : undefined;
      const rule = decidingRule(ix.policies, action.actor, op, scope);
      if (rule !== undefined && rule.effect === "deny") out.push({ rule, op, resource: id });
    }
  };
  pass("read", action.reads);
  pass("write", action.writes);
  pass("delegate", action.delegates);
  return out;
}
