"use client";
import { useState } from "react";
import { useConflicts, useResolveConflict, type Conflict, type Grant } from "@/lib/client/hooks";
import { validateScope } from "@/lib/kernel/scope";
import { usePrincipal } from "../shell/session";
import { Empty, ErrorNote, Loading, Rights, Time } from "../ui/bits";

type Suggestion = { kind: "keep_one"; keep: string } | { kind: "lower_confidence"; confidence: number } | { kind: string };

function suggestionOf(c: Conflict): Suggestion | null {
  const s = c.suggestion as Record<string, unknown> | null;
  if (!s || typeof s.kind !== "string") return null;
  if (s.kind === "keep_one" && typeof s.keep === "string") return { kind: "keep_one", keep: s.keep };
  if (s.kind === "lower_confidence" && typeof s.confidence === "number") return { kind: "lower_confidence", confidence: s.confidence };
  return { kind: s.kind };
}

function suggestionText(c: Conflict, s: Suggestion | null): string {
  if (!s) return "The resolver made no suggestion.";
  if (s.kind === "keep_one" && "keep" in s) {
    const side = s.keep === c.claimA.id ? "A" : "B";
    const [kept, other] = side === "A" ? [c.claimA, c.claimB] : [c.claimB, c.claimA];
    return `Keep claim ${side} (${kept.holder}, confidence ${kept.confidence} against ${other.confidence}): ${other.holder} loses write on ${c.resourceId}.`;
  }
  if (s.kind === "lower_confidence" && "confidence" in s) {
    return `The claims are equally well evidenced: lower both to confidence ${s.confidence}, so every write to ${c.resourceId} is contested and needs arbitration.`;
  }
  return `Suggestion: ${s.kind}.`;
}

function ClaimBox({ side, claim, suggested, mine }: { side: "A" | "B"; claim: Grant; suggested: boolean; mine: boolean }) {
  return (
    <div className={`claim-box${suggested ? " suggested" : ""}`} data-testid={`claim-${side}`}>
      <div className="row" style={{ marginBottom: 6 }}>
        <strong>Claim {side}</strong>
        {mine ? <span className="badge badge-muted">yours</span> : null}
        {suggested ? <span className="badge badge-info">suggested to keep</span> : null}
      </div>
      <dl className="kv">
        <dt>holder</dt>
        <dd>{claim.holder}</dd>
        <dt>on</dt>
        <dd>{claim.resource ? `resource ${claim.resource}` : `scope ${claim.scope ?? ""}`}</dd>
        <dt>rights</dt>
        <dd>
          <Rights claim={claim} />
        </dd>
        <dt>confidence</dt>
        <dd>{claim.confidence}</dd>
        <dt>expires</dt>
        <dd>{claim.expiresAt ?? "never"}</dd>
        <dt>kind</dt>
        <dd>{claim.grantor ? `granted by ${claim.grantor}` : "root claim (ownership)"}</dd>
        <dt>claim id</dt>
        <dd>{claim.id}</dd>
      </dl>
    </div>
  );
}

export function ConflictsQueue() {
  const conflicts = useConflicts();
  const open = conflicts.data?.filter((c) => c.status === "OPEN") ?? [];
  const resolved = conflicts.data?.filter((c) => c.status === "RESOLVED") ?? [];
  return (
    <>
      <div className="page-header">
        <div>
          <h1>Conflicts</h1>
          <p>
            Two humans claiming the right to write the same thing. Until it is resolved, writes there are contested. Resolve by keeping one claim, splitting the
            scope between them, or lowering confidence so every write is arbitrated. Every resolution is signed into the audit log.
          </p>
        </div>
      </div>
      <ErrorNote error={conflicts.error} prefix="The queue could not load" />
      {conflicts.isPending ? <Loading what="the arbitration queue" /> : null}
      <section aria-labelledby="open-heading">
        <h2 id="open-heading">
          Open <span className="badge badge-info">{open.length}</span>
        </h2>
        {conflicts.data && open.length === 0 ? <Empty>No open conflicts.</Empty> : null}
        {open.map((c) => (
          <ConflictCard key={c.id} conflict={c} />
        ))}
      </section>
      <section aria-labelledby="resolved-heading" style={{ marginTop: 24 }}>
        <h2 id="resolved-heading">Resolved</h2>
        {conflicts.data && resolved.length === 0 ? <Empty>None yet.</Empty> : null}
        {resolved.length > 0 ? (
          <div className="card table-wrap">
            <table className="table" aria-label="Resolved conflicts">
              <thead>
                <tr>
                  <th>On</th>
                  <th>Claims</th>
                  <th>Resolution</th>
                  <th>By</th>
                  <th>When</th>
                </tr>
              </thead>
              <tbody>
                {resolved.map((c) => (
                  <tr key={c.id} data-testid={`resolved-${c.resourceId}`}>
                    <td className="mono small">{c.resourceId}</td>
                    <td className="small">
                      A {c.claimA.holder} <Rights claim={c.claimA} /> · B {c.claimB.holder} <Rights claim={c.claimB} />
                    </td>
                    <td className="small">{resolutionText(c)}</td>
                    <td className="small">{c.resolvedBy}</td>
                    <td className="small">
                      <Time iso={c.resolvedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </>
  );
}

function resolutionText(c: Conflict): string {
  const r = (c.resolution as { resolution?: { kind?: string; keep?: string; confidence?: number } } | null)?.resolution;
  if (!r) return "resolved";
  if (r.kind === "keep_one") return `kept ${r.keep === c.claimA.id ? "A" : "B"}; the other lost write`;
  if (r.kind === "split_scopes") return "split the scope between the two";
  if (r.kind === "lower_confidence") return `lowered confidence to ${r.confidence}`;
  return String(r.kind);
}

type Strategy = "keep-A" | "keep-B" | "split" | "lower";

function ConflictCard({ conflict: c }: { conflict: Conflict }) {
  const principal = usePrincipal();
  const resolve = useResolveConflict();
  const suggestion = suggestionOf(c);
  const suggestedSide = suggestion && "keep" in suggestion ? (suggestion.keep === c.claimA.id ? "A" : "B") : null;
  const [strategy, setStrategy] = useState<Strategy>(suggestedSide ? (`keep-${suggestedSide}` as Strategy) : "lower");
  const [scopeA, setScopeA] = useState(c.claimA.scope ?? "");
  const [scopeB, setScopeB] = useState(c.claimB.scope ?? "");
  const [confidence, setConfidence] = useState(suggestion && "confidence" in suggestion ? suggestion.confidence : 0.5);
  const splitOk = validateScope(scopeA).ok && validateScope(scopeB).ok && scopeA !== "" && scopeB !== "";
  const lowerOk = confidence > 0 && confidence < 0.8;

  function submit() {
    const body =
      strategy === "keep-A" || strategy === "keep-B"
        ? ({ strategy: "keep", keep: strategy === "keep-A" ? "A" : "B" } as const)
        : strategy === "split"
          ? ({ strategy: "split", scopeA, scopeB } as const)
          : ({ strategy: "lower-confidence", confidence } as const);
    resolve.mutate({ id: c.id, body });
  }

  return (
    <article className="card" data-testid={`conflict-${c.resourceId}`} aria-label={`Conflict on ${c.resourceId}`}>
      <div className="row" style={{ marginBottom: 10 }}>
        <h3 style={{ margin: 0 }}>
          Conflicting write claims on <span className="mono">{c.resourceId}</span>
        </h3>
        <span className="spacer" />
        <span className="small muted">
          found <Time iso={c.createdAt} />
        </span>
      </div>
      <div className="versus">
        <ClaimBox side="A" claim={c.claimA} suggested={suggestedSide === "A"} mine={c.claimA.holder === principal.entityId} />
        <div className="vs">vs</div>
        <ClaimBox side="B" claim={c.claimB} suggested={suggestedSide === "B"} mine={c.claimB.holder === principal.entityId} />
      </div>
      <div className="callout callout-info" style={{ marginTop: 12 }} data-testid="suggestion">
        <strong>Resolver&apos;s suggestion:</strong> {suggestionText(c, suggestion)}
      </div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
        aria-label={`Resolve the conflict on ${c.resourceId}`}
      >
        <fieldset>
          <legend>Resolve</legend>
          <label className="check">
            <input type="radio" name={`s-${c.id}`} checked={strategy === "keep-A"} onChange={() => setStrategy("keep-A")} /> Keep A ({c.claimA.holder})
          </label>
          <label className="check">
            <input type="radio" name={`s-${c.id}`} checked={strategy === "keep-B"} onChange={() => setStrategy("keep-B")} /> Keep B ({c.claimB.holder})
          </label>
          <label className="check">
            <input type="radio" name={`s-${c.id}`} checked={strategy === "split"} onChange={() => setStrategy("split")} /> Split scopes
          </label>
          <label className="check">
            <input type="radio" name={`s-${c.id}`} checked={strategy === "lower"} onChange={() => setStrategy("lower")} /> Lower confidence
          </label>
          {strategy === "split" ? (
            <div className="grid grid-2" style={{ marginTop: 10, gap: 12 }}>
              <label className="field">
                <span>Scope for A ({c.claimA.holder})</span>
                <input value={scopeA} onChange={(e) => setScopeA(e.target.value)} aria-label="Scope for A" placeholder="/shared/a" />
              </label>
              <label className="field">
                <span>Scope for B ({c.claimB.holder})</span>
                <input value={scopeB} onChange={(e) => setScopeB(e.target.value)} aria-label="Scope for B" placeholder="/shared/b" />
              </label>
              <p className="small muted" style={{ gridColumn: "1 / -1" }}>
                The scopes must be disjoint and inside what each claim covers; the kernel checks it.
              </p>
            </div>
          ) : null}
          {strategy === "lower" ? (
            <label className="field" style={{ marginTop: 10, maxWidth: 320 }}>
              <span>New confidence for both claims (below 0.8)</span>
              <input type="number" step="any" min={0.01} max={0.79} value={confidence} onChange={(e) => setConfidence(Number(e.target.value))} aria-label="New confidence" />
            </label>
          ) : null}
          {strategy === "keep-A" || strategy === "keep-B" ? (
            <p className="small muted" style={{ marginTop: 8 }}>
              {strategy === "keep-A" ? c.claimB.holder : c.claimA.holder} loses write on {c.resourceId}; reading is unchanged.
            </p>
          ) : null}
        </fieldset>
        <ErrorNote error={resolve.error} prefix="Not resolved" />
        <div className="actions">
          <button type="submit" className="btn-primary" disabled={resolve.isPending || (strategy === "split" && !splitOk) || (strategy === "lower" && !lowerOk)}>
            Resolve
          </button>
        </div>
      </form>
    </article>
  );
}
