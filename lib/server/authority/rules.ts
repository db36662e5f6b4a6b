import "server-only";
import type { z } from "zod";
import type * as C from "../../contracts";
import { formatIso } from "../../kernel/iso-time";
import { validateScope } from "../../kernel/scope";
import { newId, type HumanPrincipal } from "../auth";
import { getDb } from "../db/client";
import { ApiError, forbidden, notFound } from "../errors";
import { ruleData, type Tx } from "../registry";
import { commitAuthority, type AuthorityChange } from "./commit";

/**
 * ABAC rules of the policy IR (design §12; issue 12): added, promoted from shadow to enforce (or
 * back) and removed through the one commit path, so every change is validated by the kernel with
 * the registry it leaves, audited and versioned. Rules apply to every machine whose id matches
 * their actor pattern, so they are the operator's to change; owners see them. A rule in `shadow`
 * mode is evaluated on every decision and never blocks: the signed record reports whether it
 * would have denied (verify's `shadow`).
 */

type RuleRow = Awaited<ReturnType<Tx["policyRule"]["findUniqueOrThrow"]>>;
export type RuleRequest = z.infer<typeof C.CreateRuleRequest>;

export function ruleOut(r: RuleRow) {
  const { description: _d, mode: _m, ...rule } = ruleData(r) as ReturnType<typeof ruleData> & { mode?: "shadow" };
  return { ...rule, description: r.description, mode: r.mode as "enforce" | "shadow", createdAt: formatIso(r.createdAt.getTime()) };
}

function requireOperator(principal: HumanPrincipal): void {
  if (principal.kind !== "operator") throw forbidden("rules apply to every matching machine: only the operator changes them");
}

export function addRuleChange(principal: HumanPrincipal, body: RuleRequest): AuthorityChange<ReturnType<typeof ruleOut>> {
  requireOperator(principal);
  const scope = validateScope(body.scope);
  if (!scope.ok) throw new ApiError("VALIDATION_FAILED", `scope: ${scope.reason}`);
  return async ({ tx, by }) => {
    const id = body.id ?? newId("rul");
    if (await tx.policyRule.findUnique({ where: { id } })) throw new ApiError("CONFLICT", `the rule id ${id} is taken`);
    const r = await tx.policyRule.create({
      data: {
        id,
        priority: body.priority,
        effect: body.effect,
        operations: JSON.stringify(body.operations),
        actorPattern: body.actorPattern,
        scope: scope.scope,
        description: body.description ?? null,
        mode: body.mode,
        createdBy: by,
      },
    });
    return { changed: true, result: ruleOut(r), op: "add-rule", data: { rule: ruleOut(r) }, ownerId: null };
  };
}

export function removeRuleChange(principal: HumanPrincipal, id: string): AuthorityChange<ReturnType<typeof ruleOut>> {
  requireOperator(principal);
  return async ({ tx }) => {
    const r = await tx.policyRule.findUnique({ where: { id } });
    if (!r) throw notFound(`rule ${id}`);
    await tx.policyRule.delete({ where: { id } });
    return { changed: true, result: ruleOut(r), op: "remove-rule", data: { rule: ruleOut(r) }, ownerId: null };
  };
}

export function setRuleModeChange(principal: HumanPrincipal, id: string, mode: "enforce" | "shadow"): AuthorityChange<ReturnType<typeof ruleOut>> {
  requireOperator(principal);
  return async ({ tx }) => {
    const r = await tx.policyRule.findUnique({ where: { id } });
    if (!r) throw notFound(`rule ${id}`);
    if (r.mode === mode) return { changed: false, result: ruleOut(r) };
    const updated = await tx.policyRule.update({ where: { id }, data: { mode } });
    return { changed: true, result: ruleOut(updated), op: mode === "enforce" ? "promote-rule" : "demote-rule", data: { rule: id, mode, previous: r.mode }, ownerId: null };
  };
}

export const addRule = (principal: HumanPrincipal, body: RuleRequest) => commitAuthority(principal, addRuleChange(principal, body));
export const removeRule = (principal: HumanPrincipal, id: string) => commitAuthority(principal, removeRuleChange(principal, id));
export const setRuleMode = (principal: HumanPrincipal, id: string, mode: "enforce" | "shadow") => commitAuthority(principal, setRuleModeChange(principal, id, mode));

/** How far back the shadow report of a rule looks: the newest decisions since it was added. */
export const SHADOW_REPORT_WINDOW = 2000;

/**
 * The rules, each shadow rule with its report: of the last SHADOW_REPORT_WINDOW decisions since it
 * was added that the caller may see (an owner: their machines'), how many it matched and would
 * have denied, and the newest of those it would have denied. Read from the signed records'
 * `shadow` member, so the report is what the kernel said at decision time.
 */
export async function listRules(principal: HumanPrincipal) {
  const db = getDb();
  const rows = await db.policyRule.findMany({ orderBy: [{ priority: "desc" }, { id: "asc" }] });
  const shadows = rows.filter((r) => r.mode === "shadow");
  const reports = new Map<string, { matched: number; wouldDeny: number; recent: { auditSeq: number; actionId: string; machine: string; permitted: boolean }[] }>();
  if (shadows.length > 0) {
    const since = new Date(Math.min(...shadows.map((r) => r.createdAt.getTime())));
    const machines = principal.kind === "owner" ? (await db.entity.findMany({ where: { ownerId: principal.entityId }, select: { id: true } })).map((m) => m.id) : null;
    const entries = await db.auditEntry.findMany({
      where: { kind: "decision", recordedAt: { gte: since }, ...(machines ? { machineId: { in: machines } } : {}) },
      orderBy: { seq: "desc" },
      take: SHADOW_REPORT_WINDOW,
      select: { seq: true, payload: true, machineId: true, recordedAt: true },
    });
    for (const r of shadows) reports.set(r.id, { matched: 0, wouldDeny: 0, recent: [] });
    // A rule's report starts when the rule was added (an earlier rule of the same id is another rule).
    const addedAt = new Map(shadows.map((r) => [r.id, r.createdAt.getTime()]));
    for (const e of entries) {
      const record = (JSON.parse(e.payload) as { record?: { actionId?: string; permitted?: boolean; shadow?: { ruleId: string; wouldDeny: boolean }[] } }).record;
      for (const s of record?.shadow ?? []) {
        const rep = reports.get(s.ruleId);
        if (!rep || e.recordedAt.getTime() < (addedAt.get(s.ruleId) ?? Infinity)) continue;
        rep.matched++;
        if (!s.wouldDeny) continue;
        rep.wouldDeny++;
        if (rep.recent.length < 50) rep.recent.push({ auditSeq: e.seq, actionId: record?.actionId ?? "", machine: e.machineId ?? "", permitted: record?.permitted === true });
      }
    }
  }
  return rows.map((r) => ({ ...ruleOut(r), shadowReport: reports.get(r.id) ?? null }));
}
