import "server-only";
import type { z } from "zod";
import { serializeAuditExport } from "../kernel/audit-export";
import type { AuditQuery } from "../contracts";
import { buildConsistencyProof, buildInclusionProof, createCheckpoint, rowToEntry, toSigned } from "./audit-log";
import type { HumanPrincipal } from "./auth";
import { getDb } from "./db/client";
import { ApiError, notFound } from "./errors";
import { publicKeys } from "./keys";

/**
 * Reading the audit log: filtered pages (an owner sees the entries about them and their
 * machines; the operator sees everything), the full export for offline verification, the newest
 * checkpoint, and Merkle proofs. Owners get proofs and checkpoints too: the tree heads reveal no
 * one's data and are what lets them check their entries without trusting the server.
 */
export async function listAudit(principal: HumanPrincipal, q: z.infer<typeof AuditQuery>) {
  const where: Record<string, unknown> = {};
  if (principal.kind === "owner") where.ownerId = principal.entityId;
  if (q.machine) where.machineId = q.machine;
  if (q.kind) where.kind = q.kind;
  if (q.outcome) where.permitted = q.outcome === "permitted";
  if (q.code) where.codes = { contains: q.code };
  if (q.from || q.to) where.recordedAt = { ...(q.from ? { gte: new Date(q.from) } : {}), ...(q.to ? { lte: new Date(q.to) } : {}) };
  if (q.afterSeq !== undefined) where.seq = { lt: q.afterSeq === -1 ? Number.MAX_SAFE_INTEGER : q.afterSeq };
  const rows = await getDb().auditEntry.findMany({ where, orderBy: { seq: "desc" }, take: q.limit });
  return { entries: rows.map(rowToEntry), nextAfterSeq: rows.length === q.limit ? rows.at(-1)!.seq : null };
}

/**
 * The whole log as JSON Lines with the public keys, ending in a checkpoint that covers every
 * entry (made now if the newest one does not). Operator (auditor) only: the full log names every
 * owner's machines and decisions. An owner checks their own entries with inclusion proofs against
 * signed checkpoints instead, which reveal only hashes of the others.
 */
export async function exportAudit(principal: HumanPrincipal): Promise<string> {
  if (principal.kind !== "operator") throw new ApiError("FORBIDDEN", "the full export is for the operator; owners verify their entries with inclusion proofs");
  await createCheckpoint();
  const db = getDb();
  const [rows, checkpoints, keys] = await Promise.all([
    db.auditEntry.findMany({ orderBy: { seq: "asc" } }),
    db.checkpoint.findMany({ orderBy: { treeSize: "asc" } }),
    publicKeys(),
  ]);
  const entries = rows.map(rowToEntry);
  return serializeAuditExport({
    keys: keys.keys,
    entries,
    checkpoints: checkpoints.filter((c) => c.treeSize <= entries.length).map(toSigned),
  });
}

export async function latestCheckpoint() {
  const created = await createCheckpoint();
  if (!created) throw notFound("checkpoint (the log is empty)");
  return created;
}

export async function inclusion(seq: number, size: number) {
  const proof = await buildInclusionProof(seq, size);
  if (!proof) throw new ApiError("VALIDATION_FAILED", "need 0 <= seq < size <= the log's length");
  return proof;
}

export async function consistency(from: number, to: number) {
  const proof = await buildConsistencyProof(from, to);
  if (!proof) throw new ApiError("VALIDATION_FAILED", "need 1 <= from <= to <= the log's length");
  return proof;
}
