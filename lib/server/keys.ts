import "server-only";
import { DECISION_DOMAIN } from "../kernel/signing";
import { getSigner } from "./audit-log";
import { getDb } from "./db/client";

/**
 * The kernel's public keys, current and retired, so old records stay verifiable after rotation.
 * The current key is registered (and its activation audited) by the first audited transaction;
 * until then it is served from the signer itself.
 */
export async function publicKeys() {
  const signer = getSigner();
  const rows = await getDb().signingKey.findMany({ orderBy: { createdAt: "asc" } });
  const keys = rows.map((r) => ({
    keyId: r.keyId,
    algorithm: "Ed25519" as const,
    publicKey: r.publicKey,
    status: (r.keyId === signer.keyId ? "current" : "retired") as "current" | "retired",
  }));
  if (!keys.some((k) => k.keyId === signer.keyId)) {
    keys.push({ keyId: signer.keyId, algorithm: "Ed25519", publicKey: signer.publicKeyHex, status: "current" });
  }
  return { domain: DECISION_DOMAIN, keys };
}
