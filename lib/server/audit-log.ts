import "server-only";
import { buildAuditEntry, checkpointSigningBytes, GENESIS_HASH, type AuditEntry, type AuditPayload, type Checkpoint, type SignedCheckpoint } from "../kernel/audit";
import { formatIso } from "../kernel/iso-time";
import { MerkleAccumulator, consistencyProof, inclusionProof, merkleRoot } from "../kernel/merkle";
import { config, databaseConfig } from "./config";
import { getDb, type Db } from "./db/client";
import { log } from "./log";
import type { Tx } from "./registry";
import { keyEndorsementBytes, keyRefusal, readKeyState, SigningKeyRefusedError } from "./keys";
import { readSigner, SignerUnavailableError, type Signer } from "./signer";

/**
 * The append-only, hash-chained audit log (design §7). Appends happen only inside
 * `withAuditTransaction`, which serialises them: an in-process lock, plus on PostgreSQL a
 * transaction-scoped advisory lock so replicas take turns. The database refuses anything that is
 * not a one-step extension of the chain, so even a bug here cannot fork it: the transaction fails
 * and the caller answers BLOCKED.
 */

// ------------------------------------------------------------------------------------------------
// Serialisation
// ------------------------------------------------------------------------------------------------

class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

// One per process, on globalThis: under `npm start` this module is loaded twice (the server's lean
// path through tsx, and Next's bundle), and both must take turns on the same lock, sign with the
// same checked key and extend the same Merkle accumulator.
const globalState = globalThis as unknown as {
  __fkAudit?: { mutex: Mutex; signer: Signer | null; merkle: MerkleAccumulator | null; lastCheckpointSize: number };
};
const state = (globalState.__fkAudit ??= { mutex: new Mutex(), signer: null, merkle: null, lastCheckpointSize: -1 });

const ADVISORY_LOCK_KEY = 7_262_737; // any constant shared by all replicas

/**
 * The process's key material. Throws SignerUnavailableError when the key is missing or
 * unreadable. It is not yet permission to sign: whatever signs checks it against the store's
 * current key first (withAuditTransaction, getCurrentSigner).
 */
export function getSigner(): Signer {
  if (state.signer) return state.signer;
  const signer = readSigner(config());
  if (!signer) throw new SignerUnavailableError("no signing key is configured (FK_SIGNING_KEY unset and no key file)");
  state.signer = signer;
  return signer;
}

/**
 * The process's signer, checked against the store's current key; `activate` when the store has
 * no current key yet and this one is to be registered (the caller, in a transaction, does it).
 * Throws SignerUnavailableError (SigningKeyRefusedError with the operator's message).
 */
async function checkSigner(db: Tx | Db): Promise<{ signer: Signer; activate: boolean }> {
  const current = await db.signingKey.findFirst({ where: { status: "current" }, select: { keyId: true } });
  const signer = tryGetSigner();
  if (current && signer?.keyId === current.keyId) return { signer, activate: false };
  if (current || !signer) {
    state.signer = null; // read the key again next time: the operator may restore it without a restart
    throw new SignerUnavailableError(
      current ? `this server's signing key ${signer?.keyId ?? "(none)"} is not the store's current key ${current.keyId}; it never signs with another` : "no signing key is configured",
    );
  }
  const refusal = keyRefusal(await readKeyState(db), signer, config());
  if (refusal) throw new SigningKeyRefusedError(refusal);
  return { signer, activate: true };
}

/** The process's signer, if it is the store's current key. Throws SignerUnavailableError. */
export async function getCurrentSigner(db: Tx | Db = getDb()): Promise<Signer> {
  return (await checkSigner(db)).signer;
}

function tryGetSigner(): Signer | null {
  try {
    return getSigner();
  } catch {
    return null;
  }
}

export interface AuditColumns {
  kind: string;
  actorId?: string | null;
  machineId?: string | null;
  ownerId?: string | null;
  permitted?: boolean | null;
  codes?: string | null;
}

/** Builds entries within one transaction; they are inserted together when the transaction ends. */
export class AuditAppender {
  private readonly pending: { entry: AuditEntry; columns: AuditColumns }[] = [];

  constructor(
    private last: { seq: number; entryHash: string } | null,
    private readonly signer: Signer,
  ) {}

  /** The sequence number the next append will get. */
  get nextSeq(): number {
    return this.last === null ? 0 : this.last.seq + 1;
  }

  get keyId(): string {
    return this.signer.keyId;
  }

  sign(bytes: Uint8Array): string {
    return this.signer.sign(bytes);
  }

  append(payload: AuditPayload, columns: AuditColumns, now = Date.now()): AuditEntry {
    const entry = buildAuditEntry(this.last, payload, (b) => this.signer.sign(b), this.signer.keyId, { now });
    this.last = { seq: entry.seq, entryHash: entry.entryHash };
    this.pending.push({ entry, columns });
    return entry;
  }

  get appended(): readonly AuditEntry[] {
    return this.pending.map((p) => p.entry);
  }

  async flush(tx: Tx): Promise<void> {
    if (this.pending.length === 0) return;
    await tx.auditEntry.createMany({
      data: this.pending.map(({ entry, columns }) => ({
        seq: entry.seq,
        prevHash: entry.prevHash,
        entryHash: entry.entryHash,
        payload: JSON.stringify(entry.payload),
        signature: entry.signature,
        keyId: entry.keyId,
        recordedAt: new Date(entry.recordedAt ?? Date.now()),
        kind: columns.kind,
        actorId: columns.actorId ?? null,
        machineId: columns.machineId ?? null,
        ownerId: columns.ownerId ?? null,
        permitted: columns.permitted ?? null,
        codes: columns.codes ?? null,
      })),
    });
  }
}

async function lastEntry(tx: Tx): Promise<{ seq: number; entryHash: string } | null> {
  return tx.auditEntry.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, entryHash: true } });
}

/**
 * The signer for this transaction: the process's key, and only if it is the store's current key
 * (checked in every transaction, under the append lock, so a replica still holding a key that
 * another process rotated away refuses instead of signing with a retired key). The first
 * transaction of a store registers its key and audits the activation. Never rotates: only
 * `npm run keys:rotate` does (rotateSigningKey).
 */
async function signerForTransaction(tx: Tx): Promise<{ signer: Signer; activate: boolean }> {
  const checked = await checkSigner(tx);
  if (checked.activate) {
    const { signer } = checked;
    await tx.signingKey.create({ data: { keyId: signer.keyId, publicKey: signer.publicKeyHex, status: "current" } });
  }
  return checked;
}

export class KeyRotationError extends Error {
  readonly code = "KEY_ROTATION_REFUSED";
  constructor(message: string) {
    super(message);
    this.name = "KeyRotationError";
  }
}

/**
 * Runs `fn` in one transaction that holds the log's write lock: this process's mutex and, on
 * PostgreSQL, an advisory lock every replica shares. Every write to the log goes through here.
 */
function serialised<T>(timeoutMs: number, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const postgres = databaseConfig().provider === "postgresql";
  return state.mutex.run(() =>
    getDb().$transaction(
      async (tx) => {
        if (postgres) await tx.$queryRawUnsafe(`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_KEY})) AS l`);
        return fn(tx);
      },
      { timeout: timeoutMs, maxWait: 20_000 },
    ),
  );
}

/** Carries a rolled-back transaction's result out of it. */
class RolledBack<T> {
  constructor(readonly value: T) {}
}

/**
 * Runs `fn` in a transaction under the append lock (so no commit of any replica lands meanwhile)
 * and rolls it back, whatever `fn` wrote: the what-if simulation applies a change set this way
 * (authority/commit.ts proposeChanges). Returns what `fn` returned.
 */
export async function withRolledBackTransaction<T>(fn: (tx: Tx) => Promise<T>, timeoutMs = 20_000): Promise<T> {
  try {
    await serialised(timeoutMs, async (tx) => {
      throw new RolledBack(await fn(tx));
    });
  } catch (e) {
    if (e instanceof RolledBack) return e.value as T;
    throw e;
  }
  throw new Error("a rolled-back transaction committed");
}

/**
 * The explicit key rotation (`npm run keys:rotate`): in one audited transaction under the append
 * lock, retires the store's current key, makes `next` current and appends a "rotate" entry
 * naming both keys, signed by the new key. With the old key at hand the entry carries its
 * signature over the new key (`endorsement`, KEY_ENDORSEMENT_DOMAIN) so an auditor sees the old
 * key vouch for its successor; without it the operator must say the old key is lost, and the
 * entry records `previousKeyLost: true`.
 */
export async function rotateSigningKey(input: { previous: Signer | null; next: Signer; previousKeyLost: boolean }): Promise<{ previousKeyId: string; entry: AuditEntry }> {
  const { previous, next, previousKeyLost } = input;
  return serialised(20_000, async (tx) => {
        const keys = await readKeyState(tx);
        if (!keys.signed || !keys.current) throw new KeyRotationError("this store never signed: there is no key to rotate (npm start creates the first one)");
        const old = keys.current;
        const endorser = previous?.keyId === old.keyId ? previous : null;
        if (previous && !endorser && !previousKeyLost) {
          throw new KeyRotationError(`the configured key ${previous.keyId} is not the store's current key ${old.keyId}; configure ${old.keyId} to rotate, or pass --old-key-lost`);
        }
        if (!endorser && !previousKeyLost) {
          throw new KeyRotationError(`the store's current key ${old.keyId} is not configured; restore it so it can endorse the new key, or pass --old-key-lost`);
        }
        if (endorser && previousKeyLost) throw new KeyRotationError(`the current key ${old.keyId} is configured: rotate without --old-key-lost so it endorses the new key`);
        if (next.keyId === old.keyId || keys.retired[next.keyId]) throw new KeyRotationError(`the new key ${next.keyId} is not new`);
        const now = new Date();
        // SigningKey is not an audit table; retiring a key is an update of its status only.
        await tx.signingKey.updateMany({ where: { status: "current" }, data: { status: "retired", retiredAt: now } });
        if (old.publicKey && !(await tx.signingKey.findUnique({ where: { keyId: old.keyId } }))) {
          await tx.signingKey.create({ data: { keyId: old.keyId, publicKey: old.publicKey, status: "retired", retiredAt: now } });
        }
        await tx.signingKey.create({ data: { keyId: next.keyId, publicKey: next.publicKeyHex, status: "current" } });
        const body = { previousKeyId: old.keyId, keyId: next.keyId, publicKey: next.publicKeyHex };
        const audit = new AuditAppender(await lastEntry(tx), next);
        const entry = audit.append(
          {
            kind: "key",
            op: "rotate",
            ...body,
            ...(endorser ? { endorsement: { keyId: endorser.keyId, signature: endorser.sign(keyEndorsementBytes(body)) } } : { previousKeyLost: true }),
          },
          { kind: "key" },
        );
        await audit.flush(tx);
        return { previousKeyId: old.keyId, entry };
  });
}

export interface AuditTransactionOptions {
  /** Interactive transaction timeout; the decision path keeps it short. */
  timeoutMs?: number;
}

/**
 * Runs `fn` in one database transaction that may append audit entries; they are committed with
 * everything else `fn` wrote, or not at all. Throws when anything fails — the caller turns that
 * into a refusal.
 */
export async function withAuditTransaction<T>(
  fn: (tx: Tx, audit: AuditAppender) => Promise<T>,
  options: AuditTransactionOptions = {},
): Promise<{ result: T; entries: readonly AuditEntry[] }> {
  getSigner(); // no key material at all: refuse before taking the lock
  return serialised(options.timeoutMs ?? 20_000, async (tx) => {
        const { signer, activate } = await signerForTransaction(tx);
        const audit = new AuditAppender(await lastEntry(tx), signer);
        if (activate) audit.append({ kind: "key", op: "activate", keyId: signer.keyId, publicKey: signer.publicKeyHex }, { kind: "key" });
        const result = await fn(tx, audit);
        await audit.flush(tx);
        return { result, entries: audit.appended };
  }).then((out) => {
    afterCommit(out.entries.length);
    return out;
  });
}

// ------------------------------------------------------------------------------------------------
// Checkpoints: signed Merkle tree heads every N entries or T seconds
// ------------------------------------------------------------------------------------------------

const CHECKPOINT_EVERY = () => config().checkpointEvery;
const CHECKPOINT_SECONDS = () => config().checkpointSeconds;
/**
 * Entries since the last checkpoint, the timer and the checkpoint being made: per process, like
 * the lock (under `npm start` this module runs twice, in the server's lean path and in Next's
 * bundle; "every N entries" counts the entries of both, and one timer serves them).
 */
const checkpoints = ((globalThis as unknown as { __fkCheckpoints?: CheckpointState }).__fkCheckpoints ??= { timer: null, since: 0, running: null });
interface CheckpointState {
  timer: NodeJS.Timeout | null;
  since: number;
  running: Promise<unknown> | null;
}

function afterCommit(appended: number): void {
  if (appended === 0) return;
  checkpoints.since += appended;
  if (!checkpoints.timer && CHECKPOINT_SECONDS() > 0) {
    checkpoints.timer = setInterval(() => void maybeCheckpoint(true), CHECKPOINT_SECONDS() * 1000);
    checkpoints.timer.unref();
  }
  if (checkpoints.since >= CHECKPOINT_EVERY()) void maybeCheckpoint(false);
}

async function maybeCheckpoint(timer: boolean): Promise<void> {
  if (checkpoints.running) return;
  if (timer && checkpoints.since === 0) return;
  checkpoints.running = createCheckpoint()
    .catch((error: unknown) => log("error", "checkpoint failed", { error }))
    .finally(() => {
      checkpoints.running = null;
    });
  await checkpoints.running;
}

/** Brings the in-memory Merkle accumulator up to the log's current end. */
async function syncMerkle(tx: Tx): Promise<MerkleAccumulator> {
  let acc = state.merkle ?? new MerkleAccumulator();
  for (;;) {
    const rows = await tx.auditEntry.findMany({
      where: { seq: { gte: acc.size } },
      orderBy: { seq: "asc" },
      select: { seq: true, entryHash: true },
      take: 5000,
    });
    if (rows.length === 0) break;
    for (const r of rows) {
      if (r.seq !== acc.size) {
        acc = new MerkleAccumulator(); // the log is not what we remembered: start again
        break;
      }
      acc.append(r.entryHash);
    }
  }
  state.merkle = acc;
  return acc;
}

/**
 * Signs a checkpoint over every entry committed so far, unless the newest checkpoint already
 * covers them. Returns the newest checkpoint either way (null for an empty log).
 */
export async function createCheckpoint(): Promise<SignedCheckpoint | null> {
  getSigner();
  const db = getDb();
  return state.mutex.run(async () => {
    const signer = await getCurrentSigner(db);
    const acc = await syncMerkle(db);
    const latest = await db.checkpoint.findFirst({ orderBy: { treeSize: "desc" } });
    if (acc.size === 0) return null;
    if (latest && latest.treeSize >= acc.size) return toSigned(latest);
    const last = await db.auditEntry.findUniqueOrThrow({ where: { seq: acc.size - 1 }, select: { entryHash: true } });
    const checkpoint: Checkpoint = {
      v: 1,
      treeSize: acc.size,
      rootHash: acc.root(),
      lastEntryHash: last.entryHash,
      createdAt: formatIso(Date.now()),
      keyId: signer.keyId,
    };
    const signature = signer.sign(checkpointSigningBytes(checkpoint));
    try {
      await db.checkpoint.create({
        data: {
          treeSize: checkpoint.treeSize,
          rootHash: checkpoint.rootHash,
          body: JSON.stringify(checkpoint),
          signature,
          keyId: checkpoint.keyId,
          createdAt: new Date(checkpoint.createdAt),
        },
      });
    } catch (e) {
      // Another replica checkpointed the same size first; theirs is as good as ours.
      const row = await db.checkpoint.findUnique({ where: { treeSize: checkpoint.treeSize } });
      if (!row) throw e;
      return toSigned(row);
    }
    checkpoints.since = 0;
    state.lastCheckpointSize = checkpoint.treeSize;
    return { checkpoint, signature };
  });
}

export function toSigned(row: { body: string; signature: string }): SignedCheckpoint {
  return { checkpoint: JSON.parse(row.body) as Checkpoint, signature: row.signature };
}

// ------------------------------------------------------------------------------------------------
// Reading
// ------------------------------------------------------------------------------------------------

export function rowToEntry(row: { seq: number; prevHash: string; entryHash: string; payload: string; signature: string; keyId: string; recordedAt: Date }): AuditEntry {
  return {
    seq: row.seq,
    prevHash: row.prevHash,
    payload: JSON.parse(row.payload) as AuditPayload,
    entryHash: row.entryHash,
    signature: row.signature,
    keyId: row.keyId,
    recordedAt: formatIso(row.recordedAt.getTime()),
  };
}

async function leaves(size: number): Promise<string[]> {
  const rows = await getDb().auditEntry.findMany({ where: { seq: { lt: size } }, orderBy: { seq: "asc" }, select: { entryHash: true } });
  return rows.map((r) => r.entryHash);
}

export async function auditLength(): Promise<number> {
  const last = await getDb().auditEntry.findFirst({ orderBy: { seq: "desc" }, select: { seq: true } });
  return last ? last.seq + 1 : 0;
}

export async function buildInclusionProof(seq: number, size: number) {
  const l = await leaves(size);
  if (l.length !== size || seq < 0 || seq >= size) return null;
  return { seq, treeSize: size, leaf: l[seq]!, proof: inclusionProof(l, seq), rootHash: merkleRoot(l) };
}

export async function buildConsistencyProof(from: number, to: number) {
  const l = await leaves(to);
  if (l.length !== to || from < 1 || from > to) return null;
  return { from, to, proof: consistencyProof(l, from), fromRoot: merkleRoot(l.slice(0, from)), toRoot: merkleRoot(l) };
}

export { GENESIS_HASH };
