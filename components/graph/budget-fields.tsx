"use client";
import { RATE_PERIODS, type BudgetDraft, type RatePeriod } from "@/lib/client/budgets";

/**
 * The budget of a grant as three optional ceilings: uses in total, a rate (uses per sliding
 * window) and a cost. Shared by the grant dialog, the machine page's "set budget" and the inbox's
 * "raise the budget"; the owner of the draft parses it (lib/client/budgets.ts parseDraft).
 */
export function BudgetFields({
  draft,
  onChange,
  disabled,
  error,
}: {
  draft: BudgetDraft;
  onChange: (next: BudgetDraft) => void;
  disabled?: boolean;
  error?: string | null;
}) {
  const set = (patch: Partial<BudgetDraft>) => onChange({ ...draft, ...patch });
  return (
    <div data-testid="budget-fields">
      <div className="grid grid-2" style={{ gap: 8 }}>
        <label className="field" style={{ marginBottom: 0 }}>
          <span>
            Max uses <span className="hint">(in total)</span>
          </span>
          <input
            type="number"
            min={1}
            step={1}
            inputMode="numeric"
            value={draft.maxUses}
            disabled={disabled}
            placeholder="no limit"
            aria-label="Max uses"
            onChange={(e) => set({ maxUses: e.target.value })}
          />
        </label>
        <label className="field" style={{ marginBottom: 0 }}>
          <span>
            Max cost <span className="hint">(sum of the actions&apos; cost)</span>
          </span>
          <input
            type="number"
            min={0}
            step={1}
            inputMode="numeric"
            value={draft.maxCost}
            disabled={disabled}
            placeholder="no limit"
            aria-label="Max cost"
            onChange={(e) => set({ maxCost: e.target.value })}
          />
        </label>
      </div>
      <div className="field" style={{ marginTop: 8, marginBottom: 0 }}>
        <span>
          Rate <span className="hint">(at most this many uses in any sliding window)</span>
        </span>
        <div className="row" style={{ flexWrap: "nowrap" }}>
          <input
            type="number"
            min={1}
            step={1}
            inputMode="numeric"
            value={draft.rateUses}
            disabled={disabled}
            placeholder="no limit"
            aria-label="Rate uses"
            style={{ maxWidth: 120 }}
            onChange={(e) => set({ rateUses: e.target.value })}
          />
          <select value={draft.ratePeriod} disabled={disabled} aria-label="Rate period" style={{ width: "auto" }} onChange={(e) => set({ ratePeriod: e.target.value as RatePeriod })}>
            {RATE_PERIODS.map((p) => (
              <option key={p.key} value={p.key}>
                {p.label}
              </option>
            ))}
            <option value="custom">per … seconds</option>
          </select>
          {draft.ratePeriod === "custom" ? (
            <input
              type="number"
              min={1}
              step={1}
              inputMode="numeric"
              value={draft.rateSeconds}
              disabled={disabled}
              placeholder="seconds"
              aria-label="Rate seconds"
              style={{ maxWidth: 120 }}
              onChange={(e) => set({ rateSeconds: e.target.value })}
            />
          ) : null}
        </div>
      </div>
      {error ? (
        <p className="hint" role="alert" style={{ color: "var(--bad)", marginTop: 4 }}>
          {error}
        </p>
      ) : null}
    </div>
  );
}
