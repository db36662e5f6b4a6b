/**
 * "What can this machine reach" and "who can reach this resource", answered by the kernel's own
 * verify in the browser: one read probe and one write probe per pair, against the snapshot.
 * A halted machine is reported with the rights its grants give it once resumed.
 *
 * Both also take an object reference (a path or URI, issue 10): the probes then name the
 * reference itself, so the answer is the kernel's rule for objects (resolution to the most
 * specific containing resource, claims on it or on any scope containing the object), not a
 * second implementation of it here.
 */
import { resolveReference } from "@/lib/client/object-refs";
import { scopeContains } from "@/lib/kernel/scope";
import type { Snapshot } from "@/lib/kernel/snapshot";
import { verify } from "@/lib/kernel/verify";
import type { RegistryDataJson } from "@/lib/contracts/console";
import { entityNodeId, resourceNodeId, type Graph } from "./model";

/** The object a highlight is about: the reference as written, canonical, and where it resolved. */
export interface ObjectSubject {
  ref: string;
  canonical: string;
  resource: string | null;
}

export interface ReachRow {
  id: string;
  read: boolean;
  write: boolean;
}

export interface Highlight {
  mode: "reach" | "reachers";
  subject: string;
  rows: ReachRow[];
  halted: boolean;
  nodes: Set<string>;
  edges: Set<string>;
  /** Set when the question was about an object reference rather than a registered resource. */
  object?: ObjectSubject;
}

/** A reference that does not canonicalize: the kernel's reason, nothing highlighted. */
export interface ReachRefusal {
  error: string;
}

function probe(snapshot: Snapshot, actor: string, resource: string, now: number): { read: boolean; write: boolean } {
  const ok = (field: "reads" | "writes") => {
    const r = verify(snapshot, { actionId: "console-graph-probe", actor, [field]: [resource] }, now);
    return r.violations.every((v) => v.code === "HALTED");
  };
  return { read: ok("reads"), write: ok("writes") };
}

function litEdges(graph: Graph, nodes: Set<string>, subjectNode: string): Set<string> {
  const out = new Set<string>();
  for (const e of graph.edges) {
    if (nodes.has(e.source) && nodes.has(e.target) && (e.source === subjectNode || e.target === subjectNode || e.data.kind !== "owns")) out.add(e.id);
  }
  return out;
}

export function reachOf(snapshot: Snapshot, reg: RegistryDataJson, graph: Graph, entity: string, now: number): Highlight {
  const rows: ReachRow[] = [];
  for (const r of reg.resources) {
    const p = probe(snapshot, entity, r.id, now);
    if (p.read || p.write) rows.push({ id: r.id, ...p });
  }
  const nodes = new Set<string>([entityNodeId(entity), ...rows.map((r) => resourceNodeId(r.id))]);
  // The scopes and grantors on the way are part of the answer too.
  for (const e of graph.edges) if (e.target === entityNodeId(entity) && e.data.kind === "grant") nodes.add(e.source);
  return { mode: "reach", subject: entity, rows, halted: snapshot.isHalted(entity), nodes, edges: litEdges(graph, nodes, entityNodeId(entity)) };
}

export function reachersOf(snapshot: Snapshot, reg: RegistryDataJson, graph: Graph, resource: string, now: number): Highlight {
  const rows: ReachRow[] = [];
  for (const e of reg.entities) {
    const p = probe(snapshot, e.id, resource, now);
    if (p.read || p.write) rows.push({ id: e.id, ...p });
  }
  const nodes = new Set<string>([resourceNodeId(resource), ...rows.map((r) => entityNodeId(r.id))]);
  for (const e of graph.edges) if (e.source === resourceNodeId(resource) || e.target === resourceNodeId(resource)) nodes.add(e.source === resourceNodeId(resource) ? e.target : e.source);
  return { mode: "reachers", subject: resource, rows, halted: false, nodes, edges: litEdges(graph, nodes, resourceNodeId(resource)) };
}

/** Nodes of the resource an object resolved to and of the scope claims containing it. */
function objectNodes(graph: Graph, o: ObjectSubject): string[] {
  const out: string[] = [];
  if (o.resource !== null) out.push(resourceNodeId(o.resource));
  for (const n of graph.nodes) if (n.data.kind === "scope" && scopeContains(n.data.ref, o.canonical)) out.push(n.id);
  return out;
}

/** Whether `entity` can read and write the object `ref` (one row, or none). */
export function reachOfObject(snapshot: Snapshot, graph: Graph, entity: string, ref: string, now: number): Highlight | ReachRefusal {
  const view = resolveReference(snapshot, ref, entity, now);
  if (!view.ok) return { error: view.reason };
  const object: ObjectSubject = { ref, canonical: view.canonical, resource: view.resource };
  const p = probe(snapshot, entity, ref, now);
  const rows: ReachRow[] = p.read || p.write ? [{ id: ref, ...p }] : [];
  const nodes = new Set<string>([entityNodeId(entity), ...(rows.length > 0 ? objectNodes(graph, object) : [])]);
  for (const e of graph.edges) if (e.target === entityNodeId(entity) && e.data.kind === "grant" && rows.length > 0) nodes.add(e.source);
  return { mode: "reach", subject: entity, rows, halted: snapshot.isHalted(entity), nodes, edges: litEdges(graph, nodes, entityNodeId(entity)), object };
}

/** Every entity that can read or write the object `ref`. */
export function reachersOfObject(snapshot: Snapshot, reg: RegistryDataJson, graph: Graph, ref: string, now: number): Highlight | ReachRefusal {
  // Resolution needs an actor verify knows; which one does not change where an object resolves.
  const view = resolveReference(snapshot, ref, reg.entities[0]?.id ?? "", now);
  if (!view.ok) return { error: view.reason };
  const object: ObjectSubject = { ref, canonical: view.canonical, resource: view.resource };
  const rows: ReachRow[] = [];
  for (const e of reg.entities) {
    const p = probe(snapshot, e.id, ref, now);
    if (p.read || p.write) rows.push({ id: e.id, ...p });
  }
  const anchors = objectNodes(graph, object);
  const nodes = new Set<string>([...anchors, ...rows.map((r) => entityNodeId(r.id))]);
  const edges = new Set<string>();
  for (const a of anchors) for (const id of litEdges(graph, nodes, a)) edges.add(id);
  return { mode: "reachers", subject: ref, rows, halted: false, nodes, edges, object };
}
