"use client";
import type { SimulationFlip } from "@/lib/kernel/simulate";
import { directionOf } from "@/lib/client/what-if";

/** The actions a change would flip: which, whose, and the outcome before and after. */
export function FlipList({ flips, limit = 200, label = "Flipped actions" }: { flips: readonly SimulationFlip[]; limit?: number; label?: string }) {
  if (flips.length === 0) return <p className="small muted">No action flips.</p>;
  return (
    <div className="table-wrap" style={{ maxHeight: 320, overflow: "auto" }}>
      <table className="table" aria-label={label} data-testid="flip-list">
        <thead>
          <tr>
            <th>Audit #</th>
            <th>Action</th>
            <th>Machine</th>
            <th>Before</th>
            <th>After</th>
          </tr>
        </thead>
        <tbody>
          {flips.slice(0, limit).map((f) => (
            <tr key={f.auditSeq} data-testid={`flip-${f.actionId}`} data-direction={directionOf(f)}>
              <td className="mono small">{f.auditSeq}</td>
              <td className="mono small">{f.actionId}</td>
              <td className="mono small">{f.machine}</td>
              <td>
                <OutcomeCell outcome={f.before} />
              </td>
              <td>
                <OutcomeCell outcome={f.after} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {flips.length > limit ? <p className="small muted">and {flips.length - limit} more</p> : null}
    </div>
  );
}

function OutcomeCell({ outcome }: { outcome: { permitted: boolean; codes: readonly string[] } }) {
  return (
    <span>
      {outcome.permitted ? <span className="badge badge-ok">permitted</span> : <span className="badge badge-bad">blocked</span>}{" "}
      {outcome.codes.map((c) => (
        <span key={c} className="code-pill" style={{ marginRight: 4 }}>
          {c}
        </span>
      ))}
    </span>
  );
}
