"use client";
import { budgetSummary, leftText, usedText } from "@/lib/client/budgets";
import { BudgetFields } from "../graph/budget-fields";
import type { ExhaustedBudgetView, RaiseChoice, RaisePlan } from "./approval-grants";

/**
 * The budgets a blocked action found used up, each with "Raise the budget": a larger budget,
 * pre-filled and editable, sent as `raise` with the approval. A budget the viewer may not raise
 * (its grantor answers to someone else) is shown with the fields disabled and why.
 */
export function RaiseBudgets({
  exhausted,
  choiceOf,
  plan,
  onChange,
}: {
  exhausted: readonly ExhaustedBudgetView[];
  choiceOf: (e: ExhaustedBudgetView) => RaiseChoice;
  plan: RaisePlan;
  onChange: (grant: string, choice: RaiseChoice) => void;
}) {
  return (
    <section aria-label="Used-up budgets" style={{ marginTop: 12 }}>
      <h3>Used-up budgets</h3>
      {exhausted.map((e) => {
        const c = choiceOf(e);
        return (
          <div key={e.grant} className="card" style={{ padding: 10, marginBottom: 8 }} data-testid={`exhausted-${e.grant}`}>
            <dl className="kv small" style={{ marginBottom: 6 }}>
              <dt>grant</dt>
              <dd>{e.grant}</dd>
              <dt>held by</dt>
              <dd>{e.holder}</dd>
              <dt>budget</dt>
              <dd>{budgetSummary(e.budget)}</dd>
              <dt>used</dt>
              <dd>{usedText(e.budget, e.usage)}</dd>
              <dt>left</dt>
              <dd data-testid="exhausted-left">{leftText(e.budget, e.usage)}</dd>
            </dl>
            <label className="check">
              <input
                type="checkbox"
                checked={e.canRaise && c.on}
                disabled={!e.canRaise}
                onChange={(ev) => onChange(e.grant, { ...c, on: ev.target.checked })}
                aria-label={`Raise the budget of ${e.grant}`}
              />{" "}
              Raise the budget
            </label>
            {!e.canRaise ? (
              <>
                <BudgetFields draft={c.draft} onChange={() => undefined} disabled />
                <p className="small muted" data-testid="cannot-raise" style={{ marginTop: 6 }}>
                  You cannot raise this budget: only the human who answers for the grant&apos;s grantor can. Refuse, or ask them to raise it.
                </p>
              </>
            ) : c.on ? (
              <>
                <BudgetFields draft={c.draft} onChange={(draft) => onChange(e.grant, { ...c, draft })} error={plan.problems.get(e.grant) ?? null} />
                {plan.shortfalls.has(e.grant) ? (
                  <p className="small" style={{ color: "var(--warn)", marginTop: 4 }}>
                    {plan.shortfalls.get(e.grant)}
                  </p>
                ) : null}
              </>
            ) : null}
          </div>
        );
      })}
    </section>
  );
}
