/**
 * A deliberately naive, independent reference of verify's semantics (design §4), used by the
 * property tests and the bounded exhaustive check. No indexes, no precomputation: linear scans
 * over the registry and a recursive search over simple grant chains. Only for small registries.
 *
 * It shares no code with the kernel except the types, so an index, ancestor-walk or fixpoint bug
 * in the kernel shows up as a disagreement.
 */
import { FLAGS, type Action, type Claim, type RegistryData, type Resource } from "../types";

export const REF_MAX_DEPTH = 32;
const DEFAULT_LATTICE = ["PUBLIC", "INTERNAL", "SECRET"];

export interface RefViolation {
  code: string;
  flag?: string;
  resource?: string;
  human?: string;
  step?: number;
}
export interface RefWarning {
  code: string;
  resource?: string;
}
export interface RefResult {
  permitted: boolean;
  violations: RefViolation[];
  warnings: RefWarning[];
  confidence: number;
  requiresHumanArbitration: boolean;
}

export function refScopeContains(parent: string, child: string): boolean {
  if (parent === "") return true;
  if (child === parent) return true;
  const base = parent.endsWith("/") ? parent.slice(0, -1) : parent;
  return child.startsWith(base + "/");
}

export class Reference {
  constructor(
    readonly data: RegistryData,
    readonly now: number,
  ) {}

  kind(id: string | undefined): string | undefined {
    return this.data.entities.find((e) => e.id === id)?.kind;
  }
  owner(machine: string): string | undefined {
    return this.data.machineOwners.find((m) => m.machine === machine)?.owner;
  }
  res(id: string): Resource | undefined {
    return this.data.resources.find((r) => r.id === id);
  }
  local(c: Claim): boolean {
    return (
      c.confidence > 0 && (c.revokedAt === undefined || this.now < c.revokedAt) && (c.expiresAt === undefined || this.now <= c.expiresAt)
    );
  }
  coversRes(c: Claim, r: Resource): boolean {
    if (c.resource !== undefined) return c.resource === r.id;
    return c.scope !== undefined && refScopeContains(c.scope, r.scope);
  }
  coversClaim(p: Claim, c: Claim): boolean {
    if (c.resource !== undefined) {
      const r = this.res(c.resource);
      return r !== undefined && this.coversRes(p, r);
    }
    if (p.scope !== undefined && c.scope !== undefined) return refScopeContains(p.scope, c.scope);
    // A claim on resource R backs a scope that stands for part of R only: R is the unique most
    // specific resource containing the scope, nothing is registered strictly inside it, not a root.
    if (p.resource === undefined || c.scope === undefined || c.scope === "" || c.scope === "/") return false;
    const scope = c.scope;
    const containing = this.data.resources.filter((r) => refScopeContains(r.scope, scope));
    if (containing.length === 0) return false;
    const longest = Math.max(...containing.map((r) => r.scope.length));
    const most = containing.filter((r) => r.scope.length === longest);
    const inside = this.data.resources.some((r) => r.scope !== scope && refScopeContains(scope, r.scope));
    return most.length === 1 && most[0]!.id === p.resource && !inside;
  }
  shapeOk(c: Claim): boolean {
    const hk = this.kind(c.holder);
    if (hk === "HUMAN") return c.grantor === undefined || this.kind(c.grantor) === "HUMAN";
    const o = this.owner(c.holder);
    if (o === undefined || c.grantor === undefined) return false;
    if (c.grantor === o) return true;
    return this.kind(c.grantor) === "MACHINE" && this.owner(c.grantor) === o;
  }
  edge(p: Claim, c: Claim): boolean {
    return (
      p !== c &&
      p.holder === c.grantor &&
      p.canDelegate &&
      (!c.canRead || p.canRead) &&
      (!c.canWrite || p.canWrite) &&
      this.coversClaim(p, c)
    );
  }
  /** Valid: locally valid, right shape, and a simple chain of at most `depth` grants to a human root. */
  valid(c: Claim, depth = REF_MAX_DEPTH, path: Claim[] = []): boolean {
    if (!this.local(c) || !this.shapeOk(c)) return false;
    if (c.grantor === undefined) return this.kind(c.holder) === "HUMAN";
    if (depth <= 0) return false;
    const next = [...path, c];
    return this.data.claims.some((p) => !next.includes(p) && this.edge(p, c) && this.valid(p, depth - 1, next));
  }
  right(c: Claim, op: string): boolean {
    return op === "read" ? c.canRead : op === "write" ? c.canWrite : c.canDelegate;
  }
  covering(holder: string, r: Resource | undefined, op: string): Claim[] {
    if (r === undefined) return [];
    return this.data.claims.filter((c) => c.holder === holder && this.right(c, op) && this.coversRes(c, r));
  }
  chainHolders(start: Claim[]): Set<string> {
    const out = new Set<string>();
    const seen = new Set<Claim>();
    const walk = (c: Claim): void => {
      if (seen.has(c)) return;
      seen.add(c);
      out.add(c.holder);
      for (const p of this.data.claims) if (this.edge(p, c) && this.valid(p)) walk(p);
    };
    start.forEach(walk);
    return out;
  }

  verify(a: Action, taintIn?: string, step?: number, policiesOn = true): RefResult {
    const v: RefViolation[] = [];
    const w: RefWarning[] = [];
    let confidence = 1;
    let arbitration = false;
    const kind = this.kind(a.actor);
    if (kind === undefined) {
      return { permitted: false, violations: [{ code: "MALFORMED_ACTION" }], warnings: [], confidence: 0, requiresHumanArbitration: false };
    }
    const machine = kind === "MACHINE";
    const owner = machine ? this.owner(a.actor) : undefined;
    for (const f of FLAGS) if (a[f]) v.push({ code: "FORBIDDEN_FLAG", flag: f });
    if (machine) {
      const halted = this.data.halts.some(
        (h) => h.kind === "all" || (h.kind === "machine" && h.target === a.actor) || (h.kind === "owner" && h.target === owner),
      );
      if (halted) v.push({ code: "HALTED" });
      if (owner === undefined) v.push({ code: "NO_OWNER" });
      for (const h of a.governsHumans) v.push({ code: "GOVERNS_HUMAN", human: h });
    }
    const ops: [string, readonly string[]][] = [
      ["read", a.reads],
      ["write", a.writes],
      ["delegate", a.delegates],
    ];
    for (const [op, ids] of ops) {
      for (const id of ids) {
        const r = this.res(id);
        if (op === "read" && r?.isPublic) continue;
        const cands = this.covering(a.actor, r, op);
        const locals = cands.filter((c) => this.local(c));
        const valids = cands.filter((c) => this.valid(c));
        const code = op === "read" ? "READ_DENIED" : op === "write" ? "WRITE_DENIED" : "DELEGATE_DENIED";
        if (valids.length === 0 && (!machine || locals.length === 0)) {
          v.push({ code, resource: id });
          confidence = 0;
          continue;
        }
        if (valids.length === 0) {
          v.push({ code: "NOT_DELEGATED_BY_OWNER", resource: id });
          if (owner !== undefined && !this.covering(owner, r, op).some((c) => this.valid(c))) {
            v.push({ code: "OUTSIDE_OWNER_SCOPE", resource: id });
          }
          confidence = 0;
          continue;
        }
        const best = Math.max(...valids.map((c) => c.confidence));
        confidence = Math.min(confidence, best);
        if (best < 0.8 && op !== "delegate") {
          w.push({ code: op === "read" ? "CONTESTED_READ" : "CONTESTED_WRITE", resource: id });
          if (op === "write" && r !== undefined) {
            const chain = this.chainHolders(valids);
            chain.add(a.actor);
            const others = [
              ...new Set(this.data.claims.filter((c) => c.canWrite && this.coversRes(c, r) && this.valid(c) && !chain.has(c.holder)).map((c) => c.holder)),
            ].sort();
            for (const o of others) {
              arbitration = true;
              w.push({ code: "WRITE_CONFLICT", resource: id });
              void o;
            }
          }
        }
      }
    }
    // IFC
    const lattice = this.data.lattice ?? DEFAULT_LATTICE;
    const srcRank = (l: string | undefined): number => (l === undefined ? 0 : lattice.indexOf(l) < 0 ? lattice.length : lattice.indexOf(l));
    let taintRank = srcRank(taintIn);
    for (const id of a.reads) taintRank = Math.max(taintRank, srcRank(this.res(id)?.ifcLabel));
    for (const id of a.writes) {
      const l = this.res(id)?.ifcLabel;
      const sink = l === undefined ? 0 : lattice.indexOf(l);
      if (taintRank > sink) v.push({ code: "IFC_DOWNWARD_FLOW", resource: id, ...(step !== undefined ? { step } : {}) });
    }
    // Policies
    if (policiesOn) {
      const rules = [...(this.data.policies ?? [])].sort((x, y) =>
        x.priority !== y.priority ? y.priority - x.priority : x.effect !== y.effect ? (x.effect === "deny" ? -1 : 1) : x.id < y.id ? -1 : 1,
      );
      const glob = (p: string, s: string): boolean => {
        const re = new RegExp("^" + p.split("*").map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[\\s\\S]*") + "$");
        return re.test(s);
      };
      for (const [op, ids] of ops) {
        for (const id of ids) {
          const scope = this.res(id)?.scope;
          const rule = rules.find(
            (ru) =>
              (ru.operations as readonly string[]).includes(op) &&
              (scope === undefined ? ru.scope === "" : refScopeContains(ru.scope, scope)) &&
              glob(ru.actorPattern, a.actor),
          );
          if (rule?.effect === "deny") v.push({ code: "POLICY_DENIED", resource: id });
        }
      }
    }
    return { permitted: v.length === 0, violations: v, warnings: w, confidence, requiresHumanArbitration: arbitration };
  }
}
