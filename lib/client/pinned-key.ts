/**
 * The public key the console verifies audit records against. It is pinned in this browser at the
 * first sign-in (trust on first use) or configured by hand from a key obtained out of band; it is
 * never silently replaced by whatever the server serves later, so a server that swaps its key
 * cannot make its own forgeries verify here.
 */
import { keyIdOf } from "@/lib/kernel/signing";

export interface PinnedKey {
  keyId: string;
  publicKey: string;
  pinnedAt: string;
  source: "first-sign-in" | "configured";
}

const STORAGE_KEY = "fk.pinnedKey.v1";
const HEX32 = /^[0-9a-f]{64}$/;

function valid(v: unknown): v is PinnedKey {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Record<string, unknown>;
  if (typeof p.publicKey !== "string" || !HEX32.test(p.publicKey) || typeof p.keyId !== "string" || typeof p.pinnedAt !== "string") return false;
  if (p.source !== "first-sign-in" && p.source !== "configured") return false;
  try {
    return keyIdOf(p.publicKey) === p.keyId;
  } catch {
    return false;
  }
}

export function readPinnedKey(): PinnedKey | null {
  if (typeof localStorage === "undefined") return null;
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed: unknown = JSON.parse(raw);
    return valid(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** Pins `publicKey` (hex). Returns the pin, or an error message for a malformed key. */
export function writePinnedKey(publicKey: string, source: PinnedKey["source"], now = new Date()): PinnedKey | string {
  const hex = publicKey.trim().toLowerCase();
  if (!HEX32.test(hex)) return "a public key is 64 hex characters (32 bytes)";
  let keyId: string;
  try {
    keyId = keyIdOf(hex);
  } catch {
    return "not a valid Ed25519 public key";
  }
  const pin: PinnedKey = { keyId, publicKey: hex, pinnedAt: now.toISOString(), source };
  localStorage.setItem(STORAGE_KEY, JSON.stringify(pin));
  return pin;
}

/** At sign-in: pin the server's current key if this browser has no pin yet. Never replaces a pin. */
export function pinOnFirstSignIn(keys: readonly { keyId: string; publicKey: string; status: string }[]): PinnedKey | null {
  const existing = readPinnedKey();
  if (existing) return existing;
  const current = keys.find((k) => k.status === "current");
  if (!current) return null;
  const pin = writePinnedKey(current.publicKey, "first-sign-in");
  return typeof pin === "string" ? null : pin;
}
