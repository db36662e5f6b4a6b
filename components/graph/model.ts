/**
 * The graph editor's model: the registry (kernel RegistryData as JSON) as nodes and edges, and
 * back — a drawn connection becomes a kernel GrantProposal here, at the editor's edge, and nowhere
 * else. Pure functions; no React.
 *
 * Nodes: humans, machines, resources, and the scopes that scope claims name.
 * Edges: "owns" (human -> machine), "root" (an owner's root claim: human -> resource/scope),
 * "grant" (a delegated claim: resource/scope -> holder, labelled with rights, confidence, expiry,
 * budget — what is left of it when the grants' usage is known — and grantor) and "contains" (resource -> a claimed scope inside it). Drawing from a resource
 * (or scope) to a human or machine proposes a grant.
 *
 * A scope claim inside a registered resource (an approved object, "/data/alice/q3.csv" under
 * alice-data's "/data/alice") is shown on that resource too: a "contains" edge to the scope's node
 * and a badge on the resource node with the scope path. "That resource" is the one the kernel
 * resolves the scope's objects to: the most specific registered resource whose scope contains it
 * (all of them when several share that scope).
 */
import { budgetSummary, leftText, type GrantUsage } from "@/lib/client/budgets";
import type { RegistryDataJson } from "@/lib/contracts/console";
import type { GrantProposal } from "@/lib/kernel/grant";
import { resourceOwners } from "@/lib/kernel/ownership";
import { scopeAncestors, scopeContains } from "@/lib/kernel/scope";
import type { Snapshot } from "@/lib/kernel/snapshot";
import type { Budget } from "@/lib/kernel/types";

export type NodeKind = "human" | "machine" | "resource" | "scope";
export type EdgeKind = "owns" | "root" | "grant" | "contains";

export interface GraphNodeData extends Record<string, unknown> {
  kind: NodeKind;
  /** The registry id (entity, resource) or the scope path. */
  ref: string;
  label: string;
  sub: string;
  /** The human who answers for it: a machine's owner, a resource's root-claim holder. */
  owner: string | null;
  halted: boolean;
  /** Resources only: scopes of claims that lie inside this resource (see the module comment). */
  scopeClaims: string[];
  /** Whether the viewer may use it as a grant source / target (their own, or the operator). */
  editable: boolean;
  dim: boolean;
  lit: boolean;
}

export interface GraphEdgeData extends Record<string, unknown> {
  kind: EdgeKind;
  claimId: string | null;
  holder: string | null;
  grantor: string | null;
  rights: string;
  confidence: number | null;
  expiresAt: number | null;
  /** The claim's budget (issue 13); null without one. */
  budget: Budget | null;
  valid: boolean;
}

export interface GraphNode {
  id: string;
  data: GraphNodeData;
}
export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  data: GraphEdgeData;
  label: string;
}
export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const entityNodeId = (id: string) => `e:${id}`;
export const resourceNodeId = (id: string) => `r:${id}`;
export const scopeNodeId = (scope: string) => `s:${scope}`;

export function scopeLabel(scope: string): string {
  return scope === "" ? "(every scope)" : scope;
}

function rights(c: { canRead: boolean; canWrite: boolean; canDelegate: boolean }): string {
  return [c.canRead ? "R" : "", c.canWrite ? "W" : "", c.canDelegate ? "D" : ""].filter(Boolean).join("/") || "none";
}

function shortDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

/**
 * "R · until … · 3/10 left · by alice". `usage` (from GET /grants) says what is left of the
 * budget; without it the budget itself is shown. Usage is not part of the graph's data so that a
 * new count relabels edges without laying the graph out again.
 */
export function edgeLabel(d: GraphEdgeData, usage?: GrantUsage | null): string {
  if (d.kind === "owns") return "owns";
  if (d.kind === "contains") return "contains";
  const parts = [d.kind === "root" ? `owner ${d.rights}` : d.rights];
  if (d.confidence !== null && d.confidence < 1) parts.push(`conf ${d.confidence}`);
  if (d.expiresAt !== null) parts.push(`until ${shortDate(d.expiresAt)}`);
  if (d.budget !== null) parts.push(usage ? leftText(d.budget, usage) : `budget ${budgetSummary(d.budget)}`);
  if (d.kind === "grant" && d.grantor) parts.push(`by ${d.grantor}`);
  if (!d.valid) parts.push("(not valid now)");
  return parts.join(" · ");
}

/**
 * Builds the graph of a registry. `viewer` is the owner's id (null for the operator: everything is
 * editable). `snapshot`, when given, marks claims that are not valid now (expired, broken chain).
 */
export function registryToGraph(reg: RegistryDataJson, viewer: string | null, snapshot: Snapshot | null, now: number): Graph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const ownerOf = new Map(reg.machineOwners.map((m) => [m.machine, m.owner]));
  // The kernel's rule, the same one the server applies (lib/kernel/ownership.ts).
  const resourceOwner = resourceOwners(reg);
  const mine = (owner: string | null | undefined) => viewer === null || owner === viewer;
  const halted = (machine: string) => snapshot?.isHalted(machine) ?? false;

  for (const e of reg.entities) {
    const owner = e.kind === "MACHINE" ? (ownerOf.get(e.id) ?? null) : e.id;
    nodes.push({
      id: entityNodeId(e.id),
      data: {
        kind: e.kind === "HUMAN" ? "human" : "machine",
        ref: e.id,
        label: e.displayName,
        sub: e.kind === "MACHINE" ? `${e.id}${owner ? ` · ${owner}` : " · no owner"}` : e.id,
        owner,
        halted: e.kind === "MACHINE" && halted(e.id),
        scopeClaims: [],
        editable: mine(owner) || e.kind === "HUMAN",
        dim: false,
        lit: false,
      },
    });
  }
  for (const r of reg.resources) {
    const owner = resourceOwner.get(r.id) ?? null;
    nodes.push({
      id: resourceNodeId(r.id),
      data: {
        kind: "resource",
        ref: r.id,
        label: r.id,
        sub: `${r.type} · ${r.scope || "(root)"}${r.isPublic ? " · public" : ""}${r.ifcLabel ? ` · ${r.ifcLabel}` : ""}`,
        owner,
        halted: false,
        scopeClaims: [],
        editable: mine(owner),
        dim: false,
        lit: false,
      },
    });
  }
  const scopes = new Map<string, string | null>();
  for (const c of reg.claims) if (c.scope !== undefined && !scopes.has(c.scope)) scopes.set(c.scope, null);
  for (const c of reg.claims) if (c.scope !== undefined && c.grantor === undefined) scopes.set(c.scope, c.holder);
  for (const [scope, owner] of scopes) {
    nodes.push({
      id: scopeNodeId(scope),
      data: { kind: "scope", ref: scope, label: scopeLabel(scope), sub: "scope", owner, halted: false, scopeClaims: [], editable: mine(owner), dim: false, lit: false },
    });
  }
  const known = new Set(nodes.map((n) => n.id));
  const add = (e: GraphEdge) => {
    if (known.has(e.source) && known.has(e.target)) edges.push(e);
  };
  for (const m of reg.machineOwners) {
    const data: GraphEdgeData = { kind: "owns", claimId: null, holder: m.owner, grantor: null, rights: "", confidence: null, expiresAt: null, budget: null, valid: true };
    add({ id: `o:${m.machine}`, source: entityNodeId(m.owner), target: entityNodeId(m.machine), data, label: edgeLabel(data) });
  }
  for (const c of reg.claims) {
    if (c.revokedAt !== undefined) continue;
    const target = c.resource !== undefined ? resourceNodeId(c.resource) : scopeNodeId(c.scope ?? "");
    const valid = snapshot ? snapshot.isClaimValid(c.id, now) : true;
    const data: GraphEdgeData = {
      kind: c.grantor === undefined ? "root" : "grant",
      claimId: c.id,
      holder: c.holder,
      grantor: c.grantor ?? null,
      rights: rights(c),
      confidence: c.confidence,
      expiresAt: c.expiresAt ?? null,
      budget: c.budget ?? null,
      valid,
    };
    const edge =
      data.kind === "root"
        ? { id: `c:${c.id}`, source: entityNodeId(c.holder), target, data, label: edgeLabel(data) }
        : { id: `c:${c.id}`, source: target, target: entityNodeId(c.holder), data, label: edgeLabel(data) };
    add(edge);
  }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const [scope, resources] of containingResources(reg, scopes.keys())) {
    for (const r of resources) {
      byId.get(resourceNodeId(r))?.data.scopeClaims.push(scope);
      const data: GraphEdgeData = { kind: "contains", claimId: null, holder: null, grantor: null, rights: "", confidence: null, expiresAt: null, budget: null, valid: true };
      add({ id: `in:${r}:${scope}`, source: resourceNodeId(r), target: scopeNodeId(scope), data, label: edgeLabel(data) });
    }
  }
  return { nodes, edges };
}

/**
 * For each scope, the most specific registered resources whose scope contains it (the kernel's
 * resolution rule for an object at that path), walking the scope's ancestors most specific first.
 * Scopes under no resource are left out.
 */
export function containingResources(reg: RegistryDataJson, scopes: Iterable<string>): Map<string, string[]> {
  const byScope = new Map<string, string[]>();
  for (const r of reg.resources) byScope.set(r.scope, [...(byScope.get(r.scope) ?? []), r.id]);
  const out = new Map<string, string[]>();
  for (const scope of scopes) {
    for (const a of scopeAncestors(scope)) {
      const hit = byScope.get(a);
      if (hit) {
        out.set(scope, hit);
        break;
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Filters
// ------------------------------------------------------------------------------------------------

export interface GraphFilter {
  /** Only what concerns this human (their machines, resources, and the edges touching them). */
  owner: string;
  /** Only resources and scopes inside this scope (entities stay). */
  scope: string;
  /** Case-insensitive text in a node's id or name. */
  text: string;
}

export const NO_FILTER: GraphFilter = { owner: "", scope: "", text: "" };

export function filterGraph(g: Graph, f: GraphFilter, reg: RegistryDataJson): Graph {
  if (!f.owner && !f.scope && !f.text) return g;
  const scopeOf = new Map(reg.resources.map((r) => [resourceNodeId(r.id), r.scope]));
  const text = f.text.trim().toLowerCase();
  const keep = new Set<string>();
  const touchesOwner = new Set<string>();
  if (f.owner) {
    const ownerNode = entityNodeId(f.owner);
    for (const e of g.edges) {
      if (e.data.holder === f.owner || e.data.grantor === f.owner || e.source === ownerNode) {
        touchesOwner.add(e.source);
        touchesOwner.add(e.target);
      }
    }
  }
  for (const n of g.nodes) {
    const d = n.data;
    if (f.scope && (d.kind === "resource" || d.kind === "scope")) {
      const s = d.kind === "resource" ? (scopeOf.get(n.id) ?? "") : d.ref;
      if (!scopeContains(f.scope, s)) continue;
    }
    if (f.owner && d.owner !== f.owner && !touchesOwner.has(n.id)) continue;
    if (text && !d.ref.toLowerCase().includes(text) && !d.label.toLowerCase().includes(text)) continue;
    keep.add(n.id);
  }
  // Text search keeps the neighbours of a match, so a found node is seen in context.
  if (text) {
    for (const e of g.edges) {
      if (keep.has(e.source)) keep.add(e.target);
      if (keep.has(e.target)) keep.add(e.source);
    }
  }
  return { nodes: g.nodes.filter((n) => keep.has(n.id)), edges: g.edges.filter((e) => keep.has(e.source) && keep.has(e.target)) };
}

// ------------------------------------------------------------------------------------------------
// From a drawn connection to a kernel grant proposal
// ------------------------------------------------------------------------------------------------

export interface GrantTarget {
  resource?: string;
  scope?: string;
}

/** The resource or scope a node stands for, if a grant can be drawn from it. */
export function grantSourceOf(nodeId: string): GrantTarget | null {
  if (nodeId.startsWith("r:")) return { resource: nodeId.slice(2) };
  if (nodeId.startsWith("s:")) return { scope: nodeId.slice(2) };
  return null;
}

/** The entity a node stands for, if it can hold a grant. */
export function grantHolderOf(nodeId: string): string | null {
  return nodeId.startsWith("e:") ? nodeId.slice(2) : null;
}

export function isGrantConnection(source: string | null | undefined, target: string | null | undefined): boolean {
  return !!source && !!target && grantSourceOf(source) !== null && grantHolderOf(target) !== null;
}

export interface GrantForm {
  target: "resource" | "scope";
  resource: string;
  scope: string;
  holder: string;
  grantor: string;
  canRead: boolean;
  canWrite: boolean;
  canDelegate: boolean;
  confidence: number;
  /** ms since the epoch, or null for no expiry. */
  expiresAt: number | null;
  /** A ceiling on the grant's uses; null for none. */
  budget: Budget | null;
}

export function formToProposal(f: GrantForm): GrantProposal {
  return {
    holder: f.holder,
    grantor: f.grantor,
    ...(f.target === "resource" ? { resource: f.resource } : { scope: f.scope }),
    canRead: f.canRead,
    canWrite: f.canWrite,
    canDelegate: f.canDelegate,
    confidence: f.confidence,
    ...(f.expiresAt !== null ? { expiresAt: f.expiresAt } : {}),
    ...(f.budget !== null ? { budget: f.budget } : {}),
  };
}

/** The API body for the same grant (times as ISO-8601 UTC). */
export function formToRequest(f: GrantForm) {
  return {
    holder: f.holder,
    grantor: f.grantor,
    ...(f.target === "resource" ? { resource: f.resource } : { scope: f.scope }),
    canRead: f.canRead,
    canWrite: f.canWrite,
    canDelegate: f.canDelegate,
    confidence: f.confidence,
    ...(f.expiresAt !== null ? { expiresAt: new Date(f.expiresAt).toISOString() } : {}),
    ...(f.budget !== null ? { budget: { ...f.budget } } : {}),
  };
}

/** Why checkGrant refused, in the three families the console names, plus the rest. */
export function refusalFamily(code: string): "attenuation" | "wrong grantor" | "cross-owner" | "invalid grant" {
  switch (code) {
    case "GRANTOR_LACKS_RIGHT":
    case "EXCEEDS_GRANTOR_SCOPE":
    case "EXCEEDS_GRANTOR_EXPIRY":
    case "EXCEEDS_GRANTOR_BUDGET":
      return "attenuation";
    case "MACHINE_GRANTOR_NOT_OWNER":
    case "HUMAN_GRANTOR_TO_FOREIGN_MACHINE":
    case "HALTED_GRANTOR":
    case "SELF_GRANT":
    case "UNKNOWN_GRANTOR":
      return "wrong grantor";
    case "CROSS_OWNER":
    case "MACHINE_TO_HUMAN":
      return "cross-owner";
    default:
      return "invalid grant";
  }
}
