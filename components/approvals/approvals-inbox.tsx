"use client";
import { useMemo, useState } from "react";
import { useApprovals, useApprove, useRefuse, useRegistry, type Approval } from "@/lib/client/hooks";
import { checkGrant, type GrantRefusal } from "@/lib/kernel/grant";
import { buildSnapshot, type Snapshot } from "@/lib/kernel/snapshot";
import { violationClass, type ViolationCode } from "@/lib/kernel/types";
import { usePrincipal } from "../shell/session";
import { Empty, ErrorNote, Loading, Time, formatUtc } from "../ui/bits";

const TTLS = [
  { s: 300, label: "5 minutes" },
  { s: 900, label: "15 minutes" },
  { s: 3600, label: "1 hour" },
  { s: 86_400, label: "1 day" },
] as const;

const RIGHT_WORD = { read: "read", write: "write", delegate: "delegate" } as const;

/** "research-bot would get read on alice-data and write on report.txt". */
function gainText(a: Approval): string {
  const byResource = new Map<string, string[]>();
  for (const m of a.missingGrants) byResource.set(m.resource, [...(byResource.get(m.resource) ?? []), RIGHT_WORD[m.right]]);
  return [...byResource].map(([r, rights]) => `${[...new Set(rights)].join(" + ")} on ${r}`).join(", and ");
}

/** The parsed action without its false flags and empty lists: what the agent actually asked. */
function compactAction(action: unknown): unknown {
  if (typeof action !== "object" || action === null) return action;
  return Object.fromEntries(Object.entries(action).filter(([, v]) => v !== false && !(Array.isArray(v) && v.length === 0)));
}

/**
 * The narrow grants approving would create, checked in the browser by the kernel's checkGrant
 * exactly as the server will (grantor: the machine's owner). Refusals mean approving would fail.
 */
function precheck(snapshot: Snapshot | null, a: Approval, ttlSeconds: number): GrantRefusal[] {
  if (!snapshot) return [];
  const byResource = new Map<string, Set<string>>();
  for (const m of a.missingGrants) byResource.set(m.resource, (byResource.get(m.resource) ?? new Set()).add(m.right));
  const now = Date.now();
  const out: GrantRefusal[] = [];
  for (const [resource, rights] of byResource) {
    const r = checkGrant(
      snapshot,
      { holder: a.machineId, grantor: a.ownerId, resource, canRead: rights.has("read"), canWrite: rights.has("write"), canDelegate: rights.has("delegate"), expiresAt: now + ttlSeconds * 1000 },
      now,
    );
    out.push(...r.violations);
  }
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
            resources and rights, expiring soon — and the agent&apos;s retry then passes the ordinary verifier. Nothing here permits an action by itself.
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
          <PendingCard key={a.id} approval={a} snapshot={snapshot} />
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

function PendingCard({ approval: a, snapshot }: { approval: Approval; snapshot: Snapshot | null }) {
  const approve = useApprove();
  const refuse = useRefuse();
  const [ttl, setTtl] = useState(300);
  const [refusing, setRefusing] = useState(false);
  const [reason, setReason] = useState("");
  const expiresAt = Date.now() + ttl * 1000;
  const refusals = precheck(snapshot, a, ttl);
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
        </div>
      </div>
      <div className="callout callout-info" style={{ marginTop: 12 }} data-testid="approval-gain">
        <strong>Approving gives</strong> <span className="mono">{a.machineId}</span> {gainText(a)}, granted by <span className="mono">{a.ownerId}</span>, until{" "}
        {formatUtc(expiresAt)} — nothing else. The agent must retry; the verifier decides again.
      </div>
      {refusals.length > 0 ? (
        <div className="callout callout-warn" data-testid="approval-precheck">
          <strong>Approving would fail:</strong> the kernel&apos;s checkGrant (run in your browser) refuses the grant it needs, so only refusing is possible.
          <ul>
            {refusals.map((v, i) => (
              <li key={i}>
                <span className="code-pill">{v.code}</span> {v.message}
              </li>
            ))}
          </ul>
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
          <button type="button" className="btn-ok" disabled={approve.isPending || refusals.length > 0} onClick={() => approve.mutate({ id: a.id, ttlSeconds: ttl })}>
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
