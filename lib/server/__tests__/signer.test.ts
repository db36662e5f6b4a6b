import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keyIdOf, publicKeyOf, verifyBytes } from "../../kernel/signing";
import { loadSigner, signerFromSeed, SignerUnavailableError } from "../signer";

const env = (e: Record<string, string>) => e as unknown as NodeJS.ProcessEnv;

describe("server signer (node:crypto Ed25519)", () => {
  it("its signatures verify with the kernel's @noble verifier, and tampering fails", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 512 }), fc.nat(), (seed, message, flip) => {
        const signer = signerFromSeed(seed);
        expect(signer.publicKeyHex).toBe(Buffer.from(publicKeyOf(seed)).toString("hex"));
        expect(signer.keyId).toBe(keyIdOf(publicKeyOf(seed)));
        const sig = signer.sign(message);
        expect(verifyBytes(message, sig, signer.publicKeyHex)).toBe(true);
        const bad = Buffer.from(sig, "hex");
        bad[flip % 64]! ^= 1 << flip % 8;
        expect(verifyBytes(message, bad.toString("hex"), signer.publicKeyHex)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("creates a persistent key file with mode 0600 and reuses it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fk-key-"));
    const e = env({ FK_DATA_DIR: dir });
    const a = loadSigner(e);
    const file = path.join(dir, "signing-key");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadSigner(e).keyId).toBe(a.keyId);
  });

  it("refuses a malformed key or a missing one when creation is off, and never overwrites", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fk-key-"));
    expect(() => loadSigner(env({ FK_DATA_DIR: dir, FK_SIGNING_KEY_CREATE: "0" }))).toThrow(SignerUnavailableError);
    fs.writeFileSync(path.join(dir, "signing-key"), "zz\n");
    expect(() => loadSigner(env({ FK_DATA_DIR: dir }))).toThrow(SignerUnavailableError);
    expect(fs.readFileSync(path.join(dir, "signing-key"), "utf8")).toBe("zz\n");
    expect(() => loadSigner(env({ FK_SIGNING_KEY: "abc" }))).toThrow(SignerUnavailableError);
    const seed = crypto.randomBytes(32).toString("hex");
    expect(loadSigner(env({ FK_SIGNING_KEY: seed })).keyId).toBe(keyIdOf(publicKeyOf(seed)));
  });
});
