"use client";
import type { ResolvedReference } from "@/lib/kernel/types";

/**
 * How a decision resolved its object references: as written → canonical path → the registered
 * resource (or none). Shared by the playground and the audit viewer.
 */
export function ResolvedTable({ resolved, testId }: { resolved: readonly ResolvedReference[]; testId: string }) {
  return (
    <div className="table-wrap" style={{ marginTop: 8 }}>
      <table className="table" aria-label="Object references" data-testid={testId}>
        <thead>
          <tr>
            <th>Reference as written</th>
            <th>Canonical path</th>
            <th>Resolved to</th>
          </tr>
        </thead>
        <tbody>
          {resolved.map((r) => (
            <tr key={r.ref} data-ref={r.ref}>
              <td className="mono small">{r.ref}</td>
              <td className="mono small">→ {r.canonical}</td>
              <td className="mono small">→ {r.resource ?? "no registered resource"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
