"use client";
import { useMemo, useState } from "react";
import { errorMessage } from "@/lib/client/api";
import { useKeys, useRegistry } from "@/lib/client/hooks";
import {
  DEFAULT_WINDOW,
  NO_FLIP_FILTER,
  compareWithServer,
  describeChange,
  filterFlips,
  flipFacets,
  replayItems,
  replayLocally,
  simulateBody,
  withRules,
  type Change,
  type FlipFilter,
} from "@/lib/client/what-if";
import { useDecisionWindow, useRules, useSimulate } from "@/lib/client/what-if-hooks";
import { verifySimulation } from "@/lib/kernel/simulate";
import type { RegistryData } from "@/lib/kernel/types";
import { usePrincipal } from "../shell/session";
import { ErrorNote, Loading, formatUtc } from "../ui/bits";
import { FlipList } from "./flip-list";

type Kind = Change["op"];
const KINDS: { op: Kind; label: string; operator?: boolean }[] = [
  { op: "revoke", label: "Revoke a grant" },
  { op: "halt", label: "Halt a machine" },
  { op: "resume", label: "Resume a machine" },
  { op: "grant", label: "Grant rights" },
  { op: "removeResource", label: "Remove a resource" },
  { op: "addRule", label: "Add a policy rule", operator: true },
  { op: "removeRule", label: "Remove a policy rule", operator: true },
];

interface Draft {
  op: Kind;
  grant: string;
  machine: string;
  resource: string;
  holder: string;
  grantor: string;
  target: "resource" | "scope";
  scope: string;
  canRead: boolean;
  canWrite: boolean;
  canDelegate: boolean;
  rule: string;
  effect: "allow" | "deny";
  operations: { read: boolean; write: boolean; delegate: boolean };
  actorPattern: string;
  priority: number;
  mode: "enforce" | "shadow";
}

const EMPTY: Draft = {
  op: "revoke",
  grant: "",
  machine: "",
  resource: "",
  holder: "",
  grantor: "",
  target: "resource",
  scope: "",
  canRead: true,
  canWrite: false,
  canDelegate: false,
  rule: "",
  effect: "deny",
  operations: { read: true, write: false, delegate: false },
  actorPattern: "*",
  priority: 100,
  mode: "enforce",
};

/** The change a draft row stands for, or why it is not complete yet. */
function draftChange(d: Draft): Change | string {
  switch (d.op) {
    case "revoke":
      return d.grant ? { op: "revoke", grant: d.grant } : "choose a grant";
    case "halt":
    case "resume":
      return d.machine ? { op: d.op, machine: d.machine } : "choose a machine";
    case "removeResource":
      return d.resource ? { op: "removeResource", resource: d.resource } : "choose a resource";
    case "removeRule":
      return d.rule ? { op: "removeRule", rule: d.rule } : "choose a rule";
    case "grant":
      if (!d.holder) return "choose a holder";
      if (d.target === "resource" && !d.resource) return "choose a resource";
      return {
        op: "grant",
        holder: d.holder,
        ...(d.target === "resource" ? { resource: d.resource } : { scope: d.scope }),
        canRead: d.canRead,
        canWrite: d.canWrite,
        canDelegate: d.canDelegate,
        ...(d.grantor ? { grantor: d.grantor } : {}),
      };
    case "addRule": {
      const operations = (["read", "write", "delegate"] as const).filter((o) => d.operations[o]);
      if (operations.length === 0) return "choose at least one operation";
      if (!d.actorPattern) return "give an actor pattern";
      return { op: "addRule", priority: d.priority, effect: d.effect, operations, actorPattern: d.actorPattern, scope: d.scope, mode: d.mode };
    }
    default:
      return "choose a change";
  }
}

/**
 * The What-if page (issue 12): a hand-made change set, replayed by the server against the recent
 * decisions (POST /simulate), the flips with filters, and the signed answer verified in the
 * browser against the kernel's published key. The browser replays the same set on its view of
 * the registry when the window is the default one, and says whether it agrees.
 */
export function WhatIfPage() {
  const principal = usePrincipal();
  const operator = principal.role === "OPERATOR";
  const registryQuery = useRegistry();
  const rules = useRules();
  const keys = useKeys();
  const simulate = useSimulate();
  const decisions = useDecisionWindow();
  const [changes, setChanges] = useState<Change[]>([]);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [last, setLast] = useState(DEFAULT_WINDOW);
  const [windowMachine, setWindowMachine] = useState("");
  const [since, setSince] = useState("");
  const [filter, setFilter] = useState<FlipFilter>(NO_FLIP_FILTER);
  const [ranWith, setRanWith] = useState<{ changes: Change[]; defaultWindow: boolean; at: number } | null>(null);

  const registry = registryQuery.data ? (registryQuery.data.registry as RegistryData) : null;
  const viewer = registryQuery.data?.viewer ?? null;
  const machines = registry?.entities.filter((e) => e.kind === "MACHINE") ?? [];
  const holders = registry?.entities ?? [];
  const grants = registry?.claims.filter((c) => c.grantor !== undefined && c.revokedAt === undefined) ?? [];
  const resources = registry?.resources ?? [];
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const pending = draftChange(draft);

  const answer = simulate.data ?? null;
  const record = answer?.record ?? null;
  const facets = useMemo(() => (record ? flipFacets(record.flips) : { machines: [], codes: [] }), [record]);
  const shown = useMemo(() => (record ? filterFlips(record.flips, filter) : []), [record, filter]);
  const key = keys.data?.keys.find((k) => k.keyId === answer?.keyId) ?? null;
  const signatureOk = answer && key ? verifySimulation(answer.record, answer.signature, key.publicKey) : null;
  // The browser's own replay of the same set (the default window only: it is what GET /audit gives).
  const local = useMemo(() => {
    if (!ranWith?.defaultWindow || !registry || !decisions.data) return null;
    return replayLocally(withRules(registry, rules.data), ranWith.changes, replayItems(decisions.data.entries), { viewer, now: ranWith.at });
  }, [ranWith, registry, rules.data, decisions.data, viewer]);
  const comparison = local?.ok && record ? compareWithServer(local.result, record) : null;

  function run() {
    const sinceMs = since ? new Date(since).getTime() : NaN;
    const window = {
      ...(last !== DEFAULT_WINDOW ? { last } : {}),
      ...(windowMachine ? { machines: [windowMachine] } : {}),
      ...(Number.isFinite(sinceMs) ? { since: new Date(sinceMs).toISOString() } : {}),
    };
    const defaultWindow = Object.keys(window).length === 0;
    setFilter(NO_FLIP_FILTER);
    if (defaultWindow) void decisions.refetch();
    simulate.mutate(simulateBody(changes, window), { onSuccess: () => setRanWith({ changes, defaultWindow, at: Date.now() }) });
  }

  if (registryQuery.isPending) return <Loading what="the registry" />;

  return (
    <>
      <div className="page-header">
        <div>
          <h1>What if</h1>
          <p>
            Build a change of authority and see what it would have done to {operator ? "every machine's" : "your machines'"} recent decisions before anyone commits it. The
            server applies the changes in a transaction it rolls back, replays the logged actions with the kernel against both registries and signs the answer; nothing
            changes.
          </p>
        </div>
      </div>
      <ErrorNote error={registryQuery.error} prefix="The registry could not load" />
      <div className="grid grid-2">
        <section className="card" aria-labelledby="changes-heading">
          <h2 id="changes-heading">Change set</h2>
          {changes.length === 0 ? <p className="muted">No change yet: add one below.</p> : null}
          <ol data-testid="change-set" style={{ paddingLeft: 18 }}>
            {changes.map((c, i) => (
              <li key={i} className="row">
                <span className="mono small">{describeChange(c)}</span>
                <span className="spacer" />
                <button type="button" className="btn-ghost btn-sm" onClick={() => setChanges((cs) => cs.filter((_, j) => j !== i))} aria-label={`Remove change ${i + 1}`}>
                  Remove
                </button>
              </li>
            ))}
          </ol>
          <form
            className="stack"
            aria-label="Add a change"
            onSubmit={(e) => {
              e.preventDefault();
              if (typeof pending !== "string") {
                setChanges((cs) => [...cs, pending]);
                setDraft((d) => ({ ...EMPTY, op: d.op }));
              }
            }}
          >
            <label className="field">
              <span>Change</span>
              <select value={draft.op} onChange={(e) => set({ op: e.target.value as Kind })} aria-label="Kind of change">
                {KINDS.filter((k) => operator || !k.operator).map((k) => (
                  <option key={k.op} value={k.op}>
                    {k.label}
                  </option>
                ))}
              </select>
            </label>
            {draft.op === "revoke" ? (
              <Pick label="Grant" aria="Grant to revoke" value={draft.grant} onChange={(grant) => set({ grant })} items={grants.map((g) => ({ value: g.id, text: `${g.id}: ${g.holder} on ${g.resource ?? g.scope} (from ${g.grantor})` }))} />
            ) : null}
            {draft.op === "halt" || draft.op === "resume" ? (
              <Pick label="Machine" value={draft.machine} onChange={(machine) => set({ machine })} items={machines.map(entityItem)} />
            ) : null}
            {draft.op === "removeResource" || (draft.op === "grant" && draft.target === "resource") ? (
              <Pick label="Resource" value={draft.resource} onChange={(resource) => set({ resource })} items={resources.map((r) => ({ value: r.id, text: `${r.id} (${r.scope || "/"})` }))} />
            ) : null}
            {draft.op === "grant" ? (
              <>
                <Pick label="Holder" value={draft.holder} onChange={(holder) => set({ holder })} items={holders.map(entityItem)} />
                <Pick
                  label={`Grantor ${operator ? "" : "(default: you)"}`}
                  aria="Grantor"
                  none={operator ? "Choose…" : "You"}
                  value={draft.grantor}
                  onChange={(grantor) => set({ grantor })}
                  items={holders.map(entityItem)}
                />
                <label className="check">
                  <input type="checkbox" checked={draft.target === "scope"} onChange={(e) => set({ target: e.target.checked ? "scope" : "resource" })} /> on a scope instead of
                  a resource
                </label>
                <div className="row">
                  <label className="check">
                    <input type="checkbox" checked={draft.canRead} onChange={(e) => set({ canRead: e.target.checked })} /> Read
                  </label>
                  <label className="check">
                    <input type="checkbox" checked={draft.canWrite} onChange={(e) => set({ canWrite: e.target.checked })} /> Write
                  </label>
                  <label className="check">
                    <input type="checkbox" checked={draft.canDelegate} onChange={(e) => set({ canDelegate: e.target.checked })} /> Delegate
                  </label>
                </div>
              </>
            ) : null}
            {draft.op === "removeRule" ? (
              <Pick
                label="Rule"
                value={draft.rule}
                onChange={(rule) => set({ rule })}
                items={(rules.data ?? []).map((r) => ({ value: r.id, text: `${r.id} (${r.mode}: ${r.effect} ${r.operations.join("+")} ${r.actorPattern})` }))}
              />
            ) : null}
            {draft.op === "addRule" ? (
              <>
                <div className="row">
                  <label className="field">
                    <span>Effect</span>
                    <select value={draft.effect} onChange={(e) => set({ effect: e.target.value as Draft["effect"] })} aria-label="Effect">
                      <option value="deny">deny</option>
                      <option value="allow">allow</option>
                    </select>
                  </label>
                  <label className="field">
                    <span>Priority</span>
                    <input type="number" value={draft.priority} onChange={(e) => set({ priority: Math.trunc(Number(e.target.value)) || 0 })} aria-label="Priority" />
                  </label>
                  <label className="field">
                    <span>Mode</span>
                    <select value={draft.mode} onChange={(e) => set({ mode: e.target.value as Draft["mode"] })} aria-label="Mode">
                      <option value="enforce">enforce</option>
                      <option value="shadow">shadow</option>
                    </select>
                  </label>
                </div>
                <div className="row">
                  {(["read", "write", "delegate"] as const).map((o) => (
                    <label key={o} className="check">
                      <input type="checkbox" checked={draft.operations[o]} onChange={(e) => set({ operations: { ...draft.operations, [o]: e.target.checked } })} /> {o}
                    </label>
                  ))}
                </div>
                <label className="field">
                  <span>Actor pattern (glob over machine ids)</span>
                  <input value={draft.actorPattern} onChange={(e) => set({ actorPattern: e.target.value })} aria-label="Actor pattern" spellCheck={false} />
                </label>
              </>
            ) : null}
            {draft.op === "addRule" || (draft.op === "grant" && draft.target === "scope") ? (
              <label className="field">
                <span>Scope</span>
                <input value={draft.scope} onChange={(e) => set({ scope: e.target.value })} aria-label="Scope" placeholder="/data/team" spellCheck={false} />
              </label>
            ) : null}
            <div className="actions">
              <button type="submit" disabled={typeof pending === "string"}>
                Add to the change set
              </button>
              {typeof pending === "string" ? <span className="small muted">{pending}</span> : null}
            </div>
          </form>
        </section>

        <section className="card" aria-labelledby="window-heading">
          <h2 id="window-heading">Window</h2>
          <label className="field">
            <span>Replay the last … decisions</span>
            <input type="number" min={1} max={10_000} value={last} onChange={(e) => setLast(Math.min(10_000, Math.max(1, Math.trunc(Number(e.target.value)) || 1)))} aria-label="Last decisions" />
          </label>
          <Pick label="Of" aria="Window machine" none={operator ? "every machine" : "all my machines"} value={windowMachine} onChange={setWindowMachine} items={machines.map(entityItem)} />
          <label className="field">
            <span>Since (optional, your local time)</span>
            <input type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} aria-label="Since" />
          </label>
          <button type="button" className="btn-primary" disabled={changes.length === 0 || simulate.isPending} onClick={run}>
            {simulate.isPending ? "Replaying…" : "Run what-if"}
          </button>
          <ErrorNote error={simulate.error} prefix="The server refused the simulation" />
          {simulate.error ? <p className="small muted">{errorMessage(simulate.error)}</p> : null}
        </section>
      </div>

      {answer && record ? (
        <section className="card" aria-labelledby="result-heading" data-testid="what-if-result" style={{ marginTop: 16 }}>
          <h2 id="result-heading">What it would have done</h2>
          <p data-testid="what-if-counts" data-blocked={record.counts.blocked} data-permitted={record.counts.permitted} data-replayed={record.replayed}>
            Of the <strong>{record.replayed}</strong> decisions replayed, <strong>{record.counts.blocked}</strong> permitted would have been blocked and{" "}
            <strong>{record.counts.permitted}</strong> blocked would have been permitted.
          </p>
          {Object.keys(record.counts.byMachine).length > 0 ? (
            <p className="small">
              Per machine:{" "}
              {Object.entries(record.counts.byMachine)
                .map(([m, n]) => `${m} ${n}`)
                .join(", ")}
              {Object.keys(record.counts.byCode).length > 0
                ? ` · codes gained: ${Object.entries(record.counts.byCode)
                    .map(([c, n]) => `${c} ${n}`)
                    .join(", ")}`
                : ""}
            </p>
          ) : null}
          <div className="small" data-testid="what-if-signature" data-valid={signatureOk === null ? "" : String(signatureOk)}>
            {signatureOk === true ? (
              <span className="status-ok">
                ✓ Signature verified in your browser (verifySimulation) against key <span className="mono">{answer.keyId}</span> of GET /keys; simulated{" "}
                {formatUtc(record.simulatedAt)}, registry v{record.current.version}.
              </span>
            ) : signatureOk === false ? (
              <span className="status-bad">✗ The signature does not verify against key {answer.keyId}: do not trust this answer.</span>
            ) : (
              <span className="muted">Checking the signature…</span>
            )}
          </div>
          {comparison ? (
            <p className="small" data-testid="what-if-browser-agrees" data-agree={String(comparison.agree)}>
              {comparison.agree
                ? "The browser's own replay on your view of the registry gives the same flips."
                : `The browser's replay on your view differs (${comparison.differences.join("; ")}); the server sees the whole registry and is authoritative.`}
            </p>
          ) : null}
          {local && !local.ok ? <p className="small muted">The browser could not replay this set on your view: {local.error}</p> : null}
          <div className="row" role="group" aria-label="Filter the flips" style={{ margin: "10px 0" }}>
            <Pick label="Machine" aria="Filter by machine" none="all" value={filter.machine} onChange={(machine) => setFilter((f) => ({ ...f, machine }))} items={facets.machines.map((m) => ({ value: m, text: m }))} />
            <label className="field">
              <span>Direction</span>
              <select value={filter.direction} onChange={(e) => setFilter((f) => ({ ...f, direction: e.target.value as FlipFilter["direction"] }))} aria-label="Filter by direction">
                <option value="">both</option>
                <option value="blocked">would be blocked</option>
                <option value="permitted">would be permitted</option>
              </select>
            </label>
            <Pick label="Code" aria="Filter by code" none="any" value={filter.code} onChange={(code) => setFilter((f) => ({ ...f, code }))} items={facets.codes.map((c) => ({ value: c, text: c }))} />
            <span className="small muted" data-testid="flips-shown">
              {shown.length} of {record.flips.length} flips
            </span>
          </div>
          <FlipList flips={shown} />
          <details style={{ marginTop: 10 }}>
            <summary className="small">The signed record</summary>
            <pre className="json">{JSON.stringify(answer, null, 2)}</pre>
          </details>
        </section>
      ) : null}
    </>
  );
}

/** A machine or human as a choice: its display name and id. */
const entityItem = (e: { id: string; displayName: string }) => ({ value: e.id, text: `${e.displayName} (${e.id})` });

/** A labelled select whose first option (value "") is `none`; `aria` defaults to the label. */
function Pick({
  label,
  aria,
  none = "Choose…",
  value,
  onChange,
  items,
}: {
  label: string;
  aria?: string;
  none?: string;
  value: string;
  onChange: (value: string) => void;
  items: readonly { value: string; text: string }[];
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <select value={value} onChange={(e) => onChange(e.target.value)} aria-label={aria ?? label}>
        <option value="">{none}</option>
        {items.map((i) => (
          <option key={i.value} value={i.value}>
            {i.text}
          </option>
        ))}
      </select>
    </label>
  );
}
