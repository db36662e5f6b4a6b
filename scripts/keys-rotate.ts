/**
 * npm run keys:rotate [-- --old-key-lost] [-- --out FILE]
 *
 * The only way the kernel's signing key changes. Makes a new key, retires the store's current key
 * and appends a "rotate" audit entry naming both (signed by the new key; with the old key's
 * signature over the new one, or `previousKeyLost: true` when the operator passes --old-key-lost).
 *
 * Key file (the default): the new key is written to <file>.new first, the entry is committed, then
 * the old file moves to <file>.retired-<key id hex> and the new one takes its place. If the
 * command dies between the commit and the move, `npm start` names <file>.new in its refusal.
 * FK_SIGNING_KEY: the new seed is written to --out FILE (mode 0600); set FK_SIGNING_KEY to it on
 * every replica. Replicas still holding the old key refuse to sign (SIGNER_UNAVAILABLE) until then.
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import { rotateSigningKey } from "../lib/server/audit-log";
import { config } from "../lib/server/config";
import { getDb } from "../lib/server/db/client";
import { newSeed, readKeyFile, readSigner, signerFromSeed, writeKeyFile, type Signer } from "../lib/server/signer";

function fail(message: string): never {
  console.error(`keys:rotate: ${message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { "old-key-lost": { type: "boolean", default: false }, out: { type: "string" } }, strict: true });
  const settings = config();
  const lost = values["old-key-lost"] === true;
  const fromEnv = settings.signingKey.seed !== null;
  const file = settings.signingKey.file;
  let previous: Signer | null;
  try {
    previous = readSigner(settings);
  } catch (e) {
    if (!lost) fail(`${(e as Error).message}; restore the current key, or pass --old-key-lost`);
    previous = null;
  }
  const seed = newSeed();
  const next = signerFromSeed(seed);
  const target = fromEnv ? values.out : `${file}.new`;
  if (!target) fail("FK_SIGNING_KEY is set: pass --out FILE to receive the new key (then set FK_SIGNING_KEY to it on every replica)");
  if (!writeKeyFile(target, seed)) fail(`${target} exists already (a previous rotation?); move it away first`);
  let rotated: { previousKeyId: string };
  try {
    rotated = await rotateSigningKey({ previous, next, previousKeyLost: lost });
  } catch (e) {
    fs.rmSync(target, { force: true });
    fail((e as Error).message);
  }
  if (!fromEnv) {
    const old = safeRead(file);
    if (fs.existsSync(file)) fs.renameSync(file, `${file}.retired-${(old?.keyId ?? rotated.previousKeyId).replace(/^ed25519:/, "")}`);
    fs.renameSync(target, file);
  }
  console.log(`keys:rotate: retired ${rotated.previousKeyId}${lost ? " (recorded as lost)" : " (it endorsed the new key)"}; current key is now ${next.keyId}`);
  console.log(fromEnv ? `keys:rotate: the new key is in ${target}: set FK_SIGNING_KEY to its contents on every replica and restart them` : `keys:rotate: the new key is in ${file}; restart the server (replicas need the same key)`);
  await getDb().$disconnect();
}



function safeRead(file: string): Signer | null {
  try {
    return readKeyFile(file);
  } catch {
    return null;
  }
}
main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
