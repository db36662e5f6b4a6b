"use client";
import Link from "next/link";
import { useMemo } from "react";
import { budgetSummary, closestToExhaustion, leftText } from "@/lib/client/budgets";
import { useGrants } from "@/lib/client/hooks";
import { ErrorNote, Loading } from "../ui/bits";
import { grantTarget } from "../machines/machine-budgets";

/**
 * The ten budgeted grants (not revoked) with the smallest fraction left over their members —
 * uses, cost and the rate window — from GET /grants: what will start refusing first.
 */
export function BudgetsPanel() {
  const grants = useGrants();
  const top = useMemo(() => closestToExhaustion(grants.data ?? [], 10), [grants.data]);
  return (
    <section className="card" aria-labelledby="budgets-heading" data-testid="budgets-panel" style={{ marginTop: 16 }}>
      <h2 id="budgets-heading">Budgets closest to exhaustion</h2>
      <ErrorNote error={grants.error} prefix="Grants could not load" />
      {grants.isPending ? <Loading what="budgets" /> : null}
      {grants.data && top.length === 0 ? <p className="muted">No grant has a budget. Set one when you grant, or on the machines page.</p> : null}
      {top.length > 0 ? (
        <table className="table" aria-label="Budgets closest to exhaustion">
          <thead>
            <tr>
              <th>Holder</th>
              <th>Grant</th>
              <th>Budget</th>
              <th>Left</th>
              <th style={{ width: "22%" }} />
            </tr>
          </thead>
          <tbody>
            {top.map((g) => (
              <tr key={g.id} data-testid={`budget-row-${g.id}`}>
                <td className="mono small">{g.holder}</td>
                <td className="small">
                  <span className="mono">{grantTarget(g)}</span>
                  <div className="mono faint" style={{ fontSize: 11 }}>
                    {g.id}
                  </div>
                </td>
                <td className="small">{budgetSummary(g.budget)}</td>
                <td className={`small${g.fraction === 0 ? " status-bad" : ""}`}>{leftText(g.budget, g.usage)}</td>
                <td>
                  <div className="bar-track" role="img" aria-label={`${Math.round(g.fraction * 100)}% left`}>
                    <div className="bar-fill" style={{ width: `${g.fraction * 100}%`, background: g.fraction <= 0.2 ? undefined : "#1d7a45" }} />
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <p style={{ marginTop: 10 }}>
        <Link href="/machines">Set budgets on the machines page →</Link>
      </p>
    </section>
  );
}
