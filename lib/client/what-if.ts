/**
 * What-if in the browser (issue 12): a proposed change set applied to the owner's view of the
 * registry, and the owner's recent decisions replayed against the registry as it is and as the
 * change would leave it, with the kernel's own replayDecisions. The server answers the same
 * question (POST /api/v1/simulate) over its full registry and signs it; the console shows both and
 * says whether they agree. The server is authoritative: the view an owner gets leaves out other
 * owners' machines and resources, so the browser's answer is a preview, never a proof.
 *
 * Pure functions, no React: the hooks are in what-if-hooks.ts.
 */
import type { z } from "zod";
import type * as C from "@/lib/contracts";
import { checkGrant, type GrantProposal, type GrantRefusal } from "@/lib/kernel/grant";
import { validateScope } from "@/lib/kernel/scope";
import { replayDecisions, type ReplayItem, type ReplayResult, type SimulationFlip, type SimulationRecord } from "@/lib/kernel/simulate";
import { buildSnapshot } from "@/lib/kernel/snapshot";
import type { Claim, Halt, PolicyRule, RegistryData, Resource } from "@/lib/kernel/types";

/** One proposed change, as POST /simulate takes it. */
export type Change = z.input<typeof C.SimulationChange>;
export type SignedSimulation = z.infer<typeof C.SignedSimulation>;
export type ListedRule = z.infer<typeof C.ListedRule>;

/** The default window of POST /simulate: the last 500 decisions of the caller's machines. */
export const DEFAULT_WINDOW = 500;

export type Applied = { ok: true; registry: RegistryData } | { ok: false; error: string; refusals?: readonly GrantRefusal[] };

export interface ApplyOptions {
  /** The signed-in owner (the default grantor and resource owner); null for the operator. */
  readonly viewer: string | null;
  /** When the change is judged (a revocation takes effect at this instant). */
  readonly now: number;
}

type RuleFields = Pick<ListedRule, "id" | "priority" | "effect" | "operations" | "actorPattern" | "scope" | "description" | "mode">;

/** A rule's content, the same for the kernel's PolicyRule and for POST /rules (no mode, no null description). */
function ruleContent(r: RuleFields) {
  return {
    id: r.id,
    priority: r.priority,
    effect: r.effect,
    operations: [...r.operations],
    actorPattern: r.actorPattern,
    scope: r.scope,
    ...(r.description !== null && r.description !== undefined ? { description: r.description } : {}),
  };
}

/** The rules of GET /rules as the kernel's policy rules (absent mode = enforced). */
export function rulesAsPolicies(rules: readonly RuleFields[]): PolicyRule[] {
  return rules.map((r) => ({ ...ruleContent(r), ...(r.mode === "shadow" ? { mode: "shadow" as const } : {}) }));
}

/**
 * The console's registry view with the rules of GET /rules in it: the view carries no rules, and
 * an enforced deny rule decides as much as a grant does.
 */
export function withRules(registry: RegistryData, rules: readonly ListedRule[] | undefined): RegistryData {
  if (!rules || rules.length === 0) return registry;
  return { ...registry, policies: rulesAsPolicies(rules) };
}

function fail(error: string, refusals?: readonly GrantRefusal[]): Applied {
  return refusals ? { ok: false, error, refusals } : { ok: false, error };
}

/**
 * The registry `changes` would leave, applied in order the way the server's change functions do
 * (lib/server/authority/*): a grant is checked by the kernel's checkGrant against the registry
 * the earlier changes left and added as a claim; a revocation marks the claim revoked from `now`;
 * a halt adds a machine halt and a resume lifts the machine's own halts; a resource comes with its
 * owner's root claim and goes with every claim on it by id; rules are added or removed. A change
 * that names something outside the view, or that the kernel refuses, fails the whole set, as the
 * server refuses it (PROPOSAL_REFUSED / GRANT_REFUSED / 404).
 */
export function applyChanges(registry: RegistryData, changes: readonly Change[], opts: ApplyOptions): Applied {
  let claims: Claim[] = [...registry.claims];
  let halts: Halt[] = [...registry.halts];
  let resources: Resource[] = [...registry.resources];
  let policies: PolicyRule[] = [...(registry.policies ?? [])];
  const current = (): RegistryData => ({ ...registry, claims, halts, resources, ...(policies.length > 0 || registry.policies ? { policies } : {}) });
  const isMachine = (id: string) => registry.entities.some((e) => e.id === id && e.kind === "MACHINE");
  let n = 0;
  const freshId = (prefix: string) => `${prefix}_whatif_${++n}`;

  for (const c of changes) {
    switch (c.op) {
      case "grant": {
        const grantor = c.grantor ?? opts.viewer;
        if (!grantor) return fail("the operator must name the grantor");
        const expiresAt = c.expiresAt !== undefined ? Date.parse(c.expiresAt) : undefined;
        const proposal = {
          holder: c.holder,
          grantor,
          ...(c.resource !== undefined ? { resource: c.resource } : {}),
          ...(c.scope !== undefined ? { scope: c.scope } : {}),
          canRead: c.canRead,
          canWrite: c.canWrite,
          canDelegate: c.canDelegate,
          confidence: c.confidence ?? 1,
          ...(expiresAt !== undefined ? { expiresAt } : {}),
          ...(c.budget !== undefined ? { budget: c.budget } : {}),
        };
        const holderInView = registry.entities.some((e) => e.id === c.holder);
        let snapshot;
        try {
          snapshot = buildSnapshot(current());
        } catch (e) {
          return fail(e instanceof Error ? e.message : "the registry does not validate");
        }
        const check = checkGrant(snapshot, proposal, opts.now);
        // A holder outside the view (another owner's machine) cannot be judged here, and its
        // decisions are not in the window either: the server judges it.
        const refusals = check.violations.filter((v) => !(v.code === "UNKNOWN_HOLDER" && !holderInView));
        if (refusals.length > 0) return fail(`the kernel refuses the grant: ${refusals.map((v) => v.code).join(", ")}`, refusals);
        if (!holderInView) break;
        const scope = proposal.scope !== undefined ? validateScope(proposal.scope) : null;
        claims.push({
          id: freshId("clm"),
          holder: proposal.holder,
          ...(proposal.resource !== undefined ? { resource: proposal.resource } : {}),
          ...(scope ? { scope: scope.ok ? scope.scope : (proposal.scope as string) } : {}),
          canRead: proposal.canRead,
          canWrite: proposal.canWrite,
          canDelegate: proposal.canDelegate,
          confidence: proposal.confidence,
          ...(expiresAt !== undefined ? { expiresAt } : {}),
          grantor,
          ...(proposal.budget !== undefined ? { budget: proposal.budget } : {}),
        } as Claim);
        break;
      }
      case "revoke": {
        const claim = claims.find((x) => x.id === c.grant);
        if (!claim) return fail(`grant ${c.grant} is not in your view of the registry`);
        if (claim.revokedAt === undefined) claims = claims.map((x) => (x.id === c.grant ? { ...x, revokedAt: opts.now } : x));
        break;
      }
      case "halt": {
        if (!isMachine(c.machine)) return fail(`machine ${c.machine} is not in your view of the registry`);
        if (!halts.some((h) => h.kind === "machine" && h.target === c.machine)) halts = [...halts, { kind: "machine", target: c.machine }];
        break;
      }
      case "resume": {
        if (!isMachine(c.machine)) return fail(`machine ${c.machine} is not in your view of the registry`);
        halts = halts.filter((h) => !(h.kind === "machine" && h.target === c.machine));
        break;
      }
      case "addResource": {
        const owner = c.owner ?? opts.viewer;
        if (!owner) return fail("the operator must name the resource's owner");
        const scope = validateScope(c.scope);
        if (!scope.ok) return fail(`scope: ${scope.reason}`);
        if (resources.some((r) => r.id === c.id)) return fail(`the id ${c.id} is taken`);
        resources = [...resources, { id: c.id, type: c.type, scope: scope.scope, isPublic: c.isPublic ?? false, ...(c.ifcLabel !== undefined ? { ifcLabel: c.ifcLabel } : {}), owner }];
        claims.push({ id: freshId("clm"), holder: owner, resource: c.id, canRead: true, canWrite: true, canDelegate: true, confidence: 1 });
        break;
      }
      case "removeResource": {
        if (!resources.some((r) => r.id === c.resource)) return fail(`resource ${c.resource} is not in your view of the registry`);
        resources = resources.filter((r) => r.id !== c.resource);
        claims = claims.filter((x) => x.resource !== c.resource);
        break;
      }
      case "addRule": {
        const scope = validateScope(c.scope);
        if (!scope.ok) return fail(`scope: ${scope.reason}`);
        const id = c.id ?? freshId("rul");
        if (policies.some((p) => p.id === id)) return fail(`the rule id ${id} is taken`);
        policies = [
          ...policies,
          {
            id,
            priority: c.priority,
            effect: c.effect,
            operations: [...c.operations],
            actorPattern: c.actorPattern,
            scope: scope.scope,
            ...(c.description !== undefined ? { description: c.description } : {}),
            ...(c.mode === "shadow" ? { mode: "shadow" as const } : {}),
          },
        ];
        break;
      }
      case "removeRule": {
        if (!policies.some((p) => p.id === c.rule)) return fail(`rule ${c.rule} does not exist`);
        policies = policies.filter((p) => p.id !== c.rule);
        break;
      }
      default: {
        const unreachable: never = c;
        return fail(`unknown change ${JSON.stringify(unreachable)}`);
      }
    }
  }
  const out = current();
  try {
    buildSnapshot(out);
  } catch (e) {
    return fail(`the registry the change set leaves does not validate: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { ok: true, registry: out };
}

/** The shape of a decision entry of GET /audit that the replay reads. */
interface DecisionPayload {
  kind?: unknown;
  action?: unknown;
  record?: { actionId?: unknown; actor?: unknown };
}

/**
 * The decision entries of an audit page (newest first, as GET /audit answers) as the kernel
 * replays them, oldest first. Entries without the parsed action (decisions logged before issue 12,
 * or about another machine's action id) are skipped, as the server skips them.
 */
export function replayItems(entries: readonly { seq: number; payload: unknown }[]): ReplayItem[] {
  const out: ReplayItem[] = [];
  for (const e of entries) {
    const p = e.payload as DecisionPayload | null;
    if (!p || p.kind !== "decision" || p.action === undefined || typeof p.record?.actionId !== "string" || typeof p.record.actor !== "string") continue;
    out.push({ auditSeq: e.seq, actionId: p.record.actionId, machine: p.record.actor, action: p.action });
  }
  return out.sort((a, b) => a.auditSeq - b.auditSeq);
}

export type LocalReplay = { ok: true; result: ReplayResult; perMachine: Readonly<Record<string, number>> } | { ok: false; error: string; refusals?: readonly GrantRefusal[] };

/** How many of `items` each machine has: "37 of research-bot's last 412". */
export function itemsPerMachine(items: readonly ReplayItem[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i.machine] = (out[i.machine] ?? 0) + 1;
  return out;
}

/** The browser's replay: `items` against `registry` and against it with `changes` applied. */
export function replayLocally(registry: RegistryData, changes: readonly Change[], items: readonly ReplayItem[], opts: ApplyOptions): LocalReplay {
  const applied = applyChanges(registry, changes, opts);
  if (!applied.ok) return applied;
  try {
    const result = replayDecisions(buildSnapshot(registry), buildSnapshot(applied.registry), items, opts.now);
    return { ok: true, result, perMachine: itemsPerMachine(items) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : "the registry does not validate" };
  }
}

const sameTally = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) => {
  const ka = Object.keys(a).filter((k) => a[k] !== 0);
  const kb = Object.keys(b).filter((k) => b[k] !== 0);
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
};

/**
 * Whether the browser's replay and the server's signed answer agree: the same number replayed,
 * the same flips (by audit seq and direction) and so the same counts. The differences, in words.
 */
export function compareWithServer(local: ReplayResult, server: Pick<SimulationRecord, "replayed" | "flips" | "counts">): { agree: boolean; differences: string[] } {
  const d: string[] = [];
  if (local.replayed !== server.replayed) d.push(`replayed ${server.replayed} decisions, the browser ${local.replayed}`);
  if (local.counts.blocked !== server.counts.blocked) d.push(`blocked ${server.counts.blocked}, the browser ${local.counts.blocked}`);
  if (local.counts.permitted !== server.counts.permitted) d.push(`permitted ${server.counts.permitted}, the browser ${local.counts.permitted}`);
  if (!sameTally(local.counts.byMachine, server.counts.byMachine)) d.push("different flips per machine");
  if (!sameTally(local.counts.byCode, server.counts.byCode)) d.push("different violation codes");
  const key = (f: SimulationFlip) => `${f.auditSeq}:${f.after.permitted ? "p" : "b"}`;
  const mine = new Set(local.flips.map(key));
  if (local.flips.length !== server.flips.length || server.flips.some((f) => !mine.has(key(f)))) {
    if (d.length === 0) d.push("different flipped actions");
  }
  return { agree: d.length === 0, differences: d };
}

export type Direction = "blocked" | "permitted";

export interface FlipFilter {
  /** "" = every machine. */
  readonly machine: string;
  /** "" = both ways. */
  readonly direction: Direction | "";
  /** "" = any code; else a code of the blocked side. */
  readonly code: string;
}

export const NO_FLIP_FILTER: FlipFilter = { machine: "", direction: "", code: "" };

/** Which way a flip goes: "blocked" = permitted before, blocked after. */
export function directionOf(f: SimulationFlip): Direction {
  return f.before.permitted && !f.after.permitted ? "blocked" : "permitted";
}

/** The violation codes of the blocked side of a flip: why it is, or was, blocked. */
export function blockingCodes(f: SimulationFlip): readonly string[] {
  return directionOf(f) === "blocked" ? f.after.codes : f.before.codes;
}

export function filterFlips(flips: readonly SimulationFlip[], filter: FlipFilter): SimulationFlip[] {
  return flips.filter(
    (f) => (filter.machine === "" || f.machine === filter.machine) && (filter.direction === "" || directionOf(f) === filter.direction) && (filter.code === "" || blockingCodes(f).includes(filter.code)),
  );
}

/** The machines and codes the flips name, sorted: the options of the filters. */
export function flipFacets(flips: readonly SimulationFlip[]): { machines: string[]; codes: string[] } {
  const machines = new Set<string>();
  const codes = new Set<string>();
  for (const f of flips) {
    machines.add(f.machine);
    for (const c of blockingCodes(f)) codes.add(c);
  }
  return { machines: [...machines].sort(), codes: [...codes].sort() };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The preview in one sentence: "Revoking this grant would have blocked 37 of research-bot's last
 * 500 actions". Per machine with flips, how many it would have blocked (or permitted) of its
 * actions in the window; `name` gives a machine's display name.
 */
export function previewSentence(subject: string, flips: readonly SimulationFlip[], perMachine: Readonly<Record<string, number>>, replayed: number, name: (id: string) => string = (id) => id): string {
  if (replayed === 0) return `${subject} would have changed nothing: none of your machines has a logged decision to replay yet.`;
  if (flips.length === 0) return `${subject} would have changed none of the outcomes of the last ${plural(replayed, "decision")} of your machines.`;
  const by = new Map<string, { blocked: number; permitted: number }>();
  for (const f of flips) {
    const t = by.get(f.machine) ?? { blocked: 0, permitted: 0 };
    if (directionOf(f) === "blocked") t.blocked++;
    else t.permitted++;
    by.set(f.machine, t);
  }
  const parts: string[] = [];
  for (const [m, t] of [...by].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const total = perMachine[m] ?? replayed;
    const who = `${name(m)}'s last ${plural(total, "action")}`;
    if (t.blocked > 0) parts.push(`blocked ${t.blocked} of ${who}`);
    if (t.permitted > 0) parts.push(`permitted ${t.permitted} ${t.blocked > 0 ? "more" : `of ${who}`} that ${t.permitted === 1 ? "was" : "were"} blocked`);
  }
  return `${subject} would have ${parts.join("; ")}.`;
}

/** POST /simulate's body for a change set over the default window. */
export function simulateBody(changes: readonly Change[], window?: { machines?: string[]; last?: number; since?: string }): { changes: Change[]; window?: { machines?: string[]; last?: number; since?: string } } {
  return { changes: [...changes], ...(window && Object.keys(window).length > 0 ? { window } : {}) };
}

/** Kernel grant proposals (an approval's narrow grants) as the grant changes of POST /simulate. */
export function proposalChanges(proposals: readonly GrantProposal[]): Change[] {
  return proposals.map((p) => ({
    op: "grant" as const,
    holder: p.holder,
    grantor: p.grantor,
    ...(p.resource !== undefined ? { resource: p.resource } : {}),
    ...(p.scope !== undefined ? { scope: p.scope } : {}),
    canRead: p.canRead,
    canWrite: p.canWrite,
    canDelegate: p.canDelegate,
    ...(p.confidence !== undefined ? { confidence: p.confidence } : {}),
    ...(p.expiresAt !== undefined ? { expiresAt: new Date(p.expiresAt).toISOString() } : {}),
    ...(p.budget !== undefined ? { budget: { ...p.budget } } : {}),
  }));
}

/** One change in words, for the change-set list of the What-if page. */
export function describeChange(c: Change): string {
  switch (c.op) {
    case "grant": {
      const rights = [c.canRead ? "read" : "", c.canWrite ? "write" : "", c.canDelegate ? "delegate" : ""].filter(Boolean).join("+") || "no rights";
      return `grant ${rights} on ${c.resource !== undefined ? c.resource : `scope ${c.scope ?? ""}`} to ${c.holder}${c.grantor ? ` (from ${c.grantor})` : ""}`;
    }
    case "revoke":
      return `revoke grant ${c.grant}`;
    case "halt":
      return `halt machine ${c.machine}`;
    case "resume":
      return `resume machine ${c.machine}`;
    case "addResource":
      return `add resource ${c.id} (${c.type}) at ${c.scope || "/"}`;
    case "removeResource":
      return `remove resource ${c.resource} and every claim on it`;
    case "addRule":
      return `add ${c.mode === "shadow" ? "shadow " : ""}rule: ${c.effect} ${c.operations.join("+")} for ${c.actorPattern} under ${c.scope || "/"} (priority ${c.priority})`;
    case "removeRule":
      return `remove rule ${c.rule}`;
    default:
      return JSON.stringify(c);
  }
}

/**
 * Promoting as a change set POST /simulate takes: the rule removed and added again, enforced
 * (simulate has no mode change of its own; in one set the two are exactly that).
 */
export function promotionChanges(r: ListedRule): Change[] {
  return [
    { op: "removeRule", rule: r.id },
    { op: "addRule", ...ruleContent(r), mode: "enforce" },
  ];
}

/**
 * The server's answer in one sentence, from its signed counts alone (the record says how many it
 * replayed in all, not per machine): "Halting Runaway would have blocked 3 of the 3 decisions the
 * server replayed (Runaway: 3)."
 */
export function serverSentence(subject: string, record: Pick<SimulationRecord, "replayed" | "counts">, name: (id: string) => string = (id) => id): string {
  const { blocked, permitted, byMachine } = record.counts;
  if (blocked === 0 && permitted === 0) return `${subject} would have changed none of the outcomes of the ${plural(record.replayed, "decision")} the server replayed.`;
  const what = [blocked > 0 ? `blocked ${blocked}` : "", permitted > 0 ? `permitted ${permitted} that ${permitted === 1 ? "was" : "were"} blocked` : ""].filter(Boolean).join(" and ");
  const per = Object.entries(byMachine)
    .map(([m, n]) => `${name(m)}: ${n}`)
    .join(", ");
  return `${subject} would have ${what} of the ${plural(record.replayed, "decision")} the server replayed (${per}).`;
}
