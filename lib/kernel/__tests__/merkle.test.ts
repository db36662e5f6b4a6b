import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  EMPTY_ROOT,
  MerkleAccumulator,
  MerkleError,
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from "../merkle";

// The Certificate Transparency reference vectors (transparency-dev/merkle testonly/constants.go,
// proof/verify_test.go): leaf inputs, the root for every size 0..8, and known proofs.
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
const ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
// [leaf index (0-based), tree size, proof]
const INCLUSION: [number, number, string[]][] = [
  [0, 1, []],
  [
    0,
    8,
    [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  ],
  [
    5,
    8,
    [
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  ],
  [2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]],
  [
    1,
    5,
    [
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  ],
];
// [old size, new size, proof]
const CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  ],
  [
    6,
    8,
    [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  ],
  [
    2,
    5,
    [
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  ],
  [
    6,
    7,
    [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  ],
  [
    2,
    8,
    [
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  ],
];

// An independent, naive implementation straight from RFC 6962 §2.1, using node:crypto.
const sha = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
function naiveRoot(leaves: string[]): string {
  const mth = (d: Buffer[]): Buffer => {
    if (d.length === 0) return sha();
    if (d.length === 1) return sha(Buffer.of(0), d[0]!);
    let k = 1;
    while (k * 2 < d.length) k *= 2;
    return sha(Buffer.of(1), mth(d.slice(0, k)), mth(d.slice(k)));
  };
  return mth(leaves.map((l) => Buffer.from(l, "hex"))).toString("hex");
}

const flip = (hex: string, bit: number): string => {
  const b = Buffer.from(hex, "hex");
  if (b.length === 0) return "00";
  const i = Math.floor(bit / 8) % b.length;
  b[i]! ^= 1 << (bit % 8);
  return b.toString("hex");
};

const entryHashes = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => createHash("sha256").update(`entry ${i}`).digest("hex"));

describe("RFC 6962 reference vectors", () => {
  it("roots for sizes 0..8", () => {
    expect(EMPTY_ROOT).toBe(ROOTS[0]);
    for (let n = 0; n <= 8; n++) expect(merkleRoot(LEAVES.slice(0, n)), `size ${n}`).toBe(ROOTS[n]);
  });

  it("leaf hash of the empty input", () => {
    expect(leafHash("")).toBe(ROOTS[1]);
  });

  it.each(INCLUSION)("inclusion proof of leaf %i in a tree of %i", (index, size, proof) => {
    const leaves = LEAVES.slice(0, size);
    expect(inclusionProof(leaves, index)).toEqual(proof);
    expect(verifyInclusion(LEAVES[index], index, size, proof, ROOTS[size])).toBe(true);
  });

  it.each(CONSISTENCY)("consistency proof %i -> %i", (oldSize, newSize, proof) => {
    expect(consistencyProof(LEAVES.slice(0, newSize), oldSize)).toEqual(proof);
    expect(verifyConsistency(oldSize, newSize, ROOTS[oldSize], ROOTS[newSize], proof)).toBe(true);
  });
});

describe("the CT verifier's corruption probes are all rejected", () => {
  const someHash = "abacaba000000000000000000000000000000000000000000060061e00123456";
  it.each(INCLUSION.filter(([, size]) => size > 1))("inclusion %i/%i", (index, size, proof) => {
    const root = ROOTS[size]!;
    const leaf = LEAVES[index]!;
    const bad: [unknown, unknown, unknown, unknown, unknown][] = [
      [leaf, index - 1, size, proof, root],
      [leaf, index + 1, size, proof, root],
      [leaf, index ^ 2, size, proof, root],
      [leaf, index, size * 2, proof, root],
      [leaf, index, Math.floor(size / 2), proof, root],
      ["77726f6e674c656166", index, size, proof, root],
      [leaf, index, size, proof, EMPTY_ROOT],
      [leaf, index, size, proof, someHash],
      [leaf, index, size, [...proof, ""], root],
      [leaf, index, size, [...proof, root], root],
      [leaf, index, size, ["", ...proof], root],
      [leaf, index, size, [root, ...proof], root],
      [leaf, index, size, proof.slice(0, -1), root],
      [leaf, index, size, [proof[0], someHash, ...proof.slice(1)], root],
      ...proof.map((_, i): [unknown, unknown, unknown, unknown, unknown] => [
        leaf,
        index,
        size,
        proof.map((p, j) => (j === i ? flip(p, 3) : p)),
        root,
      ]),
    ];
    for (const args of bad) expect(verifyInclusion(...args), JSON.stringify(args.slice(1, 3))).toBe(false);
  });

  it.each(CONSISTENCY.filter(([a, b]) => a !== b))("consistency %i -> %i", (s1, s2, proof) => {
    const r1 = ROOTS[s1]!;
    const r2 = ROOTS[s2]!;
    const bad: [unknown, unknown, unknown, unknown, unknown][] = [
      [s1 - 1, s2, r1, r2, proof],
      [s1 + 1, s2, r1, r2, proof],
      [s1 ^ 2, s2, r1, r2, proof],
      [s1, s2 * 2, r1, r2, proof],
      [s1, Math.floor(s2 / 2), r1, r2, proof],
      [s1, s2, "57726f6e67526f6f74", r2, proof],
      [s1, s2, r1, "57726f6e67526f6f74", proof],
      [s1, s2, r2, r1, proof],
      [s1, s2, r1, r2, []],
      [s1, s2, r1, r2, [...proof, ""]],
      [s1, s2, r1, r2, [...proof, r1]],
      [s1, s2, r1, r2, [...proof, r2]],
      [s1, s2, r1, r2, ["", ...proof]],
      [s1, s2, r1, r2, [r1, ...proof]],
      [s1, s2, r1, r2, [r2, ...proof]],
      [s1, s2, r1, r2, [proof[0], ...proof]],
      [s1, s2, r1, r2, proof.slice(0, -1)],
      ...proof.map((_, i): [unknown, unknown, unknown, unknown, unknown] => [
        s1,
        s2,
        r1,
        r2,
        proof.map((p, j) => (j === i ? flip(p, 4) : p)),
      ]),
    ];
    for (const args of bad) expect(verifyConsistency(...args), JSON.stringify(args.slice(0, 2))).toBe(false);
  });

  it("degenerate sizes", () => {
    const r = ROOTS[4]!;
    expect(verifyConsistency(4, 4, r, r, [])).toBe(true);
    expect(verifyConsistency(4, 4, r, ROOTS[5], [])).toBe(false);
    expect(verifyConsistency(4, 4, r, r, [EMPTY_ROOT])).toBe(false);
    expect(verifyConsistency(0, 8, EMPTY_ROOT, ROOTS[8], [])).toBe(true);
    expect(verifyConsistency(0, 8, ROOTS[1], ROOTS[8], [])).toBe(false);
    expect(verifyConsistency(0, 8, EMPTY_ROOT, ROOTS[8], [EMPTY_ROOT])).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(true);
    expect(verifyConsistency(2, 1, ROOTS[2], ROOTS[1], [])).toBe(false);
    for (const [index, size] of [[0, 0], [1, 0], [2, 1], [-1, 4]] as const) {
      expect(verifyInclusion("00", index, size, [], EMPTY_ROOT)).toBe(false);
    }
  });
});

describe("against a naive implementation", () => {
  it("merkleRoot and the accumulator agree with the naive root for every size up to 70", () => {
    const hashes = entryHashes(70);
    const acc = new MerkleAccumulator();
    expect(acc.root()).toBe(EMPTY_ROOT);
    for (let n = 1; n <= hashes.length; n++) {
      acc.append(hashes[n - 1]!);
      const expected = naiveRoot(hashes.slice(0, n));
      expect(merkleRoot(hashes.slice(0, n))).toBe(expected);
      expect(acc.root()).toBe(expected);
      expect(acc.size).toBe(n);
    }
  });

  it("random leaves of any length", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 40 }), (raw) => {
        const leaves = raw.map((b) => Buffer.from(b).toString("hex"));
        expect(merkleRoot(leaves)).toBe(naiveRoot(leaves));
      }),
    );
  });
});

describe("every proof verifies, every tampering fails", () => {
  const hashes = entryHashes(40);
  const roots = Array.from({ length: hashes.length + 1 }, (_, n) => merkleRoot(hashes.slice(0, n)));

  it("inclusion: every leaf of every size 1..40", () => {
    for (let n = 1; n <= hashes.length; n++) {
      const tree = hashes.slice(0, n);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(tree, i);
        expect(verifyInclusion(tree[i], i, n, proof, roots[n])).toBe(true);
        if (n > 1) expect(verifyInclusion(tree[i], (i + 1) % n, n, proof, roots[n])).toBe(false);
      }
    }
  });

  it("consistency: every pair 0 <= m <= n <= 40", () => {
    for (let n = 0; n <= hashes.length; n++) {
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(hashes.slice(0, n), m);
        expect(verifyConsistency(m, n, roots[m], roots[n], proof), `${m}->${n}`).toBe(true);
      }
    }
  });

  const sizeAndIndex = fc.integer({ min: 1, max: 40 }).chain((n) => fc.tuple(fc.constant(n), fc.nat({ max: n - 1 })));

  it("inclusion: any flipped bit of leaf, proof or root, or another index, fails", () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.nat(), ([n, i], bit, which) => {
        const tree = hashes.slice(0, n);
        const proof = inclusionProof(tree, i);
        const root = roots[n]!;
        expect(verifyInclusion(flip(tree[i]!, bit), i, n, proof, root)).toBe(false);
        expect(verifyInclusion(tree[i], i, n, proof, flip(root, bit))).toBe(false);
        if (proof.length > 0) {
          const j = which % proof.length;
          const tampered = proof.map((p, k) => (k === j ? flip(p, bit) : p));
          expect(verifyInclusion(tree[i], i, n, tampered, root)).toBe(false);
        }
        const other = (i + 1 + (which % Math.max(1, n - 1))) % n;
        if (other !== i && tree[other] !== tree[i]) {
          expect(verifyInclusion(tree[i], other, n, proof, root)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("consistency: any flipped bit of either root or the proof fails", () => {
    const sizes = fc.integer({ min: 2, max: 40 }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n)));
    fc.assert(
      fc.property(sizes, fc.nat(), fc.nat(), ([m, n], bit, which) => {
        const proof = consistencyProof(hashes.slice(0, n), m);
        expect(verifyConsistency(m, n, flip(roots[m]!, bit), roots[n], proof)).toBe(false);
        expect(verifyConsistency(m, n, roots[m], flip(roots[n]!, bit), proof)).toBe(false);
        const j = which % proof.length;
        expect(verifyConsistency(m, n, roots[m], roots[n], proof.map((p, k) => (k === j ? flip(p, bit) : p)))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("a rewritten history is not consistent with the old root", () => {
    const forged = [...hashes.slice(0, 10)];
    forged[3] = flip(forged[3]!, 0);
    const forgedTree = [...forged, ...hashes.slice(10, 20)];
    const proof = consistencyProof(forgedTree, 10);
    expect(verifyConsistency(10, 20, roots[10], merkleRoot(forgedTree), proof)).toBe(false);
  });

  it("verifiers never throw on garbage", () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything(), (a, b, c, d, e) => {
        expect(() => verifyInclusion(a, b, c, d, e)).not.toThrow();
        expect(() => verifyConsistency(a, b, c, d, e)).not.toThrow();
      }),
    );
    expect(verifyInclusion(hashes[0], 0, 2 ** 60, [], roots[1])).toBe(false);
    expect(verifyInclusion(hashes[0], 0.5, 2, [], roots[1])).toBe(false);
  });

  it("builders refuse bad input with a coded error", () => {
    expect(() => merkleRoot(["XY"])).toThrow(MerkleError);
    expect(() => inclusionProof(hashes, 40)).toThrow(MerkleError);
    expect(() => inclusionProof(hashes, -1)).toThrow(MerkleError);
    expect(() => consistencyProof(hashes, 41)).toThrow(MerkleError);
  });
});
