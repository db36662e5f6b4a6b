import "server-only";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { keyIdOf } from "../kernel/signing";
import { dataDir } from "./config";

/**
 * The kernel's signing key. Persistent: FK_SIGNING_KEY (64 hex characters, the RFC 8032 seed), or
 * a key file under the data directory created on first start with mode 0600 (FK_SIGNING_KEY_FILE
 * overrides its path). Signing uses node:crypto's Ed25519 for speed; the signatures are standard
 * RFC 8032 signatures and verify with the kernel's @noble verifier (tested).
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

export function keyFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.FK_SIGNING_KEY_FILE ? path.resolve(/*turbopackIgnore: true*/ env.FK_SIGNING_KEY_FILE) : path.join(/*turbopackIgnore: true*/ dataDir(env), "signing-key");
}

function parseSeed(text: string, where: string): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new SignerUnavailableError(`${where} must hold 64 hex characters`);
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/**
 * Loads the signing key, creating the key file if neither the variable nor the file exists.
 * Throws SignerUnavailableError when the key exists but cannot be read or is malformed: a server
 * must never quietly sign with a new key because the old one is unreadable.
 */
export function loadSigner(env: NodeJS.ProcessEnv = process.env): Signer {
  if (env.FK_SIGNING_KEY) return signerFromSeed(parseSeed(env.FK_SIGNING_KEY, "FK_SIGNING_KEY"));
  const file = keyFilePath(env);
  if (!fs.existsSync(file)) {
    if (env.FK_SIGNING_KEY_CREATE === "0") throw new SignerUnavailableError(`no signing key at ${file}`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const seed = crypto.randomBytes(32);
    try {
      // "wx": never overwrite a key another process created a moment ago.
      fs.writeFileSync(file, seed.toString("hex") + "\n", { mode: 0o600, flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new SignerUnavailableError(`cannot create ${file}`);
    }
  }
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new SignerUnavailableError(`cannot read the signing key file ${file}`);
  }
  return signerFromSeed(parseSeed(text, file));
}
