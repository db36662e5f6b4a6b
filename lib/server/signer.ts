import "server-only";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { useSha256 } from "../kernel/bytes";
import { keyIdOf } from "../kernel/signing";
import type { Config } from "./config";

// Every kernel hash in the server (action digests, the audit chain, Merkle trees) through
// node:crypto's SHA-256, several times faster than @noble's pure JavaScript on the decision path.
// The kernel checks it against @noble's before using it; the digests are the same bytes.
useSha256((bytes) => crypto.createHash("sha256").update(bytes).digest());

/**
 * The kernel's signing key material: FK_SIGNING_KEY (64 hex characters, the RFC 8032 seed), or a
 * key file (mode 0600) under the data directory (FK_SIGNING_KEY_FILE moves it). This module only
 * reads and writes key material; whether a key may sign for a store — created only for a store
 * that never signed, refused when retired or unknown — is decided in keys.ts against the store.
 * Signing uses node:crypto's Ed25519 for speed; the signatures are standard RFC 8032 signatures
 * and verify with the kernel's @noble verifier (tested).
 */
export class SignerUnavailableError extends Error {
  readonly code = "SIGNER_UNAVAILABLE";
  constructor(message: string) {
    super(message);
    this.name = "SignerUnavailableError";
  }
}

export interface Signer {
  readonly keyId: string;
  readonly publicKeyHex: string;
  sign(bytes: Uint8Array): string;
}

// PKCS#8 and SPKI DER prefixes for a raw Ed25519 key (RFC 8410).
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX_LENGTH = 12;

export function signerFromSeed(seed: Uint8Array): Signer {
  if (seed.length !== 32) throw new SignerUnavailableError("the signing key must be 32 bytes");
  const privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
  const spki = crypto.createPublicKey(privateKey).export({ format: "der", type: "spki" });
  const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX_LENGTH));
  const publicKeyHex = Buffer.from(publicKey).toString("hex");
  return {
    keyId: keyIdOf(publicKey),
    publicKeyHex,
    sign: (bytes) => crypto.sign(null, bytes, privateKey).toString("hex"),
  };
}

function parseSeed(text: string, where: string): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new SignerUnavailableError(`${where} must hold 64 hex characters`);
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** Where the configured key comes from, for messages. */
export function keySource(config: Config): string {
  return config.signingKey.seed ? "FK_SIGNING_KEY" : config.signingKey.file;
}

/**
 * The configured key, or null when none is configured (FK_SIGNING_KEY unset and no key file).
 * Never creates a key. Throws SignerUnavailableError when the key exists but cannot be read or is
 * malformed: a server must never quietly sign with a new key because the old one is unreadable.
 */
export function readSigner(config: Config): Signer | null {
  if (config.signingKey.seed) return signerFromSeed(config.signingKey.seed);
  return readKeyFile(config.signingKey.file);
}

/** The key in `file`, or null when the file does not exist. Throws when it is unreadable or malformed. */
export function readKeyFile(file: string): Signer | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new SignerUnavailableError(`cannot read the signing key file ${file}`);
  }
  return signerFromSeed(parseSeed(text, file));
}

/** A fresh random seed (32 bytes). */
export function newSeed(): Uint8Array {
  return new Uint8Array(crypto.randomBytes(32));
}

/**
 * Writes a seed to a new key file with mode 0600. "wx": never overwrites a key (another process
 * may have created one a moment ago); returns false when the file exists.
 */
export function writeKeyFile(file: string, seed: Uint8Array): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, Buffer.from(seed).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new SignerUnavailableError(`cannot create ${file}`);
  }
}
