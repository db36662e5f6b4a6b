import "server-only";
import crypto from "node:crypto";
import { buildDecisionRecord, buildPlanDecisionRecord, decisionSigningBytes, inputDigest, planDecisionSigningBytes } from "../kernel/signing";
import type { Action } from "../kernel/types";
import { parseWirePlan, parseWireRequest, renderOriginal, verifyWire, verifyWirePlan } from "../kernel/wire";
import { getCurrentSigner } from "./audit-log";

/**
 * The stateless endpoint: the original kernel's JSON wire request, with the registry in the
 * request. The answer is signed with mode "stateless" — proof of what the kernel answered for that
 * input, never a permit (a stateless record has no expiry and verifyPermit refuses it) — and is not
 * written to the audit log, since it decides nothing about this installation's registry.
 */
const nonce = () => crypto.randomBytes(16).toString("hex");


export async function statelessVerify(body: Record<string, unknown>) {
  const signer = await getCurrentSigner(); // never a retired key (keys:rotate on another replica)
  const now = Date.now();
  if (Object.hasOwn(body, "actions")) {
    const plan = verifyWirePlan(body, now);
    const parsed = parseWirePlan(body);
    const actions: Action[] = parsed.ok ? parsed.actions : [];
    const signable = parsed.ok && plan.steps.length === actions.length;
    const signed = signable
      ? (() => {
          const record = buildPlanDecisionRecord({ mode: "stateless", now, nonce: nonce(), keyId: signer.keyId, results: plan.steps, actions, snapshot: plan.steps[0]?.snapshot ?? { version: 0, digest: "" } });
          return { record, signature: signer.sign(planDecisionSigningBytes(record)), keyId: signer.keyId };
        })()
      : null;
    return { permitted: plan.permitted, steps: plan.steps, original: plan.steps.map(renderOriginal), ...(signed ?? {}) };
  }
  const result = verifyWire(body, now);
  const parsed = parseWireRequest(body);
  const record = buildDecisionRecord({
    mode: "stateless",
    now,
    nonce: nonce(),
    keyId: signer.keyId,
    ...(parsed.ok && parsed.action.actionId === result.actionId ? { action: parsed.action } : { actor: "(unparsed)", actionDigest: inputDigest(body) }),
    result,
  });
  return { result, original: renderOriginal(result), record, signature: signer.sign(decisionSigningBytes(record)), keyId: signer.keyId };
}
