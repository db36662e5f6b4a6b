"use client";
import { useMemo, useState } from "react";
import type { RegistryDataJson } from "@/lib/contracts/console";
import { ApiRequestError, errorMessage } from "@/lib/client/api";
import { EMPTY_DRAFT, budgetSummary, parseDraft, type BudgetDraft } from "@/lib/client/budgets";
import { useCreateGrant } from "@/lib/client/hooks";
import { checkGrant, type GrantRefusal } from "@/lib/kernel/grant";
import { validateScope } from "@/lib/kernel/scope";
import type { Snapshot } from "@/lib/kernel/snapshot";
import { CodeList } from "../ui/bits";
import { Dialog, DialogActions } from "../ui/dialog";
import { WhatIfPreview } from "../what-if/what-if-preview";
import { BudgetFields } from "./budget-fields";
import { formToProposal, formToRequest, refusalFamily, scopeLabel, type GrantForm, type GrantTarget } from "./model";

const EXPIRY_PRESETS = [
  { key: "never", label: "No expiry", ms: null },
  { key: "1h", label: "1 hour", ms: 3_600_000 },
  { key: "1d", label: "1 day", ms: 86_400_000 },
  { key: "7d", label: "7 days", ms: 7 * 86_400_000 },
  { key: "30d", label: "30 days", ms: 30 * 86_400_000 },
  { key: "custom", label: "Until…", ms: null },
] as const;
type ExpiryKey = (typeof EXPIRY_PRESETS)[number]["key"];

function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

export interface GrantDialogProps {
  registry: RegistryDataJson;
  snapshot: Snapshot;
  /** The owner's id; null for the operator. */
  viewer: string | null;
  initial: GrantTarget & { holder?: string };
  onClose: () => void;
  onGranted: (message: string) => void;
}

/**
 * Draw-a-grant form. The kernel's checkGrant runs in the browser on every edit and the Grant
 * button stays disabled while it refuses, so nothing is sent that the kernel would refuse; the
 * server runs the same check again before writing.
 */
export function GrantDialog({ registry, snapshot, viewer, initial, onClose, onGranted }: GrantDialogProps) {
  const create = useCreateGrant();
  const ownerOf = useMemo(() => new Map(registry.machineOwners.map((m) => [m.machine, m.owner])), [registry]);
  const rootOwner = useMemo(() => {
    const m = new Map<string, string>();
    for (const c of registry.claims) if (!c.grantor && c.resource && !m.has(c.resource)) m.set(c.resource, c.holder);
    return m;
  }, [registry]);
  const myEntities = useMemo(
    () => registry.entities.filter((e) => viewer === null || e.id === viewer || ownerOf.get(e.id) === viewer),
    [registry, viewer, ownerOf],
  );
  const defaultGrantor = viewer ?? (initial.resource ? rootOwner.get(initial.resource) : undefined) ?? myEntities.find((e) => e.kind === "HUMAN")?.id ?? "";
  const defaultScope = initial.scope ?? (initial.resource ? (registry.resources.find((r) => r.id === initial.resource)?.scope ?? "") : "");

  const [form, setForm] = useState<GrantForm>({
    target: initial.scope !== undefined ? "scope" : "resource",
    resource: initial.resource ?? registry.resources[0]?.id ?? "",
    scope: defaultScope,
    holder: initial.holder ?? "",
    grantor: defaultGrantor,
    canRead: true,
    canWrite: false,
    canDelegate: false,
    confidence: 1,
    expiresAt: null,
    budget: null,
  });
  const [expiry, setExpiry] = useState<ExpiryKey>("never");
  const [customHolder, setCustomHolder] = useState(false);
  const [budgetDraft, setBudgetDraft] = useState<BudgetDraft>(EMPTY_DRAFT);
  const set = (patch: Partial<GrantForm>) => setForm((f) => ({ ...f, ...patch }));
  const budgetParse = useMemo(() => parseDraft(budgetDraft), [budgetDraft]);
  // The budget is part of what checkGrant judges (EXCEEDS_GRANTOR_BUDGET), so it joins the form
  // as soon as it parses; a draft that does not parse blocks the Grant button on its own.
  const proposed = useMemo<GrantForm>(() => ({ ...form, budget: budgetParse.ok ? budgetParse.budget : null }), [form, budgetParse]);

  const holderKnown = registry.entities.some((e) => e.id === form.holder);
  const scopeCheck = form.target === "scope" ? validateScope(form.scope) : null;
  const check = useMemo(() => checkGrant(snapshot, formToProposal(proposed), Date.now()), [snapshot, proposed]);
  // A holder outside this owner's view (another owner, typed by id) cannot be checked here: the
  // registry view leaves other owners out. Only that refusal is waived; the server checks it all.
  const blocking = check.violations.filter((v) => !(v.code === "UNKNOWN_HOLDER" && !holderKnown && form.holder !== ""));
  const canSubmit = form.holder !== "" && form.grantor !== "" && blocking.length === 0 && budgetParse.ok && !create.isPending;

  const serverRefusals: GrantRefusal[] | null =
    create.error instanceof ApiRequestError && create.error.code === "GRANT_REFUSED" && Array.isArray(create.error.details)
      ? (create.error.details as GrantRefusal[])
      : null;

  const targetText = form.target === "resource" ? form.resource : `scope ${scopeLabel(form.scope)}`;
  const rightsText = [form.canRead ? "read" : "", form.canWrite ? "write" : "", form.canDelegate ? "delegate" : ""].filter(Boolean).join(", ") || "no rights";

  function submit() {
    create.mutate(formToRequest(proposed), {
      onSuccess: (g) => {
        onGranted(`Granted ${rightsText} on ${targetText} to ${g.holder}.`);
        onClose();
      },
    });
  }

  const humans = registry.entities.filter((e) => e.kind === "HUMAN");
  const machines = registry.entities.filter((e) => e.kind === "MACHINE");

  return (
    <Dialog title="Grant rights" onClose={onClose} wide>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (canSubmit) submit();
        }}
        aria-label="Grant rights"
      >
        <div className="grid grid-2" style={{ gap: 12 }}>
          <fieldset>
            <legend>On</legend>
            <label className="check">
              <input type="radio" name="target" checked={form.target === "resource"} onChange={() => set({ target: "resource" })} /> a resource
            </label>
            <label className="check">
              <input type="radio" name="target" checked={form.target === "scope"} onChange={() => set({ target: "scope" })} /> everything under a scope
            </label>
            {form.target === "resource" ? (
              <label className="field" style={{ marginTop: 8 }}>
                <span>Resource</span>
                <select value={form.resource} onChange={(e) => set({ resource: e.target.value })} aria-label="Resource">
                  {registry.resources.map((r) => (
                    <option key={r.id} value={r.id}>
                      {r.id} ({r.scope || "root"})
                    </option>
                  ))}
                </select>
              </label>
            ) : (
              <label className="field" style={{ marginTop: 8 }}>
                <span>Scope</span>
                <input value={form.scope} onChange={(e) => set({ scope: e.target.value })} aria-label="Scope" placeholder="/data/team" spellCheck={false} />
                {scopeCheck && !scopeCheck.ok ? <span className="hint" style={{ color: "var(--bad)" }}>{scopeCheck.reason}</span> : null}
              </label>
            )}
          </fieldset>
          <fieldset>
            <legend>To and from</legend>
            <label className="field">
              <span>Holder</span>
              {customHolder ? (
                <input value={form.holder} onChange={(e) => set({ holder: e.target.value.trim() })} aria-label="Holder" placeholder="another owner's id" />
              ) : (
                <select value={form.holder} onChange={(e) => set({ holder: e.target.value })} aria-label="Holder">
                  <option value="">Choose…</option>
                  <optgroup label="Machines">
                    {machines.map((m) => (
                      <option key={m.id} value={m.id}>
                        {m.displayName} ({m.id})
                      </option>
                    ))}
                  </optgroup>
                  <optgroup label="People">
                    {humans.map((h) => (
                      <option key={h.id} value={h.id}>
                        {h.displayName} ({h.id})
                      </option>
                    ))}
                  </optgroup>
                </select>
              )}
              <button type="button" className="btn-ghost btn-sm" style={{ alignSelf: "flex-start" }} onClick={() => setCustomHolder((v) => !v)}>
                {customHolder ? "Pick from the graph" : "Share with another owner by id…"}
              </button>
            </label>
            <label className="field">
              <span>Grantor</span>
              <select value={form.grantor} onChange={(e) => set({ grantor: e.target.value })} aria-label="Grantor">
                {myEntities.map((e) => (
                  <option key={e.id} value={e.id}>
                    {e.displayName} ({e.id}){e.id === viewer ? " — you" : ""}
                  </option>
                ))}
              </select>
            </label>
          </fieldset>
        </div>
        <div className="grid grid-2" style={{ gap: 12 }}>
          <fieldset>
            <legend>Rights</legend>
            <label className="check">
              <input type="checkbox" checked={form.canRead} onChange={(e) => set({ canRead: e.target.checked })} /> Read
            </label>
            <label className="check">
              <input type="checkbox" checked={form.canWrite} onChange={(e) => set({ canWrite: e.target.checked })} /> Write
            </label>
            <label className="check">
              <input type="checkbox" checked={form.canDelegate} onChange={(e) => set({ canDelegate: e.target.checked })} /> Delegate
            </label>
            <label className="field" style={{ marginTop: 8 }}>
              <span>
                Confidence <span className="hint">(below 0.8 every use is contested)</span>
              </span>
              <input
                type="number"
                min={0.01}
                max={1}
                step="any"
                value={form.confidence}
                aria-label="Confidence"
                onChange={(e) => set({ confidence: Number(e.target.value) })}
              />
            </label>
          </fieldset>
          <fieldset>
            <legend>Expiry</legend>
            <select
              value={expiry}
              aria-label="Expiry"
              onChange={(e) => {
                const key = e.target.value as ExpiryKey;
                setExpiry(key);
                const preset = EXPIRY_PRESETS.find((p) => p.key === key);
                if (key === "custom") set({ expiresAt: form.expiresAt ?? Date.now() + 86_400_000 });
                else set({ expiresAt: preset?.ms != null ? Date.now() + preset.ms : null });
              }}
            >
              {EXPIRY_PRESETS.map((p) => (
                <option key={p.key} value={p.key}>
                  {p.label}
                </option>
              ))}
            </select>
            {expiry === "custom" ? (
              <input
                type="datetime-local"
                style={{ marginTop: 8 }}
                aria-label="Expires at"
                value={form.expiresAt ? toLocalInput(form.expiresAt) : ""}
                onChange={(e) => {
                  const t = new Date(e.target.value).getTime();
                  if (Number.isFinite(t)) set({ expiresAt: t });
                }}
              />
            ) : null}
            {form.expiresAt !== null ? <p className="small muted" style={{ marginTop: 6 }}>Until {new Date(form.expiresAt).toISOString().replace("T", " ").slice(0, 16)} UTC</p> : null}
          </fieldset>
        </div>

        <fieldset data-testid="grant-budget">
          <legend>
            Budget <span className="small muted">(optional: leave empty for unlimited use)</span>
          </legend>
          <BudgetFields draft={budgetDraft} onChange={setBudgetDraft} error={budgetParse.ok ? null : budgetParse.error} />
        </fieldset>

        <section aria-live="polite" data-testid="grant-check">
          {form.holder === "" ? (
            <div className="callout callout-info">Choose who receives the grant; the kernel checks it as you edit.</div>
          ) : blocking.length === 0 ? (
            <div className="callout callout-ok">
              <strong>Kernel check passed</strong> (checkGrant in your browser, registry v{registry.version}):{" "}
              {form.holder || "the holder"} would get {rightsText} on {targetText} from {form.grantor}
              {form.expiresAt !== null ? " until the expiry" : ", with no expiry"}
              {proposed.budget !== null ? `, under a budget of ${budgetSummary(proposed.budget)}` : ""}.
              {!holderKnown && form.holder ? (
                <div className="small" style={{ marginTop: 4 }}>
                  {form.holder} is not in your view of the registry, so the browser cannot check this holder; the server will.
                </div>
              ) : null}
            </div>
          ) : (
            <div className="callout callout-bad" data-testid="grant-refused">
              <strong>The kernel would refuse this grant</strong> (checkGrant in your browser; nothing was sent):
              <ul>
                {blocking.map((v, i) => (
                  <li key={`${v.code}-${i}`}>
                    <span className="badge badge-bad">{refusalFamily(v.code)}</span> <span className="code-pill">{v.code}</span> {v.message}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </section>
        {/* What the grant would have permitted of the machines' recent actions (only for a grant the kernel accepts). */}
        <WhatIfPreview changes={holderKnown && blocking.length === 0 && budgetParse.ok && form.grantor !== "" ? [{ op: "grant", ...formToRequest(proposed) }] : null} subject="This grant" />
        {create.error ? (
          <div className="callout callout-bad" role="alert">
            <strong>The server refused:</strong> {errorMessage(create.error)}
            {serverRefusals ? (
              <CodeList items={serverRefusals} />
            ) : null}
          </div>
        ) : null}
        <DialogActions onClose={onClose} submitLabel={create.isPending ? "Granting…" : "Grant"} disabled={!canSubmit} />
      </form>
    </Dialog>
  );
}
