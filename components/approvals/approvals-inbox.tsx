"use client";
import { useMemo, useState } from "react";
import { actionCost, budgetRefusals, budgetSummary } from "@/lib/client/budgets";
import type { RegistryDataJson } from "@/lib/contracts/console";
import { useApprovals, useApprove, useRefuse, useRegistry, type Approval } from "@/lib/client/hooks";
import { resolveReference } from "@/lib/client/object-refs";
import { checkGrant, type GrantRefusal } from "@/lib/kernel/grant";
import { buildSnapshot, type Snapshot } from "@/lib/kernel/snapshot";
import { violationClass, type ViolationCode } from "@/lib/kernel/types";
import { usePrincipal } from "../shell/session";
import { CodeList, Empty, ErrorNote, Loading, Time, formatUtc } from "../ui/bits";
import {
  approvalTargets,
  defaultRaise,
  gainText,
  grantProposals,
  grantedScope,
  raisePlan,
  widenCoverText,
  widenRequest,
  type ApprovalTarget,
  type ExhaustedBudgetView,
  type MissingGrantView,
  type RaiseChoice,
  type WidenChoice,
} from "./approval-grants";
import { RaiseBudgets } from "./raise-budgets";
import { proposalChanges } from "@/lib/client/what-if";
import { WhatIfPreview } from "../what-if/what-if-preview";

const TTLS = [
  { s: 300, label: "5 minutes" },
  { s: 900, label: "15 minutes" },
  { s: 3600, label: "1 hour" },
  { s: 86_400, label: "1 day" },
] as const;

/** The parsed action without its false flags and empty lists: what the agent actually asked. */
function compactAction(action: unknown): unknown {
  if (typeof action !== "object" || action === null) return action;
  return Object.fromEntries(Object.entries(action).filter(([, v]) => v !== false && !(Array.isArray(v) && v.length === 0)));
}

/**
 * The grants approving would create, checked in the browser by the kernel's checkGrant exactly as
 * the server will (grantor: the machine's owner). Refusals mean approving would fail.
 */
function precheck(snapshot: Snapshot | null, a: Approval, targets: readonly ApprovalTarget[], choice: WidenChoice, ttlSeconds: number): GrantRefusal[] {
  if (!snapshot) return [];
  const now = Date.now();
  const out: GrantRefusal[] = [];
  for (const p of grantProposals(targets, choice, { holder: a.machineId, grantor: a.ownerId }, now + ttlSeconds * 1000)) out.push(...checkGrant(snapshot, p, now).violations);
  return out;
}

export function ApprovalsInbox() {
  const principal = usePrincipal();
  const approvals = useApprovals();
  const registry = useRegistry();
  const snapshot = useMemo(() => {
    try {
      return registry.data ? buildSnapshot(registry.data.registry) : null;
    } catch {
      return null;
    }
  }, [registry.data]);
  const list = approvals.data ?? [];
  const waiting = list.filter((a) => a.status === "PENDING" && a.curable);
  const invariant = list.filter((a) => a.status === "PENDING" && !a.curable);
  const decided = list.filter((a) => a.status !== "PENDING");
  return (
    <>
      <div className="page-header">
        <div>
          <h1>Approvals</h1>
          <p>
            Actions the kernel blocked only for lack of authority. Approving creates the narrowest grant that would have permitted exactly that action — only those
            resources and rights, expiring soon — and the agent&apos;s retry then passes the ordinary verifier. An action refused because a budget is used up is
            approved by raising that budget. Nothing here permits an action by itself.
          </p>
        </div>
      </div>
      <ErrorNote error={approvals.error} prefix="The inbox could not load" />
      {approvals.isPending ? <Loading what="the inbox" /> : null}

      <section aria-labelledby="waiting-heading">
        <h2 id="waiting-heading">
          Waiting for {principal.role === "OPERATOR" ? "an owner" : "you"} <span className="badge badge-info">{waiting.length}</span>
        </h2>
        {approvals.data && waiting.length === 0 ? <Empty>Nothing is waiting for approval.</Empty> : null}
        {waiting.map((a) => (
          <PendingCard key={a.id} approval={a} snapshot={snapshot} registry={registry.data?.registry} />
        ))}
      </section>

      <section aria-labelledby="invariant-heading" style={{ marginTop: 24 }}>
        <h2 id="invariant-heading">
          Blocked by an invariant — cannot be approved <span className="badge badge-muted">{invariant.length}</span>
        </h2>
        {approvals.data && invariant.length === 0 ? <Empty>None.</Empty> : null}
        {invariant.map((a) => (
          <InvariantCard key={a.id} approval={a} />
        ))}
      </section>

      <section aria-labelledby="decided-heading" style={{ marginTop: 24 }}>
        <h2 id="decided-heading">Decided</h2>
        {approvals.data && decided.length === 0 ? <Empty>No decisions yet.</Empty> : null}
        {decided.length > 0 ? (
          <div className="card table-wrap">
            <table className="table" aria-label="Decided approvals">
              <thead>
                <tr>
                  <th>Action</th>
                  <th>Machine</th>
                  <th>Decision</th>
                  <th>By</th>
                  <th>When</th>
                  <th>Reason</th>
                </tr>
              </thead>
              <tbody>
                {decided.map((a) => (
                  <tr key={a.id} data-testid={`decided-${a.actionId}`}>
                    <td className="mono small">{a.actionId}</td>
                    <td className="mono small">{a.machineId}</td>
                    <td>{a.status === "APPROVED" ? <span className="badge badge-ok">Approved</span> : <span className="badge badge-bad">Refused</span>}</td>
                    <td className="small">{a.decidedBy}</td>
                    <td className="small">
                      <Time iso={a.decidedAt} />
                    </td>
                    <td className="small">{a.reason ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </>
  );
}

function ActionBlock({ approval }: { approval: Approval }) {
  return (
    <details open>
      <summary className="small" style={{ cursor: "pointer", marginBottom: 6 }}>
        The exact action (digest <span className="mono">{approval.actionDigest.slice(0, 16)}…</span>, audit entry #{approval.auditSeq})
      </summary>
      <pre className="json" data-testid="approval-action">
        {JSON.stringify(compactAction(approval.action), null, 2)}
      </pre>
      <p className="small faint">Flags not shown are false; lists not shown are empty.</p>
    </details>
  );
}

function Violations({ approval }: { approval: Approval }) {
  return (
    <div>
      {approval.violations.map((v, i) => (
        <div key={i} className={`violation ${violationClass(v.code as ViolationCode)}`}>
          <span className="code-pill">{v.code}</span> <span className="small muted">{v.axiom}</span> · {v.message}
        </div>
      ))}
    </div>
  );
}

function PendingCard({ approval: a, snapshot, registry }: { approval: Approval; snapshot: Snapshot | null; registry: RegistryDataJson | undefined }) {
  const approve = useApprove();
  const refuse = useRefuse();
  const [ttl, setTtl] = useState(300);
  const [refusing, setRefusing] = useState(false);
  const [reason, setReason] = useState("");
  const [choice, setChoice] = useState<WidenChoice>({});
  // The object fields of a missing grant are optional in the contract: ids have none.
  const targets = useMemo(() => withResolution(approvalTargets(a.missingGrants as readonly MissingGrantView[]), snapshot, a.machineId), [a.missingGrants, snapshot, a.machineId]);
  const objects = targets.filter((t) => t.canonical !== null || t.invalid !== null);
  const expiresAt = Date.now() + ttl * 1000;
  const refusals = precheck(snapshot, a, targets, choice, ttl);
  // Used-up budgets (BUDGET_EXHAUSTED): each raise the owner chooses goes into the approval.
  const exhausted = a.exhaustedBudgets as readonly ExhaustedBudgetView[];
  const cost = actionCost(a.action);
  const [raises, setRaises] = useState<ReadonlyMap<string, RaiseChoice>>(() => new Map());
  const choiceOf = (e: ExhaustedBudgetView) => raises.get(e.grant) ?? defaultRaise(e, cost);
  const plan = raisePlan(exhausted, raises, cost);
  // The plan is rebuilt every render; the check (a snapshot build) reruns only when what it would send changes.
  const raiseKey = JSON.stringify(plan.raise);
  const raiseRefusals = useMemo(() => {
    const raise = JSON.parse(raiseKey) as typeof plan.raise;
    return registry && raise.length > 0 ? budgetRefusals(registry, new Map(raise.map((r) => [r.grant, r.budget])), Date.now()) : [];
  }, [registry, raiseKey]);
  const nothingToApprove = targets.length === 0 && plan.raise.length === 0;
  const cannotApprove = refusals.length > 0 || raiseRefusals.length > 0 || plan.problems.size > 0 || nothingToApprove;
  const raiseText = plan.raise.map((r) => `the budget of ${r.grant} to ${budgetSummary(r.budget)}`).join(", and ");
  // The what-if preview of the grants approving creates: one expiry per lifetime chosen, so the change set stays put between renders.
  const previewExpiry = useMemo(() => Date.now() + ttl * 1000, [ttl]);
  const previewKey = refusals.length === 0 && targets.length > 0 ? JSON.stringify(proposalChanges(grantProposals(targets, choice, { holder: a.machineId, grantor: a.ownerId }, previewExpiry))) : null;
  const previewChanges = useMemo(() => (previewKey ? (JSON.parse(previewKey) as ReturnType<typeof proposalChanges>) : null), [previewKey]);
  return (
    <article className="card" data-testid={`approval-${a.actionId}`} aria-label={`Approval for ${a.actionId}`}>
      <div className="row" style={{ marginBottom: 10 }}>
        <strong className="mono">{a.actionId}</strong>
        <span className="muted">by machine</span>
        <strong className="mono">{a.machineId}</strong>
        <span className="spacer" />
        <span className="small muted">
          blocked <Time iso={a.createdAt} />
        </span>
      </div>
      <div className="grid grid-2">
        <div>
          <ActionBlock approval={a} />
        </div>
        <div>
          <h3>Why it was blocked</h3>
          <Violations approval={a} />
          {a.missingGrants.length > 0 ? (
            <>
              <h3 style={{ marginTop: 12 }}>Missing grants</h3>
              <table className="table" aria-label="Missing grants">
                <thead>
                  <tr>
                    <th>Resource</th>
                    <th>Right</th>
                    <th>Code</th>
                  </tr>
                </thead>
                <tbody>
                  {a.missingGrants.map((m, i) => (
                    <tr key={i}>
                      <td className="mono">{m.resource}</td>
                      <td>{m.right}</td>
                      <td>
                        <span className="code-pill">{m.code}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </div>
      </div>
      {exhausted.length > 0 ? (
        <RaiseBudgets exhausted={exhausted} choiceOf={choiceOf} plan={plan} onChange={(grant, c) => setRaises((m) => new Map(m).set(grant, c))} />
      ) : null}
      {objects.length > 0 ? (
        <section aria-label="Objects" style={{ marginTop: 12 }}>
          <h3>Objects the action names</h3>
          {objects.map((t) => (
            <ObjectTarget key={t.ref} target={t} scope={grantedScope(t, choice)} onChoose={(scope) => setChoice((c) => withChoice(c, t.ref, scope))} />
          ))}
        </section>
      ) : null}
      {targets.length > 0 ? (
        <div className="callout callout-info" style={{ marginTop: 12 }} data-testid="approval-gain">
          <strong>Approving gives</strong> <span className="mono">{a.machineId}</span> {gainText(targets, choice)}, granted by <span className="mono">{a.ownerId}</span>, until{" "}
          {formatUtc(expiresAt)}
          {raiseText ? `, and raises ${raiseText}` : ""} — nothing else. The agent must retry; the verifier decides again.
        </div>
      ) : plan.raise.length > 0 ? (
        <div className="callout callout-info" style={{ marginTop: 12 }} data-testid="approval-gain">
          <strong>Approving raises</strong> {raiseText} — nothing else: uses already made are kept. The agent must retry; the verifier decides again.
        </div>
      ) : (
        <div className="callout callout-warn" style={{ marginTop: 12 }} data-testid="approval-gain">
          <strong>Nothing to approve yet:</strong>{" "}
          {exhausted.some((e) => e.canRaise)
            ? "the action is blocked by a used-up budget; choose “Raise the budget” to approve."
            : "the action is blocked by a used-up budget you cannot raise; only refusing is possible here."}
        </div>
      )}
      <WhatIfPreview changes={previewChanges} subject="Approving" note={plan.raise.length > 0 ? "The budget raises are not part of this preview." : undefined} />
      {raiseRefusals.length > 0 ? (
        <div className="callout callout-warn" data-testid="raise-precheck">
          <strong>This raise would be refused:</strong> the kernel&apos;s checkGrant (run in your browser) finds it larger than the grantor&apos;s own budget.
          <CodeList items={raiseRefusals} />
        </div>
      ) : null}
      {refusals.length > 0 ? (
        <div className="callout callout-warn" data-testid="approval-precheck">
          <strong>Approving would fail:</strong> the kernel&apos;s checkGrant (run in your browser) refuses the grant it needs, so only refusing is possible.
          <CodeList items={refusals} />
        </div>
      ) : null}
      <ErrorNote error={approve.error ?? refuse.error} />
      {refusing ? (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            refuse.mutate({ id: a.id, reason: reason.trim() });
          }}
        >
          <label className="field">
            <span>Reason for refusing (recorded in the audit log)</span>
            <textarea value={reason} onChange={(e) => setReason(e.target.value)} required aria-label="Reason for refusing" />
          </label>
          <div className="actions">
            <button type="submit" className="btn-danger" disabled={!reason.trim() || refuse.isPending}>
              Refuse
            </button>
            <button type="button" onClick={() => setRefusing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <div className="actions">
          {targets.length > 0 ? (
            <label className="row small">
              Grant lasts
              <select value={ttl} onChange={(e) => setTtl(Number(e.target.value))} aria-label="Grant lifetime" style={{ width: "auto" }}>
                {TTLS.map((t) => (
                  <option key={t.s} value={t.s}>
                    {t.label}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          <button
            type="button"
            className="btn-ok"
            disabled={approve.isPending || cannotApprove}
            onClick={() => approve.mutate({ id: a.id, ttlSeconds: ttl, widen: widenRequest(targets, choice), raise: plan.raise })}
          >
            {approve.isPending ? "Approving…" : "Approve"}
          </button>
          <button type="button" onClick={() => setRefusing(true)}>
            Refuse…
          </button>
        </div>
      )}
    </article>
  );
}

/**
 * The server says where each object resolved (resolvedTo); when it did not (an approval queued
 * before it did), the kernel's verify answers it here on the registry in view.
 */
function withResolution(targets: ApprovalTarget[], snapshot: Snapshot | null, machineId: string): ApprovalTarget[] {
  if (!snapshot) return targets;
  const now = Date.now();
  return targets.map((t) => {
    if (t.canonical === null || t.resolvedTo !== null) return t;
    const view = resolveReference(snapshot, t.ref, machineId, now);
    return view.ok && view.resource !== null ? { ...t, resolvedTo: view.resource } : t;
  });
}

/** A copy of `choice` with `ref` granted on `scope`, or exactly (scope null). */
function withChoice(choice: WidenChoice, ref: string, scope: string | null): WidenChoice {
  const next: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, choice);
  if (scope === null) delete next[ref];
  else next[ref] = scope;
  return next;
}

/**
 * One object reference of a blocked action: as written, canonical, resolved; and, when the server
 * offered enclosing scopes, the choice between exactly this object and one of them, with what
 * else that scope would cover shown before anything is granted.
 */
function ObjectTarget({ target: t, scope, onChoose }: { target: ApprovalTarget; scope: string | null; onChoose: (scope: string | null) => void }) {
  const chosen = t.widenOptions.find((o) => o.scope === scope && scope !== t.canonical);
  const group = `Grant for ${t.ref}`;
  return (
    <div className="card" style={{ padding: 10, marginBottom: 8 }} data-testid="approval-object">
      <dl className="kv" style={{ marginBottom: 6 }}>
        <dt>as written</dt>
        <dd className="mono" data-testid="object-ref">
          {t.ref}
        </dd>
        <dt>canonical path</dt>
        <dd className="mono" data-testid="object-canonical">
          {t.canonical ?? `— does not canonicalize: ${t.invalid ?? "unknown reason"}`}
        </dd>
        <dt>resolved to</dt>
        <dd className="mono" data-testid="object-resource">
          {t.resolvedTo ?? "no registered resource"}
        </dd>
      </dl>
      {t.canonical !== null && t.widenOptions.length > 0 ? (
        <fieldset role="radiogroup" aria-label={group}>
          <legend className="small">Grant {[...t.rights].join(" + ")} on</legend>
          <label className="check">
            <input type="radio" name={group} checked={scope === t.canonical} onChange={() => onChoose(null)} aria-label={`exactly this object (${t.canonical})`} />
            exactly this object <span className="mono">{t.canonical}</span>
          </label>
          {t.widenOptions.map((o) => (
            <label key={o.scope} className="check">
              <input type="radio" name={group} checked={scope === o.scope} onChange={() => onChoose(o.scope)} aria-label={`every object under ${o.scope}`} />
              every object under <span className="mono">{o.scope}</span>
            </label>
          ))}
        </fieldset>
      ) : null}
      {chosen ? (
        <div className="callout callout-warn small" data-testid="widen-preview">
          Widening to <span className="mono">{chosen.scope}</span> {widenCoverText(chosen)}.
        </div>
      ) : null}
    </div>
  );
}

function InvariantCard({ approval: a }: { approval: Approval }) {
  const invariants = a.violations.filter((v) => violationClass(v.code as ViolationCode) === "invariant");
  return (
    <article className="card" data-testid={`approval-${a.actionId}`} aria-label={`Blocked action ${a.actionId}`}>
      <div className="row" style={{ marginBottom: 10 }}>
        <strong className="mono">{a.actionId}</strong>
        <span className="muted">by machine</span>
        <strong className="mono">{a.machineId}</strong>
        <span className="badge badge-bad">Cannot be approved</span>
        <span className="spacer" />
        <span className="small muted">
          blocked <Time iso={a.createdAt} />
        </span>
      </div>
      <div className="callout callout-bad" data-testid="not-approvable">
        <strong>No one can approve this action.</strong> It broke {invariants.length === 1 ? "an invariant" : `${invariants.length} invariants`} of the kernel; no grant,
        argument or emergency turns that into a permit:
        <ul>
          {invariants.map((v, i) => (
            <li key={i}>
              <span className="code-pill">{v.code}</span> {v.flag ? <span className="mono small">{v.flag}</span> : null} ({v.axiom}) — {v.message}
            </li>
          ))}
        </ul>
      </div>
      <div className="grid grid-2">
        <ActionBlock approval={a} />
        <div>
          <h3>All violations</h3>
          <Violations approval={a} />
        </div>
      </div>
    </article>
  );
}
