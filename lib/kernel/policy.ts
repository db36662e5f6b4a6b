/**
 * The policy IR (design §12, §14): optional ABAC rules evaluated after the kernel's checks.
 *
 * Policies can only ADD denials (POLICY_DENIED). They never remove a kernel violation and never
 * permit: an "allow" rule only shadows lower-priority deny rules for the (operation, resource)
 * pairs it matches. For each pair, the first matching rule in evaluation order decides —
 * priority descending, deny before allow at equal priority (forbid wins), then rule id — and no
 * matching rule means no policy denial (the kernel's decision stands).
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
  for (const rule of rules) {
    if (!rule.operations.includes(op)) continue;
    if (scope === undefined ? rule.scope !== "" : !scopeContains(rule.scope, scope)) continue;
    if (!globMatch(rule.actorPattern, actor)) continue;
    return rule;
  }
  return undefined;
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
