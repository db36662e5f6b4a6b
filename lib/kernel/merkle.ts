/**
 * RFC 6962 / RFC 9162 Merkle Tree Hash over the audit log (design §7), so an auditor can check that
 * an entry is in the log (inclusion) and that the log only ever grew (consistency).
 *
 * The tree is the Certificate Transparency one, bit for bit, so any CT tooling agrees with it:
 *   leaf hash  = SHA-256(0x00 || leaf input)
 *   node hash  = SHA-256(0x01 || left || right)
 *   empty tree = SHA-256("")
 *   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])) with k the largest power of two < n.
 * For the audit log the leaf input of entry i is the 32 raw bytes of its entryHash.
 *
 * Every hash at the API is lowercase hex. Builders throw MerkleError on bad input (a caller bug);
 * verifiers return false and never throw.
 */
import { bytesEqual, concatBytes, fromHex, sha256Bytes, toHex } from "./bytes";

/** Thrown by the proof and root builders for bad leaves, indexes or sizes (never by verifiers). */
export class MerkleError extends Error {
  constructor(
    readonly code: "BAD_LEAF" | "BAD_INDEX" | "BAD_SIZE",
    message: string,
  ) {
    super(message);
    this.name = "MerkleError";
  }
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

function leafHashOf(input: Uint8Array): Uint8Array {
  return sha256Bytes(concatBytes(LEAF, input));
}

function nodeHashOf(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256Bytes(concatBytes(NODE, left, right));
}

/** Root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT = toHex(sha256Bytes(new Uint8Array(0)));

/** Largest power of two strictly less than n (n >= 2). Arithmetic, not bit ops: sizes may exceed 2^31. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function decodeLeaves(leaves: readonly string[]): Uint8Array[] {
  if (!Array.isArray(leaves)) throw new MerkleError("BAD_LEAF", "leaves must be an array of hex strings");
  return leaves.map((leaf, i) => {
    const bytes = fromHex(leaf);
    if (!bytes) throw new MerkleError("BAD_LEAF", `leaf ${i} is not lowercase hex`);
    return leafHashOf(bytes);
  });
}

/** MTH over hashes[lo, hi) of already-hashed leaves. */
function subtreeRoot(hashes: readonly Uint8Array[], lo: number, hi: number): Uint8Array {
  const n = hi - lo;
  if (n === 1) return hashes[lo]!;
  const k = splitPoint(n);
  return nodeHashOf(subtreeRoot(hashes, lo, lo + k), subtreeRoot(hashes, lo + k, hi));
}

/** Leaf hash (hex) of one leaf input (hex). Throws MerkleError("BAD_LEAF") for non-hex input. */
export function leafHash(leafInput: string): string {
  const bytes = fromHex(leafInput);
  if (!bytes) throw new MerkleError("BAD_LEAF", "leaf input is not lowercase hex");
  return toHex(leafHashOf(bytes));
}

/**
 * Merkle Tree Hash (hex) of the leaf inputs (hex, any length), EMPTY_ROOT for none.
 * Throws MerkleError("BAD_LEAF") if a leaf is not lowercase hex.
 */
export function merkleRoot(leaves: readonly string[]): string {
  const hashes = decodeLeaves(leaves);
  if (hashes.length === 0) return EMPTY_ROOT;
  return toHex(subtreeRoot(hashes, 0, hashes.length));
}

/**
 * Audit path (RFC 6962 §2.1.1 PATH(m, D[n])) of leaf `index` in the tree of all `leaves`, hex,
 * from the leaf upwards. Throws MerkleError for a bad leaf or an index outside [0, leaves.length).
 */
export function inclusionProof(leaves: readonly string[], index: number): string[] {
  const hashes = decodeLeaves(leaves);
  if (!Number.isSafeInteger(index) || index < 0 || index >= hashes.length) {
    throw new MerkleError("BAD_INDEX", "index outside the tree");
  }
  const path: Uint8Array[] = [];
  // PATH(m, D[lo:hi]), appended leaf-first: recurse, then push the sibling subtree's root.
  const walk = (m: number, lo: number, hi: number): void => {
    const n = hi - lo;
    if (n <= 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, lo, lo + k);
      path.push(subtreeRoot(hashes, lo + k, hi));
    } else {
      walk(m - k, lo + k, hi);
      path.push(subtreeRoot(hashes, lo, lo + k));
    }
  };
  walk(index, 0, hashes.length);
  return path.map(toHex);
}

/**
 * Consistency proof (RFC 6962 §2.1.2 PROOF(m, D[n])) that the tree of the first `oldSize` leaves
 * is a prefix of the tree of all `leaves`. Empty when oldSize is 0 or equals the tree size.
 * Throws MerkleError for a bad leaf or oldSize outside [0, leaves.length].
 */
export function consistencyProof(leaves: readonly string[], oldSize: number): string[] {
  const hashes = decodeLeaves(leaves);
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > hashes.length) {
    throw new MerkleError("BAD_SIZE", "oldSize outside [0, tree size]");
  }
  if (oldSize === 0 || oldSize === hashes.length) return [];
  const proof: Uint8Array[] = [];
  // SUBPROOF(m, D[lo:hi], b)
  const sub = (m: number, lo: number, hi: number, whole: boolean): void => {
    const n = hi - lo;
    if (m === n) {
      if (!whole) proof.push(subtreeRoot(hashes, lo, hi));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, lo, lo + k, whole);
      proof.push(subtreeRoot(hashes, lo + k, hi));
    } else {
      sub(m - k, lo + k, hi, false);
      proof.push(subtreeRoot(hashes, lo, lo + k));
    }
  };
  sub(oldSize, 0, hashes.length, true);
  return proof.map(toHex);
}

const isSize = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

function decodeHashes(proof: unknown): Uint8Array[] | undefined {
  if (!Array.isArray(proof)) return undefined;
  const out: Uint8Array[] = [];
  for (const p of proof as unknown[]) {
    const bytes = fromHex(p, 32);
    if (!bytes) return undefined;
    out.push(bytes);
  }
  return out;
}

/**
 * RFC 9162 §2.1.3.2: true iff `proof` shows that `leafInput` (hex) is leaf `index` of the tree of
 * size `treeSize` with root `root`. Returns false — never throws — for any malformed argument
 * (non-hex, hashes not 32 bytes, index >= treeSize, non-integer sizes) or a proof that does not fit.
 */
export function verifyInclusion(
  leafInput: unknown,
  index: unknown,
  treeSize: unknown,
  proof: unknown,
  root: unknown,
): boolean {
  const input = fromHex(leafInput);
  const rootBytes = fromHex(root, 32);
  const path = decodeHashes(proof);
  if (!input || !rootBytes || !path || !isSize(index) || !isSize(treeSize)) return false;
  // 1. leaf_index must lie inside the tree.
  if (index >= treeSize) return false;
  // 2. fn = leaf_index, sn = tree_size - 1; 3. r = leaf hash.
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHashOf(input);
  // 4. fold the path in.
  for (const p of path) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHashOf(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHashOf(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // 5. the whole path must have been used and the root must match.
  return sn === 0 && bytesEqual(r, rootBytes);
}

/**
 * RFC 9162 §2.1.4.2: true iff `proof` shows the tree of size `oldSize` with root `oldRoot` is a
 * prefix of the tree of size `newSize` with root `newRoot`. Edge cases, as in the CT verifiers:
 * equal sizes need an empty proof and equal roots; oldSize 0 needs an empty proof and oldRoot equal
 * to EMPTY_ROOT (stricter than some verifiers, which ignore the old root there). Returns false for
 * any malformed argument; never throws.
 */
export function verifyConsistency(
  oldSize: unknown,
  newSize: unknown,
  oldRoot: unknown,
  newRoot: unknown,
  proof: unknown,
): boolean {
  const first = fromHex(oldRoot, 32);
  const second = fromHex(newRoot, 32);
  const path = decodeHashes(proof);
  if (!first || !second || !path || !isSize(oldSize) || !isSize(newSize)) return false;
  if (oldSize > newSize) return false;
  if (oldSize === newSize) return path.length === 0 && bytesEqual(first, second);
  if (oldSize === 0) return path.length === 0 && toHex(first) === EMPTY_ROOT;
  // 1. a non-trivial proof is never empty.
  if (path.length === 0) return false;
  // 2. when the old tree is a complete subtree, its root is the first node of the path.
  const nodes = isPowerOfTwo(oldSize) ? [first, ...path] : path;
  // 3. fn = first - 1, sn = second - 1; 4. skip the levels where the old tree is a right edge.
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5. fr = sr = first node.
  let fr = nodes[0]!;
  let sr = nodes[0]!;
  // 6. fold the rest in.
  for (let i = 1; i < nodes.length; i++) {
    const c = nodes[i]!;
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHashOf(c, fr);
      sr = nodeHashOf(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHashOf(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // 7. both roots reproduced and the whole new tree covered.
  return bytesEqual(fr, first) && bytesEqual(sr, second) && sn === 0;
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/**
 * Incremental Merkle Tree Hash: append leaves one at a time and read the root of everything
 * appended so far in O(log n), without keeping the leaves. Used to check every checkpoint of an
 * export in one pass. The stack holds the roots of the perfect subtrees the size decomposes into
 * (largest first); folding them from the right is exactly the RFC 6962 split.
 */
export class MerkleAccumulator {
  private readonly stack: { hash: Uint8Array; size: number }[] = [];
  private count = 0;

  /** Number of leaves appended. */
  get size(): number {
    return this.count;
  }

  /** Appends one leaf input (hex). Throws MerkleError("BAD_LEAF") for non-hex input. */
  append(leafInput: string): void {
    const bytes = fromHex(leafInput);
    if (!bytes) throw new MerkleError("BAD_LEAF", "leaf input is not lowercase hex");
    let node = { hash: leafHashOf(bytes), size: 1 };
    for (let top = this.stack.at(-1); top !== undefined && top.size === node.size; top = this.stack.at(-1)) {
      this.stack.pop();
      node = { hash: nodeHashOf(top.hash, node.hash), size: top.size * 2 };
    }
    this.stack.push(node);
    this.count += 1;
  }

  /** Root (hex) of the leaves appended so far; EMPTY_ROOT when none. */
  root(): string {
    let acc: Uint8Array | undefined;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const h = this.stack[i]!.hash;
      acc = acc === undefined ? h : nodeHashOf(h, acc);
    }
    return acc === undefined ? EMPTY_ROOT : toHex(acc);
  }
}
