/**
 * A used-up budget (issue 13) is a refusal the model sees as such: BUDGET_EXHAUSTED in a signed
 * decision, or a redemption the kernel refuses with PERMIT_INVALID / reason BUDGET_EXHAUSTED. The
 * kernel here is a fake fetch that signs with the RFC 8032 test key; everything the gate checks
 * (signature, digest, actor, expiry) is real.
 */
import { describe, expect, it } from "vitest";
import { parseAction } from "../../kernel/action";
import { buildDecisionRecord, DECISION_DOMAIN, signDecision } from "../../kernel/signing";
import type { Violation, VerifyResult } from "../../kernel/types";
import { KEY_ID_A, NOW, PUBLIC_A, SECRET_A } from "../../kernel/__tests__/evidence-fixtures";
import { gateTool, ToolRefusedError } from "../adapters/vercel-ai";
import { KernelBlockedError, refusalText } from "../errors";
import { createGate, type Gate } from "../gate";
import type { FetchLike } from "../http";
import { GatingProxy } from "../mcp/proxy";
import { defineToolMap } from "../mapping";
import { authorizeToolCall, refusalMessage } from "../tools";

const BUDGET_LINE = "The budget the machine's owner set for this authority is used up. The owner may raise it in the Freedom Kernel console; do not retry until then.";
const GRANT_LINE = "The machine's owner may grant the missing authority";

const budgetViolation: Violation = {
  code: "BUDGET_EXHAUSTED",
  axiom: "BUDGET",
  message: "BUDGET EXHAUSTED on report.txt: grant clm_1 (held by bot) — all 2 uses are spent",
  resource: "report.txt",
};
const missingViolation: Violation = { code: "WRITE_DENIED", axiom: "A7", message: "WRITE DENIED on notes.txt: bot holds no valid write claim", resource: "notes.txt" };
const invariantViolation: Violation = { code: "FORBIDDEN_FLAG", axiom: "SOVEREIGNTY", message: "FORBIDDEN (increases machine sovereignty)", flag: "increases_machine_sovereignty" };

describe("refusalText: a used-up budget", () => {
  const blocked = (violations: Violation[]) => new KernelBlockedError("BLOCKED", "blocked", { violations, tool: "write_report" });

  it("says the budget is used up and not to retry, instead of asking for a grant", () => {
    const text = refusalText(blocked([budgetViolation]));
    expect(text).toContain('Freedom Kernel BLOCKED the call to tool "write_report"; the tool did not run.');
    expect(text).toContain(`- BUDGET_EXHAUSTED (BUDGET): ${budgetViolation.message}`);
    expect(text).toContain(BUDGET_LINE);
    expect(text).not.toContain(GRANT_LINE);
  });

  it("with a missing grant as well: both cures are named", () => {
    const text = refusalText(blocked([budgetViolation, missingViolation]));
    expect(text).toContain("A budget the machine's owner set is used up, and other authority is missing.");
    expect(text).toContain("raise the budget and grant the missing authority");
  });

  it("an invariant still wins: no one can approve it", () => {
    const text = refusalText(blocked([budgetViolation, invariantViolation]));
    expect(text).toContain("no one can approve this action");
    expect(text).not.toContain("raise");
  });

  it("other authority refusals keep the grant line", () => {
    expect(refusalText(blocked([missingViolation]))).toContain(GRANT_LINE);
  });

  it("a redemption refused for budget (code BUDGET_EXHAUSTED) gives the same advice", () => {
    const text = refusalText(new KernelBlockedError("BUDGET_EXHAUSTED", "the kernel refused to redeem the permit: a budget the owner set is used up", { tool: "write_report" }));
    expect(text).toContain('refused to redeem the permit for the call to tool "write_report" (BUDGET_EXHAUSTED); the tool did not run.');
    expect(text).toContain(BUDGET_LINE);
  });
});

/** A fake kernel: keys, token check, a signed decision per scenario, and the redemption answer. */
function fakeKernel(options: { violations: Violation[]; redeem: { status: number; body: unknown } }): { fetch: FetchLike; hits: string[] } {
  const hits: string[] = [];
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const fetch: FetchLike = async (input, init) => {
    const path = new URL(input).pathname;
    const body = typeof init.body === "string" ? (JSON.parse(init.body) as Record<string, unknown>) : undefined;
    hits.push(`${init.method ?? "GET"} ${path}`);
    if (path === "/api/v1/keys") return json(200, { domain: DECISION_DOMAIN, keys: [{ keyId: KEY_ID_A, algorithm: "Ed25519", publicKey: PUBLIC_A, status: "current" }] });
    if (path === "/api/v1/permits/redeem") {
      if (body !== undefined && Object.keys(body).length === 0) return json(400, { error: { code: "VALIDATION_FAILED", message: "record: required" } });
      if (options.redeem.status === 200) {
        // A genuine redemption answer names the permit it redeemed.
        const record = body?.record as { nonce: string; actionId: string };
        return json(200, { redeemed: true, nonce: record.nonce, actionId: record.actionId });
      }
      return json(options.redeem.status, options.redeem.body);
    }
    if (path === "/api/v1/verify") {
      const parsed = parseAction(body?.action);
      if (!parsed.ok) return json(400, { error: { code: "VALIDATION_FAILED", message: "bad action" } });
      const permitted = options.violations.length === 0;
      const result: VerifyResult = {
        actionId: parsed.action.actionId,
        permitted,
        violations: options.violations,
        warnings: [],
        confidence: permitted ? 1 : 0,
        requiresHumanArbitration: false,
        manipulationScore: 0,
        snapshot: { version: 3, digest: "ab".repeat(32) },
        ...(permitted ? { budgets: [{ grant: "clm_1", remaining: { uses: 0 } }] } : {}),
      };
      const record = buildDecisionRecord({ mode: "live", now: NOW, nonce: "0123456789abcdef0123456789abcdef", keyId: KEY_ID_A, auditSeq: 5, action: parsed.action, result });
      return json(200, { record, signature: signDecision(record, SECRET_A), keyId: KEY_ID_A });
    }
    return json(404, { error: { code: "NOT_FOUND", message: "no such route" } });
  };
  return { fetch, hits };
}

let ids = 0;
const gateOn = (fetch: FetchLike): Promise<Gate> =>
  createGate({ url: "http://kernel.test", token: "fkm_test", machine: "bot", publicKey: PUBLIC_A, fetch, now: () => NOW + 1, newActionId: () => `act-${++ids}` });

const budgetRefusedRedeem = {
  status: 409,
  body: { error: { code: "PERMIT_INVALID", message: "the permit is not valid: BUDGET_EXHAUSTED (grant clm_1: all 2 uses are spent)", details: { reason: "BUDGET_EXHAUSTED" } }, permitted: false },
};
const OK_REDEEM = { status: 200, body: undefined };
const tools = defineToolMap({ write_report: { writes: ["report.txt"] } });

describe("the gate: BUDGET_EXHAUSTED at decision and at redemption", () => {
  it("a signed BLOCKED decision for budget: code BLOCKED, the violation code, the budget text", async () => {
    const gate = await gateOn(fakeKernel({ violations: [budgetViolation], redeem: OK_REDEEM }).fetch);
    const d = await gate.check({ writes: ["report.txt"] }, { tool: "write_report" });
    expect(d.permitted).toBe(false);
    if (d.permitted) return;
    expect(d.code).toBe("BLOCKED");
    expect(d.violations.map((v) => v.code)).toEqual(["BUDGET_EXHAUSTED"]);
    expect(refusalText(d.error)).toContain(BUDGET_LINE);
  });

  it("a redemption refused with PERMIT_INVALID / reason BUDGET_EXHAUSTED: code BUDGET_EXHAUSTED, not a generic error", async () => {
    const kernel = fakeKernel({ violations: [], redeem: budgetRefusedRedeem });
    const gate = await gateOn(kernel.fetch);
    const d = await gate.authorize({ writes: ["report.txt"] }, { tool: "write_report" });
    expect(d.permitted).toBe(false);
    if (d.permitted) return;
    expect(d.error).toMatchObject({ code: "BUDGET_EXHAUSTED", kernelCode: "PERMIT_INVALID", tool: "write_report" });
    const text = refusalText(d.error);
    expect(text).toContain("(BUDGET_EXHAUSTED); the tool did not run.");
    expect(text).toContain(BUDGET_LINE);
    expect(kernel.hits.filter((h) => h === "POST /api/v1/permits/redeem")).toHaveLength(2); // the token check, then the redemption
    // A refused redemption is the kernel working: the breaker stays closed.
    expect(gate.breakerState).toBe("closed");
  });

  it("guard never runs the function when the budget is used up at redemption", async () => {
    const gate = await gateOn(fakeKernel({ violations: [], redeem: budgetRefusedRedeem }).fetch);
    let ran = false;
    await expect(gate.guard({ writes: ["report.txt"] }, () => (ran = true))).rejects.toMatchObject({ code: "BUDGET_EXHAUSTED" });
    expect(ran).toBe(false);
  });

  it("the reason is read from details; a message-only answer still maps; other reasons stay PERMIT_INVALID", async () => {
    const messageOnly = { status: 409, body: { error: { code: "PERMIT_INVALID", message: "the permit is not valid: BUDGET_EXHAUSTED" } } };
    const halted = { status: 422, body: { error: { code: "PERMIT_INVALID", message: "the permit is not valid: HALTED (the machine is halted)", details: { reason: "HALTED" } } } };
    const codeOf = async (redeem: { status: number; body: unknown }) => {
      const gate = await gateOn(fakeKernel({ violations: [], redeem }).fetch);
      const d = await gate.authorize({ writes: ["report.txt"] });
      return d.permitted ? "PERMITTED" : d.code;
    };
    expect(await codeOf(messageOnly)).toBe("BUDGET_EXHAUSTED");
    expect(await codeOf(halted)).toBe("PERMIT_INVALID");
    expect(await codeOf(OK_REDEEM)).toBe("PERMITTED");
  });

  it("tool calls (authorizeToolCall / refusalMessage) carry the budget text", async () => {
    const gate = await gateOn(fakeKernel({ violations: [], redeem: budgetRefusedRedeem }).fetch);
    const d = await authorizeToolCall(gate, tools, "write_report", {});
    expect(d.permitted).toBe(false);
    if (d.permitted) return;
    expect(refusalMessage(d, "write_report")).toContain(BUDGET_LINE);
  });
});

describe("adapters: BUDGET_EXHAUSTED", () => {
  const execOptions = { toolCallId: "call-1", messages: [] } as never;

  it("vercel-ai: a budget refusal needs approval (authority class: curable by the owner)", async () => {
    const gate = await gateOn(fakeKernel({ violations: [budgetViolation], redeem: OK_REDEEM }).fetch);
    let ran = false;
    const tool = gateTool(gate, tools, "write_report", { description: "writes the report", execute: async () => (ran = true) } as never, { approval: true }) as {
      needsApproval: (input: unknown, o: { toolCallId: string }) => Promise<boolean>;
      execute: (input: unknown, o: unknown) => Promise<unknown>;
    };
    expect(await tool.needsApproval({}, { toolCallId: "call-1" })).toBe(true);
    const error = await tool.execute({}, execOptions).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolRefusedError);
    expect(error).toMatchObject({ code: "BLOCKED", violations: [expect.objectContaining({ code: "BUDGET_EXHAUSTED" })] });
    expect((error as Error).message).toContain(BUDGET_LINE);
    expect(ran).toBe(false);
  });

  it("vercel-ai: an invariant alongside the budget needs no approval (no one can cure it)", async () => {
    const gate = await gateOn(fakeKernel({ violations: [budgetViolation, invariantViolation], redeem: OK_REDEEM }).fetch);
    const tool = gateTool(gate, tools, "write_report", { execute: async () => true } as never, { approval: true }) as { needsApproval: (i: unknown, o: { toolCallId: string }) => Promise<boolean> };
    expect(await tool.needsApproval({}, { toolCallId: "call-2" })).toBe(false);
  });

  it("vercel-ai: a redemption refused for budget is thrown with the budget text", async () => {
    const gate = await gateOn(fakeKernel({ violations: [], redeem: budgetRefusedRedeem }).fetch);
    const tool = gateTool(gate, tools, "write_report", { execute: async () => true } as never) as { execute: (input: unknown, o: unknown) => Promise<unknown> };
    await expect(tool.execute({}, execOptions)).rejects.toMatchObject({ code: "BUDGET_EXHAUSTED", message: expect.stringContaining(BUDGET_LINE) });
  });

  it("MCP proxy: the refusal text and the code in _meta", async () => {
    const gate = await gateOn(fakeKernel({ violations: [], redeem: budgetRefusedRedeem }).fetch);
    const upstream = {
      setNotificationHandler: () => undefined,
      request: () => Promise.reject(new Error("a refused call must not reach upstream")),
    };
    const proxy = new GatingProxy({ gate, tools, upstream: upstream as never });
    const result = await proxy.callTool("write_report", {});
    expect(result).toMatchObject({ isError: true, _meta: { "freedom-kernel/code": "BUDGET_EXHAUSTED" } });
    expect((result.content as { text: string }[])[0]!.text).toContain(BUDGET_LINE);
  });
});
