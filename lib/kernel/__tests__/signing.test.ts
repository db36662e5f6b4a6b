import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  DECISION_DOMAIN,
  DecisionRecordError,
  PLAN_DECISION_DOMAIN,
  SigningError,
  actionDigest,
  buildDecisionRecord,
  inputDigest,
  buildPlanDecisionRecord,
  decisionSigningBytes,
  isDecisionRecord,
  keyIdOf,
  publicKeyOf,
  signBytes,
  signDecision,
  signPlanDecision,
  signingBytes,
  verifyBytes,
  verifyDecision,
  verifyPermit,
  verifyPlanDecision,
  type DecisionRecord,
} from "../signing";
import { parseAction } from "../action";
import { canonicalJson } from "../canonical";
import { fromHex, toHex } from "../bytes";
import {
  KEY_ID_A,
  NONCE,
  NOW,
  PUBLIC_A,
  PUBLIC_B,
  SECRET_A,
  SECRET_B,
  SNAPSHOT,
  blockedResult,
  makeAction,
  permittedResult,
} from "./evidence-fixtures";

// RFC 8032 section 7.1 (Ed25519). Checked against OpenSSL (node:crypto) below as well.
const TEST_1024_MESSAGE =
  "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1" +
  "e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d" +
  "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a" +
  "7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e" +
  "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10" +
  "3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1" +
  "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d" +
  "502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270" +
  "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b" +
  "eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba" +
  "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b" +
  "e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7" +
  "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d" +
  "cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df" +
  "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7" +
  "984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4" +
  "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09" +
  "43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f" +
  "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161" +
  "0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d" +
  "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca" +
  "c60c905c15fc910840b94c00a0b9d0";

const RFC8032 = [
  {
    name: "TEST 1",
    secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    name: "TEST 2",
    secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    name: "TEST 3",
    secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    public: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature:
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
  {
    name: "TEST 1024",
    secret: "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
    public: "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
    message: TEST_1024_MESSAGE,
    signature:
      "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03",
  },
  {
    name: "TEST SHA(abc)",
    secret: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
    public: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
    message:
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    signature:
      "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
  },
];

const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const nodePrivate = (secretHex: string) =>
  createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(secretHex, "hex")]), format: "der", type: "pkcs8" });
const nodePublic = (publicHex: string) =>
  createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicHex, "hex")]), format: "der", type: "spki" });

function flipBit(hex: string, bit: number): string {
  const bytes = fromHex(hex)!;
  const i = Math.floor(bit / 8) % bytes.length;
  bytes[i]! ^= 1 << (bit % 8);
  return toHex(bytes);
}

describe("RFC 8032 section 7.1 vectors", () => {
  it.each(RFC8032)("$name: public key, signature and verification", (v) => {
    const message = fromHex(v.message)!;
    expect(toHex(publicKeyOf(v.secret))).toBe(v.public);
    expect(signBytes(message, v.secret)).toBe(v.signature);
    expect(verifyBytes(message, v.signature, v.public)).toBe(true);
    expect(verifyBytes(message, v.signature, fromHex(v.public))).toBe(true);
  });

  it.each(RFC8032)("$name: OpenSSL agrees", (v) => {
    const message = Buffer.from(v.message, "hex");
    expect(nodeSign(null, message, nodePrivate(v.secret)).toString("hex")).toBe(v.signature);
    expect(nodeVerify(null, message, nodePublic(v.public), Buffer.from(v.signature, "hex"))).toBe(true);
  });

  it.each(RFC8032)("$name: every flipped bit of signature, key or message fails", (v) => {
    const message = fromHex(v.message)!;
    for (let bit = 0; bit < 512; bit += 7) {
      expect(verifyBytes(message, flipBit(v.signature, bit), v.public)).toBe(false);
    }
    for (let bit = 0; bit < 256; bit += 5) {
      expect(verifyBytes(message, v.signature, flipBit(v.public, bit))).toBe(false);
    }
    if (message.length > 0) {
      for (let bit = 0; bit < Math.min(message.length * 8, 256); bit += 3) {
        expect(verifyBytes(fromHex(flipBit(v.message, bit)), v.signature, v.public)).toBe(false);
      }
    } else {
      expect(verifyBytes(Uint8Array.of(0), v.signature, v.public)).toBe(false);
    }
  });
});

describe("strict verification (RFC 8032, not ZIP-215)", () => {
  const v = RFC8032[0]!;
  const message = fromHex(v.message)!;
  const L = (1n << 252n) + 27742317777372353535851937790883648493n;

  it("refuses a non-canonical S (S + L)", () => {
    const sig = fromHex(v.signature)!;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    s += L;
    for (let i = 32; i < 64; i++) {
      sig[i] = Number(s & 0xffn);
      s >>= 8n;
    }
    expect(verifyBytes(message, toHex(sig), v.public)).toBe(false);
  });

  it("refuses small-order public keys (identity) with the identity R and S = 0", () => {
    const identity = "01" + "00".repeat(31);
    const sig = identity + "00".repeat(32);
    expect(verifyBytes(message, sig, identity)).toBe(false);
  });

  it("refuses a non-canonical encoding of the public key's y (y >= p)", () => {
    // y = p + 1 is an encoding of y = 1 (identity) that strict decoding must reject.
    const p = (1n << 255n) - 19n;
    let y = p + 1n;
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) {
      bytes[i] = Number(y & 0xffn);
      y >>= 8n;
    }
    expect(verifyBytes(message, v.signature, toHex(bytes))).toBe(false);
  });

  it("refuses uppercase, prefixed, short and long hex", () => {
    expect(verifyBytes(message, v.signature.toUpperCase(), v.public)).toBe(false);
    expect(verifyBytes(message, "0x" + v.signature, v.public)).toBe(false);
    expect(verifyBytes(message, v.signature.slice(2), v.public)).toBe(false);
    expect(verifyBytes(message, v.signature + "00", v.public)).toBe(false);
    expect(verifyBytes(message, v.signature, v.public.toUpperCase())).toBe(false);
    expect(verifyBytes(message, v.signature, v.public + "00")).toBe(false);
  });

  it("never throws on garbage", () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (b, s, k) => {
        expect(verifyBytes(b, s, k)).toBe(false);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (b, s, k) => {
        expect(() => verifyBytes(b, toHex(s), k)).not.toThrow();
      }),
    );
  });
});

describe("signBytes / verifyBytes properties", () => {
  const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });

  it("round-trips and interoperates with node:crypto", () => {
    fc.assert(
      fc.property(seed, fc.uint8Array({ maxLength: 300 }), (sk, msg) => {
        const pk = toHex(publicKeyOf(sk));
        const sig = signBytes(msg, sk);
        expect(verifyBytes(msg, sig, pk)).toBe(true);
        expect(nodeVerify(null, msg, nodePublic(pk), Buffer.from(sig, "hex"))).toBe(true);
        const nodeSig = nodeSign(null, msg, nodePrivate(toHex(sk))).toString("hex");
        expect(nodeSig).toBe(sig); // Ed25519 is deterministic
      }),
      { numRuns: 50 },
    );
  });

  it("any flipped bit of message, signature or key fails", () => {
    fc.assert(
      fc.property(seed, fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), (sk, msg, bit) => {
        const pk = toHex(publicKeyOf(sk));
        const sig = signBytes(msg, sk);
        expect(verifyBytes(fromHex(flipBit(toHex(msg), bit)), sig, pk)).toBe(false);
        expect(verifyBytes(msg, flipBit(sig, bit), pk)).toBe(false);
        expect(verifyBytes(msg, sig, flipBit(pk, bit))).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it("a signature under one key does not verify under another", () => {
    fc.assert(
      fc.property(seed, seed, fc.uint8Array({ maxLength: 64 }), (a, b, msg) => {
        fc.pre(toHex(a) !== toHex(b));
        expect(verifyBytes(msg, signBytes(msg, a), publicKeyOf(b))).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it("refuses bad secret keys with a coded error", () => {
    expect(() => signBytes(new Uint8Array(1), new Uint8Array(31))).toThrow(SigningError);
    expect(() => publicKeyOf("zz")).toThrow(SigningError);
    try {
      publicKeyOf(new Uint8Array(33));
    } catch (e) {
      expect((e as SigningError).code).toBe("BAD_SECRET_KEY");
    }
  });
});

describe("keyIdOf", () => {
  it("is ed25519: + the first 32 hex chars of SHA-256(public key)", () => {
    const expected = "ed25519:" + createHash("sha256").update(Buffer.from(PUBLIC_A, "hex")).digest("hex").slice(0, 32);
    expect(keyIdOf(PUBLIC_A)).toBe(expected);
    expect(keyIdOf(fromHex(PUBLIC_A)!)).toBe(expected);
    expect(KEY_ID_A).toMatch(/^ed25519:[0-9a-f]{32}$/);
  });

  it("refuses keys that are not 32 bytes", () => {
    expect(() => keyIdOf(new Uint8Array(31))).toThrow(SigningError);
    expect(() => keyIdOf(PUBLIC_A.toUpperCase())).toThrow(SigningError);
  });
});

describe("signingBytes", () => {
  it("is utf8(domain) ++ canonical JSON", () => {
    const bytes = signingBytes(DECISION_DOMAIN, { b: 1, a: "\u20ac" });
    expect(new TextDecoder().decode(bytes)).toBe('freedom-kernel/decision/v1\n{"a":"\u20ac","b":1}');
  });
});

describe("actionDigest", () => {
  it("is SHA-256 of the canonical action, independent of key order", () => {
    const a = makeAction();
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as typeof a;
    expect(actionDigest(reordered)).toBe(actionDigest(a));
    expect(actionDigest(a)).toBe(createHash("sha256").update(canonicalJson(a)).digest("hex"));
    expect(actionDigest(makeAction({ writes: ["other"] }))).not.toBe(actionDigest(a));
  });
});

describe("inputDigest", () => {
  it("is SHA-256 of the canonical input as given, or of \"unrepresentable\" when it cannot be written", () => {
    const raw = { actor: "bot", extra: [1, "x"] };
    expect(inputDigest(raw)).toBe(createHash("sha256").update(canonicalJson(raw)).digest("hex"));
    const unrepresentable = createHash("sha256").update("unrepresentable").digest("hex");
    expect(inputDigest({ s: "\ud800" })).toBe(unrepresentable);
    expect(inputDigest(NaN)).toBe(unrepresentable);
    expect(inputDigest(null)).toBe(createHash("sha256").update("null").digest("hex"));
  });
});

function livePermit(overrides: Partial<Parameters<typeof buildDecisionRecord>[0]> = {}): DecisionRecord {
  return buildDecisionRecord({
    result: permittedResult(),
    action: makeAction(),
    mode: "live",
    now: NOW,
    nonce: NONCE,
    keyId: KEY_ID_A,
    auditSeq: 41,
    ...overrides,
  } as Parameters<typeof buildDecisionRecord>[0]);
}

describe("buildDecisionRecord", () => {
  it("builds records (and parseAction actions) with members in canonical order, so canonical JSON is JSON.stringify of them", () => {
    const blocked = buildDecisionRecord({
      result: { ...permittedResult(), permitted: false, violations: [{ code: "WRITE_DENIED", axiom: "A7", message: "no", resource: "report.txt", flag: "coerces", human: "alice", step: 2 }] },
      action: makeAction(),
      mode: "live",
      now: NOW,
      nonce: NONCE,
      keyId: KEY_ID_A,
      auditSeq: 3,
      session: "s-1",
    } as Parameters<typeof buildDecisionRecord>[0]);
    for (const record of [livePermit(), blocked]) expect(JSON.stringify(record)).toBe(canonicalJson(record));
    const parsed = parseAction({ writes: ["b"], actor: "bot", coerces: true, actionId: "x", description: "d", reads: ["/a/b"], argument: "arg" });
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(JSON.stringify(parsed.action)).toBe(canonicalJson(parsed.action));
  });

  it("builds the documented record, deterministically", () => {
    const record = livePermit();
    expect(record).toEqual({
      v: 1,
      mode: "live",
      actionId: "write-report",
      actor: "bot",
      actionDigest: actionDigest(makeAction()),
      permitted: true,
      violations: [],
      warnings: [{ code: "CONTESTED_WRITE", message: "contested", resource: "report.txt" }],
      confidence: 0.75,
      requiresHumanArbitration: false,
      manipulationScore: 0,
      snapshot: SNAPSHOT,
      decidedAt: "2025-06-01T12:00:00.000Z",
      expiresAt: "2025-06-01T12:01:00.000Z",
      nonce: NONCE,
      keyId: KEY_ID_A,
      auditSeq: 41,
    });
    expect(canonicalJson(livePermit())).toBe(canonicalJson(record));
    expect(signDecision(livePermit(), SECRET_A)).toBe(signDecision(record, SECRET_A));
  });

  it("sets expiresAt only on live permitted records, with the given ttl", () => {
    expect(livePermit({ ttlMs: 5000 }).expiresAt).toBe("2025-06-01T12:00:05.000Z");
    const stateless = livePermit({ mode: "stateless", auditSeq: undefined });
    expect(stateless.expiresAt).toBeUndefined();
    expect("auditSeq" in stateless).toBe(false);
    const blocked = buildDecisionRecord({
      result: blockedResult(),
      action: makeAction({ actionId: "self-expand", increases_machine_sovereignty: true }),
      mode: "live",
      now: NOW,
      nonce: NONCE,
      keyId: KEY_ID_A,
      auditSeq: 3,
    });
    expect(blocked.expiresAt).toBeUndefined();
    expect(blocked.violations).toEqual([
      {
        code: "FORBIDDEN_FLAG",
        axiom: "SOVEREIGNTY",
        message: "FORBIDDEN (increases machine sovereignty)",
        flag: "increases_machine_sovereignty",
      },
    ]);
  });

  it("accepts an explicit actor and digest when the action could not be parsed", () => {
    const record = buildDecisionRecord({
      result: { ...blockedResult("?"), violations: [{ code: "MALFORMED_ACTION", axiom: "FAIL_CLOSED", message: "bad" }] },
      actor: "bot",
      actionDigest: "cd".repeat(32),
      mode: "stateless",
      now: NOW,
      nonce: NONCE,
      keyId: KEY_ID_A,
    });
    expect(record.actionDigest).toBe("cd".repeat(32));
  });

  it.each([
    ["a result about another action", { result: permittedResult("other") }],
    ["a live record without auditSeq", { auditSeq: undefined }],
    ["a short nonce", { nonce: "abcd" }],
    ["an uppercase nonce", { nonce: NONCE.toUpperCase() }],
    ["a bad key id", { keyId: "ed25519:xyz" }],
    ["a zero ttl", { ttlMs: 0 }],
    ["permitted with violations", { result: { ...permittedResult(), violations: blockedResult().violations } }],
    ["confidence above 1", { result: { ...permittedResult(), confidence: 1.5 } }],
  ])("refuses %s", (_name, overrides) => {
    expect(() => livePermit(overrides as never)).toThrow(DecisionRecordError);
  });

  it("returns a deep-frozen record, and signing bytes are refused for a malformed hand-made one", () => {
    const record = livePermit();
    expect(Object.isFrozen(record)).toBe(true);
    expect(Object.isFrozen(record.warnings[0])).toBe(true);
    expect(Object.isFrozen(record.snapshot)).toBe(true);
    expect(() => {
      (record as { permitted: boolean }).permitted = false;
    }).toThrow(TypeError);
    expect(() => decisionSigningBytes({ ...record, permitted: "yes" } as never)).toThrow(SigningError);
    expect(() => decisionSigningBytes({ ...record })).not.toThrow();
  });

  it("refuses a fractional time", () => {
    expect(() => livePermit({ now: NOW + 0.5 })).toThrow();
  });
});

describe("signDecision / verifyDecision", () => {
  const record = livePermit();
  const signature = signDecision(record, SECRET_A);

  it("verifies, and the signature covers exactly signingBytes(DECISION_DOMAIN, record)", () => {
    expect(verifyDecision(record, signature, PUBLIC_A)).toBe(true);
    expect(verifyBytes(decisionSigningBytes(record), signature, PUBLIC_A)).toBe(true);
    // Survives a JSON round trip: nothing but canonical JSON is ever serialised.
    expect(verifyDecision(JSON.parse(JSON.stringify(record)), signature, PUBLIC_A)).toBe(true);
  });

  it("fails under the wrong key", () => {
    expect(verifyDecision(record, signature, PUBLIC_B)).toBe(false);
    // Even if re-signed by B, the record names A's key id.
    expect(verifyDecision(record, signDecision(record, SECRET_B), PUBLIC_B)).toBe(false);
  });

  it("fails for a plan-domain or audit-domain signature over the same record", () => {
    const other = signBytes(signingBytes(PLAN_DECISION_DOMAIN, record), SECRET_A);
    expect(verifyDecision(record, other, PUBLIC_A)).toBe(false);
  });

  it("any edit to any field fails", () => {
    const edits: [string, unknown][] = [
      ["permitted", false],
      ["actionId", "other"],
      ["actor", "bot2"],
      ["actionDigest", "00".repeat(32)],
      ["confidence", 0.76],
      ["manipulationScore", 0.1],
      ["requiresHumanArbitration", true],
      ["snapshot", { version: 8, digest: SNAPSHOT.digest }],
      ["decidedAt", "2025-06-01T12:00:00.001Z"],
      ["expiresAt", "2025-06-01T13:00:00.000Z"],
      ["nonce", "ff".repeat(16)],
      ["auditSeq", 42],
      ["session", "s1"],
      ["warnings", []],
      ["mode", "stateless"],
    ];
    for (const [field, value] of edits) {
      expect(verifyDecision({ ...record, [field]: value }, signature, PUBLIC_A), field).toBe(false);
    }
  });

  it("any flipped bit of the canonical record, signature or key fails", () => {
    const text = canonicalJson(record);
    fc.assert(
      fc.property(fc.nat({ max: text.length * 8 - 1 }), (bit) => {
        const bytes = new TextEncoder().encode(text);
        bytes[Math.floor(bit / 8)]! ^= 1 << (bit % 8);
        let edited: unknown;
        try {
          edited = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
        } catch {
          return; // no longer JSON: nothing a verifier could even be handed
        }
        if (canonicalJson(edited) === text) return; // e.g. a flip inside insignificant text cannot occur in canonical JSON, but be safe
        expect(verifyDecision(edited, signature, PUBLIC_A)).toBe(false);
      }),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.nat({ max: 511 }), (bit) => {
        expect(verifyDecision(record, flipBit(signature, bit), PUBLIC_A)).toBe(false);
        expect(verifyDecision(record, signature, flipBit(PUBLIC_A, bit % 256))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it("never throws on garbage", () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (r, s, k) => {
        expect(verifyDecision(r, s, k)).toBe(false);
      }),
    );
    expect(verifyDecision({ ...record, extra: 1 }, signature, PUBLIC_A)).toBe(false);
    expect(verifyDecision({ ...record, confidence: NaN }, signature, PUBLIC_A)).toBe(false);
  });

  it("a stateless record never carries an expiry, and one that does is malformed", () => {
    const stateless = livePermit({ mode: "stateless", auditSeq: undefined });
    expect(isDecisionRecord(stateless)).toBe(true);
    expect(isDecisionRecord({ ...stateless, expiresAt: "2025-06-01T12:01:00.000Z" })).toBe(false);
    expect(isDecisionRecord({ ...record, expiresAt: undefined })).toBe(false);
    expect(isDecisionRecord({ ...record, expiresAt: record.decidedAt })).toBe(false);
  });
});

describe("verifyPermit", () => {
  const record = livePermit();
  const signature = signDecision(record, SECRET_A);
  const digest = actionDigest(makeAction());
  const ok = { now: NOW + 1000, expectedActionDigest: digest, expectedActor: "bot" };

  it("accepts a valid permit up to and including its expiry", () => {
    expect(verifyPermit(record, signature, PUBLIC_A, ok)).toEqual({ ok: true });
    expect(verifyPermit(record, signature, PUBLIC_A, { now: NOW + 60_000 })).toEqual({ ok: true });
  });

  it.each([
    ["MALFORMED", () => verifyPermit({ ...record, v: 2 }, signature, PUBLIC_A, ok)],
    ["MALFORMED", () => verifyPermit(record, signature, "nope", ok)],
    ["MALFORMED", () => verifyPermit(record, signature, PUBLIC_A, { now: NaN })],
    ["MALFORMED", () => verifyPermit(null, null, null, null as never)],
    ["WRONG_KEY", () => verifyPermit(record, signature, PUBLIC_B, ok)],
    ["BAD_SIGNATURE", () => verifyPermit(record, flipBit(signature, 9), PUBLIC_A, ok)],
    ["BAD_SIGNATURE", () => verifyPermit({ ...record, actor: "evil" }, signature, PUBLIC_A, ok)],
    ["EXPIRED", () => verifyPermit(record, signature, PUBLIC_A, { ...ok, now: NOW + 60_001 })],
    ["ACTION_MISMATCH", () => verifyPermit(record, signature, PUBLIC_A, { ...ok, expectedActionDigest: "00".repeat(32) })],
    ["ACTOR_MISMATCH", () => verifyPermit(record, signature, PUBLIC_A, { ...ok, expectedActor: "other" })],
  ])("%s", (reason, run) => {
    expect(run()).toEqual({ ok: false, reason });
  });

  it("STATELESS: a signed stateless PERMITTED record is never a permit", () => {
    const stateless = livePermit({ mode: "stateless", auditSeq: undefined });
    expect(verifyPermit(stateless, signDecision(stateless, SECRET_A), PUBLIC_A, ok)).toEqual({ ok: false, reason: "STATELESS" });
  });

  it("NOT_PERMITTED: a signed BLOCKED record is not a permit", () => {
    const blocked = buildDecisionRecord({
      result: blockedResult("write-report"),
      action: makeAction(),
      mode: "live",
      now: NOW,
      nonce: NONCE,
      keyId: KEY_ID_A,
      auditSeq: 1,
    });
    expect(verifyPermit(blocked, signDecision(blocked, SECRET_A), PUBLIC_A, ok)).toEqual({ ok: false, reason: "NOT_PERMITTED" });
  });

  it("a plan record is never a permit", () => {
    const plan = buildPlanDecisionRecord({
      results: [permittedResult()],
      actions: [makeAction()],
      snapshot: SNAPSHOT,
      mode: "live",
      now: NOW,
      nonce: NONCE,
      keyId: KEY_ID_A,
      auditSeq: 2,
    });
    expect(verifyPermit(plan, signPlanDecision(plan, SECRET_A), PUBLIC_A, ok)).toEqual({ ok: false, reason: "MALFORMED" });
  });

  it("never throws on garbage", () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), (r, s, k, o) => {
        const out = verifyPermit(r, s, k, o as never);
        expect(out.ok).toBe(false);
      }),
    );
  });
});

describe("plan decision records", () => {
  const actions = [makeAction({ actionId: "a" }), makeAction({ actionId: "b", writes: ["public-log"] })];
  const build = (permittedB: boolean) =>
    buildPlanDecisionRecord({
      results: [
        permittedResult("a"),
        permittedB
          ? permittedResult("b")
          : {
              ...blockedResult("b"),
              violations: [{ code: "IFC_DOWNWARD_FLOW", axiom: "IFC", message: "SECRET -> PUBLIC", resource: "public-log", step: 1 }],
            },
      ],
      actions,
      snapshot: SNAPSHOT,
      mode: "live",
      now: NOW,
      nonce: NONCE,
      keyId: KEY_ID_A,
      auditSeq: 9,
    });

  it("signs and verifies; permitted iff every step is", () => {
    const ok = build(true);
    expect(ok.permitted).toBe(true);
    expect(ok.expiresAt).toBe("2025-06-01T12:01:00.000Z");
    expect(ok.steps.map((s) => s.actionDigest)).toEqual(actions.map(actionDigest));
    const blocked = build(false);
    expect(blocked.permitted).toBe(false);
    expect(blocked.expiresAt).toBeUndefined();
    const sig = signPlanDecision(blocked, SECRET_A);
    expect(verifyPlanDecision(blocked, sig, PUBLIC_A)).toBe(true);
    expect(verifyPlanDecision({ ...blocked, permitted: true }, sig, PUBLIC_A)).toBe(false);
    expect(verifyPlanDecision(blocked, sig, PUBLIC_B)).toBe(false);
    // Domain separation: a plan signature is not a decision signature.
    expect(verifyDecision(blocked, sig, PUBLIC_A)).toBe(false);
  });

  it("refuses mismatched results and actions", () => {
    expect(() =>
      buildPlanDecisionRecord({
        results: [permittedResult("x")],
        actions: [makeAction({ actionId: "a" })],
        snapshot: SNAPSHOT,
        mode: "stateless",
        now: NOW,
        nonce: NONCE,
        keyId: KEY_ID_A,
      }),
    ).toThrow(DecisionRecordError);
    expect(() =>
      buildPlanDecisionRecord({
        results: [{ ...permittedResult("a"), snapshot: { version: 1, digest: "x" } }],
        actions: [makeAction({ actionId: "a" })],
        snapshot: SNAPSHOT,
        mode: "stateless",
        now: NOW,
        nonce: NONCE,
        keyId: KEY_ID_A,
      }),
    ).toThrow(DecisionRecordError);
  });

  it("an empty plan is permitted, as verifyPlan decides", () => {
    const empty = buildPlanDecisionRecord({
      results: [],
      actions: [],
      snapshot: SNAPSHOT,
      mode: "live",
      now: NOW,
      nonce: NONCE,
      keyId: KEY_ID_A,
      auditSeq: 0,
    });
    expect(empty.permitted).toBe(true);
  });
});
