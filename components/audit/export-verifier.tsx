"use client";
import { useState, type DragEvent } from "react";
import type { PinnedKey } from "@/lib/client/pinned-key";
import { verifyAuditExport, type AuditExportSummary } from "@/lib/kernel/audit-export";

const MAX_BYTES = 200 * 1024 * 1024;

/**
 * Drop an exported log here: the kernel's verifyAuditExport checks it in the page — header and
 * keys, every entry's hash, link and signature, the signed record inside each decision, and every
 * checkpoint's signature and Merkle root — against the pinned key when there is one. Nothing is
 * uploaded.
 */
export function ExportVerifier({ pin }: { pin: PinnedKey | null }) {
  const [over, setOver] = useState(false);
  const [result, setResult] = useState<{ name: string; summary: AuditExportSummary } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function check(file: File) {
    setError(null);
    setResult(null);
    if (file.size > MAX_BYTES) {
      setError("the file is larger than 200 MB; use the command-line verifier");
      return;
    }
    setBusy(true);
    try {
      const text = await file.text();
      const summary = verifyAuditExport(text, pin ? { pinnedKeys: { [pin.keyId]: pin.publicKey } } : {});
      setResult({ name: file.name, summary });
    } catch {
      setError("the file could not be read");
    } finally {
      setBusy(false);
    }
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setOver(false);
    const f = e.dataTransfer.files[0];
    if (f) void check(f);
  }

  const s = result?.summary;
  return (
    <div>
      <h3>Verify an exported file offline</h3>
      <div
        className={`dropzone${over ? " over" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p style={{ margin: "0 0 8px" }}>Drop a .jsonl export here, or</p>
        <label className="btn" style={{ display: "inline-flex" }}>
          Choose a file…
          <input
            type="file"
            accept=".jsonl,.ndjson,application/x-ndjson,text/plain"
            className="sr-only"
            aria-label="Export file to verify"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void check(f);
              e.target.value = "";
            }}
          />
        </label>
        <p className="small faint" style={{ margin: "8px 0 0" }}>
          Checked in this page; nothing is uploaded. {pin ? `Signatures are checked against your pinned key ${pin.keyId}.` : "No key is pinned: only the file's own keys are available."}
        </p>
      </div>
      {busy ? <p className="small muted">Verifying…</p> : null}
      {error ? (
        <div className="callout callout-bad" role="alert">
          {error}
        </div>
      ) : null}
      {s && result ? (
        <div style={{ marginTop: 12 }} data-testid="export-result">
          <div className={`callout ${s.ok ? "callout-ok" : "callout-bad"}`} data-testid="export-verdict">
            <strong>{s.ok ? `${result.name}: the log verifies.` : `${result.name}: verification FAILED.`}</strong>{" "}
            {s.ok
              ? `${s.entries} entries (hash, link and signature each), ${s.decisions} signed decision records, and ${s.checkpoints} checkpoints (signature and Merkle root) checked.`
              : `Stopped at the first failure, after ${s.entries} good entries.`}
            <div className="small" style={{ marginTop: 4 }}>
              {s.keysFrom === "pinned"
                ? `Keys: your pinned key only (${pin?.keyId ?? ""}); the file's own key list was not trusted.`
                : "Keys: taken from the file itself — this proves the file is intact, not who made it. Pin a key to check origin."}
            </div>
          </div>
          {s.firstFailure ? (
            <div className="callout callout-bad" data-testid="export-failure">
              <span className="code-pill">{s.firstFailure.code}</span> line {s.firstFailure.line}
              {s.firstFailure.seq !== undefined ? `, entry #${s.firstFailure.seq}` : ""}: {s.firstFailure.what}
            </div>
          ) : null}
          <dl className="kv">
            <dt>entries</dt>
            <dd>{s.entries}</dd>
            <dt>checkpoints</dt>
            <dd>{s.checkpoints}</dd>
            <dt>decisions</dt>
            <dd>{s.decisions}</dd>
            {s.treeSize !== undefined ? (
              <>
                <dt>tree size</dt>
                <dd>{s.treeSize}</dd>
                <dt>root</dt>
                <dd>{s.rootHash}</dd>
              </>
            ) : null}
            {s.headHash ? (
              <>
                <dt>head</dt>
                <dd>{s.headHash}</dd>
              </>
            ) : null}
          </dl>
        </div>
      ) : null}
    </div>
  );
}
