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
          <Count label="Max uses" value={draft.maxUses} disabled={disabled} onChange={(maxUses) => set({ maxUses })} />
        </label>
        <label className="field" style={{ marginBottom: 0 }}>
          <span>
            Max cost <span className="hint">(sum of the actions&apos; cost)</span>
          </span>
          <Count label="Max cost" min={0} value={draft.maxCost} disabled={disabled} onChange={(maxCost) => set({ maxCost })} />
        </label>
      </div>
      <div className="field" style={{ marginTop: 8, marginBottom: 0 }}>
        <span>
          Rate <span className="hint">(at most this many uses in any sliding window)</span>
        </span>
        <div className="row" style={{ flexWrap: "nowrap" }}>
          <Count label="Rate uses" narrow value={draft.rateUses} disabled={disabled} onChange={(rateUses) => set({ rateUses })} />
          <select value={draft.ratePeriod} disabled={disabled} aria-label="Rate period" style={{ width: "auto" }} onChange={(e) => set({ ratePeriod: e.target.value as RatePeriod })}>
            {RATE_PERIODS.map((p) => (
              <option key={p.key} value={p.key}>
                {p.label}
              </option>
            ))}
            <option value="custom">per … seconds</option>
          </select>
          {draft.ratePeriod === "custom" ? (
            <Count label="Rate seconds" placeholder="seconds" narrow value={draft.rateSeconds} disabled={disabled} onChange={(rateSeconds) => set({ rateSeconds })} />
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

/** One whole-number ceiling of a budget, kept as the text typed (the draft's owner parses it). */
function Count({
  label,
  value,
  onChange,
  disabled,
  min = 1,
  placeholder = "no limit",
  narrow = false,
}: {
  label: string;
  value: string;
  onChange: (text: string) => void;
  disabled?: boolean | undefined;
  min?: number;
  placeholder?: string;
  narrow?: boolean;
}) {
  return (
    <input
      type="number"
      min={min}
      step={1}
      inputMode="numeric"
      value={value}
      disabled={disabled}
      placeholder={placeholder}
      aria-label={label}
      {...(narrow ? { style: { maxWidth: 120 } } : {})}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}
