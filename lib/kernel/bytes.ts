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

/** SHA-256 of `bytes`. */
export function sha256Bytes(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}

/** Lowercase hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes));
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
