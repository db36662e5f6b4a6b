"use client";
import { useState } from "react";
import type { RegistryDataJson } from "@/lib/contracts/console";
import { errorMessage } from "@/lib/client/api";
import { useCreateMachine, useCreateResource } from "@/lib/client/hooks";
import { validateScope } from "@/lib/kernel/scope";
import { RESOURCE_TYPES, type ResourceType } from "@/lib/kernel/types";
import { Dialog, DialogActions } from "../ui/dialog";

function OwnerField({ registry, value, onChange }: { registry: RegistryDataJson; value: string; onChange: (v: string) => void }) {
  return (
    <label className="field">
      <span>Owner</span>
      <select value={value} onChange={(e) => onChange(e.target.value)} aria-label="Owner" required>
        <option value="">Choose the owning human…</option>
        {registry.entities
          .filter((e) => e.kind === "HUMAN")
          .map((h) => (
            <option key={h.id} value={h.id}>
              {h.displayName} ({h.id})
            </option>
          ))}
      </select>
    </label>
  );
}

export function AddMachineDialog({ registry, operator, onClose, onDone }: { registry: RegistryDataJson; operator: boolean; onClose: () => void; onDone: (m: string) => void }) {
  const create = useCreateMachine();
  const [id, setId] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [owner, setOwner] = useState("");
  return (
    <Dialog title="Add a machine" onClose={onClose}>
      <form
        aria-label="Add a machine"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(
            { id: id.trim(), ...(displayName.trim() ? { displayName: displayName.trim() } : {}), ...(operator ? { owner } : {}) },
            { onSuccess: (m) => (onDone(`Machine ${m.id} registered; it can do nothing until you grant it something.`), onClose()) },
          );
        }}
      >
        <p className="muted small">A machine is an agent you answer for. It starts with no rights; grant them in the graph.</p>
        <label className="field">
          <span>Machine id</span>
          <input value={id} onChange={(e) => setId(e.target.value)} required placeholder="e.g. research-bot" aria-label="Machine id" />
        </label>
        <label className="field">
          <span>Display name</span>
          <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} placeholder="optional" aria-label="Display name" />
        </label>
        {operator ? <OwnerField registry={registry} value={owner} onChange={setOwner} /> : null}
        <CreateError error={create.error} />
        <DialogActions onClose={onClose} submitLabel="Add machine" disabled={create.isPending || !id.trim() || (operator && !owner)} />
      </form>
    </Dialog>
  );
}

export function AddResourceDialog({
  registry,
  operator,
  initialScope,
  onClose,
  onDone,
}: {
  registry: RegistryDataJson;
  operator: boolean;
  initialScope: string;
  onClose: () => void;
  onDone: (m: string) => void;
}) {
  const create = useCreateResource();
  const [id, setId] = useState("");
  const [type, setType] = useState<ResourceType>("file");
  const [scope, setScope] = useState(initialScope);
  const [isPublic, setPublic] = useState(false);
  const [label, setLabel] = useState("");
  const [owner, setOwner] = useState("");
  const scopeCheck = validateScope(scope);
  return (
    <Dialog title="Add a resource" onClose={onClose}>
      <form
        aria-label="Add a resource"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(
            { id: id.trim(), type, scope, isPublic, ...(label ? { ifcLabel: label } : {}), ...(operator ? { owner } : {}) },
            { onSuccess: (r) => (onDone(`Resource ${r.id} registered under ${r.scope || "the root scope"}; you hold it (R/W/D).`), onClose()) },
          );
        }}
      >
        <p className="muted small">Registering a resource gives you its root claim: read, write and delegate.</p>
        <div className="grid grid-2" style={{ gap: 12 }}>
          <label className="field">
            <span>Resource id</span>
            <input value={id} onChange={(e) => setId(e.target.value)} required placeholder="e.g. q3-report.pdf" aria-label="Resource id" />
          </label>
          <label className="field">
            <span>Type</span>
            <select value={type} onChange={(e) => setType(e.target.value as ResourceType)} aria-label="Type">
              {RESOURCE_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
        </div>
        <label className="field">
          <span>
            Scope <span className="hint">a path such as /data/team/reports; it decides which scope grants cover it</span>
          </span>
          <input value={scope} onChange={(e) => setScope(e.target.value)} aria-label="Scope" spellCheck={false} />
          {!scopeCheck.ok ? <span className="hint" style={{ color: "var(--bad)" }}>{scopeCheck.reason}</span> : null}
        </label>
        <div className="grid grid-2" style={{ gap: 12 }}>
          <label className="field">
            <span>Information-flow label</span>
            <select value={label} onChange={(e) => setLabel(e.target.value)} aria-label="IFC label">
              <option value="">none (PUBLIC)</option>
              {(registry.lattice ?? ["PUBLIC", "INTERNAL", "SECRET"]).map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </label>
          <label className="check" style={{ marginTop: 24 }}>
            <input type="checkbox" checked={isPublic} onChange={(e) => setPublic(e.target.checked)} /> Public (anyone may read)
          </label>
        </div>
        {operator ? <OwnerField registry={registry} value={owner} onChange={setOwner} /> : null}
        <CreateError error={create.error} />
        <DialogActions onClose={onClose} submitLabel="Add resource" disabled={create.isPending || !id.trim() || !scopeCheck.ok || (operator && !owner)} />
      </form>
    </Dialog>
  );
}

function CreateError({ error }: { error: unknown }) {
  return error ? (
    <div className="callout callout-bad" role="alert">
      {errorMessage(error)}
    </div>
  ) : null;
}
