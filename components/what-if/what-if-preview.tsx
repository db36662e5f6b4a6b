"use client";
import { useState } from "react";
import { errorMessage } from "@/lib/client/api";
import { previewSentence, serverSentence, type Change } from "@/lib/client/what-if";
import { useWhatIfPreview } from "@/lib/client/what-if-hooks";
import { FlipList } from "./flip-list";

/**
 * What a change would have done to the owner's recent decisions, shown before it commits: the
 * browser's replay with the kernel on the owner's view (the change applied client-side), then the
 * server's signed answer for the same change set — "confirmed by the server" when the counts
 * agree, the server's answer when they differ (the server sees the whole registry; it is
 * authoritative). The flipped actions are a click away.
 */
export function WhatIfPreview({ changes, subject, note }: { changes: readonly Change[] | null; subject: string; note?: string }) {
  const p = useWhatIfPreview(changes);
  const [open, setOpen] = useState(false);
  if (changes === null) return null;
  const name = (id: string) => p.registry?.entities.find((e) => e.id === id)?.displayName ?? id;
  const server = p.server.answer?.record ?? null;
  const disagree = p.comparison !== null && !p.comparison.agree;
  // What the list shows: the server's flips once it answered (authoritative), the browser's until then.
  const flips = server ? server.flips : p.local?.ok ? p.local.result.flips : [];
  const perMachine = p.local?.ok ? p.local.perMachine : {};
  return (
    <section className="callout callout-info" aria-label="What-if preview" data-testid="what-if-preview" aria-live="polite" style={{ marginTop: 10 }}>
      <div className="small muted" style={{ marginBottom: 4 }}>
        <strong>See before you change</strong> — your machines&apos; recent decisions replayed with this change
      </div>
      {p.loading || p.local === null ? <p className="small">Replaying your machines&apos; recent decisions…</p> : null}
      {p.local && !p.local.ok ? (
        <p className="small" data-testid="what-if-local-error">
          The browser cannot replay this change: {p.local.error}
        </p>
      ) : null}
      {p.local?.ok ? (
        <p data-testid="what-if-sentence" data-blocked={p.local.result.counts.blocked} data-permitted={p.local.result.counts.permitted} data-replayed={p.local.result.replayed}>
          {previewSentence(subject, p.local.result.flips, perMachine, p.local.result.replayed, name)}
          <span className="small muted"> (computed in your browser by the kernel)</span>
        </p>
      ) : null}
      <div className="small" data-testid="what-if-server" data-status={p.server.status} data-agree={p.comparison ? String(p.comparison.agree) : ""}>
        {p.server.status === "pending" ? "Asking the server to confirm…" : null}
        {p.server.status === "error" ? <span className="status-bad">The server could not simulate this change: {errorMessage(p.server.error)}</span> : null}
        {server && p.comparison?.agree ? (
          <span className="status-ok" data-testid="what-if-confirmed">
            ✓ Confirmed by the server (signed simulation, {server.replayed} decision{server.replayed === 1 ? "" : "s"} replayed).
          </span>
        ) : null}
        {server && (disagree || !p.local?.ok) ? (
          <div data-testid="what-if-server-answer">
            <strong>The server&apos;s answer{disagree ? " differs — it is authoritative" : ""}:</strong>{" "}
            {serverSentence(subject, server, name)}
            {disagree ? <span className="muted"> The server {p.comparison!.differences.join("; ")}.</span> : null}
          </div>
        ) : null}
      </div>
      {note ? <p className="small muted">{note}</p> : null}
      {flips.length > 0 ? (
        <div style={{ marginTop: 6 }}>
          <button type="button" className="btn-sm" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
            {open ? "Hide" : "Show"} the {flips.length} flipped action{flips.length === 1 ? "" : "s"}
          </button>
          {open ? (
            <div style={{ marginTop: 6 }}>
              <FlipList flips={flips} />
            </div>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
