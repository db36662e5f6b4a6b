"use client";
import "@xyflow/react/dist/style.css";
import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useEdgesState,
  useNodesState,
  type Connection,
  type Edge,
  type OnBeforeDelete,
} from "@xyflow/react";
import Link from "next/link";
import { useCallback, useEffect, useMemo, useState } from "react";
import type { RegistryDataJson } from "@/lib/contracts/console";
import { budgetSummary, leftText, usedText, type GrantUsage } from "@/lib/client/budgets";
import { useGrants, useRegistry, useRevokeGrant } from "@/lib/client/hooks";
import { isObjectReference } from "@/lib/kernel/object-ref";
import { buildSnapshot, type Snapshot } from "@/lib/kernel/snapshot";
import { errorMessage } from "@/lib/client/api";
import { usePrincipal } from "../shell/session";
import { ErrorNote, Loading } from "../ui/bits";
import { ConfirmDialog } from "../ui/dialog";
import { Toast } from "../ui/toast";
import { WhatIfPreview } from "../what-if/what-if-preview";
import { AddMachineDialog, AddResourceDialog } from "./add-dialogs";
import { GrantDialog } from "./grant-dialog";
import { DAGRE_LIMIT, layoutGraph } from "./layout";
import {
  NO_FILTER,
  edgeLabel,
  filterGraph,
  grantHolderOf,
  grantSourceOf,
  isGrantConnection,
  registryToGraph,
  scopeLabel,
  type GraphEdgeData,
  type GraphFilter,
  type GrantTarget,
} from "./model";
import { NODE_TYPES, nodeTypeOf, type FlowNode } from "./nodes";
import { reachOf, reachOfObject, reachersOf, reachersOfObject, type Highlight, type ReachRefusal } from "./reach";
import { syntheticRegistry } from "./synthetic";

type FlowEdge = Edge<GraphEdgeData>;
type Selection = { kind: "node"; id: string } | { kind: "edge"; id: string } | null;

const EDGE_COLORS = { owns: "#9aa3b2", root: "#6d3fc0", grant: "#1d7a45", contains: "#b8922e" } as const;

function edgeStyle(d: GraphEdgeData, dim: boolean, lit: boolean): Partial<FlowEdge> {
  const color = !d.valid ? "#b42318" : EDGE_COLORS[d.kind];
  return {
    style: { stroke: color, strokeWidth: lit ? 3 : d.kind === "owns" ? 1.2 : 1.8, strokeDasharray: d.kind === "owns" || !d.valid ? "5 4" : d.kind === "contains" ? "2 3" : undefined },
    markerEnd: { type: MarkerType.ArrowClosed, color, width: 16, height: 16 },
    labelStyle: { fill: color, fontWeight: 600 },
    labelBgStyle: { fill: "#ffffff", fillOpacity: 0.9 },
    labelBgPadding: [4, 2],
    className: dim ? "dim" : undefined,
  };
}

function safeSnapshot(reg: RegistryDataJson | undefined): { snapshot: Snapshot | null; error: string | null } {
  if (!reg) return { snapshot: null, error: null };
  try {
    return { snapshot: buildSnapshot(reg), error: null };
  } catch (e) {
    return { snapshot: null, error: e instanceof Error ? e.message : "the registry does not validate" };
  }
}

export function GraphEditor({ synthetic }: { synthetic: number | null }) {
  return (
    <ReactFlowProvider>
      <Editor synthetic={synthetic} />
    </ReactFlowProvider>
  );
}

function Editor({ synthetic }: { synthetic: number | null }) {
  const principal = usePrincipal();
  const operator = principal.role === "OPERATOR";
  const registryQuery = useRegistry();
  const syntheticData = useMemo(() => (synthetic ? syntheticRegistry(synthetic) : null), [synthetic]);
  const registry = syntheticData ?? registryQuery.data?.registry;
  const viewer = syntheticData ? null : (registryQuery.data?.viewer ?? null);
  const readOnly = syntheticData !== null;
  // What is left of each budget comes from GET /grants (the registry has budgets, not usage).
  const grantsQuery = useGrants();
  const usageOf = useMemo(() => {
    const m = new Map<string, GrantUsage>();
    if (!syntheticData) for (const g of grantsQuery.data ?? []) if (g.usage) m.set(g.id, g.usage);
    return m;
  }, [grantsQuery.data, syntheticData]);

  const { snapshot, error: snapshotError } = useMemo(() => safeSnapshot(registry), [registry]);
  // Validity of claims is judged at the time the registry arrived, not re-judged every render.
  const now = useMemo(() => (registry ? Date.now() : 0), [registry]);
  const graph = useMemo(() => (registry ? registryToGraph(registry, viewer, snapshot, now) : { nodes: [], edges: [] }), [registry, viewer, snapshot, now]);
  const [filter, setFilter] = useState<GraphFilter>(NO_FILTER);
  const filtered = useMemo(() => (registry ? filterGraph(graph, filter, registry) : graph), [graph, filter, registry]);
  const positions = useMemo(() => layoutGraph(filtered), [filtered]);
  const large = filtered.nodes.length > DAGRE_LIMIT;

  const [highlight, setHighlight] = useState<Highlight | null>(null);
  const [selection, setSelection] = useState<Selection>(null);
  const [dialog, setDialog] = useState<
    | { kind: "grant"; initial: GrantTarget & { holder?: string } }
    | { kind: "machine" }
    | { kind: "resource"; scope: string }
    | { kind: "revoke"; edge: FlowEdge }
    | null
  >(null);
  const [toast, setToast] = useState<string | null>(null);
  const [reachRef, setReachRef] = useState("");
  const [reachersTarget, setReachersTarget] = useState("");
  const [reachError, setReachError] = useState<string | null>(null);
  const clearToast = useCallback(() => setToast(null), []);
  const revoke = useRevokeGrant();

  const [nodes, setNodes, onNodesChange] = useNodesState<FlowNode>([]);
  const [edges, setEdges, onEdgesChange] = useEdgesState<FlowEdge>([]);

  // Positions change only when the graph or the filter does; highlighting restyles in place.
  useEffect(() => {
    setNodes(
      filtered.nodes.map((n) => ({
        id: n.id,
        type: nodeTypeOf(n.data.kind),
        position: positions.get(n.id) ?? { x: 0, y: 0 },
        data: n.data,
        connectable: !readOnly,
        ariaLabel: `${n.data.kind} ${n.data.ref}`,
      })),
    );
  }, [filtered, positions, readOnly, setNodes]);

  useEffect(() => {
    setNodes((ns) =>
      ns.map((n) => {
        const lit = highlight ? highlight.nodes.has(n.id) : false;
        const dim = highlight ? !lit : false;
        return n.data.lit === lit && n.data.dim === dim ? n : { ...n, data: { ...n.data, lit, dim } };
      }),
    );
  }, [highlight, setNodes, filtered]);

  useEffect(() => {
    setEdges(
      filtered.edges.map((e) => {
        const lit = highlight ? highlight.edges.has(e.id) : false;
        return {
          id: e.id,
          source: e.source,
          target: e.target,
          data: e.data,
          // Thousands of labels would cost more than they tell; on a large graph an edge's label shows in its details.
          label: e.data.kind === "owns" || large ? undefined : edgeLabel(e.data, usageOf.get(e.data.claimId ?? "")),
          selectable: true,
          deletable: e.data.kind === "grant" && !readOnly,
          ariaLabel: `${e.data.kind} ${e.data.claimId ?? e.id}: ${edgeLabel(e.data, usageOf.get(e.data.claimId ?? ""))}`,
          ...edgeStyle(e.data, highlight ? !lit : false, lit),
        };
      }),
    );
  }, [filtered, highlight, readOnly, large, usageOf, setEdges]);

  const mine = useMemo(() => {
    if (!registry) return new Set<string>();
    if (viewer === null) return new Set(registry.entities.map((e) => e.id));
    return new Set([viewer, ...registry.machineOwners.filter((m) => m.owner === viewer).map((m) => m.machine)]);
  }, [registry, viewer]);

  const canRevoke = useCallback(
    (d: GraphEdgeData) => d.kind === "grant" && !readOnly && (operator || (d.grantor !== null && mine.has(d.grantor)) || (d.holder !== null && d.holder !== viewer && mine.has(d.holder))),
    [mine, operator, readOnly, viewer],
  );

  const onConnect = useCallback((c: Connection) => {
    if (!isGrantConnection(c.source, c.target)) return;
    const target = grantSourceOf(c.source) as GrantTarget;
    setDialog({ kind: "grant", initial: { ...target, holder: grantHolderOf(c.target) ?? "" } });
  }, []);
  const isValidConnection = useCallback((c: Connection | FlowEdge) => !readOnly && isGrantConnection(c.source, c.target), [readOnly]);

  // Delete/Backspace on a selected grant edge asks to revoke it; nothing is removed locally: the
  // edge disappears when the server has revoked the grant and the registry is reloaded.
  const onBeforeDelete: OnBeforeDelete<FlowNode, FlowEdge> = useCallback(
    async ({ edges: doomed }) => {
      const grant = doomed.find((e) => e.data && canRevoke(e.data));
      if (grant) setDialog({ kind: "revoke", edge: grant });
      return false;
    },
    [canRevoke],
  );

  const selectedNode = selection?.kind === "node" ? filtered.nodes.find((n) => n.id === selection.id) : undefined;
  const selectedEdge = selection?.kind === "edge" ? edges.find((e) => e.id === selection.id) : undefined;

  function applyReach(h: Highlight | ReachRefusal) {
    if ("error" in h) {
      setReachError(h.error);
      setHighlight(null);
    } else {
      setReachError(null);
      setHighlight(h);
    }
  }
  /** With an object reference: can `entity` reach that object; without: every resource it reaches. */
  function showReach(entity: string, ref = "") {
    if (!snapshot || !registry) return;
    applyReach(ref ? reachOfObject(snapshot, graph, entity, ref, Date.now()) : reachOf(snapshot, registry, graph, entity, Date.now()));
  }
  /** A registered resource id, or an object reference (a path or URI). */
  function showReachers(target: string) {
    if (!snapshot || !registry) return;
    applyReach(isObjectReference(target) ? reachersOfObject(snapshot, registry, graph, target, Date.now()) : reachersOf(snapshot, registry, graph, target, Date.now()));
  }

  if (!syntheticData && registryQuery.isPending) return <Loading what="the ownership graph" />;
  if (!registry) return <ErrorNote error={registryQuery.error} prefix="The registry could not load" />;

  const humans = registry.entities.filter((e) => e.kind === "HUMAN");

  return (
    <div className="graph-layout">
      <aside className="graph-side" aria-label="Graph tools">
        <div className="card">
          <h2 style={{ fontSize: 15 }}>Ownership graph</h2>
          <p className="small muted" data-testid="graph-stats" data-ready={nodes.length > 0 || filtered.nodes.length === 0 ? "true" : "false"}>
            {filtered.nodes.length} nodes · {filtered.edges.length} edges · registry v{registry.version}
            {registryQuery.data?.view === "owner" && !readOnly ? " · your view" : ""}
          </p>
          {readOnly ? null : (
            <div className="stack">
              <button type="button" onClick={() => setDialog({ kind: "machine" })}>
                + Add machine
              </button>
              <button type="button" onClick={() => setDialog({ kind: "resource", scope: "" })}>
                + Add resource
              </button>
              <button type="button" className="btn-primary" onClick={() => setDialog({ kind: "grant", initial: {} })}>
                Grant…
              </button>
              <p className="small muted">
                Or drag from a resource&apos;s green handle onto a human or machine. Select a grant edge and press Delete to revoke it.
              </p>
            </div>
          )}
        </div>
        <div className="card">
          <h3>Who can reach this?</h3>
          <form
            className="stack"
            onSubmit={(e) => {
              e.preventDefault();
              if (reachersTarget.trim()) showReachers(reachersTarget.trim());
            }}
          >
            <label className="field" style={{ marginBottom: 0 }}>
              <span className="small">A resource id, or an object: a path or URI</span>
              <input
                value={reachersTarget}
                onChange={(e) => setReachersTarget(e.target.value)}
                placeholder="/data/alice/2026/q3.csv"
                aria-label="Resource or object to check"
                spellCheck={false}
              />
            </label>
            <button type="submit" disabled={!reachersTarget.trim() || !snapshot}>
              Who can reach this?
            </button>
          </form>
          {reachError ? (
            <div className="callout callout-bad small" role="alert" data-testid="reach-error" style={{ marginTop: 8 }}>
              Not a valid object reference: {reachError}
            </div>
          ) : null}
        </div>
        <div className="card">
          <h3>Filter</h3>
          <label className="field">
            <span>Owner</span>
            <select value={filter.owner} onChange={(e) => setFilter((f) => ({ ...f, owner: e.target.value }))} aria-label="Filter by owner">
              <option value="">Everyone in view</option>
              {humans.map((h) => (
                <option key={h.id} value={h.id}>
                  {h.displayName} ({h.id})
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Resource scope</span>
            <input value={filter.scope} onChange={(e) => setFilter((f) => ({ ...f, scope: e.target.value }))} placeholder="/data" aria-label="Filter by scope" spellCheck={false} />
          </label>
          <label className="field">
            <span>Search</span>
            <input value={filter.text} onChange={(e) => setFilter((f) => ({ ...f, text: e.target.value }))} placeholder="id or name" aria-label="Search the graph" />
          </label>
          {filter !== NO_FILTER ? (
            <button type="button" className="btn-ghost btn-sm" onClick={() => setFilter(NO_FILTER)}>
              Clear filters
            </button>
          ) : null}
        </div>
        <div className="card legend-box">
          <h3>Legend</h3>
          <div>
            <span className="sw" style={{ borderColor: EDGE_COLORS.owns, borderTopStyle: "dashed" }} />
            owns (machine registration)
          </div>
          <div>
            <span className="sw" style={{ borderColor: EDGE_COLORS.root }} />
            root claim (ownership of a resource)
          </div>
          <div>
            <span className="sw" style={{ borderColor: EDGE_COLORS.grant }} />
            grant: rights R/W/D · confidence · expiry · budget left
          </div>
          <div>
            <span className="sw" style={{ borderColor: EDGE_COLORS.contains, borderTopStyle: "dotted" }} />
            contains: a claimed scope inside a resource (also a badge on the resource)
          </div>
          <div>
            <span className="sw" style={{ borderColor: "#b42318", borderTopStyle: "dashed" }} />
            not valid now (expired or broken chain)
          </div>
        </div>
        <div className="card small">
          <h3>Scale</h3>
          {readOnly ? (
            <Link href="/graph">Back to the real registry</Link>
          ) : (
            <Link href="/graph?synthetic=2000" prefetch={false}>
              Load a synthetic 2,000-node graph
            </Link>
          )}
        </div>
      </aside>

      <div className="graph-canvas" data-testid="graph-canvas">
        {readOnly ? (
          <div className="synthetic-banner callout callout-info small" role="status">
            Synthetic graph of {registry.entities.length + registry.resources.length} nodes, generated in your browser; read-only, nothing is saved.
          </div>
        ) : null}
        {snapshotError ? (
          <div className="synthetic-banner callout callout-bad small" role="alert">
            The kernel could not build a snapshot of this registry: {snapshotError}
          </div>
        ) : null}
        <ReactFlow<FlowNode, FlowEdge>
          nodes={nodes}
          edges={edges}
          nodeTypes={NODE_TYPES}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={onConnect}
          isValidConnection={isValidConnection}
          onBeforeDelete={onBeforeDelete}
          onNodeClick={(_, n) => setSelection({ kind: "node", id: n.id })}
          onEdgeClick={(_, e) => setSelection({ kind: "edge", id: e.id })}
          onPaneClick={() => setSelection(null)}
          deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]}
          nodesDraggable={!readOnly}
          onlyRenderVisibleElements
          minZoom={0.03}
          maxZoom={2}
          // A large graph opens at a readable zoom on its first owners instead of fitting all of it:
          // fitting 2,000 nodes would render every one of them at once.
          {...(large ? { defaultViewport: { x: 24, y: 64, zoom: 0.7 } } : { fitView: true, fitViewOptions: { padding: 0.15, maxZoom: 1.25 } })}
          connectionRadius={40}
          elevateEdgesOnSelect
        >
          <Background gap={24} color="#e5e7eb" />
          <Controls showInteractive={false} />
          {filtered.nodes.length > 30 && !large ? (
            <MiniMap pannable zoomable nodeStrokeWidth={3} style={{ width: 160, height: 110 }} nodeColor={(n) => miniColor(String(n.data.kind))} />
          ) : null}
        </ReactFlow>
      </div>

      <aside className="graph-side" aria-label="Details">
        {highlight ? <HighlightPanel highlight={highlight} onClear={() => setHighlight(null)} /> : null}

        {selectedNode ? (
          <div className="card" data-testid="node-details">
            <h3>
              {selectedNode.data.kind[0]!.toUpperCase() + selectedNode.data.kind.slice(1)}: {selectedNode.data.label}
            </h3>
            <dl className="kv" style={{ marginBottom: 10 }}>
              <dt>id</dt>
              <dd>{selectedNode.data.ref || "(root)"}</dd>
              <dt>owner</dt>
              <dd>{selectedNode.data.owner ?? "—"}</dd>
              <dt>detail</dt>
              <dd>{selectedNode.data.sub}</dd>
              {selectedNode.data.kind === "machine" ? (
                <>
                  <dt>status</dt>
                  <dd>{selectedNode.data.halted ? "HALTED" : "running"}</dd>
                </>
              ) : null}
            </dl>
            <div className="stack">
              {selectedNode.data.kind === "human" || selectedNode.data.kind === "machine" ? (
                <>
                  <form
                    className="stack"
                    onSubmit={(e) => {
                      e.preventDefault();
                      showReach(selectedNode.data.ref, reachRef.trim());
                    }}
                  >
                    <label className="field" style={{ marginBottom: 0 }}>
                      <span className="small">One object (optional): a path or URI</span>
                      <input
                        value={reachRef}
                        onChange={(e) => setReachRef(e.target.value)}
                        placeholder="/data/alice/2026/q3.csv"
                        aria-label="Object to check reach for"
                        spellCheck={false}
                      />
                    </label>
                    <button type="submit">What can {selectedNode.data.kind === "machine" ? "this machine" : "they"} reach?</button>
                  </form>
                  {readOnly ? null : (
                    <button type="button" onClick={() => setDialog({ kind: "grant", initial: { holder: selectedNode.data.ref } })}>
                      Grant to {selectedNode.data.ref}…
                    </button>
                  )}
                </>
              ) : null}
              {selectedNode.data.kind === "resource" ? (
                <button type="button" onClick={() => showReachers(selectedNode.data.ref)}>
                  Who can reach this resource?
                </button>
              ) : null}
              {!readOnly && (selectedNode.data.kind === "resource" || selectedNode.data.kind === "scope") ? (
                <>
                  <button type="button" onClick={() => setDialog({ kind: "grant", initial: grantSourceOf(selectedNode.id) ?? {} })}>
                    Grant this {selectedNode.data.kind}…
                  </button>
                  <button
                    type="button"
                    onClick={() =>
                      setDialog({
                        kind: "resource",
                        scope:
                          selectedNode.data.kind === "scope" ? selectedNode.data.ref : (registry.resources.find((r) => r.id === selectedNode.data.ref)?.scope ?? ""),
                      })
                    }
                  >
                    + Add a resource under this scope
                  </button>
                </>
              ) : null}
            </div>
          </div>
        ) : null}
        {selectedEdge?.data ? (
          <div className="card" data-testid="edge-details">
            <h3>{EDGE_TITLES[selectedEdge.data.kind]}</h3>
            <dl className="kv" style={{ marginBottom: 10 }}>
              {selectedEdge.data.claimId ? (
                <>
                  <dt>claim</dt>
                  <dd>{selectedEdge.data.claimId}</dd>
                </>
              ) : null}
              {selectedEdge.data.kind === "contains" ? (
                <>
                  <dt>resource</dt>
                  <dd>{describeTarget(selectedEdge.source)}</dd>
                </>
              ) : (
                <>
                  <dt>holder</dt>
                  <dd>{selectedEdge.data.holder}</dd>
                </>
              )}
              {selectedEdge.data.kind === "grant" ? (
                <>
                  <dt>grantor</dt>
                  <dd>{selectedEdge.data.grantor}</dd>
                </>
              ) : null}
              <dt>{selectedEdge.data.kind === "contains" ? "contains" : "on"}</dt>
              <dd>{describeTarget(selectedEdge.data.kind === "root" || selectedEdge.data.kind === "contains" ? selectedEdge.target : selectedEdge.source)}</dd>
              {selectedEdge.data.kind === "root" || selectedEdge.data.kind === "grant" ? (
                <>
                  <dt>rights</dt>
                  <dd>{selectedEdge.data.rights}</dd>
                  <dt>confidence</dt>
                  <dd>{selectedEdge.data.confidence}</dd>
                  <dt>expires</dt>
                  <dd>{selectedEdge.data.expiresAt ? new Date(selectedEdge.data.expiresAt).toISOString() : "never"}</dd>
                  <dt>budget</dt>
                  <dd data-testid="edge-budget">{budgetSummary(selectedEdge.data.budget)}</dd>
                  {selectedEdge.data.budget !== null && usageOf.has(selectedEdge.data.claimId ?? "") ? (
                    <>
                      <dt>used</dt>
                      <dd>{usedText(selectedEdge.data.budget, usageOf.get(selectedEdge.data.claimId ?? "")!)}</dd>
                      <dt>left</dt>
                      <dd data-testid="edge-budget-left">{leftText(selectedEdge.data.budget, usageOf.get(selectedEdge.data.claimId ?? "")!)}</dd>
                    </>
                  ) : null}
                  <dt>valid now</dt>
                  <dd>{selectedEdge.data.valid ? "yes" : "no"}</dd>
                </>
              ) : null}
            </dl>
            {canRevoke(selectedEdge.data) ? (
              <button type="button" className="btn-danger" onClick={() => setDialog({ kind: "revoke", edge: selectedEdge })}>
                Revoke grant
              </button>
            ) : (
              <p className="small muted">
                {selectedEdge.data.kind === "grant"
                  ? "You did not make this grant and it is not held by your machine, so you cannot revoke it."
                  : selectedEdge.data.kind === "contains"
                    ? "Objects at this scope resolve to this resource (the most specific one containing it); the claims on the scope cover them."
                    : "Ownership is part of the registration; it is not revoked from the graph."}
              </p>
            )}
          </div>
        ) : null}
        {!selectedNode && !selectedEdge && !highlight ? (
          <div className="card small muted">Select a node or an edge to see its details, what it can reach, or to revoke a grant.</div>
        ) : null}
      </aside>

      {dialog?.kind === "grant" && snapshot ? (
        <GrantDialog registry={registry} snapshot={snapshot} viewer={viewer} initial={dialog.initial} onClose={() => setDialog(null)} onGranted={setToast} />
      ) : null}
      {dialog?.kind === "machine" ? <AddMachineDialog registry={registry} operator={operator} onClose={() => setDialog(null)} onDone={setToast} /> : null}
      {dialog?.kind === "resource" ? (
        <AddResourceDialog registry={registry} operator={operator} initialScope={dialog.scope} onClose={() => setDialog(null)} onDone={setToast} />
      ) : null}
      {dialog?.kind === "revoke" && dialog.edge.data ? (
        <ConfirmDialog
          title="Revoke this grant?"
          confirmLabel="Revoke grant"
          danger
          busy={revoke.isPending}
          error={revoke.error ? errorMessage(revoke.error) : null}
          onCancel={() => {
            revoke.reset();
            setDialog(null);
          }}
          onConfirm={() =>
            revoke.mutate(dialog.edge.data!.claimId!, {
              onSuccess: () => {
                setToast(`Revoked ${dialog.edge.data!.claimId}. Everything delegated from it stops validating at the next decision.`);
                setSelection(null);
                setDialog(null);
              },
            })
          }
        >
          <p>
            {dialog.edge.data.holder} loses <strong>{dialog.edge.data.rights}</strong> on {describeTarget(dialog.edge.source)} (granted by {dialog.edge.data.grantor}).
          </p>
          <p className="small muted">Anything delegated onward from this grant stops validating at the next decision. The revocation is signed into the audit log.</p>
          <WhatIfPreview changes={[{ op: "revoke", grant: dialog.edge.data.claimId! }]} subject="Revoking this grant" />
        </ConfirmDialog>
      ) : null}
      <Toast message={toast} onDone={clearToast} />
    </div>
  );
}

const EDGE_TITLES: Record<GraphEdgeData["kind"], string> = {
  grant: "Grant",
  root: "Root claim (ownership)",
  owns: "Machine ownership",
  contains: "Scope inside a resource",
};

function describeTarget(nodeId: string): string {
  const t = grantSourceOf(nodeId);
  if (!t) return nodeId;
  return t.resource !== undefined ? `resource ${t.resource}` : `scope ${scopeLabel(t.scope ?? "")}`;
}

function miniColor(kind: string): string {
  return kind === "human" ? "#b9a3e3" : kind === "machine" ? "#9cc3e0" : kind === "resource" ? "#a6d5bf" : "#d8c48a";
}

function HighlightPanel({ highlight, onClear }: { highlight: Highlight; onClear: () => void }) {
  return (
    <div className="card" data-testid="highlight-panel">
      <h3>
        {highlight.mode === "reach"
          ? highlight.object
            ? `What ${highlight.subject} can do on ${highlight.object.ref}`
            : `What ${highlight.subject} can reach`
          : `Who can reach ${highlight.subject}`}
      </h3>
      {highlight.object ? (
        <dl className="kv small" style={{ marginBottom: 8 }} data-testid="highlight-object">
          <dt>as written</dt>
          <dd>{highlight.object.ref}</dd>
          <dt>canonical path</dt>
          <dd data-testid="highlight-canonical">{highlight.object.canonical}</dd>
          <dt>resolved to</dt>
          <dd data-testid="highlight-resource">{highlight.object.resource ?? "no registered resource"}</dd>
        </dl>
      ) : null}
      <p className="small muted">
        Computed by the kernel&apos;s verify in your browser (a read and a write probe per pair{highlight.object ? ", naming the object itself" : ""}).
        {highlight.halted ? " This machine is halted: it reaches nothing until resumed; listed is what its grants give it then." : ""}
      </p>
      {highlight.rows.length === 0 ? <p className="muted">{highlight.object ? "Neither read nor write." : "Nothing."}</p> : null}
      <ul style={{ margin: "0 0 10px", paddingLeft: 18 }} data-testid="highlight-rows">
        {highlight.rows.slice(0, 200).map((r) => (
          <li key={r.id}>
            <span className="mono">{r.id}</span> <span className="code-pill">{[r.read ? "R" : "", r.write ? "W" : ""].filter(Boolean).join("/")}</span>
          </li>
        ))}
      </ul>
      {highlight.rows.length > 200 ? <p className="small muted">and {highlight.rows.length - 200} more</p> : null}
      <button type="button" className="btn-sm" onClick={onClear}>
        Clear highlight
      </button>
    </div>
  );
}
