"use client";
import type { ReactNode } from "react";
import { errorMessage } from "@/lib/client/api";

export function ErrorNote({ error, prefix }: { error: unknown; prefix?: string }) {
  if (!error) return null;
  return (
    <div className="callout callout-bad" role="alert">
      {prefix ? `${prefix}: ` : ""}
      {errorMessage(error)}
    </div>
  );
}

/** Reasons with their stable codes (a kernel's refusal, a server's details) as a list. */
export function CodeList({ items, className }: { items: readonly { code: string; message: string }[]; className?: string }) {
  return (
    <ul className={className}>
      {items.map((v, i) => (
        <li key={i}>
          <span className="code-pill">{v.code}</span> {v.message}
        </li>
      ))}
    </ul>
  );
}

export function Loading({ what }: { what: string }) {
  return <div className="empty">Loading {what}…</div>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Outcome({ permitted }: { permitted: boolean | null | undefined }) {
  if (permitted === null || permitted === undefined) return <span className="badge badge-muted">—</span>;
  return permitted ? <span className="badge badge-ok">PERMITTED</span> : <span className="badge badge-bad">BLOCKED</span>;
}

/** R/W/D, the rights of a claim, as the graph shows them. */
export function rightsLabel(c: { canRead: boolean; canWrite: boolean; canDelegate: boolean }): string {
  return [c.canRead ? "R" : "", c.canWrite ? "W" : "", c.canDelegate ? "D" : ""].filter(Boolean).join("/") || "none";
}

export function Rights({ claim }: { claim: { canRead: boolean; canWrite: boolean; canDelegate: boolean } }) {
  return <span className="code-pill">{rightsLabel(claim)}</span>;
}

const rtf = typeof Intl !== "undefined" ? new Intl.RelativeTimeFormat("en", { numeric: "auto" }) : null;

export function relativeTime(iso: string | number, now = Date.now()): string {
  const t = typeof iso === "number" ? iso : Date.parse(iso);
  if (!Number.isFinite(t) || !rtf) return String(iso);
  const s = Math.round((t - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(s, "second");
  if (abs < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(s / 3600), "hour");
  return rtf.format(Math.round(s / 86400), "day");
}

export function Time({ iso }: { iso: string | number | null | undefined }) {
  if (iso === null || iso === undefined) return <span className="faint">—</span>;
  const d = new Date(iso);
  return (
    <time dateTime={d.toISOString()} title={d.toISOString()}>
      {relativeTime(d.getTime())}
    </time>
  );
}

export function formatUtc(iso: string | number): string {
  return new Date(iso).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC");
}
