"use client";
import { useEffect, useMemo, useState } from "react";
import { verifyEntryInBrowser, type EntryVerification } from "@/lib/client/audit-verify";
import { errorMessage } from "@/lib/client/api";
import { useAudit, useKeys, type AuditEntryJson } from "@/lib/client/hooks";
import { readPinnedKey, writePinnedKey, type PinnedKey } from "@/lib/client/pinned-key";
import type { AuditFilters } from "@/lib/client/query-keys";
import { VIOLATION_CODES } from "@/lib/kernel/types";
import { usePrincipal } from "../shell/session";
import { Empty, ErrorNote, Loading, Outcome, formatUtc } from "../ui/bits";
import { Dialog } from "../ui/dialog";
import { ResolvedTable } from "../ui/resolved-table";
import { decisionResolved, entrySummary } from "./entry-summary";
import { ExportVerifier } from "./export-verifier";

interface FilterForm {
  machine: string;
  outcome: "" | "permitted" | "blocked";
  code: string;
  kind: "" | "decision" | "plan" | "authority" | "key" | "system";
  from: string;
  to: string;
}

function toFilters(f: FilterForm, afterSeq: number | null): AuditFilters {
  const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  return {
    limit: 50,
    ...(f.machine.trim() ? { machine: f.machine.trim() } : {}),
    ...(f.outcome ? { outcome: f.outcome } : {}),
    ...(f.code ? { code: f.code as (typeof VIOLATION_CODES)[number] } : {}),
    ...(f.kind ? { kind: f.kind } : {}),
    ...(f.from ? { from: iso(f.from) } : {}),
    ...(f.to ? { to: iso(f.to) } : {}),
    ...(afterSeq !== null ? { afterSeq } : {}),
  };
}

export function AuditPage({ initialCode = "", initialMachine = "" }: { initialCode?: string; initialMachine?: string }) {
  const principal = usePrincipal();
  const operator = principal.role === "OPERATOR";
  const empty: FilterForm = { machine: initialMachine, outcome: "", code: initialCode, kind: "", from: "", to: "" };
  const [form, setForm] = useState<FilterForm>(empty);
  const [applied, setApplied] = useState<FilterForm>(empty);
  const [cursor, setCursor] = useState<number[]>([]);
  const afterSeq = cursor.at(-1) ?? null;
  const filters = useMemo(() => toFilters(applied, afterSeq), [applied, afterSeq]);
  const audit = useAudit(filters);
  const [selected, setSelected] = useState<AuditEntryJson | null>(null);
  const [pin, setPin] = useState<PinnedKey | null>(null);
  useEffect(() => setPin(readPinnedKey()), []);

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Audit log</h1>
          <p>
            Every decision and every change of authority, hash-chained, signed, and checkpointed in a Merkle tree. Verify any entry here with the kernel&apos;s own code
            against the key pinned in this browser — the server is trusted for nothing but the bytes.
          </p>
        </div>
      </div>
      <PinnedKeyPanel pin={pin} onPin={setPin} />
      <div className="grid" style={{ gridTemplateColumns: "minmax(0, 3fr) minmax(0, 2fr)", alignItems: "start" }}>
        <section className="card" aria-label="Entries">
          <form
            className="grid"
            style={{ gridTemplateColumns: "repeat(3, minmax(0, 1fr))", gap: "0 12px" }}
            onSubmit={(e) => {
              e.preventDefault();
              setCursor([]);
              setApplied(form);
            }}
            aria-label="Filter the audit log"
          >
            <label className="field">
              <span>Machine</span>
              <input value={form.machine} onChange={(e) => setForm({ ...form, machine: e.target.value })} aria-label="Machine" placeholder="machine id" />
            </label>
            <label className="field">
              <span>Outcome</span>
              <select value={form.outcome} onChange={(e) => setForm({ ...form, outcome: e.target.value as FilterForm["outcome"] })} aria-label="Outcome">
                <option value="">any</option>
                <option value="permitted">permitted</option>
                <option value="blocked">blocked</option>
              </select>
            </label>
            <label className="field">
              <span>Violation code</span>
              <select value={form.code} onChange={(e) => setForm({ ...form, code: e.target.value })} aria-label="Violation code">
                <option value="">any</option>
                {VIOLATION_CODES.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Kind</span>
              <select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value as FilterForm["kind"] })} aria-label="Kind">
                <option value="">any</option>
                <option value="decision">decisions</option>
                <option value="plan">plans</option>
                <option value="authority">authority changes</option>
                <option value="key">key events</option>
              </select>
            </label>
            <label className="field">
              <span>From</span>
              <input type="datetime-local" value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} aria-label="From" />
            </label>
            <label className="field">
              <span>To</span>
              <input type="datetime-local" value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} aria-label="To" />
            </label>
            <div className="actions" style={{ gridColumn: "1 / -1", marginBottom: 10 }}>
              <button type="submit" className="btn-primary btn-sm">
                Apply filters
              </button>
              <button
                type="button"
                className="btn-sm"
                onClick={() => {
                  const cleared: FilterForm = { machine: "", outcome: "", code: "", kind: "", from: "", to: "" };
                  setForm(cleared);
                  setApplied(cleared);
                  setCursor([]);
                }}
              >
                Clear
              </button>
            </div>
          </form>
          <ErrorNote error={audit.error} prefix="The log could not load" />
          {audit.isPending ? <Loading what="entries" /> : null}
          {audit.data && audit.data.entries.length === 0 ? <Empty>No entries match.</Empty> : null}
          {audit.data && audit.data.entries.length > 0 ? (
            <div className="table-wrap">
              <table className="table" aria-label="Audit entries">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>Time (UTC)</th>
                    <th>Kind</th>
                    <th>What</th>
                    <th>Outcome</th>
                  </tr>
                </thead>
                <tbody>
                  {audit.data.entries.map((e) => {
                    const s = entrySummary(e.payload);
                    return (
                      <tr
                        key={e.seq}
                        className={`clickable${selected?.seq === e.seq ? " selected" : ""}`}
                        onClick={() => setSelected(e)}
                        data-testid={`entry-${e.seq}`}
                        tabIndex={0}
                        onKeyDown={(k) => (k.key === "Enter" ? setSelected(e) : undefined)}
                      >
                        <td className="mono small">{e.seq}</td>
                        <td className="small nowrap">{e.recordedAt ? formatUtc(e.recordedAt) : ""}</td>
                        <td>
                          <span className="badge badge-muted">{s.kind}</span>
                        </td>
                        <td className="small">
                          <span className="mono">{s.title}</span>
                          {s.by ? <span className="muted"> by {s.by}</span> : null}
                          {s.detail ? <div className="faint mono" style={{ fontSize: 11.5 }}>{s.detail}</div> : null}
                        </td>
                        <td>{s.permitted === null ? null : <Outcome permitted={s.permitted} />}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          ) : null}
          <div className="actions" style={{ marginTop: 10 }}>
            <button type="button" className="btn-sm" disabled={cursor.length === 0} onClick={() => setCursor((c) => c.slice(0, -1))}>
              ← Newer
            </button>
            <button
              type="button"
              className="btn-sm"
              disabled={!audit.data?.nextAfterSeq && audit.data?.nextAfterSeq !== 0}
              onClick={() => audit.data?.nextAfterSeq != null && setCursor((c) => [...c, audit.data!.nextAfterSeq!])}
            >
              Older →
            </button>
          </div>
        </section>
        <div>
          {selected ? <EntryDetail key={selected.seq} entry={selected} pin={pin} /> : <div className="card small muted">Select an entry to see its signed record and verify it.</div>}
        </div>
      </div>
      <section className="card" aria-labelledby="export-heading">
        <h2 id="export-heading">Export and offline verification</h2>
        <div className="grid grid-2">
          <div>
            <h3>Export the whole log</h3>
            {operator ? (
              <>
                <p className="small muted">JSON Lines with the public keys and a checkpoint covering every entry. Verify it here or with the CLI.</p>
                <a className="btn btn-primary" href="/api/v1/audit/export" download data-testid="export-link">
                  Download export (.jsonl)
                </a>
              </>
            ) : (
              <>
                <button type="button" disabled aria-describedby="export-why">
                  Download export (.jsonl)
                </button>
                <p id="export-why" className="small muted" style={{ marginTop: 8 }} data-testid="export-why">
                  The full export is for the operator: it names every owner&apos;s machines and decisions. You can verify each of your own entries above — signature,
                  chain link and inclusion in the signed checkpoint — which reveals only hashes of everyone else&apos;s.
                </p>
              </>
            )}
          </div>
          <ExportVerifier pin={pin} />
        </div>
      </section>
    </>
  );
}

function PinnedKeyPanel({ pin, onPin }: { pin: PinnedKey | null; onPin: (p: PinnedKey) => void }) {
  const keys = useKeys();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const current = keys.data?.keys.find((k) => k.status === "current");
  const mismatch = pin && current && current.keyId !== pin.keyId;
  return (
    <section className={`callout ${pin ? (mismatch ? "callout-warn" : "callout-info") : "callout-warn"}`} aria-label="Verification key" data-testid="pinned-key">
      {pin ? (
        <>
          <strong>Verification key:</strong> <span className="mono">{pin.keyId}</span>,{" "}
          {pin.source === "first-sign-in" ? "pinned in this browser at the first sign-in" : "configured by you"} on {formatUtc(pin.pinnedAt)}. Every check on this page uses
          this key, not whatever the server serves now.
          {mismatch ? (
            <div style={{ marginTop: 6 }}>
              The server&apos;s current key is <span className="mono">{current.keyId}</span>, which is not your pin: entries it signed will fail here unless you pin it — do
              that only with a key you obtained out of band.
            </div>
          ) : null}
        </>
      ) : (
        <>
          <strong>No key is pinned in this browser.</strong> Pin the kernel&apos;s public key (from the operator, or GET /api/v1/keys) to verify records here.
        </>
      )}{" "}
      <button type="button" className="btn-ghost btn-sm" onClick={() => setEditing(true)}>
        {pin ? "Change pinned key…" : "Pin a key…"}
      </button>
      {editing ? (
        <Dialog title="Pin the verification key" onClose={() => setEditing(false)}>
          <p className="small muted">
            Paste the kernel&apos;s Ed25519 public key (64 hex characters) as you obtained it from the operator. Records are then verified against it only.
          </p>
          <label className="field">
            <span>Public key (hex)</span>
            <input value={value} onChange={(e) => setValue(e.target.value)} aria-label="Public key" spellCheck={false} className="mono" />
          </label>
          {current ? (
            <button type="button" className="btn-ghost btn-sm" onClick={() => setValue(current.publicKey)}>
              Use the key the server serves now ({current.keyId}) — trust on first use
            </button>
          ) : null}
          {error ? (
            <div className="callout callout-bad" role="alert">
              {error}
            </div>
          ) : null}
          <div className="dialog-actions">
            <button type="button" data-close onClick={() => setEditing(false)}>
              Cancel
            </button>
            <button
              type="button"
              className="btn-primary"
              onClick={() => {
                const r = writePinnedKey(value, "configured");
                if (typeof r === "string") setError(r);
                else {
                  onPin(r);
                  setEditing(false);
                }
              }}
            >
              Pin this key
            </button>
          </div>
        </Dialog>
      ) : null}
    </section>
  );
}

function EntryDetail({ entry, pin }: { entry: AuditEntryJson; pin: PinnedKey | null }) {
  const [result, setResult] = useState<EntryVerification | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const s = entrySummary(entry.payload);
  const resolved = useMemo(() => decisionResolved(entry.payload), [entry.payload]);
  async function run() {
    if (!pin) return;
    setBusy(true);
    setError(null);
    try {
      setResult(await verifyEntryInBrowser(entry, pin));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="card" aria-label={`Entry ${entry.seq}`} data-testid="entry-detail">
      <h2>
        Entry #{entry.seq}
        <span className="badge badge-muted">{s.kind}</span>
      </h2>
      <dl className="kv" style={{ marginBottom: 12 }}>
        <dt>recorded</dt>
        <dd>{entry.recordedAt ?? "—"}</dd>
        <dt>key</dt>
        <dd>{entry.keyId}</dd>
        <dt>entry hash</dt>
        <dd>{entry.entryHash}</dd>
        <dt>prev hash</dt>
        <dd>{entry.prevHash}</dd>
        <dt>signature</dt>
        <dd>{entry.signature}</dd>
      </dl>
      {resolved.length > 0 ? (
        <>
          <h3>Object references</h3>
          <p className="small muted">How the decision resolved each path or URI the action named (part of the signed record).</p>
          <ResolvedTable resolved={resolved} testId="entry-resolved" />
        </>
      ) : null}
      <h3>Signed payload</h3>
      <pre className="json" data-testid="entry-payload">
        {JSON.stringify(entry.payload, null, 2)}
      </pre>
      <div className="actions">
        <button type="button" className="btn-primary" onClick={() => void run()} disabled={!pin || busy}>
          {busy ? "Verifying…" : "Verify in this browser"}
        </button>
        {!pin ? <span className="small muted">Pin a key first.</span> : null}
      </div>
      {error ? (
        <div className="callout callout-bad" role="alert" style={{ marginTop: 10 }}>
          {error}
        </div>
      ) : null}
      {result ? (
        <div style={{ marginTop: 12 }} data-testid="verify-result">
          <div className={`callout ${result.ok ? "callout-ok" : "callout-bad"}`} data-testid="verify-verdict">
            <strong>{result.ok ? `Entry #${result.seq} verified.` : `Entry #${result.seq} did NOT verify.`}</strong> Checked in this browser with the kernel&apos;s code against
            the pinned key <span className="mono">{result.keyUsed.keyId}</span> ({result.keyUsed.source === "first-sign-in" ? "pinned at first sign-in" : "configured by you"})
            {result.checkpointSize !== null ? `, and the signed checkpoint of ${result.checkpointSize} entries` : ""}.
          </div>
          <ul className="checklist">
            {result.steps.map((st) => (
              <li key={st.id} className={st.status} data-testid={`check-${st.id}`} data-status={st.status}>
                <span className="mark" aria-hidden="true">
                  {st.status === "pass" ? "✓" : st.status === "fail" ? "✗" : "–"}
                </span>
                <div>
                  <strong>{st.label}</strong> <span className="sr-only">{st.status}</span>
                  <div className="small muted">{st.detail}</div>
                </div>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
