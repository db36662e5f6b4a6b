/**
 * "What can this machine reach" and "who can reach this resource", answered by the kernel's own
 * verify in the browser: one read probe and one write probe per pair, against the snapshot.
 * A halted machine is reported with the rights its grants give it once resumed.
 */
import type { Snapshot } from "@/lib/kernel/snapshot";
import { verify } from "@/lib/kernel/verify";
import type { RegistryDataJson } from "@/lib/contracts/console";
import { entityNodeId, resourceNodeId, type Graph } from "./model";

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
