/**
 * Auto-layout, computed once per graph (memoised by the caller), never per render.
 *
 * Up to DAGRE_LIMIT nodes: dagre's layered layout (humans, then what they own and share, then the
 * machines the grants reach). Beyond it: a linear-time layout grouped by owner. dagre's crossing
 * minimisation took ~4.6 s for 2,000 nodes on a laptop-class CPU, which would freeze the page; the
 * grouped layout keeps the same top-to-bottom reading (human, resources, machines) per owner.
 */
import dagre from "@dagrejs/dagre";
import type { Graph } from "./model";

export const NODE_WIDTH = 170;
export const NODE_HEIGHT = 54;
export const DAGRE_LIMIT = 400;

export type Positions = Map<string, { x: number; y: number }>;

export function layoutGraph(g: Graph): Positions {
  return g.nodes.length <= DAGRE_LIMIT ? dagreLayout(g) : groupedLayout(g);
}

function dagreLayout(g: Graph): Positions {
  const dg = new dagre.graphlib.Graph({ multigraph: true });
  dg.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 90, edgesep: 12, marginx: 10, marginy: 10 });
  dg.setDefaultEdgeLabel(() => ({}));
  for (const n of g.nodes) dg.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const e of g.edges) dg.setEdge(e.source, e.target, {}, e.id);
  dagre.layout(dg);
  const out: Positions = new Map();
  for (const n of g.nodes) {
    const p = dg.node(n.id) as { x: number; y: number } | undefined;
    // dagre gives centres; React Flow positions are top-left corners.
    out.set(n.id, p ? { x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 } : { x: 0, y: 0 });
  }
  return out;
}

const COLS = 8;
const GAP_X = 24;
const GAP_Y = 26;
const GROUP_GAP = 90;
const GROUPS_PER_ROW = 5;

function groupedLayout(g: Graph): Positions {
  const groups = new Map<string, { human: string[]; middle: string[]; machine: string[] }>();
  const groupOf = (owner: string | null) => {
    const key = owner ?? "\u0000unowned";
    let grp = groups.get(key);
    if (!grp) groups.set(key, (grp = { human: [], middle: [], machine: [] }));
    return grp;
  };
  for (const n of g.nodes) {
    const grp = groupOf(n.data.owner);
    if (n.data.kind === "human") grp.human.push(n.id);
    else if (n.data.kind === "machine") grp.machine.push(n.id);
    else grp.middle.push(n.id);
  }
  const out: Positions = new Map();
  const cellW = NODE_WIDTH + GAP_X;
  const cellH = NODE_HEIGHT + GAP_Y;
  const groupW = COLS * cellW;
  let gx = 0;
  let gy = 0;
  let rowHeight = 0;
  let col = 0;
  for (const grp of groups.values()) {
    let y = gy;
    for (const band of [grp.human, grp.middle, grp.machine]) {
      if (band.length === 0) continue;
      const cols = Math.min(COLS, band.length);
      const offset = ((COLS - cols) * cellW) / 2;
      band.forEach((id, i) => out.set(id, { x: gx + offset + (i % COLS) * cellW, y: y + Math.floor(i / COLS) * cellH }));
      y += Math.ceil(band.length / COLS) * cellH + GAP_Y * 2;
    }
    rowHeight = Math.max(rowHeight, y - gy);
    col++;
    if (col === GROUPS_PER_ROW) {
      col = 0;
      gx = 0;
      gy += rowHeight + GROUP_GAP;
      rowHeight = 0;
    } else {
      gx += groupW + GROUP_GAP;
    }
  }
  return out;
}
