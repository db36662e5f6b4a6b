/**
 * checkGrant: may this delegation be written? (design §4, "Delegation writes check attenuation
 * too"). Runs in the browser while an owner edits the graph and again on the server before the
 * write; both call this one function.
 *
 * A grant never exceeds what the grantor holds — rights, scope, expiry — a machine is granted
 * rights only by its owner or by a machine of the same owner holding canDelegate, and
 * cross-owner sharing goes human to human. These are the same shape and attenuation rules verify
 * applies to every link of a chain at decision time, so a grant accepted here is valid at `now`,
 * and one refused here could never be used.
 */
import { idProblem, isMachineHalted, quote, readPlainObject, snapshotIndex, type ClaimNode } from "./internal";
import { budgetWithin, parseBudget } from "./budget";
import { soleResource } from "./resolve";
import { scopeAncestors, scopeContains, validateScope } from "./scope";
import type { Snapshot } from "./snapshot";
import type { Budget } from "./types";

/** The closed union of reasons a grant is refused. */
export const GRANT_REFUSAL_CODES = [
  "MALFORMED_GRANT",
  "UNKNOWN_HOLDER",
  "UNKNOWN_GRANTOR",
  "UNKNOWN_RESOURCE",
  "NO_RIGHTS",
  "SELF_GRANT",
  "ALREADY_EXPIRED",
  "HOLDER_NO_OWNER",
  "MACHINE_GRANTOR_NOT_OWNER",
  "HUMAN_GRANTOR_TO_FOREIGN_MACHINE",
  "CROSS_OWNER",
  "MACHINE_TO_HUMAN",
  "HALTED_GRANTOR",
  "GRANTOR_LACKS_RIGHT",
  "EXCEEDS_GRANTOR_SCOPE",
  "EXCEEDS_GRANTOR_EXPIRY",
  "EXCEEDS_GRANTOR_BUDGET",
  "INTERNAL_ERROR",
] as const;
export type GrantRefusalCode = (typeof GRANT_REFUSAL_CODES)[number];

export interface GrantRefusal {
  readonly code: GrantRefusalCode;
  readonly message: string;
}

export interface GrantCheck {
  readonly ok: boolean;
  readonly violations: readonly GrantRefusal[];
}

/** A proposed delegation: exactly one of resource and scope. */
export interface GrantProposal {
  readonly holder: string;
  readonly grantor: string;
  readonly resource?: string | undefined;
  readonly scope?: string | undefined;
  readonly canRead: boolean;
  readonly canWrite: boolean;
  readonly canDelegate: boolean;
  /** In (0, 1]; default 1. */
  readonly confidence?: number | undefined;
  /** Integer ms since the epoch. */
  readonly expiresAt?: number | undefined;
  /** A ceiling on its uses (issue 13): never larger than the grantor's claim it comes from. */
  readonly budget?: Budget | undefined;
}

const KEYS = ["holder", "grantor", "resource", "scope", "canRead", "canWrite", "canDelegate", "confidence", "expiresAt", "budget"];

/** Parses a proposal strictly (unknown keys refused). Never throws. */
export function parseGrantProposal(input: unknown): { ok: true; grant: GrantProposal } | { ok: false; errors: string[] } {
  const read = readPlainObject(input, "grant", 32);
  if (!read.ok) return { ok: false, errors: [read.error] };
  const f = read.value;
  const errors: string[] = [];
  for (const [k, v] of f) {
    if (!KEYS.includes(k)) errors.push(`unknown field ${quote(k)}`);
    else if (v === undefined) f.delete(k);
  }
  for (const k of ["holder", "grantor"]) {
    const p = f.has(k) ? idProblem(f.get(k)) : "is required";
    if (p !== null) errors.push(`${k} ${p}`);
  }
  const resource = f.get("resource");
  const scope = f.get("scope");
  if ((resource === undefined) === (scope === undefined)) errors.push("exactly one of resource and scope is required");
  else if (resource !== undefined) {
    const p = idProblem(resource);
    if (p !== null) errors.push(`resource ${p}`);
  } else {
    const sv = validateScope(scope);
    if (!sv.ok) errors.push(`scope: ${sv.reason}`);
  }
  for (const k of ["canRead", "canWrite", "canDelegate"]) {
    if (typeof f.get(k) !== "boolean") errors.push(`${k} must be a boolean`);
  }
  const confidence = f.get("confidence");
  if (confidence !== undefined && !(typeof confidence === "number" && confidence > 0 && confidence <= 1)) {
    errors.push("confidence must be a number in (0, 1]");
  }
  const expiresAt = f.get("expiresAt");
  if (expiresAt !== undefined && !(typeof expiresAt === "number" && Number.isSafeInteger(expiresAt))) {
    errors.push("expiresAt must be an integer (ms since the epoch)");
  }
  const budgetIn = f.get("budget");
  let budget: Budget | undefined;
  if (budgetIn !== undefined) {
    const b = parseBudget(budgetIn);
    if (b.ok) budget = b.budget;
    else errors.push(...b.errors);
  }
  if (errors.length > 0) return { ok: false, errors };
  const grant: GrantProposal = {
    holder: f.get("holder") as string,
    grantor: f.get("grantor") as string,
    ...(resource !== undefined ? { resource: resource as string } : { scope: scope as string }),
    canRead: f.get("canRead") as boolean,
    canWrite: f.get("canWrite") as boolean,
    canDelegate: f.get("canDelegate") as boolean,
    ...(confidence !== undefined ? { confidence: confidence as number } : {}),
    ...(expiresAt !== undefined ? { expiresAt: expiresAt as number } : {}),
    ...(budget !== undefined ? { budget } : {}),
  };
  return { ok: true, grant };
}

/** A budget as a short phrase, e.g. "20 uses, 5 per 3600 s, cost 100". */
export function budgetText(b: Budget | undefined): string {
  if (b === undefined) return "unlimited";
  const parts: string[] = [];
  if (b.maxUses !== undefined) parts.push(`${b.maxUses} uses`);
  if (b.rate !== undefined) parts.push(`${b.rate.uses} per ${b.rate.seconds} s`);
  if (b.maxCost !== undefined) parts.push(`cost ${b.maxCost}`);
  return parts.join(", ");
}

function rightsText(g: { canRead: boolean; canWrite: boolean; canDelegate: boolean }): string {
  const r = [g.canRead ? "read" : "", g.canWrite ? "write" : "", g.canDelegate ? "delegate" : ""].filter((x) => x !== "");
  return r.join("+");
}

/**
 * Checks whether `proposed` (a GrantProposal) may be written into the registry at time `now`.
 * Never throws. Reports every refusal that applies; `ok` is true iff there is none.
 *
 * On bad input: MALFORMED_GRANT (one per problem) for a proposal that does not parse;
 * INTERNAL_ERROR when `snapshot` was not made by buildSnapshot or `now` is not an integer.
 */
export function checkGrant(snapshot: Snapshot, proposed: unknown, now: number): GrantCheck {
  const out: GrantRefusal[] = [];
  const refuse = (code: GrantRefusalCode, message: string): void => {
    out.push({ code, message });
  };
  try {
    const ix = snapshotIndex(snapshot);
    if (ix === undefined) {
      refuse("INTERNAL_ERROR", "not a snapshot built by buildSnapshot");
      return { ok: false, violations: out };
    }
    if (typeof now !== "number" || !Number.isSafeInteger(now)) {
      refuse("INTERNAL_ERROR", "now must be an integer number of milliseconds");
      return { ok: false, violations: out };
    }
    const parsed = parseGrantProposal(proposed);
    if (!parsed.ok) {
      for (const e of parsed.errors) refuse("MALFORMED_GRANT", `malformed grant: ${e}`);
      return { ok: false, violations: out };
    }
    const g = parsed.grant;
    const holder = ix.entities.get(g.holder);
    const grantor = ix.entities.get(g.grantor);
    const rn = g.resource !== undefined ? ix.resources.get(g.resource) : undefined;
    const target = g.resource !== undefined ? `resource ${g.resource}` : `scope ${JSON.stringify(g.scope)}`;
    if (holder === undefined) refuse("UNKNOWN_HOLDER", `holder ${g.holder} is not a known entity`);
    if (grantor === undefined) refuse("UNKNOWN_GRANTOR", `grantor ${g.grantor} is not a known entity`);
    if (g.resource !== undefined && rn === undefined) refuse("UNKNOWN_RESOURCE", `resource ${g.resource} is not in the registry`);
    if (!g.canRead && !g.canWrite && !g.canDelegate) refuse("NO_RIGHTS", "the grant gives no right (read, write or delegate)");
    if (g.holder === g.grantor) refuse("SELF_GRANT", `${g.grantor} cannot grant to itself`);
    if (g.expiresAt !== undefined && g.expiresAt < now) refuse("ALREADY_EXPIRED", `the grant would expire at ${g.expiresAt}, before now (${now})`);

    if (holder !== undefined && grantor !== undefined) {
      if (holder.kind === "MACHINE") {
        const owner = ix.ownerOf.get(holder.id);
        if (owner === undefined) {
          refuse("HOLDER_NO_OWNER", `${holder.id} has no registered owner (A4); it can be granted nothing`);
        } else if (grantor.kind === "HUMAN" && grantor.id !== owner) {
          refuse("MACHINE_GRANTOR_NOT_OWNER", `${holder.id} may be granted rights only by its owner ${owner} or a machine of ${owner}`);
          refuse(
            "HUMAN_GRANTOR_TO_FOREIGN_MACHINE",
            `${grantor.id} does not own ${holder.id}; share with its owner ${owner}, who may delegate to it`,
          );
        } else if (grantor.kind === "MACHINE" && ix.ownerOf.get(grantor.id) !== owner) {
          refuse("MACHINE_GRANTOR_NOT_OWNER", `${holder.id} may be granted rights only by its owner ${owner} or a machine of ${owner}`);
          refuse("CROSS_OWNER", `${grantor.id} and ${holder.id} do not share an owner; cross-owner sharing goes human to human`);
        }
      } else if (grantor.kind === "MACHINE") {
        if (ix.ownerOf.get(grantor.id) === holder.id) {
          refuse("MACHINE_TO_HUMAN", `${grantor.id} cannot grant to its owner ${holder.id}: authority flows from humans to machines`);
        } else {
          refuse("CROSS_OWNER", `${grantor.id} cannot grant to ${holder.id}, who does not own it; cross-owner sharing goes human to human`);
        }
      }
      if (grantor.kind === "MACHINE" && isMachineHalted(ix, grantor.id)) {
        refuse("HALTED_GRANTOR", `${grantor.id} is halted and cannot delegate`);
      }

      const targetKnown = g.resource === undefined || rn !== undefined;
      const anyRight = g.canRead || g.canWrite || g.canDelegate;
      if (targetKnown && anyRight) {
        const hi = ix.holders.get(grantor.id);
        const suits = (n: ClaimNode): boolean =>
          n.claim.canDelegate && (!g.canRead || n.claim.canRead) && (!g.canWrite || n.claim.canWrite) && now <= n.horizon;
        const candidates: ClaimNode[] = [];
        if (hi !== undefined) {
          const collect = (list: readonly ClaimNode[] | undefined): void => {
            if (list !== undefined) for (const n of list) if (suits(n)) candidates.push(n);
          };
          if (rn !== undefined) {
            collect(hi.byResource.get(rn.resource.id));
            for (const a of rn.ancestors) collect(hi.byScope.get(a));
          } else {
            for (const a of scopeAncestors(g.scope as string)) collect(hi.byScope.get(a));
            // A scope that stands for part of one resource may be granted by a holder of that resource.
            const sole = soleResource(ix.resources, g.scope as string);
            if (sole !== undefined) collect(hi.byResource.get(sole.resource.id));
          }
        }
        if (candidates.length === 0) {
          // Distinguish "holds it, but only on something narrower" from "does not hold it".
          const narrower =
            g.scope !== undefined &&
            hi !== undefined &&
            hi.all.some((n) => {
              if (!suits(n)) return false;
              const inner = n.claim.scope ?? ix.resources.get(n.claim.resource ?? "")?.resource.scope;
              return inner !== undefined && scopeContains(g.scope as string, inner);
            });
          if (narrower) {
            refuse("EXCEEDS_GRANTOR_SCOPE", `${grantor.id} holds ${rightsText(g)} with canDelegate only on parts of ${target}, not on all of it`);
          } else {
            refuse(
              "GRANTOR_LACKS_RIGHT",
              `${grantor.id} holds no valid claim covering ${target} with canDelegate and ${rightsText(g) || "the requested rights"}`,
            );
          }
        } else {
          // Budgets attenuate like every other right: the grant fits the budget of some claim it
          // can be delegated from (an unlimited one, or one whose every ceiling it respects).
          if (!candidates.some((n) => budgetWithin(g.budget, n.claim.budget))) {
            const shown = candidates.find((n) => n.claim.budget !== undefined)?.claim.budget;
            refuse(
              "EXCEEDS_GRANTOR_BUDGET",
              `${grantor.id}'s authority over ${target} is under a budget (${budgetText(shown)}); the grant's budget must fit inside it (${g.budget === undefined ? "it has none" : budgetText(g.budget)})`,
            );
          }
          let horizon = -Infinity;
          for (const n of candidates) if (n.horizon > horizon) horizon = n.horizon;
          const last = g.expiresAt ?? Infinity;
          if (last > horizon) {
            refuse(
              "EXCEEDS_GRANTOR_EXPIRY",
              g.expiresAt === undefined
                ? `${grantor.id}'s authority over ${target} ends at ${horizon}; the grant must expire no later than that`
                : `the grant would expire at ${g.expiresAt}, after ${grantor.id}'s authority over ${target} ends (${horizon})`,
            );
          }
        }
      }
    }
    return { ok: out.length === 0, violations: out };
  } catch {
    return { ok: false, violations: [...out, { code: "INTERNAL_ERROR", message: "the grant check failed; refused (fail closed)" }] };
  }
}
