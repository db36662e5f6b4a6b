/**
 * Bounded exhaustive check, model-checker style: every registry over a small universe, every
 * single-resource action of every actor, every flag, every halt, compared with the naive
 * reference (reference.ts) and against the invariants.
 *
 * Universe: humans H1, H2; machines M1 (owner H1) and M2 (owner H2, or ownerless); scopes "/d"
 * and "/d/x" with resource rA in "/d" and rB in "/d/x". Enumerated dimensions:
 *   S1  H1's root claim on scope "/d": absent or any of the 7 non-empty R/W/D combinations,
 *       and valid, expired or revoked (at exactly `now`);
 *   S2  M1's claim: absent or any of 7 right combinations x grantor {H1, H2, M2} x target
 *       {rB, scope "/d/x", scope "/d"}, with confidence 1 or (from H1) 0.5;
 *   S3  H2's root claim on rB: absent, W, or RWD;
 *   S4  M2's claim on rB from H2: absent or RW;
 *   M2 owned by H2 or ownerless.
 */
import { describe, expect, it } from "vitest";
import { checkGrant } from "../grant";
import { buildSnapshot } from "../snapshot";
import { FLAGS, type Claim, type Halt, type RegistryData } from "../types";
import { verify } from "../verify";
import { Reference } from "./reference";

const NOW = 10_000;
const RIGHTS = [1, 2, 3, 4, 5, 6, 7].map((b) => ({ canRead: (b & 1) !== 0, canWrite: (b & 2) !== 0, canDelegate: (b & 4) !== 0 }));

type S1 = { rights: (typeof RIGHTS)[number]; state: "valid" | "expired" | "revoked" } | null;
type S2 = { rights: (typeof RIGHTS)[number]; grantor: string; target: { resource: string } | { scope: string }; confidence: number } | null;

function* s1Options(): Generator<S1> {
  yield null;
  for (const rights of RIGHTS) for (const state of ["valid", "expired", "revoked"] as const) yield { rights, state };
}
function* s2Options(): Generator<S2> {
  yield null;
  for (const rights of RIGHTS)
    for (const grantor of ["H1", "H2", "M2"])
      for (const target of [{ resource: "rB" }, { scope: "/d/x" }, { scope: "/d" }])
        // A contested claim matters only where it can be valid; from a foreign grantor it never is.
        for (const confidence of grantor === "H1" ? [1, 0.5] : [1]) yield { rights, grantor, target, confidence };
}

function registry(s1: S1, s2: S2, s3: number, s4: boolean, m2Owned: boolean, halts: Halt[] = []): RegistryData {
  const claims: Claim[] = [];
  if (s1 !== null) {
    claims.push({
      id: "s1",
      holder: "H1",
      scope: "/d",
      ...s1.rights,
      confidence: 1,
      ...(s1.state === "expired" ? { expiresAt: NOW - 1 } : {}),
      ...(s1.state === "revoked" ? { revokedAt: NOW } : {}),
    });
  }
  if (s2 !== null) claims.push({ id: "s2", holder: "M1", ...s2.target, ...s2.rights, confidence: s2.confidence, grantor: s2.grantor });
  if (s3 === 1) claims.push({ id: "s3", holder: "H2", resource: "rB", canRead: false, canWrite: true, canDelegate: false, confidence: 1 });
  if (s3 === 2) claims.push({ id: "s3", holder: "H2", resource: "rB", canRead: true, canWrite: true, canDelegate: true, confidence: 1 });
  if (s4) claims.push({ id: "s4", holder: "M2", resource: "rB", canRead: true, canWrite: true, canDelegate: false, confidence: 1, grantor: "H2" });
  return {
    version: 1,
    entities: [
      { id: "H1", kind: "HUMAN", displayName: "H1" },
      { id: "H2", kind: "HUMAN", displayName: "H2" },
      { id: "M1", kind: "MACHINE", displayName: "M1" },
      { id: "M2", kind: "MACHINE", displayName: "M2" },
    ],
    machineOwners: [{ machine: "M1", owner: "H1" }, ...(m2Owned ? [{ machine: "M2", owner: "H2" }] : [])],
    resources: [
      { id: "rA", type: "file", scope: "/d", isPublic: false },
      { id: "rB", type: "file", scope: "/d/x", isPublic: false, ifcLabel: "SECRET" },
    ],
    claims,
    halts,
  };
}

function project(r: ReturnType<typeof verify>): string {
  return JSON.stringify({
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
  });
}

/** Plain assertion: vitest's expect is too slow for a million checks. */
function check(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

const ACTORS = ["H1", "H2", "M1", "M2"];
const OPS = ["reads", "writes", "delegates"] as const;
const RESOURCES = ["rA", "rB"];

describe("bounded exhaustive check", () => {
  it("every registry and action of the small universe satisfies the invariants and matches the reference", () => {
    let registries = 0;
    let actions = 0;
    let permitted = 0;
    const codes = new Map<string, number>();
    // permitted[key without S1 state][state] for the monotonicity check over revocation/expiry.
    const byState = new Map<string, Map<string, boolean>>();

    for (const s1 of s1Options()) {
      const s1rights = s1 === null ? "-" : RIGHTS.indexOf(s1.rights);
      let s2i = -1;
      for (const s2 of s2Options()) {
        s2i++;
        for (const s3 of [0, 1, 2]) {
          for (const s4 of [false, true]) {
            for (const m2Owned of [true, false]) {
              const data = registry(s1, s2, s3, s4, m2Owned);
              const snap = buildSnapshot(data);
              const ref = new Reference(data, NOW);
              registries++;

              // Every single-resource action of every actor: exact agreement with the reference.
              for (const actor of ACTORS) {
                for (const op of OPS) {
                  for (const r of RESOURCES) {
                    const action = { actionId: "a", actor, reads: [], writes: [], delegates: [], [op]: [r] };
                    const res = verify(snap, action, NOW);
                    actions++;
                    const want = JSON.stringify(ref.verify(parseFlagsOff(action)));
                    const got = project(res);
                    check(got === want, () => `${JSON.stringify(data.claims)} ${actor} ${op} ${r}\n got ${got}\nwant ${want}`);
                    for (const v of res.violations) codes.set(v.code, (codes.get(v.code) ?? 0) + 1);
                    for (const w of res.warnings) codes.set(w.code, (codes.get(w.code) ?? 0) + 1);
                    if (res.permitted) {
                      permitted++;
                      // PERMITTED => a valid chain, and for a machine an owner holding the right (A5).
                      const resource = ref.res(r);
                      const opName = op === "reads" ? "read" : op === "writes" ? "write" : "delegate";
                      check(ref.covering(actor, resource, opName).some((c) => ref.valid(c)), () => "permit without a valid chain");
                      if (actor.startsWith("M")) {
                        const owner = ref.owner(actor);
                        check(owner !== undefined && ref.covering(owner, resource, opName).some((c) => ref.valid(c)), () => "permit outside the owner's rights");
                      }
                    }
                    if (s1 !== null) {
                      const key = `${s1rights}|${s2i}|${s3}|${s4}|${m2Owned}|${actor}|${op}|${r}`;
                      let m = byState.get(key);
                      if (m === undefined) byState.set(key, (m = new Map()));
                      m.set(s1.state, res.permitted);
                    }
                  }
                }
              }

              // Every flag blocks, whatever else holds.
              for (const flag of FLAGS) {
                const res = verify(snap, { actionId: "f", actor: "M1", reads: ["rB"], [flag]: true }, NOW);
                actions++;
                check(!res.permitted && res.violations[0]?.code === "FORBIDDEN_FLAG" && res.violations[0].flag === flag, () => `flag ${flag} did not block`);
              }

              // An ownerless machine can do nothing, not even an empty action.
              if (!m2Owned) {
                const res = verify(snap, { actionId: "o", actor: "M2" }, NOW);
                actions++;
                check(!res.permitted && res.violations.some((v) => v.code === "NO_OWNER"), () => "ownerless machine not blocked");
              }

              // A grant accepted by checkGrant is valid once written.
              if (s2 !== null) {
                const without = buildSnapshot({ ...data, claims: data.claims.filter((c) => c.id !== "s2") });
                const proposal = { holder: "M1", grantor: s2.grantor, ...s2.target, ...s2.rights, confidence: s2.confidence };
                if (checkGrant(without, proposal, NOW).ok) check(snap.isClaimValid("s2", NOW), () => `accepted grant invalid: ${JSON.stringify(proposal)}`);
              }
            }
          }
        }
      }
    }

    // Halts: every kind of halt blocks M1 in every registry shape (checked on the S1 x S2 grid).
    let halted = 0;
    const halts: Halt[][] = [[{ kind: "machine", target: "M1" }], [{ kind: "owner", target: "H1" }], [{ kind: "all" }]];
    for (const s1 of s1Options()) {
      for (const s2 of s2Options()) {
        for (const h of halts) {
          const snap = buildSnapshot(registry(s1, s2, 0, false, true, h));
          for (const op of OPS) {
            const res = verify(snap, { actionId: "h", actor: "M1", [op]: ["rB"] }, NOW);
            halted++;
            check(!res.permitted && res.violations.some((v) => v.code === "HALTED"), () => "halted machine not blocked");
          }
        }
      }
    }

    // Monotonicity: expiring or revoking H1's root claim never turns BLOCKED into PERMITTED.
    let monotone = 0;
    for (const m of byState.values()) {
      const valid = m.get("valid");
      for (const s of ["expired", "revoked"]) {
        monotone++;
        check(m.get(s) !== true || valid === true, () => "revocation or expiry turned BLOCKED into PERMITTED");
      }
    }

    console.log(
      `exhaustive: ${registries} registries, ${actions + halted} actions checked (${permitted} permitted), ` +
        `${monotone} monotonicity pairs; codes seen: ${[...codes].map(([c, n]) => `${c}=${n}`).join(" ")}`,
    );
    expect(registries).toBeGreaterThan(10_000);
    for (const code of ["READ_DENIED", "WRITE_DENIED", "DELEGATE_DENIED", "NOT_DELEGATED_BY_OWNER", "OUTSIDE_OWNER_SCOPE", "NO_OWNER", "CONTESTED_WRITE", "WRITE_CONFLICT"]) {
      expect(codes.get(code) ?? 0).toBeGreaterThan(0);
    }
  });
});

function parseFlagsOff(a: Record<string, unknown>) {
  const flags = Object.fromEntries(FLAGS.map((f) => [f, false]));
  return {
    actionId: a.actionId as string,
    actor: a.actor as string,
    reads: (a.reads as string[]) ?? [],
    writes: (a.writes as string[]) ?? [],
    delegates: (a.delegates as string[]) ?? [],
    governsHumans: [] as string[],
    ...(flags as Record<(typeof FLAGS)[number], boolean>),
  };
}
