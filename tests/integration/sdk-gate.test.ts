/**
 * The SDK's gate against a real kernel server: pinning at start, verified permits, and every way an
 * answer can be wrong — tampered, foreign-signed, about another action, expired, reused, late,
 * garbage, or absent — each refused with its own stable code. Permits live 3 s on this server so
 * expiry can be observed.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAction } from "@/lib/kernel/action";
import { actionDigest, buildDecisionRecord, keyIdOf, publicKeyOf, signDecision } from "@/lib/kernel/signing";
import { toHex } from "@/lib/kernel/bytes";
import { createGate, KernelBlockedError, refusalText, type Decision, type FetchLike, type Gate, type GateOptions, type Permit } from "@/lib/sdk";
import { call, OPERATOR_TOKEN } from "../support/server";
import { closedPortUrl, startFakeKernel, startImpostor, startKernel, type FakeHandler, type FakeKernel, type KernelFixture } from "./sdk-fixture";

const TTL_MS = 3000;
let k: KernelFixture;
let gate: Gate;
const fakes: FakeKernel[] = [];

const options = (extra: Partial<GateOptions> = {}): GateOptions => ({ url: k.url, token: k.token, machine: k.machine, publicKey: k.publicKey, ...extra });

function permitOf(d: Decision): Permit {
  if (!d.permitted) throw new Error(`expected a permit, got ${d.code}: ${d.error.message}`);
  return d;
}
function refusalOf(d: Decision) {
  if (d.permitted) throw new Error("expected a refusal, got a permit");
  return d;
}

/** A fetch that lets the real kernel answer, then edits the /verify answer (a man in the middle). */
type SignedAnswer = { record: Record<string, unknown>; signature: string; keyId: string };
function tamperingFetch(edit: (body: SignedAnswer) => unknown): FetchLike {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!input.endsWith("/verify")) return res;
    const body = (await res.json()) as SignedAnswer;
    return new Response(JSON.stringify(edit(structuredClone(body))), { status: res.status, headers: { "content-type": "application/json" } });
  };
}

/** A fake kernel that passes the start-up checks, then answers with `answer`. */
async function fake(answer: FakeHandler): Promise<FakeKernel> {
  const f = await startImpostor(k, answer);
  fakes.push(f);
  return f;
}

beforeAll(async () => {
  k = await startKernel({ env: { FK_PERMIT_TTL_MS: String(TTL_MS) } });
  gate = await createGate(options());
});
afterAll(async () => {
  for (const f of fakes) await f.close();
  await k?.server.stop();
});

describe("createGate: no kernel, no agent", () => {
  it("starts when the kernel presents the pinned key, given as hex or as keyId + publicKey", async () => {
    expect(gate.keyId).toBe(k.keyId);
    expect(gate.machine).toBe(k.machine);
    expect(gate.api).toBe(`${k.url}/api/v1`);
    const g = await createGate(options({ url: `${k.url}/api/v1/`, publicKey: { keyId: k.keyId, publicKey: k.publicKey.toUpperCase() } }));
    expect(g.keyId).toBe(k.keyId);
  });

  it("refuses to start when the kernel presents another key", async () => {
    const other = toHex(publicKeyOf(randomBytes(32)));
    const e = await createGate(options({ publicKey: other })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KernelBlockedError);
    expect((e as KernelBlockedError).code).toBe("WRONG_KEY");
    expect((e as KernelBlockedError).message).toContain(k.keyId);
  });

  it("refuses a keyId that is not the pinned key's", async () => {
    const other = toHex(publicKeyOf(randomBytes(32)));
    await expect(createGate(options({ publicKey: { keyId: keyIdOf(other), publicKey: k.publicKey } }))).rejects.toMatchObject({ code: "WRONG_KEY" });
    await expect(createGate(options({ publicKey: "abc" }))).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    await expect(createGate(options({ url: "ftp://example.test" }))).rejects.toMatchObject({ code: "INVALID_CONFIG" });
  });

  it("refuses to start when the kernel is unreachable, silent, or not a kernel", async () => {
    await expect(createGate(options({ url: await closedPortUrl() }))).rejects.toMatchObject({ code: "KERNEL_UNAVAILABLE" });
    const silent = await startFakeKernel(() => "hang");
    fakes.push(silent);
    const t0 = Date.now();
    await expect(createGate(options({ url: silent.url, timeoutMs: 300 }))).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(Date.now() - t0).toBeLessThan(3000);
    const junk = await startFakeKernel(() => ({ status: 200, body: "<html>hello</html>", contentType: "text/html" }));
    fakes.push(junk);
    await expect(createGate(options({ url: junk.url }))).rejects.toMatchObject({ code: "BAD_RESPONSE" });
  });

  it("refuses to start with a token the kernel does not accept", async () => {
    await expect(createGate(options({ token: "fkm_not-a-real-token" }))).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    await expect(createGate(options({ token: OPERATOR_TOKEN }))).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });
});

describe("check and guard against the real kernel", () => {
  it("returns a verified permit bound to the digest of the parsed action", async () => {
    const permit = permitOf(await gate.check({ reads: [k.data] }));
    const parsed = parseAction({ actionId: permit.action.actionId, actor: k.machine, reads: [k.data] });
    expect(parsed.ok).toBe(true);
    expect(permit.record.actionDigest).toBe(actionDigest((parsed as { ok: true; action: never }).action));
    expect(permit.record.actor).toBe(k.machine);
    expect(permit.record.mode).toBe("live");
    expect(permit.keyId).toBe(k.keyId);
    expect(permit.expiresAt).toBeGreaterThan(Date.now());
    expect(Object.isFrozen(permit.record)).toBe(true);
  });

  it("returns a signed BLOCKED refusal with the kernel's reasons", async () => {
    const r = refusalOf(await gate.check({ writes: [k.report] }, { tool: "write_report" }));
    expect(r.code).toBe("BLOCKED");
    expect(r.violations.map((v) => v.code)).toEqual(["WRITE_DENIED"]);
    expect(r.error.record?.permitted).toBe(false);
    expect(r.error.tool).toBe("write_report");
    const text = refusalText(r.error);
    expect(text).toContain('tool "write_report"');
    expect(text).toContain("WRITE_DENIED (A7)");
    expect(text).toContain("owner may grant");
  });

  it("an invariant refusal says no one can approve it", async () => {
    const r = refusalOf(await gate.check({ reads: [k.data], increases_machine_sovereignty: true }));
    expect(r.violations.map((v) => v.code)).toContain("FORBIDDEN_FLAG");
    expect(refusalText(r.error)).toContain("no one can approve");
  });

  it("guard runs the function once on a permit and never on a refusal", async () => {
    let runs = 0;
    const out = await gate.guard({ reads: [k.data] }, (permit) => {
      runs += 1;
      return permit.record.actionId;
    });
    expect(runs).toBe(1);
    expect(typeof out).toBe("string");
    const e = await gate.guard({ writes: [k.report] }, () => (runs += 1)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KernelBlockedError);
    expect((e as KernelBlockedError).code).toBe("BLOCKED");
    expect(runs).toBe(1);
  });

  it("refuses malformed actions and foreign actors locally, without asking", async () => {
    let requests = 0;
    const counting = await createGate(options({ fetch: (i, init) => (requests++, fetch(i, init)) }));
    const before = requests;
    expect(refusalOf(await counting.check({ reads: [""] })).code).toBe("INVALID_ACTION");
    expect(refusalOf(await counting.check({ reads: [k.data], actor: "someone-else" })).code).toBe("ACTOR_MISMATCH");
    expect(refusalOf(await counting.check({ reads: [k.data], ...({ bogus_flag: true } as object) })).code).toBe("INVALID_ACTION");
    expect(requests).toBe(before);
  });

  it("passes the session through and gets it back signed", async () => {
    const permit = permitOf(await gate.check({ reads: [k.data] }, { session: "sdk-session-1" }));
    expect(permit.record.session).toBe("sdk-session-1");
  });
});

describe("answers that are not a valid permit for this action are refused", () => {
  it("a tampered signature: BAD_SIGNATURE", async () => {
    const g = await createGate(options({ fetch: tamperingFetch((b) => ({ ...b, signature: (b.signature[0] === "0" ? "1" : "0") + b.signature.slice(1) })) }));
    const r = refusalOf(await g.check({ reads: [k.data] }));
    expect(r.code).toBe("BAD_SIGNATURE");
    expect(r.violations).toEqual([]);
  });

  it("a tampered record (later expiry, or a blocked decision turned into a permit): refused", async () => {
    const later = await createGate(options({ fetch: tamperingFetch((b) => ({ ...b, record: { ...b.record, expiresAt: "2999-01-01T00:00:00.000Z" } })) }));
    expect(refusalOf(await later.check({ reads: [k.data] })).code).toBe("BAD_SIGNATURE");
    const flipped = await createGate(
      options({ fetch: tamperingFetch((b) => ({ ...b, record: { ...b.record, permitted: true, violations: [], expiresAt: "2999-01-01T00:00:00.000Z" } })) }),
    );
    expect(refusalOf(await flipped.check({ writes: [k.report] })).code).toBe("BAD_SIGNATURE");
  });

  it("the permit of another action (a swapped request): ACTION_MISMATCH", async () => {
    const swap: FetchLike = async (input, init) => {
      if (!input.endsWith("/verify")) return fetch(input, init);
      const body = JSON.parse(String(init.body)) as { action: Record<string, unknown> };
      // Someone in between asks the kernel about another (permitted) action and returns its permit.
      body.action = { ...body.action, actionId: `${String(body.action.actionId)}-swapped` };
      return fetch(input, { ...init, body: JSON.stringify(body) });
    };
    const g = await createGate(options({ fetch: swap }));
    expect(refusalOf(await g.check({ reads: [k.data] })).code).toBe("ACTION_MISMATCH");

    // A genuine permit for a read, answered to a question about a write.
    const readPermit = permitOf(await gate.check({ reads: [k.data] }));
    const replay: FetchLike = async (input, init) =>
      input.endsWith("/verify") ? Response.json({ record: readPermit.record, signature: readPermit.signature, keyId: readPermit.keyId }) : fetch(input, init);
    const g2 = await createGate(options({ fetch: replay }));
    const r = refusalOf(await g2.check({ writes: [k.report] }));
    expect(r.code).toBe("ACTION_MISMATCH");
  });

  it("a decision signed by another key (a fake kernel): WRONG_KEY; a forged signature under the real key id: BAD_SIGNATURE", async () => {
    const attacker = randomBytes(32);
    const attackerId = keyIdOf(publicKeyOf(attacker));
    const forge = (keyId: string) => async (_req: unknown, body: string) => {
      const { action } = JSON.parse(body) as { action: Record<string, unknown> };
      const parsed = parseAction(action);
      if (!parsed.ok) return { status: 400, body: "{}" };
      const record = buildDecisionRecord({
        mode: "live",
        now: Date.now(),
        nonce: toHex(randomBytes(16)),
        keyId,
        auditSeq: 1,
        action: parsed.action,
        result: { actionId: parsed.action.actionId, permitted: true, violations: [], warnings: [], confidence: 1, requiresHumanArbitration: false, manipulationScore: 0, snapshot: { version: 1, digest: "ab".repeat(32) } },
      });
      return { status: 200, body: JSON.stringify({ record, signature: signDecision(record, attacker), keyId }) };
    };
    const foreign = await fake(forge(attackerId));
    const g1 = await createGate(options({ url: foreign.url }));
    expect(refusalOf(await g1.check({ writes: [k.report] })).code).toBe("WRONG_KEY");
    const forged = await fake(forge(k.keyId));
    const g2 = await createGate(options({ url: forged.url }));
    expect(refusalOf(await g2.check({ writes: [k.report] })).code).toBe("BAD_SIGNATURE");
    expect(forged.hits).toContain("POST /api/v1/verify");
  });

  it("garbage, error statuses and empty bodies: BAD_RESPONSE or KERNEL_UNAVAILABLE, never a permit", async () => {
    const answers = [
      { status: 200, body: "not json", code: "BAD_RESPONSE" },
      { status: 200, body: JSON.stringify({ permitted: true }), code: "BAD_RESPONSE" },
      { status: 200, body: "", code: "BAD_RESPONSE" },
      { status: 500, body: "internal", code: "KERNEL_UNAVAILABLE" },
      { status: 503, body: JSON.stringify({ error: { code: "SERVICE_UNAVAILABLE", message: "AUDIT_UNAVAILABLE" }, permitted: false }), code: "KERNEL_UNAVAILABLE" },
      { status: 418, body: "teapot", code: "BAD_RESPONSE" },
    ];
    for (const a of answers) {
      const f = await fake(() => ({ status: a.status, body: a.body }));
      const g = await createGate(options({ url: f.url }));
      const d = await g.check({ reads: [k.data] });
      expect(d.permitted, a.body).toBe(false);
      expect(refusalOf(d).code, `${a.status} ${a.body}`).toBe(a.code);
    }
  });

  it("a kernel that never answers: TIMEOUT after timeoutMs", async () => {
    const f = await fake(() => "hang");
    const g = await createGate(options({ url: f.url, timeoutMs: 400 }));
    const t0 = Date.now();
    const r = refusalOf(await g.check({ reads: [k.data] }));
    expect(r.code).toBe("TIMEOUT");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it("a call the caller aborts: ABORTED, and it does not count against the kernel", async () => {
    const f = await fake(() => "hang");
    const g = await createGate(options({ url: f.url, timeoutMs: 5000, failureThreshold: 1 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const r = refusalOf(await g.check({ reads: [k.data] }, { signal: controller.signal }));
    expect(r.code).toBe("ABORTED");
    expect(g.breakerState).toBe("closed");
  });
});

describe("permits are single-use and short-lived", () => {
  it("a second redemption is refused: PERMIT_REUSED", async () => {
    const permit = permitOf(await gate.authorize({ reads: [k.data] }));
    const e = await gate.redeem(permit).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KernelBlockedError);
    expect((e as KernelBlockedError).code).toBe("PERMIT_REUSED");
  });

  it("an expired permit is refused here (EXPIRED) and by the kernel (EXPIRED)", async () => {
    const local = permitOf(await gate.check({ reads: [k.data] }));
    // A gate whose clock lags: it still thinks the permit is fresh, so only the kernel can refuse it.
    const lagging = await createGate(options({ now: () => Date.now() - 60_000 }));
    const remote = permitOf(await lagging.check({ reads: [k.data] }));
    await new Promise((r) => setTimeout(r, TTL_MS + 300));
    await expect(gate.redeem(local)).rejects.toMatchObject({ code: "EXPIRED" });
    await expect(lagging.redeem(remote)).rejects.toMatchObject({ code: "EXPIRED", kernelCode: "PERMIT_INVALID" });
    let ran = false;
    // guard on a permit that arrives already expired: the clock runs ahead of the permit's lifetime.
    const ahead = await createGate(options({ now: () => Date.now() + TTL_MS + 1000 }));
    await expect(ahead.guard({ reads: [k.data] }, () => (ran = true))).rejects.toMatchObject({ code: "EXPIRED" });
    expect(ran).toBe(false);
  });

  it("halting the machine invalidates its outstanding permits (PERMIT_INVALID), resuming lets it act again", async () => {
    const permit = permitOf(await gate.check({ reads: [k.data] }));
    expect((await call(k.server, "POST", `/machines/${k.machine}/halt`, { token: OPERATOR_TOKEN, body: {} })).status).toBe(200);
    try {
      await expect(gate.redeem(permit)).rejects.toMatchObject({ code: "PERMIT_INVALID" });
      const r = refusalOf(await gate.check({ reads: [k.data] }));
      expect(r.violations.map((v) => v.code)).toContain("HALTED");
    } finally {
      expect((await call(k.server, "POST", `/machines/${k.machine}/resume`, { token: OPERATOR_TOKEN, body: {} })).status).toBe(200);
    }
    expect((await gate.check({ reads: [k.data] })).permitted).toBe(true);
  });
});

describe("circuit breaker", () => {
  it("opens after 3 consecutive failures, refuses without asking, then lets one probe through", async () => {
    let failing = true;
    let requests = 0;
    const flaky: FetchLike = async (input, init) => {
      if (!input.endsWith("/verify")) return fetch(input, init);
      requests += 1;
      return failing ? new Response("down", { status: 502 }) : fetch(input, init);
    };
    const g = await createGate(options({ fetch: flaky, coolDownMs: 500 }));
    for (let i = 0; i < 3; i++) expect(refusalOf(await g.check({ reads: [k.data] })).code).toBe("KERNEL_UNAVAILABLE");
    expect(g.breakerState).toBe("open");
    expect(refusalOf(await g.check({ reads: [k.data] })).code).toBe("CIRCUIT_OPEN");
    expect(requests).toBe(3);

    await new Promise((r) => setTimeout(r, 550));
    expect(g.breakerState).toBe("half-open");
    // Two calls at once: one probe reaches the kernel, the other is refused at once.
    const [a, b] = await Promise.all([g.check({ reads: [k.data] }), g.check({ reads: [k.data] })]);
    expect([refusalOf(a).code, refusalOf(b).code].sort()).toEqual(["CIRCUIT_OPEN", "KERNEL_UNAVAILABLE"]);
    expect(requests).toBe(4);
    expect(g.breakerState).toBe("open");

    failing = false;
    await new Promise((r) => setTimeout(r, 550));
    expect((await g.check({ reads: [k.data] })).permitted).toBe(true);
    expect(g.breakerState).toBe("closed");
    // A BLOCKED decision is a healthy kernel: it never opens the breaker.
    for (let i = 0; i < 4; i++) expect(refusalOf(await g.check({ writes: [k.report] })).code).toBe("BLOCKED");
    expect(g.breakerState).toBe("closed");
  });
});

describe("the kernel goes away", () => {
  it("a stopped kernel blocks every call and no new agent can start", async () => {
    await k.server.kill("SIGKILL");
    const r = refusalOf(await gate.check({ reads: [k.data] }));
    expect(r.code).toBe("KERNEL_UNAVAILABLE");
    let ran = false;
    await expect(gate.guard({ reads: [k.data] }, () => (ran = true))).rejects.toMatchObject({ code: "KERNEL_UNAVAILABLE" });
    expect(ran).toBe(false);
    await expect(createGate(options())).rejects.toMatchObject({ code: "KERNEL_UNAVAILABLE" });
  });
});
