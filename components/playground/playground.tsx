"use client";
import { useMemo, useState } from "react";
import { useRegistry } from "@/lib/client/hooks";
import { splitEntries } from "@/lib/client/object-refs";
import { buildSnapshot } from "@/lib/kernel/snapshot";
import { FLAGS, violationClass, type Flag } from "@/lib/kernel/types";
import { FLAG_LABELS, verify } from "@/lib/kernel/verify";
import { usePrincipal } from "../shell/session";
import { ErrorNote, Loading } from "../ui/bits";
import { ResolvedTable } from "../ui/resolved-table";

type Op = "reads" | "writes" | "delegates";
const OPS: { key: Op; label: string }[] = [
  { key: "reads", label: "Reads" },
  { key: "writes", label: "Writes" },
  { key: "delegates", label: "Delegates" },
];

function toggle(list: string[], id: string, on: boolean): string[] {
  return on ? [...new Set([...list, id])] : list.filter((x) => x !== id);
}

/**
 * What-if: compose an action for a machine and see the kernel's decision before any agent tries
 * it. The decision is computed here, by lib/kernel's verify, on a snapshot the browser builds from
 * the registry view the server sends (GET /api/v1/console/registry) — the same function the REST
 * endpoint calls. Reads, writes and delegates take registered resource ids and object references
 * (paths and URIs, issue 10); the decision shows how each reference resolved.
 */
export function Playground() {
  const principal = usePrincipal();
  const registry = useRegistry();
  const data = registry.data?.registry;
  const snap = useMemo(() => {
    if (!data) return { snapshot: null, error: null };
    try {
      return { snapshot: buildSnapshot(data), error: null };
    } catch (e) {
      return { snapshot: null, error: e instanceof Error ? e.message : "invalid registry" };
    }
  }, [data]);

  const machines = useMemo(() => {
    if (!data) return [];
    const owned = new Map(data.machineOwners.map((m) => [m.machine, m.owner]));
    return data.entities.filter((e) => e.kind === "MACHINE" && (principal.role === "OPERATOR" || owned.get(e.id) === principal.entityId));
  }, [data, principal]);
  const humans = data?.entities.filter((e) => e.kind === "HUMAN") ?? [];

  const [actor, setActor] = useState("");
  const [actionId, setActionId] = useState("what-if-1");
  const [ops, setOps] = useState<Record<Op, string[]>>({ reads: [], writes: [], delegates: [] });
  const [extra, setExtra] = useState<Record<Op, string>>({ reads: "", writes: "", delegates: "" });
  const [governs, setGoverns] = useState<string[]>([]);
  const [flags, setFlags] = useState<Flag[]>([]);
  const [description, setDescription] = useState("");
  const [argument, setArgument] = useState("");
  const actorId = actor || machines[0]?.id || "";

  const action = useMemo(() => {
    const list = (op: Op) => [...ops[op], ...splitEntries(extra[op])];
    const a: Record<string, unknown> = { actionId: actionId || "what-if", actor: actorId };
    for (const op of ["reads", "writes", "delegates"] as const) if (list(op).length) a[op] = list(op);
    if (governs.length) a.governsHumans = governs;
    if (description) a.description = description;
    if (argument) a.argument = argument;
    for (const f of flags) a[f] = true;
    return a;
  }, [actionId, actorId, ops, extra, governs, description, argument, flags]);

  const result = useMemo(() => (snap.snapshot && actorId ? verify(snap.snapshot, action, Date.now()) : null), [snap.snapshot, action, actorId]);

  if (registry.isPending) return <Loading what="the registry" />;
  if (!data) return <ErrorNote error={registry.error} prefix="The registry could not load" />;

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Playground</h1>
          <p>
            Compose an action for one of your machines and see what the kernel would decide, and why — computed in this browser by the kernel&apos;s own verify, before
            any agent tries it. Nothing is sent, signed or logged.
          </p>
        </div>
      </div>
      {snap.error ? (
        <div className="callout callout-bad" role="alert">
          The kernel could not build a snapshot of the registry: {snap.error}
        </div>
      ) : null}
      <div className="grid" style={{ gridTemplateColumns: "minmax(0, 1fr) minmax(0, 1fr)", alignItems: "start" }}>
        <section className="card" aria-label="Compose an action">
          <h2>Action</h2>
          {machines.length === 0 ? <p className="muted">You have no machines yet; add one in the graph.</p> : null}
          <div className="grid grid-2" style={{ gap: 12 }}>
            <label className="field">
              <span>Machine (actor)</span>
              <select value={actorId} onChange={(e) => setActor(e.target.value)} aria-label="Actor">
                {machines.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.displayName} ({m.id})
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Action id</span>
              <input value={actionId} onChange={(e) => setActionId(e.target.value)} aria-label="Action id" />
            </label>
          </div>
          {OPS.map((op) => (
            <fieldset key={op.key}>
              <legend>{op.label}</legend>
              <div>
                {data.resources.map((r) => (
                  <label key={r.id} className="check">
                    <input
                      type="checkbox"
                      checked={ops[op.key].includes(r.id)}
                      onChange={(e) => setOps((o) => ({ ...o, [op.key]: toggle(o[op.key], r.id, e.target.checked) }))}
                      aria-label={`${op.label} ${r.id}`}
                    />
                    <span className="mono">{r.id}</span>
                  </label>
                ))}
              </div>
              <textarea
                style={{ marginTop: 6, minHeight: 52 }}
                value={extra[op.key]}
                onChange={(e) => setExtra((x) => ({ ...x, [op.key]: e.target.value }))}
                placeholder={"other resource ids, comma-separated, or object references, one per line:\n/data/alice/2026/q3.csv  https://api.github.com/repos/acme  mailto:bob@example.com"}
                aria-label={`${op.label}: other resource ids or object references`}
                spellCheck={false}
              />
            </fieldset>
          ))}
          {humans.length > 0 ? (
            <fieldset>
              <legend>Governs humans</legend>
              {humans.map((h) => (
                <label key={h.id} className="check">
                  <input type="checkbox" checked={governs.includes(h.id)} onChange={(e) => setGoverns((g) => toggle(g, h.id, e.target.checked))} />
                  {h.displayName}
                </label>
              ))}
            </fieldset>
          ) : null}
          <fieldset>
            <legend>Invariant flags (any one blocks, always)</legend>
            <div className="grid grid-2" style={{ gap: 2 }}>
              {FLAGS.map((f) => (
                <label key={f} className="check small">
                  <input type="checkbox" checked={flags.includes(f)} onChange={(e) => setFlags((fl) => (e.target.checked ? [...fl, f] : fl.filter((x) => x !== f)))} />
                  {FLAG_LABELS[f]}
                </label>
              ))}
            </div>
          </fieldset>
          <label className="field">
            <span>Description</span>
            <input value={description} onChange={(e) => setDescription(e.target.value)} aria-label="Description" />
          </label>
          <label className="field">
            <span>Argument (scored for manipulation; never changes the decision)</span>
            <textarea value={argument} onChange={(e) => setArgument(e.target.value)} aria-label="Argument" />
          </label>
        </section>

        <section aria-label="Decision" style={{ position: "sticky", top: 64 }}>
          <div className="card" data-testid="playground-result">
            <h2>Decision</h2>
            {result ? (
              <>
                <div className={`verdict ${result.permitted ? "ok" : "bad"}`} data-testid="playground-verdict">
                  {result.permitted ? "PERMITTED" : "BLOCKED"}
                </div>
                <p className="small muted" style={{ marginTop: 4 }}>
                  confidence {result.confidence} · manipulation score {result.manipulationScore}
                  {result.requiresHumanArbitration ? " · requires human arbitration" : ""}
                </p>
                {result.resolved && result.resolved.length > 0 ? <ResolvedTable resolved={result.resolved} testId="playground-resolved" /> : null}
                {result.violations.length > 0 ? <h3>Violations</h3> : null}
                {result.violations.map((v, i) => {
                  const cls = violationClass(v.code);
                  return (
                    <div key={i} className={`violation ${cls}`}>
                      <span className="code-pill">{v.code}</span> <span className="small muted">{v.axiom}</span>{" "}
                      <span className={`badge ${cls === "invariant" ? "badge-bad" : "badge-warn"}`}>{cls === "invariant" ? "invariant: no one can approve" : "authority: an owner may grant it"}</span>
                      <div className="small" style={{ marginTop: 3 }}>
                        {v.message}
                      </div>
                    </div>
                  );
                })}
                {result.warnings.length > 0 ? <h3>Warnings</h3> : null}
                {result.warnings.map((w, i) => (
                  <div key={i} className="warning-item">
                    <span className="code-pill">{w.code}</span> <span className="small">{w.message}</span>
                  </div>
                ))}
                <p className="small faint" style={{ marginTop: 10 }}>
                  Computed in this browser by the kernel&apos;s verify on {registry.data?.view === "owner" ? "your view of" : "the whole"} registry v{data.version} (snapshot
                  digest {result.snapshot.digest.slice(0, 12)}…, of that view).{" "}
                  {registry.data?.view === "owner"
                    ? "Left out of your view: " + (registry.data.omitted.join("; ") || "nothing") + ". The server decides on the full registry; for your own machines the answer is the same, but warnings about other owners' writers only appear there."
                    : ""}
                </p>
              </>
            ) : (
              <p className="muted">Choose a machine to see the decision.</p>
            )}
          </div>
          <div className="card">
            <h3>The action as an agent would send it</h3>
            <pre className="json" data-testid="playground-action">
              {JSON.stringify({ action }, null, 2)}
            </pre>
            <p className="small muted">POST /api/v1/verify with the machine&apos;s API token.</p>
          </div>
        </section>
      </div>
    </>
  );
}
