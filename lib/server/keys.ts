import "server-only";
import { DECISION_DOMAIN, signingBytes } from "../kernel/signing";
import { getSigner } from "./audit-log";
import type { Config } from "./config";
import type { Db } from "./db/client";
import { getDb } from "./db/client";
import { ApiError } from "./errors";
import { log } from "./log";
import type { Tx } from "./registry";
import { keySource, newSeed, readKeyFile, readSigner, SignerUnavailableError, writeKeyFile, type Signer } from "./signer";

/**
 * The signing key's lifecycle against the store (design §13 "Keys and configuration"):
 *  - a key is created only for a store that never signed (empty audit log, no SigningKey rows);
 *  - a store that has signed names its current key (the SigningKey row marked current, else the
 *    newest key entry of the audit log, else the key of its newest entry); only that key signs;
 *    a missing key, a retired key or an unknown key refuses to start with a message saying which
 *    key is expected and how to restore it or rotate;
 *  - rotation is the explicit `npm run keys:rotate` (audit-log.ts rotateSigningKey), never implicit.
 * The same rule is enforced per audit transaction in the server (audit-log.ts), so a replica that
 * still holds a key rotated away by another refuses to sign instead of signing with it.
 */

export class SigningKeyRefusedError extends SignerUnavailableError {}

/** Domain of the old key's signature over its successor in a rotation entry. */
export const KEY_ENDORSEMENT_DOMAIN = "freedom-kernel/key-endorsement/v1\n";

/** The bytes the old key signs in a rotation: its own id, and the new key's id and public key. */
export function keyEndorsementBytes(e: { previousKeyId: string; keyId: string; publicKey: string }): Uint8Array {
  return signingBytes(KEY_ENDORSEMENT_DOMAIN, { previousKeyId: e.previousKeyId, keyId: e.keyId, publicKey: e.publicKey });
}

export interface KeyStoreState {
  /** False only for a store that never signed anything. */
  readonly signed: boolean;
  readonly entries: number;
  /** The key the store says is current, or null for a store that never signed. */
  readonly current: { readonly keyId: string; readonly publicKey: string | null; readonly source: "SigningKey" | "audit key entry" | "newest audit entry" } | null;
  /** Keys the store has retired (null-prototype: key ids are data). */
  readonly retired: Readonly<Record<string, true>>;
}

/** Reads what the store says about its keys. */
export async function readKeyState(db: Tx | Db): Promise<KeyStoreState> {
  const [rows, last, keyEntries] = await Promise.all([
    db.signingKey.findMany({ orderBy: { createdAt: "asc" } }),
    db.auditEntry.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, keyId: true } }),
    db.auditEntry.findMany({ where: { kind: "key" }, orderBy: { seq: "asc" }, select: { payload: true } }),
  ]);
  const retired = Object.create(null) as Record<string, true>;
  const named: { keyId: string; publicKey: string | null }[] = [];
  for (const e of keyEntries) {
    let p: Record<string, unknown> = {};
    try {
      p = JSON.parse(e.payload) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof p.previousKeyId === "string") retired[p.previousKeyId] = true;
    if (typeof p.keyId === "string") named.push({ keyId: p.keyId, publicKey: typeof p.publicKey === "string" ? p.publicKey : null });
  }
  for (const r of rows) if (r.status !== "current") retired[r.keyId] = true;
  const row = rows.find((r) => r.status === "current");
  const newestNamed = named.at(-1);
  const current = row
    ? { keyId: row.keyId, publicKey: row.publicKey, source: "SigningKey" as const }
    : newestNamed
      ? { ...newestNamed, source: "audit key entry" as const }
      : last
        ? { keyId: last.keyId, publicKey: null, source: "newest audit entry" as const }
        : null;
  if (current) delete retired[current.keyId];
  for (const n of named) if (n.keyId !== current?.keyId) retired[n.keyId] = true;
  return { signed: rows.length > 0 || last !== null, entries: last ? last.seq + 1 : 0, current, retired };
}

const howToRotate = "or, if that key is lost, make a new key current with `npm run keys:rotate -- --old-key-lost` (entries stay verifiable under the retired public key)";

/**
 * Why `signer` may not sign for a store in `state`, or null when it may. Pure. `config` only names
 * where the key came from.
 */
export function keyRefusal(state: KeyStoreState, signer: Signer | null, config: Config): string | null {
  if (!state.current) return signer ? null : "no signing key is configured";
  const expected = state.current.keyId;
  const file = config.signingKey.file;
  const restore = config.signingKey.seed
    ? `set FK_SIGNING_KEY to the seed of ${expected}`
    : `put the key file of ${expected} back at ${file} (or set FK_SIGNING_KEY to its seed)`;
  const leftover = leftoverRotation(file, expected);
  const hint = leftover ? ` A key rotation left the key ${expected} in ${leftover}: move it to ${file}.` : "";
  const store = `this store's audit log has ${state.entries} entries and names ${expected} as its current signing key (${state.current.source})`;
  if (!signer) return `no signing key: ${file} does not exist and FK_SIGNING_KEY is unset, but ${store}. Restore it: ${restore}; ${howToRotate}.${hint}`;
  if (signer.keyId === expected) return null;
  if (state.retired[signer.keyId]) {
    return `the signing key ${signer.keyId} from ${keySource(config)} was retired by a key rotation; ${store}. Configure it: ${restore}.${hint}`;
  }
  return `the signing key ${signer.keyId} from ${keySource(config)} is not this store's key; ${store}. Restore it: ${restore}; ${howToRotate}.${hint}`;
}

function leftoverRotation(file: string, expected: string): string | null {
  try {
    return readKeyFile(`${file}.new`)?.keyId === expected ? `${file}.new` : null;
  } catch {
    return null;
  }
}

/**
 * Decides the process's signing key against the store, creating one only for a store that never
 * signed. Throws SigningKeyRefusedError with the one message an operator needs. `npm start`
 * calls it before anything signs; the server enforces the same rule per transaction.
 */
export async function resolveSigningKey(config: Config, db: Tx | Db = getDb()): Promise<{ signer: Signer; created: boolean }> {
  let signer: Signer | null;
  try {
    signer = readSigner(config);
  } catch (e) {
    throw new SigningKeyRefusedError(`${(e as Error).message}; fix or restore the key (it is never replaced silently)`);
  }
  const state = await readKeyState(db);
  if (!state.signed && !signer) {
    if (!config.signingKey.create) throw new SigningKeyRefusedError(`no signing key at ${config.signingKey.file} and FK_SIGNING_KEY_CREATE=0`);
    writeKeyFile(config.signingKey.file, newSeed()); // "wx": a key another process wrote first wins
    const created = readKeyFile(config.signingKey.file);
    if (!created) throw new SigningKeyRefusedError(`cannot create ${config.signingKey.file}`);
    log("info", "created a signing key for a store that never signed", { keyId: created.keyId, file: config.signingKey.file });
    return { signer: created, created: true };
  }
  const refusal = keyRefusal(state, signer, config);
  if (refusal || !signer) throw new SigningKeyRefusedError(refusal ?? "no signing key is configured");
  return { signer, created: false };
}

/**
 * The kernel's public keys, current and retired, so old records stay verifiable after rotation.
 * Only a key this server can sign with is ever called current: a server whose key is not the
 * store's current key answers 503 SIGNER_UNAVAILABLE rather than vouch for one it does not hold.
 */
export async function publicKeys() {
  let signer: Signer | null = null;
  try {
    signer = getSigner();
  } catch {
    signer = null;
  }
  const rows = await getDb().signingKey.findMany({ orderBy: { createdAt: "asc" } });
  const current = rows.find((r) => r.status === "current");
  const unavailable = () => new ApiError("SERVICE_UNAVAILABLE", "SIGNER_UNAVAILABLE: this server cannot sign with the store's current key");
  if (current ? signer?.keyId !== current.keyId : !signer) throw unavailable();
  const keys = rows.map((r) => ({
    keyId: r.keyId,
    algorithm: "Ed25519" as const,
    publicKey: r.publicKey,
    status: (r.status === "current" ? "current" : "retired") as "current" | "retired",
  }));
  if (!current && signer) {
    // Nothing registered yet (a store that never signed, or one whose key registers on its next
    // transaction): the key this server holds is the one it will sign with — if the store agrees.
    const state = await readKeyState(getDb());
    if (state.current && state.current.keyId !== signer.keyId) throw unavailable();
    keys.push({ keyId: signer.keyId, algorithm: "Ed25519", publicKey: signer.publicKeyHex, status: "current" });
  }
  return { domain: DECISION_DOMAIN, keys };
}

