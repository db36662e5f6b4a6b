/**
 * Verifies one audit entry in the browser with the kernel's own code, trusting the server for
 * nothing but bytes: against the key pinned in this browser, it checks
 *   1. the entry was signed by the pinned key (key id, then the Ed25519 signature),
 *   2. the entry hash is the hash of its contents (seq, prevHash, payload, recordedAt),
 *   3. a signed decision/plan inside it verifies too and names this entry's seq,
 *   4. the latest checkpoint is signed by the pinned key and covers the entry,
 *   5. the entry is included in that checkpoint's Merkle tree (RFC 6962 inclusion proof),
 *   6. the chain link: prevHash is the hash of entry seq-1, itself proven included in the same
 *      tree (so the link is checked without reading another owner's entry).
 * Each step says what it checked; a step that cannot run is a failure, never a pass.
 */
import { z } from "zod";
import { InclusionProof, SignedCheckpointBody, type AuditEntry as AuditEntrySchema } from "@/lib/contracts";
import { auditEntryHash, auditEntrySigningBytes, GENESIS_HASH, verifyCheckpoint } from "@/lib/kernel/audit";
import { verifyInclusion } from "@/lib/kernel/merkle";
import { verifyBytes, verifyDecision, verifyPlanDecision } from "@/lib/kernel/signing";
import { describeJsonError, parseJsonStrict } from "@/lib/kernel/json";
import { ApiRequestError, apiText, errorMessage } from "./api";
import type { PinnedKey } from "./pinned-key";

export type AuditEntryJson = z.infer<typeof AuditEntrySchema>;

export interface VerifyStep {
  id: "key" | "hash" | "signature" | "record" | "checkpoint" | "inclusion" | "link";
  label: string;
  status: "pass" | "fail" | "skip";
  detail: string;
}

export interface EntryVerification {
  ok: boolean;
  seq: number;
  keyUsed: PinnedKey;
  checkpointSize: number | null;
  steps: VerifyStep[];
}

export interface VerifyDeps {
  checkpoint: () => Promise<z.infer<typeof SignedCheckpointBody>>;
  inclusion: (seq: number, size: number) => Promise<z.infer<typeof InclusionProof>>;
}

/**
 * The evidence is read with the kernel's strict JSON parser, not `res.json()`: a checkpoint or proof
 * with a duplicated member name has two readings, and what this page verifies must be the only one.
 */
async function strictRequest<S extends z.ZodType>(path: string, schema: S, query?: Record<string, number>): Promise<z.infer<S>> {
  const text = await apiText(path, query ? { query } : {});
  const parsed = parseJsonStrict(text);
  if (!parsed.ok) throw new ApiRequestError(200, "BAD_RESPONSE", `the server's answer is not strict JSON: ${describeJsonError(parsed)}`);
  const checked = schema.safeParse(parsed.value);
  if (!checked.success) {
    throw new ApiRequestError(200, "BAD_RESPONSE", `the server's answer does not match the contract (${checked.error.issues[0]?.path.join(".") ?? "?"})`);
  }
  return checked.data;
}

export const apiDeps: VerifyDeps = {
  checkpoint: () => strictRequest("/audit/checkpoints/latest", SignedCheckpointBody),
  inclusion: (seq, size) => strictRequest("/audit/proof/inclusion", InclusionProof, { seq, size }),
};

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

export async function verifyEntryInBrowser(entry: AuditEntryJson, pin: PinnedKey, deps: VerifyDeps = apiDeps): Promise<EntryVerification> {
  const steps: VerifyStep[] = [];
  const step = (id: VerifyStep["id"], label: string, ok: boolean | null, detail: string) =>
    steps.push({ id, label, status: ok === null ? "skip" : ok ? "pass" : "fail", detail });

  // 1. Key and signature.
  step(
    "key",
    "Signed with the pinned key",
    entry.keyId === pin.keyId,
    entry.keyId === pin.keyId ? `entry names ${entry.keyId}, the key pinned in this browser` : `entry names ${entry.keyId}, but the pinned key is ${pin.keyId}`,
  );
  // 2. Hash of the contents.
  let computed: string | null = null;
  try {
    computed = auditEntryHash({ seq: entry.seq, prevHash: entry.prevHash, payload: entry.payload, ...(entry.recordedAt !== undefined ? { recordedAt: entry.recordedAt } : {}) });
  } catch {
    computed = null;
  }
  step(
    "hash",
    "Entry hash matches its contents",
    computed !== null && computed === entry.entryHash,
    computed === null ? "the payload is not canonical JSON data" : computed === entry.entryHash ? `SHA-256 recomputed here: ${computed}` : `recomputed ${computed}, entry says ${entry.entryHash}`,
  );
  const sigOk = computed !== null && verifyBytes(auditEntrySigningBytes(computed), entry.signature, pin.publicKey);
  step("signature", "Entry signature (Ed25519)", sigOk, sigOk ? `valid under the pinned public key ${pin.publicKey.slice(0, 16)}…` : "the signature does not verify under the pinned key");

  // 3. The signed record inside a decision or plan entry.
  const p = obj(entry.payload);
  if (p && (p.kind === "decision" || p.kind === "plan")) {
    const record = obj(p.record);
    const verified = p.kind === "plan" ? verifyPlanDecision(p.record, p.signature, pin.publicKey) : verifyDecision(p.record, p.signature, pin.publicKey);
    const seqOk = record?.mode !== "live" || record.auditSeq === entry.seq;
    step(
      "record",
      `Signed ${p.kind} record`,
      verified && seqOk,
      !verified ? `the ${p.kind} record's signature does not verify under the pinned key` : !seqOk ? `the record names audit entry ${String(record?.auditSeq)}, not ${entry.seq}` : `the record the agent received verifies and names entry #${entry.seq}`,
    );
  } else {
    step("record", "Signed decision record", null, "not a decision entry (a change of authority or a key event): the entry signature covers it");
  }

  // 4-6. Checkpoint, inclusion, chain link.
  let checkpointSize: number | null = null;
  try {
    const cp = await deps.checkpoint();
    const c = obj(cp.checkpoint);
    const treeSize = typeof c?.treeSize === "number" ? c.treeSize : -1;
    const rootHash = typeof c?.rootHash === "string" ? c.rootHash : "";
    const cpReport = verifyCheckpoint(cp.checkpoint, cp.signature, pin.publicKey);
    const covers = treeSize > entry.seq;
    checkpointSize = treeSize;
    step(
      "checkpoint",
      "Latest checkpoint signed by the pinned key",
      cpReport.ok && covers,
      !cpReport.ok ? `${cpReport.reason}: ${cpReport.message}` : !covers ? `the checkpoint covers ${treeSize} entries, not entry #${entry.seq}` : `tree of ${treeSize} entries, root ${rootHash.slice(0, 16)}…`,
    );
    if (!cpReport.ok || !covers || computed === null) throw new SkipRest(cpReport.ok && covers ? "the entry hash could not be computed" : "no trusted checkpoint");
    const proof = await deps.inclusion(entry.seq, treeSize);
    // The leaf is the hash computed here, never the server's copy of it.
    const included = verifyInclusion(computed, entry.seq, treeSize, proof.proof, rootHash);
    step(
      "inclusion",
      "Included in the checkpointed log",
      included,
      included ? `Merkle audit path of ${proof.proof.length} hashes leads from this entry to the signed root` : "the inclusion proof does not lead to the signed root",
    );
    if (entry.seq === 0) {
      step("link", "Chain link to the previous entry", entry.prevHash === GENESIS_HASH, entry.prevHash === GENESIS_HASH ? "first entry: links to the genesis hash" : "first entry, but prevHash is not the genesis hash");
    } else {
      const prev = await deps.inclusion(entry.seq - 1, treeSize);
      const prevIncluded = verifyInclusion(prev.leaf, entry.seq - 1, treeSize, prev.proof, rootHash);
      const linked = prevIncluded && prev.leaf === entry.prevHash;
      step(
        "link",
        "Chain link to the previous entry",
        linked,
        !prevIncluded ? `entry #${entry.seq - 1}'s hash is not proven in the signed tree` : linked ? `prevHash is the hash of entry #${entry.seq - 1}, proven in the same signed tree` : `prevHash differs from the hash of entry #${entry.seq - 1}`,
      );
    }
  } catch (e) {
    const why = e instanceof SkipRest ? e.message : `could not fetch the proof: ${errorMessage(e)}`;
    if (!steps.some((s) => s.id === "checkpoint")) step("checkpoint", "Latest checkpoint signed by the pinned key", false, why);
    if (!steps.some((s) => s.id === "inclusion")) step("inclusion", "Included in the checkpointed log", false, why);
    if (!steps.some((s) => s.id === "link")) step("link", "Chain link to the previous entry", false, why);
  }
  return { ok: steps.every((s) => s.status !== "fail"), seq: entry.seq, keyUsed: pin, checkpointSize, steps };
}

class SkipRest extends Error {}
