/** Shared fixtures for the evidence-layer tests (signing, audit, export, CLI). */
import { FLAGS, type Action, type Flag, type VerifyResult } from "../types";
import { keyIdOf, publicKeyOf } from "../signing";
import { toHex } from "../bytes";

/** RFC 8032 TEST 1 key: public, well known, fine for tests. */
export const SECRET_A = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
/** RFC 8032 TEST 2 key. */
export const SECRET_B = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
export const PUBLIC_A = toHex(publicKeyOf(SECRET_A));
export const PUBLIC_B = toHex(publicKeyOf(SECRET_B));
export const KEY_ID_A = keyIdOf(PUBLIC_A);
export const KEY_ID_B = keyIdOf(PUBLIC_B);

export const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
export const NONCE = "00112233445566778899aabbccddeeff";

const noFlags = Object.fromEntries(FLAGS.map((f) => [f, false])) as { [F in Flag]: boolean };

export function makeAction(overrides: Partial<Action> = {}): Action {
  return {
    actionId: "write-report",
    actor: "bot",
    reads: [],
    writes: ["report.txt"],
    delegates: [],
    governsHumans: [],
    ...noFlags,
    ...overrides,
  };
}

export const SNAPSHOT = { version: 7, digest: "ab".repeat(32) };

export function permittedResult(actionId = "write-report"): VerifyResult {
  return {
    actionId,
    permitted: true,
    violations: [],
    warnings: [{ code: "CONTESTED_WRITE", message: "contested", resource: "report.txt" }],
    confidence: 0.75,
    requiresHumanArbitration: false,
    manipulationScore: 0,
    snapshot: SNAPSHOT,
  };
}

export function blockedResult(actionId = "self-expand"): VerifyResult {
  return {
    actionId,
    permitted: false,
    violations: [
      {
        code: "FORBIDDEN_FLAG",
        axiom: "SOVEREIGNTY",
        message: "FORBIDDEN (increases machine sovereignty)",
        flag: "increases_machine_sovereignty",
        resource: undefined,
      },
    ],
    warnings: [],
    confidence: 1,
    requiresHumanArbitration: false,
    manipulationScore: 0.25,
    snapshot: SNAPSHOT,
  };
}
