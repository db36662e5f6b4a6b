/**
 * Synthesis engine (design §12): admits a proposed rule only if no hard invariant is broken.
 *
 * The original kernel's warning is the reason this exists: "present a sufficiently extreme
 * scenario and a synthesis engine will produce a new rule that permits the harm". So a rule is
 * judged only by what it would DO — its effects, as typed data — never by its description or
 * argument, and it is admitted only when every effect leaves every invariant intact:
 *
 * - set_flag           sets one of the ten forbidden flags             -> always rejected
 * - exempt_from_halt   takes a machine (or all) out of the kill switch  -> always rejected
 * - disable_check      switches off one of the kernel's checks          -> always rejected
 * - govern_human       gives an entity dominion over a person (A6, A2)  -> always rejected
 * - grant              creates a claim: a delegation must pass checkGrant (the one implementation
 *                      of the delegation rules: owner chain, attenuation, expiry, halts); a root
 *                      claim is ownership, which a machine can never hold (A4/A7)
 * - permit             declares an action allowed: rejected unless the kernel itself permits it
 *                      now, so a rule can never permit what the kernel blocks
 * - policy             an ABAC rule: admitted when well-formed — policy rules run after the kernel
 *                      and can only add denials, so even an "allow" rule cannot weaken anything
 *
 * Every effect is checked and every reason reported. Unknown effects and malformed input are
 * rejected (fail closed). Pure: the snapshot and the time come in as arguments; never throws.
 */
import { checkGrant, type GrantRefusalCode } from "../grant";
import { validateScope } from "../scope";
import type { Snapshot } from "../snapshot";
import { FLAGS, type PolicyRule, type VerifyResult } from "../types";
import { verify } from "../verify";

/** What a proposed rule would do, as typed data; the engine judges nothing else. */
export type RuleEffect =
  | { readonly kind: "set_flag"; readonly flag: string }
  | { readonly kind: "exempt_from_halt"; readonly machine: string }
  | { readonly kind: "disable_check"; readonly check: string }
  | { readonly kind: "govern_human"; readonly entity: string; readonly human: string }
  | {
      readonly kind: "grant";
      readonly holder: string;
      /** Absent: a root (ownership) claim. */
      readonly grantor?: string;
      readonly resource?: string;
      readonly scope?: string;
      readonly canRead: boolean;
      readonly canWrite: boolean;
      readonly canDelegate: boolean;
    }
  | { readonly kind: "permit"; readonly action: unknown }
  | { readonly kind: "policy"; readonly rule: PolicyRule };

/** A rule proposed for admission. */
export interface ProposedRule {
  readonly id: string;
  /** Free text for humans; never read by the engine. */
  readonly description?: string;
  readonly effects: readonly RuleEffect[];
}

/** Every reason a rule can be rejected. */
export const SYNTHESIS_REJECTION_CODES = [
  "MALFORMED_RULE",
  "UNKNOWN_EFFECT",
  "SETS_FORBIDDEN_FLAG",
  "EXEMPTS_FROM_HALT",
  "WEAKENS_VERIFIER",
  "GOVERNS_HUMAN",
  "GRANT_TO_UNKNOWN",
  "GRANT_WITHOUT_OWNER",
  "GRANT_NOT_FROM_OWNER",
  "GRANT_EXCEEDS_GRANTOR",
  "GRANT_REFUSED",
  "PERMITS_BLOCKED_ACTION",
] as const;
/** A reason a rule is rejected. */
export type SynthesisRejectionCode = (typeof SYNTHESIS_REJECTION_CODES)[number];

/** One broken invariant, tied to the effect that breaks it. */
export interface SynthesisReason {
  readonly code: SynthesisRejectionCode;
  /** Index of the offending effect, when the reason is about one. */
  readonly effect?: number;
  readonly message: string;
}

/** The outcome of admitRule. */
export interface SynthesisVerdict {
  readonly admitted: boolean;
  readonly ruleId: string;
  /** Empty iff admitted. */
  readonly reasons: readonly SynthesisReason[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const isId = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 256;
const FLAG_SET: ReadonlySet<string> = new Set(FLAGS);

/** How checkGrant's refusals read as reasons to reject a synthesised rule. */
const FROM_GRANT_CHECK: Readonly<Record<GrantRefusalCode, SynthesisRejectionCode>> = {
  MALFORMED_GRANT: "MALFORMED_RULE",
  UNKNOWN_HOLDER: "GRANT_TO_UNKNOWN",
  UNKNOWN_GRANTOR: "GRANT_NOT_FROM_OWNER",
  UNKNOWN_RESOURCE: "GRANT_REFUSED",
  NO_RIGHTS: "GRANT_REFUSED",
  SELF_GRANT: "GRANT_REFUSED",
  ALREADY_EXPIRED: "GRANT_REFUSED",
  HOLDER_NO_OWNER: "GRANT_WITHOUT_OWNER",
  MACHINE_GRANTOR_NOT_OWNER: "GRANT_NOT_FROM_OWNER",
  HUMAN_GRANTOR_TO_FOREIGN_MACHINE: "GRANT_NOT_FROM_OWNER",
  CROSS_OWNER: "GRANT_NOT_FROM_OWNER",
  MACHINE_TO_HUMAN: "GRANT_NOT_FROM_OWNER",
  HALTED_GRANTOR: "GRANT_EXCEEDS_GRANTOR",
  GRANTOR_LACKS_RIGHT: "GRANT_EXCEEDS_GRANTOR",
  EXCEEDS_GRANTOR_SCOPE: "GRANT_EXCEEDS_GRANTOR",
  EXCEEDS_GRANTOR_EXPIRY: "GRANT_EXCEEDS_GRANTOR",
  EXCEEDS_GRANTOR_BUDGET: "GRANT_EXCEEDS_GRANTOR",
  INTERNAL_ERROR: "GRANT_REFUSED",
};

/**
 * A delegated grant is judged by checkGrant — the same function the console and the server use
 * before writing a grant, so there is one implementation of the delegation rules. A root claim
 * (no grantor) is an ownership statement: admissible for a human, never for a machine.
 */
function checkGrantEffect(
  e: Record<string, unknown>,
  index: number,
  snapshot: Snapshot,
  now: number,
  out: SynthesisReason[],
): void {
  const reject = (code: SynthesisRejectionCode, message: string) => out.push({ code, effect: index, message });
  const { kind: _kind, ...proposal } = e;
  if (proposal.grantor !== undefined) {
    const check = checkGrant(snapshot, proposal, now);
    for (const v of check.violations) reject(FROM_GRANT_CHECK[v.code], `${v.code}: ${v.message}`);
    return;
  }
  const { holder, resource, scope, canRead, canWrite, canDelegate } = proposal;
  const targetOk =
    (resource === undefined) !== (scope === undefined) &&
    (resource === undefined || isId(resource)) &&
    (scope === undefined || validateScope(scope).ok);
  if (!isId(holder) || !targetOk || typeof canRead !== "boolean" || typeof canWrite !== "boolean" || typeof canDelegate !== "boolean") {
    reject("MALFORMED_RULE", "a grant names a holder, optionally a grantor, exactly one of resource/scope, and three rights");
    return;
  }
  const holderEntity = snapshot.entity(holder);
  if (holderEntity === undefined) {
    reject("GRANT_TO_UNKNOWN", `grant to ${holder}, who is not a registered entity`);
  } else if (holderEntity.kind === "MACHINE") {
    const owner = snapshot.ownerOf(holder);
    reject(
      "GRANT_WITHOUT_OWNER",
      owner === undefined
        ? `A4: ${holder} has no registered owner; an ownerless machine can be granted nothing`
        : `A7: a root claim would make machine ${holder} an owner; its rights must be delegated by ${owner}`,
    );
  }
}

function isPolicyRule(v: unknown): v is PolicyRule {
  if (!isPlainObject(v)) return false;
  const ops: unknown = v.operations;
  return (
    isId(v.id) &&
    typeof v.priority === "number" &&
    Number.isFinite(v.priority) &&
    (v.effect === "allow" || v.effect === "deny") &&
    Array.isArray(ops) &&
    ops.every((o) => o === "read" || o === "write" || o === "delegate") &&
    typeof v.actorPattern === "string" &&
    validateScope(v.scope).ok
  );
}

function summarise(result: VerifyResult): string {
  return [...new Set(result.violations.map((v) => v.code))].join(", ");
}

/**
 * Judges a proposed rule against the snapshot at time `now`. Returns { admitted, ruleId, reasons }:
 * admitted only when the rule is well-formed, has at least one effect, and no effect breaks an
 * invariant. Never throws; anything it cannot read is MALFORMED_RULE.
 */
export function admitRule(proposal: unknown, snapshot: Snapshot, now: number): SynthesisVerdict {
  const reasons: SynthesisReason[] = [];
  try {
    if (!isPlainObject(proposal) || !isId(proposal.id) || !Array.isArray(proposal.effects)) {
      return { admitted: false, ruleId: "", reasons: [{ code: "MALFORMED_RULE", message: "a rule is { id, effects: [...] }" }] };
    }
    const ruleId = proposal.id;
    const effects = proposal.effects as unknown[];
    if (effects.length === 0) {
      return { admitted: false, ruleId, reasons: [{ code: "MALFORMED_RULE", message: "a rule without effects is not a rule" }] };
    }
    effects.forEach((raw, index) => {
      const reject = (code: SynthesisRejectionCode, message: string) => reasons.push({ code, effect: index, message });
      if (!isPlainObject(raw)) {
        reject("MALFORMED_RULE", "an effect is an object with a kind");
        return;
      }
      switch (raw.kind) {
        case "set_flag":
          if (typeof raw.flag !== "string" || !FLAG_SET.has(raw.flag)) reject("MALFORMED_RULE", "set_flag names one of the ten flags");
          else reject("SETS_FORBIDDEN_FLAG", `sets ${raw.flag}: a hard invariant, no rule may set it`);
          return;
        case "exempt_from_halt":
          reject("EXEMPTS_FROM_HALT", `exempts ${String(raw.machine)} from the kill switch: owners must always be able to halt their machines`);
          return;
        case "disable_check":
          reject("WEAKENS_VERIFIER", `disables the ${String(raw.check)} check: weakening the verifier is itself forbidden`);
          return;
        case "govern_human":
          reject("GOVERNS_HUMAN", `gives ${String(raw.entity)} dominion over ${String(raw.human)} (A6: no machine governs a person; A2: no human owns another)`);
          return;
        case "grant":
          checkGrantEffect(raw, index, snapshot, now, reasons);
          return;
        case "permit": {
          const result = verify(snapshot, raw.action, now);
          if (!result.permitted) {
            reject("PERMITS_BLOCKED_ACTION", `would permit an action the kernel blocks (${summarise(result)})`);
          }
          return;
        }
        case "policy":
          if (!isPolicyRule(raw.rule)) reject("MALFORMED_RULE", "policy effect carries a malformed rule");
          return;
        default:
          reject("UNKNOWN_EFFECT", `unknown effect kind ${JSON.stringify(raw.kind) ?? "undefined"}: refused (fail closed)`);
      }
    });
    return { admitted: reasons.length === 0, ruleId, reasons };
  } catch {
    return {
      admitted: false,
      ruleId: "",
      reasons: [...reasons, { code: "MALFORMED_RULE", message: "the rule could not be read" }],
    };
  }
}
