"use client";
import Link from "next/link";
import { useState } from "react";
import type { z } from "zod";
import type { StatsWindow, StreamSinkStatus } from "@/lib/contracts/console";
import { useStats } from "@/lib/client/hooks";
import { usePrincipal } from "../shell/session";
import { ErrorNote, Loading } from "../ui/bits";
import { BudgetsPanel } from "./budgets-panel";
import { ShadowRulesPanel } from "./shadow-rules-panel";
import { DecisionsChart } from "./decisions-chart";

type Window = z.infer<typeof StatsWindow>;

export interface SystemInfo {
  status: string;
  version: string;
  provider: string;
  migrations: string;
}

export function Dashboard({ system }: { system: SystemInfo }) {
  const principal = usePrincipal();
  const [window, setWindow] = useState<Window>("7d");
  const stats = useStats(window);
  const s = stats.data;
  const operator = principal.role === "OPERATOR";
  const maxCode = Math.max(1, ...(s?.topCodes.map((c) => c.count) ?? [1]));
  return (
    <>
      <div className="page-header">
        <div>
          <h1>Console</h1>
          <p>
            Every action an agent takes is checked first against its owner&apos;s delegations and ten hard invariants, signed, and written
            to an append-only audit log. {operator ? "You see the whole installation." : "You see your own machines and what concerns them."}
          </p>
        </div>
      </div>
      <ErrorNote error={stats.error} prefix="The dashboard could not load" />
      <div className="grid grid-4" style={{ marginBottom: 16 }}>
        <Link href="/approvals" className={`tile${s && s.approvals.curable > 0 ? " attention" : ""}`} data-testid="tile-approvals">
          <div className="label">Waiting for approval</div>
          <div className="value">{s ? s.approvals.curable : "…"}</div>
          <div className="hint">{s ? `${s.approvals.invariant} more blocked by an invariant (read-only)` : " "}</div>
        </Link>
        <Link href="/conflicts" className={`tile${s && s.conflicts.open > 0 ? " attention" : ""}`} data-testid="tile-conflicts">
          <div className="label">Open conflicts</div>
          <div className="value">{s ? s.conflicts.open : "…"}</div>
          <div className="hint">conflicting write claims to arbitrate</div>
        </Link>
        <Link href="/machines" className={`tile${s && s.machines.halted.length > 0 ? " danger" : ""}`} data-testid="tile-halted">
          <div className="label">Halted machines</div>
          <div className="value">{s ? `${s.machines.halted.length}` : "…"}</div>
          <div className="hint">{s ? `of ${s.machines.total} machine${s.machines.total === 1 ? "" : "s"}` : " "}</div>
        </Link>
        <Link href="/audit" className="tile" data-testid="tile-decisions">
          <div className="label">Decisions ({window})</div>
          <div className="value">{s ? s.totals.permitted + s.totals.blocked : "…"}</div>
          <div className="hint">{s ? `${s.totals.blocked} blocked` : " "}</div>
        </Link>
      </div>
      <div className="grid" style={{ gridTemplateColumns: "minmax(0, 2fr) minmax(0, 1fr)" }}>
        <section className="card" aria-labelledby="chart-heading">
          <h2 id="chart-heading">
            Decisions over time
            <span className="row" role="group" aria-label="Time window">
              {(["24h", "7d", "30d"] as const).map((w) => (
                <button key={w} type="button" className={`btn-sm${w === window ? " btn-primary" : ""}`} aria-pressed={w === window} onClick={() => setWindow(w)}>
                  {w}
                </button>
              ))}
            </span>
          </h2>
          {s ? <DecisionsChart stats={s} /> : <Loading what="decisions" />}
        </section>
        <section className="card" aria-labelledby="codes-heading">
          <h2 id="codes-heading">Top violation codes</h2>
          {s && s.topCodes.length === 0 ? <p className="muted">No violations in this window.</p> : null}
          {s?.topCodes.map((c) => (
            <div className="bar-row" key={c.code} style={{ gridTemplateColumns: "minmax(0, 1.3fr) 1fr 34px" }}>
              <Link href={`/audit?code=${c.code}`} className="mono small" style={{ overflow: "hidden", textOverflow: "ellipsis" }}>
                {c.code}
              </Link>
              <div className="bar-track">
                <div className="bar-fill" style={{ width: `${(c.count / maxCode) * 100}%` }} />
              </div>
              <span className="small">{c.count}</span>
            </div>
          ))}
        </section>
      </div>
      <div className="grid grid-2">
        <section className="card" aria-labelledby="halted-heading">
          <h2 id="halted-heading">Halted machines</h2>
          {s && s.machines.halted.length === 0 ? <p className="muted">No machine is halted.</p> : null}
          {s && s.machines.halted.length > 0 ? (
            <ul style={{ margin: 0, paddingLeft: 18 }} data-testid="halted-list">
              {s.machines.halted.map((m) => (
                <li key={m.id}>
                  <strong>{m.displayName}</strong> <span className="mono small muted">{m.id}</span>
                  {operator ? <span className="small muted"> · owner {m.owner}</span> : null}
                </li>
              ))}
            </ul>
          ) : null}
          <p style={{ marginTop: 10 }}>
            <Link href="/machines">Manage machines and the kill switch →</Link>
          </p>
        </section>
        <section className="card" aria-labelledby="system-heading">
          <h2 id="system-heading">System</h2>
          <dl className="kv">
            <dt>Status</dt>
            <dd className={system.status === "ok" ? "status-ok" : "status-bad"}>{system.status}</dd>
            <dt>Version</dt>
            <dd>{system.version}</dd>
            <dt>Database</dt>
            <dd>{system.provider}</dd>
            <dt>Migrations</dt>
            <dd>{system.migrations}</dd>
          </dl>
        </section>
      </div>
      <BudgetsPanel />
      <ShadowRulesPanel />
      {s && s.stream.length > 0 ? <StreamPanel sinks={s.stream} /> : null}
    </>
  );
}

const SINK_LABEL: Record<StreamSinkStatus["sink"], string> = { nats: "NATS JetStream", webhook: "Webhook", stdout: "Standard output" };

/** The audit stream (operator only): per sink, how far it is behind the log and who ships to it. */
function StreamPanel({ sinks }: { sinks: readonly StreamSinkStatus[] }) {
  return (
    <section className="card" aria-labelledby="stream-heading" data-testid="stream-panel" style={{ marginTop: 16 }}>
      <h2 id="stream-heading">Audit stream</h2>
      <table className="table">
        <thead>
          <tr>
            <th>Sink</th>
            <th>Behind</th>
            <th>Cursor</th>
            <th>Shipped by</th>
            <th>Failures</th>
            <th>Last shipped</th>
          </tr>
        </thead>
        <tbody>
          {sinks.map((k) => (
            <tr key={k.sink} data-testid={`stream-${k.sink}`}>
              <td>
                {SINK_LABEL[k.sink]}
                {k.configured ? null : <span className="small muted"> (not configured here)</span>}
              </td>
              <td className={k.lag > 0 && k.failures > 0 ? "status-bad" : undefined}>
                {k.lag} entr{k.lag === 1 ? "y" : "ies"}
              </td>
              <td className="mono small">{k.cursor}</td>
              <td className="mono small">{k.holder ?? <span className="muted">no replica (lease free)</span>}</td>
              <td title={k.lastError ?? undefined}>
                {k.failures}
                {k.lastError ? <span className="small muted"> · {k.lastError}</span> : null}
              </td>
              <td className="small">{k.lastShippedAt ?? "never"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small muted" style={{ marginTop: 8 }}>
        At least once, in seq order: the cursor moves only when the sink acknowledged, so an outage delays entries and loses none.
      </p>
    </section>
  );
}
