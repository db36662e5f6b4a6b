/**
 * Byte helpers for the evidence layer: strict lowercase hex and SHA-256.
 *
 * Hex is the kernel's only text encoding of bytes. It is decoded strictly — lowercase only, even
 * length, nothing else — so that every byte string has exactly one accepted spelling: a signature
 * or hash cannot be "the same" under two different texts (the same reason RFC 8785 fixes one
 * spelling for JSON).
 */
import { sha256 } from "@noble/hashes/sha2.js";

// One table lookup per byte: hex encoding sits on the hot path of every signed decision.
const BYTE_TO_HEX: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  b.toString(16).padStart(2, "0"),
);
const LOWER_HEX = /^(?:[0-9a-f]{2})*$/;

/** Lowercase hex of `bytes`. Total: never throws for a Uint8Array. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_HEX[bytes[i] ?? 0] ?? "";
  return out;
}

/**
 * Decodes lowercase hex. Returns undefined for anything else: non-strings, odd length, uppercase,
 * whitespace, a `0x` prefix, or (when `byteLength` is given) the wrong number of bytes.
 * Never throws.
 */
export function fromHex(text: unknown, byteLength?: number): Uint8Array | undefined {
  if (typeof text !== "string" || !LOWER_HEX.test(text)) return undefined;
  if (byteLength !== undefined && text.length !== byteLength * 2) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** True iff `text` is lowercase hex of exactly `byteLength` bytes. Never throws. */
export function isHex(text: unknown, byteLength?: number): text is string {
  if (typeof text !== "string" || !LOWER_HEX.test(text)) return false;
  return byteLength === undefined || text.length === byteLength * 2;
}

/** A SHA-256 implementation: the 32-byte digest of `bytes`. */
export type Sha256 = (bytes: Uint8Array) => Uint8Array;

let sha256Impl: Sha256 = sha256;

/** Inputs of the self-test: lengths around the 55/56/64-byte padding edges and two blocks, and 1 kB. */
const SELF_TEST_LENGTHS = [0, 1, 3, 55, 56, 63, 64, 65, 111, 112, 119, 120, 127, 128, 129, 1000];

/**
 * Installs a faster SHA-256 for every kernel hash (action digests, audit chain, Merkle tree, key
 * ids), e.g. node:crypto's in the server, where @noble's pure JavaScript costs several µs per
 * decision. SHA-256 is SHA-256: the digests are the same bytes, so records, chains and proofs
 * made with either verify with the other (the browser and the CLI keep @noble's). Before it is
 * used, `impl` is checked against @noble's on inputs across the padding boundaries; one wrong
 * digest (or a throw) refuses it with an Error and @noble's stays in use.
 */
export function useSha256(impl: Sha256): void {
  for (const length of SELF_TEST_LENGTHS) {
    const input = new Uint8Array(length);
    for (let i = 0; i < length; i++) input[i] = (i * 131 + length) & 0xff;
    const want = sha256(input);
    const got = impl(input.slice());
    if (!(got instanceof Uint8Array) || !bytesEqual(got, want)) throw new Error(`useSha256: the implementation gives a wrong digest for ${length} bytes`);
  }
  sha256Impl = impl;
}

/** SHA-256 of `bytes`. */
export function sha256Bytes(bytes: Uint8Array): Uint8Array {
  return sha256Impl(bytes);
}

/** Lowercase hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256Impl(bytes));
}

/** Concatenation of byte arrays. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Byte-wise equality. Not constant-time: only ever used on public values (hashes, roots). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
