"use client";
import { Fragment, useCallback, useMemo, useState } from "react";
import { errorMessage } from "@/lib/client/api";
import {
  useAudit,
  useCreateToken,
  useGrants,
  useHaltAll,
  useHaltMachine,
  useMachines,
  useRegistry,
  useResumeAll,
  useResumeMachine,
  useRevokeToken,
  useTokens,
  type CreatedToken,
  type Grant,
  type Machine,
} from "@/lib/client/hooks";
import { usePrincipal } from "../shell/session";
import { Empty, ErrorNote, Loading, Outcome, Time } from "../ui/bits";
import { ConfirmDialog } from "../ui/dialog";
import { Toast } from "../ui/toast";
import { WhatIfPreview } from "../what-if/what-if-preview";
import { decisionSummary } from "../audit/entry-summary";
import { MachineBudgets, SetBudgetDialog } from "./machine-budgets";

type HaltKind = "machine" | "owner" | "all";

function haltReasons(halts: readonly { kind: string; target?: string }[], m: Machine): HaltKind[] {
  const out: HaltKind[] = [];
  for (const h of halts) {
    if (h.kind === "machine" && h.target === m.id) out.push("machine");
    else if (h.kind === "owner" && h.target === m.owner) out.push("owner");
    else if (h.kind === "all") out.push("all");
  }
  return out;
}

/** The most changes one simulation takes (SimulateRequest.changes). */
const MAX_PREVIEW_CHANGES = 100;

const HALT_TEXT: Record<HaltKind, string> = { machine: "halted directly", owner: "owner-wide halt", all: "global halt (operator)" };

export function MachinesPage() {
  const principal = usePrincipal();
  const operator = principal.role === "OPERATOR";
  const machines = useMachines();
  const registry = useRegistry();
  const grants = useGrants();
  const halt = useHaltMachine();
  const resume = useResumeMachine();
  const haltAll = useHaltAll(principal);
  const resumeAll = useResumeAll(principal);
  const [confirm, setConfirm] = useState<{ kind: "halt" | "resume"; machine: Machine } | { kind: "halt-all" | "resume-all" } | null>(null);
  const [reason, setReason] = useState("");
  const [openTokens, setOpenTokens] = useState<string | null>(null);
  const [budgetChoices, setBudgetChoices] = useState<readonly Grant[] | null>(null);
  // The viewer and their machines: whose grants' budgets they may set (null: the operator, any).
  const mine = useMemo(
    () => (operator ? null : new Set([principal.entityId ?? "", ...(machines.data ?? []).filter((m) => m.owner === principal.entityId).map((m) => m.id)])),
    [operator, principal.entityId, machines.data],
  );
  // The fleet halt previewed as a halt of each machine there is now (the simulation has no fleet
  // op; for the machines that exist the outcome is the same). Past the change-set limit, no preview.
  const fleet = useMemo(() => (machines.data ?? []).filter((m) => operator || m.owner === principal.entityId), [machines.data, operator, principal.entityId]);
  const fleetChanges = fleet.length > 0 && fleet.length <= MAX_PREVIEW_CHANGES ? fleet.map((m) => ({ op: "halt" as const, machine: m.id })) : null;
  const [toast, setToast] = useState<string | null>(null);
  const clearToast = useCallback(() => setToast(null), []);
  const halts = registry.data?.registry.halts ?? [];
  const fleetHalted = halts.some((h) => (operator ? h.kind === "all" : h.kind === "owner" && h.target === principal.entityId));

  const close = () => {
    halt.reset();
    resume.reset();
    haltAll.reset();
    resumeAll.reset();
    setReason("");
    setConfirm(null);
  };
  const done = (message: string) => {
    setToast(message);
    close();
  };

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Machines</h1>
          <p>
            The agents {operator ? "registered on this installation" : "you answer for"}. Halting one blocks its very next decision on every server and voids its
            outstanding permits; resuming is an explicit, audited act.
          </p>
        </div>
        <div className="actions">
          <button type="button" className="btn-danger" onClick={() => setConfirm({ kind: "halt-all" })}>
            {operator ? "Halt every machine" : "Halt all my machines"}
          </button>
          {fleetHalted ? (
            <button type="button" onClick={() => setConfirm({ kind: "resume-all" })}>
              {operator ? "Lift the global halt" : "Lift my owner-wide halt"}
            </button>
          ) : null}
        </div>
      </div>
      {fleetHalted ? (
        <div className="callout callout-bad" role="status" data-testid="fleet-halted">
          {operator ? "A global halt is in force: every machine is blocked." : "Your owner-wide halt is in force: all your machines are blocked."}
        </div>
      ) : null}
      <ErrorNote error={machines.error} prefix="Machines could not load" />
      <section className="card">
        {machines.isPending ? <Loading what="machines" /> : null}
        {machines.data && machines.data.length === 0 ? <Empty>No machines yet. Add one in the graph.</Empty> : null}
        {machines.data && machines.data.length > 0 ? (
          <div className="table-wrap">
            <table className="table" aria-label="Machines">
              <thead>
                <tr>
                  <th>Machine</th>
                  {operator ? <th>Owner</th> : null}
                  <th>Status</th>
                  <th>Last decisions</th>
                  <th>Budgets</th>
                  <th style={{ textAlign: "right" }}>Actions</th>
                </tr>
              </thead>
              <tbody>
                {machines.data.map((m) => {
                  const reasons = haltReasons(halts, m);
                  return (
                    <Fragment key={m.id}>
                      <tr data-testid={`machine-row-${m.id}`}>
                        <td>
                          <strong>{m.displayName}</strong>
                          <div className="mono small muted">{m.id}</div>
                        </td>
                        {operator ? <td className="mono small">{m.owner}</td> : null}
                        <td>
                          {m.halted ? <span className="badge badge-bad">Halted</span> : <span className="badge badge-ok">Running</span>}
                          {m.halted && reasons.length > 0 ? <div className="small muted">{reasons.map((r) => HALT_TEXT[r]).join(", ")}</div> : null}
                        </td>
                        <td>
                          <LastDecisions machineId={m.id} />
                        </td>
                        <td>
                          <MachineBudgets machineId={m.id} grants={grants.data ?? []} mine={mine} onSet={setBudgetChoices} />
                        </td>
                        <td style={{ textAlign: "right" }}>
                          <div className="actions" style={{ justifyContent: "flex-end" }}>
                            <button type="button" className="btn-sm" aria-expanded={openTokens === m.id} onClick={() => setOpenTokens((o) => (o === m.id ? null : m.id))}>
                              API tokens
                            </button>
                            {m.halted ? (
                              <button type="button" className="btn-sm btn-ok" onClick={() => setConfirm({ kind: "resume", machine: m })}>
                                Resume
                              </button>
                            ) : (
                              <button type="button" className="btn-sm btn-danger" onClick={() => setConfirm({ kind: "halt", machine: m })}>
                                Halt
                              </button>
                            )}
                          </div>
                        </td>
                      </tr>
                      {openTokens === m.id ? (
                        <tr>
                          <td colSpan={operator ? 6 : 5} style={{ background: "#fafbfc" }}>
                            <TokensPanel machine={m} />
                          </td>
                        </tr>
                      ) : null}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>

      {confirm?.kind === "halt" ? (
        <ConfirmDialog
          title={`Halt ${confirm.machine.displayName}?`}
          confirmLabel="Halt machine"
          danger
          busy={halt.isPending}
          error={halt.error ? errorMessage(halt.error) : null}
          onCancel={close}
          onConfirm={() => halt.mutate({ id: confirm.machine.id, reason: reason || undefined }, { onSuccess: () => done(`${confirm.machine.id} is halted.`) })}
        >
          <p>
            <span className="mono">{confirm.machine.id}</span> will be <strong>BLOCKED (HALTED)</strong> on its very next decision, on every server, and its outstanding
            permits stop being redeemable, until you resume it.
          </p>
          <label className="field">
            <span>Reason (recorded in the audit log)</span>
            <input value={reason} onChange={(e) => setReason(e.target.value)} aria-label="Reason" placeholder="optional" />
          </label>
          <WhatIfPreview changes={[{ op: "halt", machine: confirm.machine.id }]} subject={`Halting ${confirm.machine.displayName}`} />
        </ConfirmDialog>
      ) : null}
      {confirm?.kind === "resume" ? (
        <ConfirmDialog
          title={`Resume ${confirm.machine.displayName}?`}
          confirmLabel="Resume machine"
          busy={resume.isPending}
          error={resume.error ? errorMessage(resume.error) : null}
          onCancel={close}
          onConfirm={() => resume.mutate(confirm.machine.id, { onSuccess: () => done(`${confirm.machine.id} is resumed.`) })}
        >
          <p>
            Lifts the halt on <span className="mono">{confirm.machine.id}</span>. Its actions are decided by the verifier again from the next request. Your name goes into the
            audit log.
          </p>
          {haltReasons(halts, confirm.machine).some((r) => r !== "machine") ? (
            <p className="callout callout-warn">An owner-wide or global halt also applies; the machine stays halted until that is lifted too.</p>
          ) : null}
          <WhatIfPreview changes={[{ op: "resume", machine: confirm.machine.id }]} subject={`Resuming ${confirm.machine.displayName}`} />
        </ConfirmDialog>
      ) : null}
      {confirm?.kind === "halt-all" ? (
        <ConfirmDialog
          title={operator ? "Halt every machine on this installation?" : "Halt all your machines?"}
          confirmLabel={operator ? "Halt every machine" : "Halt all my machines"}
          danger
          busy={haltAll.isPending}
          error={haltAll.error ? errorMessage(haltAll.error) : null}
          onCancel={close}
          onConfirm={() => haltAll.mutate(reason || undefined, { onSuccess: (r) => done(`Halted ${r.halted.length} machine${r.halted.length === 1 ? "" : "s"}.`) })}
        >
          <p>
            {operator
              ? "Every machine of every owner is blocked from its next decision until you lift the global halt."
              : "Every machine you own — including ones you register later — is blocked from its next decision until you lift this halt."}
          </p>
          {fleetChanges ? (
            <WhatIfPreview changes={fleetChanges} subject={operator ? "Halting every machine" : "Halting all your machines"} />
          ) : fleet.length > MAX_PREVIEW_CHANGES ? (
            <p className="small muted">No what-if preview: more than {MAX_PREVIEW_CHANGES} machines (use the What if page on a few of them).</p>
          ) : null}
          <label className="field">
            <span>Reason (recorded in the audit log)</span>
            <input value={reason} onChange={(e) => setReason(e.target.value)} aria-label="Reason" placeholder="optional" />
          </label>
        </ConfirmDialog>
      ) : null}
      {confirm?.kind === "resume-all" ? (
        <ConfirmDialog
          title={operator ? "Lift the global halt?" : "Lift your owner-wide halt?"}
          confirmLabel="Lift halt"
          busy={resumeAll.isPending}
          error={resumeAll.error ? errorMessage(resumeAll.error) : null}
          onCancel={close}
          onConfirm={() => resumeAll.mutate(undefined, { onSuccess: () => done("The halt is lifted.") })}
        >
          <p>Machines halted individually stay halted until each is resumed.</p>
        </ConfirmDialog>
      ) : null}
      {budgetChoices ? (
        <SetBudgetDialog
          choices={budgetChoices}
          registry={registry.data?.registry}
          onClose={() => setBudgetChoices(null)}
          onDone={(message) => {
            setBudgetChoices(null);
            setToast(message);
          }}
        />
      ) : null}
      <Toast message={toast} onDone={clearToast} />
    </>
  );
}

function LastDecisions({ machineId }: { machineId: string }) {
  const audit = useAudit({ machine: machineId, kind: "decision", limit: 3 });
  if (audit.isPending) return <span className="faint small">…</span>;
  if (audit.error) return <span className="small status-bad">unavailable</span>;
  if (audit.data.entries.length === 0) return <span className="faint small">none yet</span>;
  return (
    <ul style={{ listStyle: "none", margin: 0, padding: 0 }}>
      {audit.data.entries.map((e) => {
        const d = decisionSummary(e.payload);
        return (
          <li key={e.seq} className="small" style={{ display: "flex", gap: 6, alignItems: "center", marginBottom: 2 }}>
            <Outcome permitted={d?.permitted} />
            <span className="mono">{d?.actionId ?? `#${e.seq}`}</span>
            {d && d.codes.length > 0 ? <span className="faint">{d.codes.join(", ")}</span> : null}
            <span className="faint">
              <Time iso={e.recordedAt} />
            </span>
          </li>
        );
      })}
    </ul>
  );
}

function TokensPanel({ machine }: { machine: Machine }) {
  const tokens = useTokens(machine.id);
  const create = useCreateToken();
  const revoke = useRevokeToken();
  const [label, setLabel] = useState("agent");
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [confirmRevoke, setConfirmRevoke] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  return (
    <div data-testid={`tokens-${machine.id}`}>
      <h3>API tokens of {machine.id}</h3>
      <p className="small muted">A token lets an agent ask the kernel on behalf of this machine only. Only its hash is stored; the secret is shown once.</p>
      {created ? (
        <div className="callout callout-warn" role="status">
          <strong>Copy this secret now — it will not be shown again.</strong>
          <div className="row" style={{ marginTop: 6 }}>
            <code data-testid="token-secret" style={{ wordBreak: "break-all", background: "#fff", padding: "4px 6px", borderRadius: 4 }}>
              {created.secret}
            </code>
            <button
              type="button"
              className="btn-sm"
              onClick={() => {
                void navigator.clipboard?.writeText(created.secret).then(() => setCopied(true));
              }}
            >
              {copied ? "Copied" : "Copy"}
            </button>
            <button type="button" className="btn-sm btn-ghost" onClick={() => setCreated(null)}>
              I have stored it
            </button>
          </div>
        </div>
      ) : null}
      <form
        className="row"
        style={{ marginBottom: 10 }}
        onSubmit={(e) => {
          e.preventDefault();
          setCopied(false);
          create.mutate({ machineId: machine.id, label: label.trim() || "agent" }, { onSuccess: setCreated });
        }}
      >
        <input value={label} onChange={(e) => setLabel(e.target.value)} aria-label="Token label" style={{ maxWidth: 220 }} />
        <button type="submit" className="btn-primary btn-sm" disabled={create.isPending}>
          Create token
        </button>
      </form>
      <ErrorNote error={create.error ?? revoke.error ?? tokens.error} />
      {tokens.data && tokens.data.length > 0 ? (
        <table className="table" aria-label={`Tokens of ${machine.id}`}>
          <thead>
            <tr>
              <th>Label</th>
              <th>Id</th>
              <th>Created</th>
              <th>Last used</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((t) => (
              <tr key={t.id}>
                <td>{t.label}</td>
                <td className="mono small">{t.id}</td>
                <td>
                  <Time iso={t.createdAt} />
                </td>
                <td>
                  <Time iso={t.lastUsedAt} />
                </td>
                <td>{t.revokedAt ? <span className="badge badge-muted">revoked</span> : <span className="badge badge-ok">active</span>}</td>
                <td style={{ textAlign: "right" }}>
                  {t.revokedAt ? null : (
                    <button type="button" className="btn-sm btn-danger" onClick={() => setConfirmRevoke(t.id)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : tokens.data ? (
        <p className="small muted">No tokens.</p>
      ) : null}
      {confirmRevoke ? (
        <ConfirmDialog
          title="Revoke this token?"
          confirmLabel="Revoke token"
          danger
          busy={revoke.isPending}
          onCancel={() => setConfirmRevoke(null)}
          onConfirm={() => revoke.mutate(confirmRevoke, { onSuccess: () => setConfirmRevoke(null) })}
        >
          <p>Any agent using it is refused from its next request.</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
