/**
 * The kernel's properties, defined once and run twice: quickly by properties.test.ts and at
 * length by bench/kernel-fuzz.ts (FK_FUZZ_RUNS). Each entry states a property in words and
 * builds the fast-check property; a failing run throws with the counterexample.
 */
import fc from "fast-check";
import { canonicalJson } from "../canonical";
import { checkGrant } from "../grant";
import { verifyPlan } from "../plan";
import { scopeAncestors, scopeContains, validateScope } from "../scope";
import { buildSnapshot, registryContentJson } from "../snapshot";
import { FLAGS, violationClass, type Action, type Claim, type RegistryData, type VerifyResult } from "../types";
import { verify } from "../verify";
import {
  NOW,
  SCOPES,
  actionSpecArb,
  grantSpecArb,
  materialise,
  materialiseAction,
  registrySpecArb,
  rootOnlyRegistryArb,
  scenarioArb,
  tighteningArb,
  type Tightening,
  type Universe,
} from "./arbitraries";
import { Reference } from "./reference";

export interface KernelProperty {
  readonly name: string;
  /** Relative cost: the quick suite scales its run count by 1/cost. */
  readonly cost: number;
  /** Runs the property `numRuns` times; throws with the counterexample on failure. */
  readonly run: (numRuns: number, seed?: number) => void;
}

function runner<Ts extends [unknown, ...unknown[]]>(property: fc.IPropertyWithHooks<Ts>): (numRuns: number, seed?: number) => void {
  return (numRuns, seed) => fc.assert(property, { numRuns, ...(seed !== undefined ? { seed } : {}) });
}

/** The observable part of a verify result, for comparing two decisions. */
export function project(r: VerifyResult): unknown {
  return {
    permitted: r.permitted,
    violations: r.violations.map((v) => ({
      code: v.code,
      ...(v.flag !== undefined ? { flag: v.flag } : {}),
      ...(v.resource !== undefined ? { resource: v.resource } : {}),
      ...(v.human !== undefined ? { human: v.human } : {}),
      ...(v.step !== undefined ? { step: v.step } : {}),
    })),
    warnings: r.warnings.map((w) => ({ code: w.code, ...(w.resource !== undefined ? { resource: w.resource } : {}) })),
    confidence: r.confidence,
    requiresHumanArbitration: r.requiresHumanArbitration,
  };
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function tighten(u: Universe, action: Action, t: Tightening, now: number): { data: RegistryData; action: Action; now: number } {
  const d = u.data;
  switch (t.kind) {
    case "flag": {
      const flag = FLAGS[t.flag % FLAGS.length] as (typeof FLAGS)[number];
      return { data: d, action: { ...action, [flag]: true }, now };
    }
    case "halt": {
      const halts = [...d.halts];
      if (t.scope === "all") halts.push({ kind: "all" });
      else if (t.scope === "machine" && u.machines.length > 0) halts.push({ kind: "machine", target: u.machines[t.target % u.machines.length] as string });
      else if (t.scope === "owner") halts.push({ kind: "owner", target: u.humans[t.target % u.humans.length] as string });
      const seen = new Set<string>();
      return { data: { ...d, halts: halts.filter((h) => !seen.has(JSON.stringify(h)) && !!seen.add(JSON.stringify(h))) }, action, now };
    }
    case "revoke":
    case "expire": {
      if (d.claims.length === 0) return { data: d, action, now };
      const i = t.claim % d.claims.length;
      const claims = d.claims.map((c, j): Claim => {
        if (j !== i) return c;
        if (t.kind === "revoke") return { ...c, revokedAt: Math.min(c.revokedAt ?? now, now) };
        return { ...c, expiresAt: Math.min(c.expiresAt ?? now - 1, now - 1) };
      });
      return { data: { ...d, claims }, action, now };
    }
    case "advance":
      return { data: d, action, now: now + t.by };
  }
}

export const KERNEL_PROPERTIES: readonly KernelProperty[] = [
  {
    name: "determinism: same inputs (and the same registry in any order) give the same canonical bytes",
    cost: 2,
    run: runner(fc.property(scenarioArb, fc.nat(), (s, seed) => {
      const u = materialise(s.registry);
      const a = materialiseAction(u, s.action);
      const snap = buildSnapshot(u.data);
      const d2: RegistryData = {
        ...u.data,
        entities: shuffled(u.data.entities, seed),
        claims: shuffled(u.data.claims, seed + 1),
        resources: shuffled(u.data.resources, seed + 2),
        machineOwners: shuffled(u.data.machineOwners, seed + 3),
        halts: shuffled(u.data.halts, seed + 4),
        policies: shuffled(u.data.policies ?? [], seed + 5),
      };
      const snap2 = buildSnapshot(d2);
      const r1 = canonicalJson(verify(snap, a, NOW));
      const r2 = canonicalJson(verify(snap, a, NOW));
      const r3 = canonicalJson(verify(snap2, a, NOW));
      return r1 === r2 && r1 === r3 && snap.digest === snap2.digest;
    })),
  },
  {
    name: "differential: verify agrees with the naive reference on codes, order, warnings, confidence, arbitration",
    cost: 3,
    run: runner(fc.property(scenarioArb, fc.constantFrom(undefined, "PUBLIC", "INTERNAL", "SECRET", "BOGUS"), (s, taint) => {
      const u = materialise(s.registry);
      const a = materialiseAction(u, s.action);
      const got = project(verify(buildSnapshot(u.data), a, NOW, { taint }));
      const want = new Reference(u.data, NOW).verify(a, taint);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        throw new Error(`mismatch\n got ${JSON.stringify(got)}\nwant ${JSON.stringify(want)}`);
      }
      return true;
    })),
  },
  {
    name: "claim validity (the grant-chain fixpoint) agrees with the reference for every claim",
    cost: 2,
    run: runner(fc.property(registrySpecArb, fc.constantFrom(0, -3, 3), (spec, dt) => {
      const u = materialise(spec);
      const snap = buildSnapshot(u.data);
      const ref = new Reference(u.data, NOW + dt);
      for (const c of u.data.claims) {
        if (snap.isClaimValid(c.id, NOW + dt) !== ref.valid(c)) throw new Error(`claim ${c.id}: kernel ${snap.isClaimValid(c.id, NOW + dt)}`);
      }
      return true;
    })),
  },
  {
    name: "differential over every single-resource read, write and delegate of every entity",
    cost: 6,
    run: runner(fc.property(registrySpecArb, (spec) => {
      const u = materialise(spec);
      const snap = buildSnapshot(u.data);
      const ref = new Reference(u.data, NOW);
      for (const actor of u.entities) {
        for (const r of [...u.resources, "rx"]) {
          for (const op of ["reads", "writes", "delegates"] as const) {
            const a = materialiseAction(u, { actor: 0, fromClaims: false, unknownActor: false, reads: [], writes: [], delegates: [], governs: [], flags: [], argument: undefined });
            const action = { ...a, actor, [op]: [r] };
            const got = JSON.stringify(project(verify(snap, action, NOW)));
            const want = JSON.stringify(ref.verify(action));
            if (got !== want) throw new Error(`mismatch for ${actor} ${op} ${r}\n got ${got}\nwant ${want}`);
          }
        }
      }
      return true;
    })),
  },
  {
    name: "any flag blocks, with one FORBIDDEN_FLAG per flag in FLAGS order",
    cost: 1,
    run: runner(fc.property(scenarioArb, fc.nat({ max: 9 }), (s, f) => {
      const u = materialise(s.registry);
      const flag = FLAGS[f] as (typeof FLAGS)[number];
      const a = { ...materialiseAction(u, s.action), [flag]: true };
      const r = verify(buildSnapshot(u.data), a, NOW);
      if (r.permitted) return false;
      if (r.violations.some((v) => v.code === "MALFORMED_ACTION")) return true;
      const flagged = r.violations.filter((v) => v.code === "FORBIDDEN_FLAG").map((v) => v.flag);
      return JSON.stringify(flagged) === JSON.stringify(FLAGS.filter((x) => a[x]));
    })),
  },
  {
    name: "a halted or ownerless machine is always blocked",
    cost: 1,
    run: runner(fc.property(scenarioArb, (s) => {
      const u = materialise(s.registry);
      const a = materialiseAction(u, s.action);
      const snap = buildSnapshot(u.data);
      const e = snap.entity(a.actor);
      if (e?.kind !== "MACHINE") return true;
      const r = verify(snap, a, NOW);
      const halted = snap.isHalted(a.actor);
      const ownerless = snap.ownerOf(a.actor) === undefined;
      if (!halted && !ownerless) return true;
      return !r.permitted && (!halted || r.violations.some((v) => v.code === "HALTED")) && (!ownerless || r.violations.some((v) => v.code === "NO_OWNER"));
    })),
  },
  {
    name: "PERMITTED implies a valid chain (to the owner, who holds the right) for every resource touched",
    cost: 2,
    run: runner(fc.property(scenarioArb, (s) => {
      const u = materialise(s.registry);
      const a = materialiseAction(u, s.action);
      const r = verify(buildSnapshot(u.data), a, NOW);
      if (!r.permitted) return true;
      const ref = new Reference(u.data, NOW);
      const kind = ref.kind(a.actor);
      if (kind === undefined) return false;
      const owner = kind === "MACHINE" ? ref.owner(a.actor) : undefined;
      if (kind === "MACHINE" && owner === undefined) return false;
      const ops: [string, readonly string[]][] = [
        ["read", a.reads],
        ["write", a.writes],
        ["delegate", a.delegates],
      ];
      for (const [op, ids] of ops) {
        for (const id of ids) {
          const res = ref.res(id);
          if (res === undefined) return false;
          if (op === "read" && res.isPublic) continue;
          if (!ref.covering(a.actor, res, op).some((c) => ref.valid(c))) return false;
          if (owner !== undefined && !ref.covering(owner, res, op).some((c) => ref.valid(c))) return false;
        }
      }
      return true;
    })),
  },
  {
    name: "adding a flag or a halt, revoking or expiring a claim, or advancing time never turns BLOCKED into PERMITTED",
    cost: 2,
    run: runner(fc.property(scenarioArb, fc.array(tighteningArb, { minLength: 1, maxLength: 3 }), (s, ts) => {
      const u = materialise(s.registry);
      let action = materialiseAction(u, s.action);
      let now = NOW;
      let before = verify(buildSnapshot(u.data), action, now).permitted;
      let cur = u;
      for (const t of ts) {
        const next = tighten(cur, action, t, now);
        cur = { ...cur, data: next.data };
        action = next.action;
        now = next.now;
        const after = verify(buildSnapshot(cur.data), action, now).permitted;
        if (!before && after) return false;
        before = after;
      }
      return true;
    })),
  },
  {
    name: "attenuation: grants accepted by checkGrant are valid, and never give a machine more than its owner holds",
    cost: 4,
    run: runner(fc.property(rootOnlyRegistryArb, fc.array(grantSpecArb, { minLength: 1, maxLength: 12 }), (spec, grants) => {
      const u = materialise(spec);
      let data = u.data;
      let n = 0;
      for (const g of grants) {
        const snap = buildSnapshot(data);
        const proposal = {
          holder: u.entities[g.holder % u.entities.length] as string,
          grantor: u.entities[g.grantor % u.entities.length] as string,
          ...("resource" in g.target ? { resource: u.resources[g.target.resource % u.resources.length] as string } : { scope: g.target.scope }),
          canRead: g.canRead,
          canWrite: g.canWrite,
          canDelegate: g.canDelegate,
          ...(g.expires !== undefined ? { expiresAt: NOW + g.expires } : {}),
        };
        if (!checkGrant(snap, proposal, NOW).ok) continue;
        const id = `g${n++}`;
        data = { ...data, claims: [...data.claims, { id, ...proposal, confidence: 1 }] };
        if (!buildSnapshot(data).isClaimValid(id, NOW)) throw new Error(`accepted grant ${id} is not valid: ${JSON.stringify(proposal)}`);
      }
      const snap = buildSnapshot(data);
      const ref = new Reference(data, NOW);
      for (const m of u.machines) {
        const owner = snap.ownerOf(m);
        for (const r of u.resources) {
          for (const op of ["read", "write", "delegate"] as const) {
            const a = {
              actionId: "x",
              actor: m,
              reads: op === "read" ? [r] : [],
              writes: op === "write" ? [r] : [],
              delegates: op === "delegate" ? [r] : [],
            };
            const res = verify(snap, a, NOW);
            const resource = ref.res(r);
            if (!res.permitted || resource === undefined || (op === "read" && resource.isPublic)) continue;
            if (owner === undefined) return false;
            if (!ref.covering(owner, resource, op).some((c) => ref.valid(c))) return false;
          }
        }
      }
      return true;
    })),
  },
  {
    name: "plans: taint only grows, and every step after an invariant violation is PLAN_ABORTED",
    cost: 3,
    run: runner(fc.property(registrySpecArb, fc.array(actionSpecArb, { minLength: 1, maxLength: 4 }), (spec, steps) => {
      const u = materialise(spec);
      const snap = buildSnapshot(u.data);
      const actions = steps.map((s, i) => materialiseAction(u, s, `s${i}`));
      const plan = verifyPlan(snap, actions, NOW);
      let aborted = false;
      for (let i = 0; i < plan.steps.length; i++) {
        const st = plan.steps[i] as VerifyResult;
        const hasAbort = st.violations.some((v) => v.code === "PLAN_ABORTED");
        if (hasAbort !== aborted) return false;
        if (aborted && st.permitted) return false;
        if (st.violations.some((v) => v.code !== "PLAN_ABORTED" && violationClass(v.code) === "invariant")) aborted = true;
      }
      const lattice = snap.lattice;
      const readLabels = actions.flatMap((a) => a.reads.map((id) => snap.resource(id)?.ifcLabel));
      const maxRank = Math.max(0, ...readLabels.map((l) => (l === undefined ? 0 : lattice.indexOf(l))));
      return plan.taint === lattice[maxRank] && plan.permitted === plan.steps.every((s) => s.permitted);
    })),
  },
  {
    name: "scopes: scopeContains(p, c) iff p is in scopeAncestors(c), for canonical scopes",
    cost: 0.2,
    run: runner(fc.property(
      fc.constantFrom(...SCOPES, "/a/bb", "/a/b2", "/ab"),
      fc.constantFrom(...SCOPES, "/a/bb", "/a/b2", "/ab", "/a/b/c/d"),
      (p, c) => validateScope(p).ok && validateScope(c).ok && scopeContains(p, c) === scopeAncestors(c).includes(p),
    )),
  },
  {
    name: "validateScope never throws and accepts only canonical scopes, unchanged",
    cost: 0.2,
    run: runner(fc.property(fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.constantFrom("/a/", "/a//b", "/./a", "/a/..", "a", "/\u0000", "/e\u0301")), (s) => {
      const v = validateScope(s);
      if (!v.ok) return typeof v.reason === "string";
      return v.scope === s && (s === "" || s === "/" || (s.startsWith("/") && !s.endsWith("/") && !s.includes("//")));
    })),
  },
  {
    name: "the registry digest's fast serialiser equals canonicalJson",
    cost: 1,
    run: runner(fc.property(registrySpecArb, (spec) => {
      const snap = buildSnapshot(materialise(spec).data);
      const d = snap.data;
      const generic = canonicalJson({
        claims: d.claims,
        entities: d.entities,
        halts: d.halts,
        lattice: d.lattice,
        machineOwners: d.machineOwners,
        policies: d.policies,
        resources: d.resources,
      });
      return registryContentJson(d) === generic;
    })),
  },
];
