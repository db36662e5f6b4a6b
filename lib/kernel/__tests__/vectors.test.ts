/**
 * Runs every JSON vector in ./vectors (request -> expected decision, Cedar-style).
 *
 * A vector names a registry (a fixture from _fixtures.json or an inline RegistryData), optionally
 * adjusted with `with` (items appended to its lists) and `without` (claim ids removed), and one
 * of: `action` / `actionJson` (verify), `plan` (verifyPlan), `grant` (checkGrant), `wire` /
 * `wirePlan` (the original wire format), or expects the registry itself to be refused
 * (`expect.snapshotError`). Violations are compared exactly and in order on code, flag,
 * resource, human and step; warnings on code and resource.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkGrant } from "../grant";
import { verifyPlan, type PlanResult } from "../plan";
import { SnapshotError, buildSnapshot, type Snapshot } from "../snapshot";
import type { RegistryData, VerifyResult } from "../types";
import { verify, type VerifyOptions } from "../verify";
import { renderOriginal, verifyWire, verifyWirePlan } from "../wire";

const DIR = path.join(import.meta.dirname, "vectors");
const DEFAULT_NOW = 1000;

interface VectorFile {
  description: string;
  fixtures?: Record<string, unknown>;
  vectors: Vector[];
}

interface Vector {
  name: string;
  registry?: string | RegistryData;
  with?: Record<string, unknown[]>;
  without?: string[];
  now?: number;
  action?: unknown;
  actionJson?: string;
  options?: VerifyOptions;
  /** Budget usage by claim id (verify's `usage` option, a Map). */
  usage?: Record<string, { uses: number; cost: number; inWindow: number }>;
  plan?: unknown;
  planOptions?: { taint?: string };
  grant?: unknown;
  wire?: { registry: unknown; action: unknown };
  wirePlan?: { registry: unknown; actions: unknown };
  messages?: string[];
  warningMessages?: string[];
  original?: Record<string, unknown>;
  originalPrefixes?: string[];
  expect: Record<string, unknown>;
}

const fixtures = (JSON.parse(fs.readFileSync(path.join(DIR, "_fixtures.json"), "utf8")) as VectorFile).fixtures ?? {};
const files = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith(".json") && !f.startsWith("_"))
  .sort();

function registryOf(v: Vector): RegistryData {
  const base = (typeof v.registry === "string" ? fixtures[v.registry] : v.registry) as RegistryData | undefined;
  if (base === undefined) throw new Error(`vector ${v.name}: unknown registry ${String(v.registry)}`);
  const data: Record<string, unknown> = { ...base, claims: base.claims.filter((c) => !(v.without ?? []).includes(c.id)) };
  for (const [key, items] of Object.entries(v.with ?? {})) {
    data[key] = [...((data[key] as unknown[] | undefined) ?? []), ...items];
  }
  return data as unknown as RegistryData;
}

function wireRegistry(r: unknown): unknown {
  return typeof r === "string" ? fixtures[r] : r;
}

function projectViolations(r: VerifyResult): unknown[] {
  return r.violations.map((x) => ({
    code: x.code,
    ...(x.flag !== undefined ? { flag: x.flag } : {}),
    ...(x.resource !== undefined ? { resource: x.resource } : {}),
    ...(x.human !== undefined ? { human: x.human } : {}),
    ...(x.step !== undefined ? { step: x.step } : {}),
  }));
}

function projectWarnings(r: VerifyResult): unknown[] {
  return r.warnings.map((w) => ({ code: w.code, ...(w.resource !== undefined ? { resource: w.resource } : {}) }));
}

function checkResult(v: Vector, r: VerifyResult, e: Record<string, unknown>, snap: Snapshot | undefined): void {
  expect(projectViolations(r)).toEqual(e.violations);
  expect(projectWarnings(r)).toEqual(e.warnings ?? []);
  expect(r.permitted).toBe(e.permitted);
  expect(r.permitted).toBe(r.violations.length === 0);
  expect(r.requiresHumanArbitration).toBe(e.requiresHumanArbitration ?? false);
  if (e.confidence !== undefined) expect(r.confidence).toBe(e.confidence);
  if (e.manipulationScore !== undefined) expect(r.manipulationScore).toBe(e.manipulationScore);
  if (e.snapshotVersion !== undefined) expect(r.snapshot.version).toBe(e.snapshotVersion);
  if (snap !== undefined) expect(r.snapshot).toEqual({ version: snap.version, digest: snap.digest });
  if ("budgets" in e) expect(r.budgets).toEqual(e.budgets);
  if (v.messages !== undefined) expect(r.violations.map((x) => x.message)).toEqual(v.messages);
  if (v.warningMessages !== undefined) expect(r.warnings.map((x) => x.message)).toEqual(v.warningMessages);
  for (const x of r.violations) expect(x.message.length).toBeGreaterThan(0);
}

function checkPlan(p: PlanResult, e: Record<string, unknown>, snap: Snapshot | undefined): void {
  const steps = e.steps as Record<string, unknown>[];
  expect(p.steps.length).toBe(steps.length);
  p.steps.forEach((s, i) => checkResult({ name: "", expect: {} }, s, steps[i] as Record<string, unknown>, snap));
  expect(p.permitted).toBe(e.permitted);
  if (e.taint !== undefined) expect(p.taint).toBe(e.taint);
}

describe.each(files)("vectors/%s", (file) => {
  const doc = JSON.parse(fs.readFileSync(path.join(DIR, file), "utf8")) as VectorFile;
  it("has a description and named vectors", () => {
    expect(doc.description.length).toBeGreaterThan(0);
    expect(doc.vectors.length).toBeGreaterThan(0);
  });
  it.each(doc.vectors.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const now = v.now ?? DEFAULT_NOW;
    const e = v.expect;
    if (v.wire !== undefined) {
      const r = verifyWire({ registry: wireRegistry(v.wire.registry), action: v.wire.action }, now);
      checkResult(v, r, e, undefined);
      const o = renderOriginal(r);
      if (v.original !== undefined) expect(o).toMatchObject(v.original);
      expect(o.codes).toEqual(r.violations.map((x) => x.code));
      v.originalPrefixes?.forEach((prefix, i) => expect(o.violations[i]?.startsWith(prefix)).toBe(true));
      return;
    }
    if (v.wirePlan !== undefined) {
      const p = verifyWirePlan({ ...v.wirePlan, registry: wireRegistry(v.wirePlan.registry) }, now);
      checkPlan(p, e, undefined);
      return;
    }
    const data = registryOf(v);
    if (e.snapshotError === true) {
      let err: unknown;
      try {
        buildSnapshot(data);
      } catch (x) {
        err = x;
      }
      expect(err).toBeInstanceOf(SnapshotError);
      const se = err as SnapshotError;
      expect(se.code).toBe("INVALID_REGISTRY");
      expect(se.issues.some((i) => i.includes(e.issue as string))).toBe(true);
      return;
    }
    const snap = buildSnapshot(data);
    if (v.grant !== undefined) {
      const g = checkGrant(snap, v.grant, now);
      expect(g.violations.map((x) => x.code)).toEqual(e.codes);
      expect(g.ok).toBe(e.ok);
      return;
    }
    if (v.plan !== undefined) {
      checkPlan(verifyPlan(snap, v.plan, now, v.planOptions), e, snap);
      return;
    }
    const action = v.actionJson !== undefined ? (JSON.parse(v.actionJson) as unknown) : v.action;
    const options = v.usage !== undefined ? { ...v.options, usage: new Map(Object.entries(v.usage)) } : v.options;
    checkResult(v, verify(snap, action, now, options), e, snap);
  });
});

describe("vector coverage", () => {
  const all = files.flatMap((f) => (JSON.parse(fs.readFileSync(path.join(DIR, f), "utf8")) as VectorFile).vectors);
  const text = JSON.stringify(all);
  it("has at least 60 vectors", () => {
    expect(all.length).toBeGreaterThanOrEqual(60);
  });
  it.each([
    "MALFORMED_ACTION",
    "FORBIDDEN_FLAG",
    "HALTED",
    "NO_OWNER",
    "GOVERNS_HUMAN",
    "READ_DENIED",
    "WRITE_DENIED",
    "DELEGATE_DENIED",
    "NOT_DELEGATED_BY_OWNER",
    "OUTSIDE_OWNER_SCOPE",
    "IFC_DOWNWARD_FLOW",
    "POLICY_DENIED",
    "PLAN_ABORTED",
    "CONTESTED_READ",
    "CONTESTED_WRITE",
    "WRITE_CONFLICT",
  ])("covers %s", (code) => {
    expect(text).toContain(`"code":"${code}"`);
  });
});
