"use client";
import Link from "next/link";
import { useState } from "react";
import { errorMessage } from "@/lib/client/api";
import { promotionChanges, type ListedRule } from "@/lib/client/what-if";
import { useRemoveRule, useRules, useSetRuleMode } from "@/lib/client/what-if-hooks";
import { usePrincipal } from "../shell/session";
import { ErrorNote, Loading } from "../ui/bits";
import { ConfirmDialog } from "../ui/dialog";
import { WhatIfPreview } from "../what-if/what-if-preview";

/**
 * Shadow rules (issue 12): rules evaluated on every decision that never block, each with how many
 * of the decisions since it was added it matched and would have denied (GET /rules shadowReport,
 * read from the signed records), charted, with the newest it would have denied. The operator
 * promotes a rule to enforce, or drops it.
 */
export function ShadowRulesPanel() {
  const principal = usePrincipal();
  const operator = principal.role === "OPERATOR";
  const rules = useRules();
  const setMode = useSetRuleMode();
  const remove = useRemoveRule();
  const [open, setOpen] = useState<string | null>(null);
  const [promoting, setPromoting] = useState<ListedRule | null>(null);
  const shadows = (rules.data ?? []).filter((r) => r.mode === "shadow");
  const max = Math.max(1, ...shadows.map((r) => r.shadowReport?.matched ?? 0));
  return (
    <section className="card" aria-labelledby="shadow-heading" data-testid="shadow-rules-panel" style={{ marginTop: 16 }}>
      <h2 id="shadow-heading">Shadow rules</h2>
      <p className="small muted">
        Rules tried on every decision without blocking anything: what each would have denied{operator ? "" : " of your machines' actions"} since it was added, from the
        signed decision records.
      </p>
      <ErrorNote error={rules.error} prefix="Rules could not load" />
      <ErrorNote error={remove.error} />
      {rules.isPending ? <Loading what="rules" /> : null}
      {rules.data && shadows.length === 0 ? <p className="muted">No rule is in shadow mode.</p> : null}
      {shadows.map((r) => {
        const rep = r.shadowReport ?? { matched: 0, wouldDeny: 0, recent: [] };
        return (
          <div key={r.id} data-testid={`shadow-rule-${r.id}`} style={{ borderTop: "1px solid #eef0f3", padding: "8px 0" }}>
            <div className="row">
              <strong className="mono">{r.id}</strong>
              <span className="small muted">
                {r.effect} {r.operations.join("+")} for <span className="mono">{r.actorPattern}</span> under <span className="mono">{r.scope || "/"}</span>
                {r.description ? ` — ${r.description}` : ""}
              </span>
              <span className="spacer" />
              {operator ? (
                <span className="actions">
                  <button
                    type="button"
                    className="btn-sm btn-primary"
                    disabled={setMode.isPending}
                    onClick={() => {
                      setMode.reset();
                      setPromoting(r);
                    }}
                    aria-label={`Promote ${r.id}`}
                  >
                    Promote
                  </button>
                  <button type="button" className="btn-sm btn-danger" disabled={remove.isPending} onClick={() => remove.mutate(r.id)} aria-label={`Drop ${r.id}`}>
                    Drop
                  </button>
                </span>
              ) : null}
            </div>
            <div className="bar-row" style={{ gridTemplateColumns: "120px 1fr 90px" }}>
              <span className="small">would deny</span>
              <div className="bar-track" role="img" aria-label={`would have denied ${rep.wouldDeny} of ${rep.matched} matched`}>
                <div className="bar-fill" style={{ width: `${(rep.wouldDeny / max) * 100}%` }} />
              </div>
              <span className="small" data-testid={`shadow-would-deny-${r.id}`}>
                {rep.wouldDeny} of {rep.matched}
              </span>
            </div>
            {rep.recent.length > 0 ? (
              <>
                <button type="button" className="btn-ghost btn-sm" aria-expanded={open === r.id} onClick={() => setOpen((o) => (o === r.id ? null : r.id))}>
                  {open === r.id ? "Hide" : "Show"} the decisions it would have denied
                </button>
                {open === r.id ? (
                  <table className="table" aria-label={`Decisions ${r.id} would have denied`}>
                    <thead>
                      <tr>
                        <th>Audit #</th>
                        <th>Action</th>
                        <th>Machine</th>
                        <th>Decided</th>
                      </tr>
                    </thead>
                    <tbody>
                      {rep.recent.map((d) => (
                        <tr key={d.auditSeq} data-testid={`shadow-denied-${d.actionId}`}>
                          <td className="mono small">{d.auditSeq}</td>
                          <td className="mono small">{d.actionId}</td>
                          <td className="mono small">{d.machine}</td>
                          <td>{d.permitted ? <span className="badge badge-ok">permitted</span> : <span className="badge badge-bad">blocked</span>}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : null}
              </>
            ) : null}
          </div>
        );
      })}
      {setMode.isSuccess ? (
        <p className="small status-ok" role="status">
          {setMode.data.id} is {setMode.data.mode === "enforce" ? "enforced: it now blocks what it matches" : "back in shadow"}.
        </p>
      ) : null}
      {promoting ? (
        <ConfirmDialog
          title={`Promote ${promoting.id} to enforce?`}
          confirmLabel="Promote rule"
          busy={setMode.isPending}
          error={setMode.error ? errorMessage(setMode.error) : null}
          onCancel={() => setPromoting(null)}
          onConfirm={() => setMode.mutate({ id: promoting.id, mode: "enforce" }, { onSuccess: () => setPromoting(null) })}
        >
          <p>
            From the next decision on, <span className="mono">{promoting.id}</span> {promoting.effect === "deny" ? "denies" : "allows"} {promoting.operations.join("+")} for
            machines matching <span className="mono">{promoting.actorPattern}</span> under <span className="mono">{promoting.scope || "/"}</span>, on every server. The
            promotion is an audited change of authority; it can be put back in shadow.
          </p>
          <WhatIfPreview changes={promotionChanges(promoting)} subject="Promoting this rule" />
        </ConfirmDialog>
      ) : null}
      <p style={{ marginTop: 10 }}>
        <Link href="/what-if">Try a change on the What-if page →</Link>
      </p>
    </section>
  );
}
