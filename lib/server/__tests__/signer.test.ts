import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keyIdOf, publicKeyOf, verifyBytes } from "../../kernel/signing";
import { parseConfig } from "../config";
import { keyRefusal, type KeyStoreState } from "../keys";
import { readSigner, signerFromSeed, SignerUnavailableError, writeKeyFile } from "../signer";

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

  it("reading a key never creates one; a written key file has mode 0600 and is never overwritten", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fk-key-"));
    const cfg = parseConfig({ FK_DATA_DIR: dir });
    expect(readSigner(cfg)).toBeNull();
    expect(fs.existsSync(path.join(dir, "signing-key"))).toBe(false);
    const seed = new Uint8Array(crypto.randomBytes(32));
    expect(writeKeyFile(cfg.signingKey.file, seed)).toBe(true);
    expect(fs.statSync(cfg.signingKey.file).mode & 0o777).toBe(0o600);
    expect(writeKeyFile(cfg.signingKey.file, new Uint8Array(32))).toBe(false);
    expect(readSigner(cfg)?.keyId).toBe(signerFromSeed(seed).keyId);
  });

  it("refuses a malformed key file and leaves it alone; FK_SIGNING_KEY wins over the file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fk-key-"));
    fs.writeFileSync(path.join(dir, "signing-key"), "zz\n");
    expect(() => readSigner(parseConfig({ FK_DATA_DIR: dir }))).toThrow(SignerUnavailableError);
    expect(fs.readFileSync(path.join(dir, "signing-key"), "utf8")).toBe("zz\n");
    const seed = crypto.randomBytes(32).toString("hex");
    expect(readSigner(parseConfig({ FK_DATA_DIR: dir, FK_SIGNING_KEY: seed }))?.keyId).toBe(keyIdOf(publicKeyOf(seed)));
  });
});

describe("keyRefusal (which key may sign for a store)", () => {
  const a = signerFromSeed(new Uint8Array(32).fill(1));
  const b = signerFromSeed(new Uint8Array(32).fill(2));
  const c = signerFromSeed(new Uint8Array(32).fill(3));
  const cfg = parseConfig({ FK_DATA_DIR: "/srv/fk" });
  const retired = (...ids: string[]) => Object.assign(Object.create(null) as Record<string, true>, Object.fromEntries(ids.map((id) => [id, true])));
  const fresh: KeyStoreState = { signed: false, entries: 0, current: null, retired: retired() };
  const signedBy = (keyId: string, old: string[] = []): KeyStoreState => ({ signed: true, entries: 7, current: { keyId, publicKey: null, source: "SigningKey" }, retired: retired(...old) });

  it("a store that never signed takes any key", () => {
    expect(keyRefusal(fresh, a, cfg)).toBeNull();
  });

  it("a store that signed takes only its current key", () => {
    expect(keyRefusal(signedBy(a.keyId), a, cfg)).toBeNull();
  });

  it("a missing key names the expected key id, where to put it, and how to rotate", () => {
    const m = keyRefusal(signedBy(a.keyId), null, cfg)!;
    expect(m).toContain(a.keyId);
    expect(m).toContain("/srv/fk/signing-key");
    expect(m).toContain("FK_SIGNING_KEY");
    expect(m).toContain("npm run keys:rotate");
  });

  it("a retired key is refused as retired; an unknown key as not this store's", () => {
    expect(keyRefusal(signedBy(b.keyId, [a.keyId]), a, cfg)).toMatch(new RegExp(`${a.keyId} .* was retired.*names ${b.keyId}`));
    expect(keyRefusal(signedBy(b.keyId, [a.keyId]), c, cfg)).toMatch(new RegExp(`${c.keyId} .* is not this store's key.*names ${b.keyId}`));
  });
});
