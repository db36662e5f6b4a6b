import crypto from "node:crypto";
import { sha256 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { sha256Bytes, sha256Hex, toHex, useSha256 } from "../bytes";
import { actionDigest } from "../signing";
import { makeAction } from "./evidence-fixtures";

const nodeSha256 = (bytes: Uint8Array) => crypto.createHash("sha256").update(bytes).digest();

describe("useSha256: a faster SHA-256 for the kernel's hashes", () => {
  afterAll(() => useSha256(sha256));

  it("refuses an implementation that differs from @noble's on any padding edge, and keeps @noble's", () => {
    const action = makeAction();
    const before = actionDigest(action);
    // Wrong only for inputs of exactly 56 bytes (where the length no longer fits the first block).
    const wrongAt56 = (b: Uint8Array) => (b.length === 56 ? sha256(new Uint8Array(57)) : sha256(b));
    expect(() => useSha256(wrongAt56)).toThrow(/56 bytes/);
    expect(() => useSha256(() => new Uint8Array(32))).toThrow(/wrong digest/);
    expect(() => useSha256(() => { throw new Error("broken"); })).toThrow();
    expect(() => useSha256((b) => sha256(b).slice(0, 31))).toThrow(/wrong digest/);
    // Nothing was installed: the digests are what they were.
    expect(actionDigest(action)).toBe(before);
  });

  it("node:crypto's gives the same digests as @noble's, so records made with either verify with the other", () => {
    const samples = fc.sample(fc.uint8Array({ maxLength: 3000 }), 300);
    const noble = samples.map((b) => sha256Hex(b));
    const action = makeAction();
    const nobleDigest = actionDigest(action);
    useSha256(nodeSha256);
    expect(samples.map((b) => sha256Hex(b))).toEqual(noble);
    expect(toHex(sha256Bytes(new Uint8Array(0)))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(actionDigest(action)).toBe(nobleDigest);
  });
});
