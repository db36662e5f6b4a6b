"use client";
import { useMemo, useState } from "react";
import type { RegistryDataJson } from "@/lib/contracts/console";
import { ApiRequestError } from "@/lib/client/api";
import { budgetRefusals, budgetSummary, draftOf, isRaise, leftText, maySetBudget, parseDraft, usedText, type BudgetDraft } from "@/lib/client/budgets";
import { useSetGrantBudget, type Grant } from "@/lib/client/hooks";
import type { GrantRefusal } from "@/lib/kernel/grant";
import { BudgetFields } from "../graph/budget-fields";
import { CodeList, ErrorNote } from "../ui/bits";
import { Dialog } from "../ui/dialog";

/** "report-q3" or "scope /data/alice": what a grant is over. */
export function grantTarget(g: Pick<Grant, "resource" | "scope">): string {
  return g.resource ?? `scope ${g.scope === "" ? "(every scope)" : (g.scope ?? "?")}`;
}

/**
 * The budgeted grants a machine holds, with what is used and left of each, and a "Set budget"
 * control per grant; "Add a budget…" when it holds unbudgeted grants the viewer may limit.
 */
export function MachineBudgets({
  machineId,
  grants,
  mine,
  onSet,
}: {
  machineId: string;
  grants: readonly Grant[];
  /** The viewer and their machines; null for the operator. */
  mine: ReadonlySet<string> | null;
  onSet: (choices: readonly Grant[]) => void;
}) {
  const held = grants.filter((g) => g.holder === machineId && g.revokedAt === null);
  const budgeted = held.filter((g) => g.budget !== null);
  const unbudgeted = held.filter((g) => g.budget === null && maySetBudget(mine, g));
  return (
    <div data-testid={`budgets-${machineId}`}>
      {budgeted.length === 0 ? <span className="faint small">no budgets</span> : null}
      {budgeted.length > 0 ? (
        <table className="table" aria-label={`Budgets of ${machineId}`} style={{ fontSize: 12.5 }}>
          <thead>
            <tr>
              <th>Grant</th>
              <th>Budget</th>
              <th>Used</th>
              <th>Left</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {budgeted.map((g) => {
              const allowed = maySetBudget(mine, g);
              return (
                <tr key={g.id} data-testid={`budget-${g.id}`}>
                  <td>
                    <span className="mono">{grantTarget(g)}</span>
                    <div className="mono faint" style={{ fontSize: 11 }}>
                      {g.id}
                    </div>
                  </td>
                  <td>{budgetSummary(g.budget)}</td>
                  <td>{g.budget && g.usage ? usedText(g.budget, g.usage) : "—"}</td>
                  <td data-testid="budget-left">{g.budget && g.usage ? leftText(g.budget, g.usage) : "—"}</td>
                  <td style={{ textAlign: "right" }}>
                    <button
                      type="button"
                      className="btn-sm"
                      disabled={!allowed}
                      title={allowed ? undefined : "Only the human who answers for its grantor can change this budget"}
                      onClick={() => onSet([g])}
                    >
                      Set budget…
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      {unbudgeted.length > 0 ? (
        <button type="button" className="btn-sm btn-ghost" style={{ marginTop: 4 }} onClick={() => onSet(unbudgeted)}>
          Add a budget…
        </button>
      ) : null}
    </div>
  );
}

/**
 * Sets, raises, lowers or removes the budget of one grant (POST /grants/{id}/budget). The kernel's
 * checkGrant runs in the browser with the new budget first, so a budget larger than the grantor's
 * (EXCEEDS_GRANTOR_BUDGET) is shown before anything is sent; usage is kept by the server.
 */
export function SetBudgetDialog({
  choices,
  registry,
  onClose,
  onDone,
}: {
  choices: readonly Grant[];
  registry: RegistryDataJson | undefined;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const setBudget = useSetGrantBudget();
  const [id, setId] = useState(choices[0]?.id ?? "");
  const grant = choices.find((g) => g.id === id) ?? choices[0];
  const [draft, setDraft] = useState<BudgetDraft>(() => draftOf(grant?.budget));
  const parsed = useMemo(() => parseDraft(draft), [draft]);
  const next = parsed.ok ? parsed.budget : null;
  const refusals = useMemo(
    () => (registry && grant && parsed.ok ? budgetRefusals(registry, new Map([[grant.id, parsed.budget]]), Date.now()) : []),
    [registry, grant, parsed],
  );
  const removeRefusals = useMemo(() => (registry && grant ? budgetRefusals(registry, new Map([[grant.id, null]]), Date.now()) : []), [registry, grant]);
  if (!grant) return null;
  const lowering = grant.budget !== null && next !== null && !isRaise(grant.budget, next);
  const unchanged = JSON.stringify(draftOf(grant.budget)) === JSON.stringify(draftOf(next));
  const serverRefusals: GrantRefusal[] | null =
    setBudget.error instanceof ApiRequestError && setBudget.error.code === "GRANT_REFUSED" && Array.isArray(setBudget.error.details)
      ? (setBudget.error.details as GrantRefusal[])
      : null;
  const submit = (budget: typeof next) =>
    setBudget.mutate(
      { id: grant.id, budget: budget === null ? null : { ...budget } },
      { onSuccess: (g) => onDone(budget === null ? `Removed the budget of ${g.id}.` : `The budget of ${g.id} is ${budgetSummary(g.budget)}.`) },
    );
  return (
    <Dialog title="Set budget" onClose={onClose}>
      <form
        aria-label="Set budget"
        onSubmit={(e) => {
          e.preventDefault();
          if (parsed.ok && next !== null && refusals.length === 0) submit(next);
        }}
      >
        {choices.length > 1 ? (
          <label className="field">
            <span>Grant</span>
            <select
              value={grant.id}
              aria-label="Grant"
              onChange={(e) => {
                setId(e.target.value);
                setDraft(draftOf(choices.find((g) => g.id === e.target.value)?.budget));
                setBudget.reset();
              }}
            >
              {choices.map((g) => (
                <option key={g.id} value={g.id}>
                  {grantTarget(g)} ({g.id})
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <dl className="kv small" style={{ marginBottom: 10 }}>
          <dt>grant</dt>
          <dd>{grant.id}</dd>
          <dt>holder</dt>
          <dd>{grant.holder}</dd>
          <dt>on</dt>
          <dd>{grantTarget(grant)}</dd>
          <dt>granted by</dt>
          <dd>{grant.grantor ?? "— (root claim)"}</dd>
          <dt>budget now</dt>
          <dd>{budgetSummary(grant.budget)}</dd>
          {grant.budget && grant.usage ? (
            <>
              <dt>used</dt>
              <dd>{usedText(grant.budget, grant.usage)}</dd>
              <dt>left</dt>
              <dd>{leftText(grant.budget, grant.usage)}</dd>
            </>
          ) : null}
        </dl>
        <BudgetFields draft={draft} onChange={setDraft} error={parsed.ok ? null : parsed.error} />
        <p className="small muted" style={{ marginTop: 8 }}>
          Uses already made are kept: raising 10 uses to 20 after 10 uses leaves 10.
          {lowering ? " This lowers the budget: if less is left than has been used, the grant is used up at once." : ""}
        </p>
        {refusals.length > 0 ? (
          <div className="callout callout-bad" data-testid="budget-refused">
            <strong>The kernel would refuse this budget</strong> (checkGrant in your browser; nothing was sent):
            <CodeList items={refusals} />
          </div>
        ) : null}
        <ErrorNote error={setBudget.error} prefix="The server refused" />
        {serverRefusals ? (
          <CodeList items={serverRefusals} className="small" />
        ) : null}
        <div className="dialog-actions">
          <button type="button" data-close onClick={onClose}>
            Cancel
          </button>
          {grant.budget !== null ? (
            <button
              type="button"
              className="btn-danger"
              disabled={setBudget.isPending || removeRefusals.length > 0}
              title={removeRefusals.length > 0 ? "The grantor's own authority here is under a budget, so this grant must keep one" : undefined}
              onClick={() => submit(null)}
            >
              Remove budget
            </button>
          ) : null}
          <button type="submit" className="btn-primary" disabled={!parsed.ok || next === null || unchanged || refusals.length > 0 || setBudget.isPending}>
            {setBudget.isPending ? "Saving…" : "Save budget"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
