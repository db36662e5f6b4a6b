import "server-only";
import { formatIso } from "../../kernel/iso-time";
import { forgetToken, newId, randomToken, sha256Hex, type HumanPrincipal } from "../auth";
import { getDb } from "../db/client";
import { notFound } from "../errors";
import type { Tx } from "../registry";
import { commitAuthority } from "./commit";
import { iso, ownedMachine } from "./shared";

/**
 * Machine API tokens: only a SHA-256 of the secret is stored; the secret is shown once. Issuing
 * and revoking are changes of authority (who may speak as a machine): the revocation's version
 * bump makes every replica re-check the token at once.
 */
type TokenRow = Awaited<ReturnType<Tx["apiToken"]["findUniqueOrThrow"]>>;
const tokenOut = (t: TokenRow) => ({
  id: t.id,
  machineId: t.machineId,
  label: t.label,
  createdAt: formatIso(t.createdAt.getTime()),
  revokedAt: iso(t.revokedAt),
  lastUsedAt: iso(t.lastUsedAt),
});

export async function createToken(principal: HumanPrincipal, machineId: string, label: string) {
  const secret = randomToken("fkm_");
  return commitAuthority(principal, async ({ tx, by }) => {
    const m = await ownedMachine(tx, principal, machineId);
    const t = await tx.apiToken.create({ data: { id: newId("tok"), machineId: m.id, tokenHash: sha256Hex(secret), label, createdBy: by } });
    return { changed: true, result: { ...tokenOut(t), secret }, op: "create-token", data: { token: t.id, machine: m.id, label }, ownerId: m.ownerId, machineId: m.id };
  });
}

export async function listTokens(principal: HumanPrincipal, machineId: string) {
  const db = getDb();
  const m = await ownedMachine(db, principal, machineId);
  return (await db.apiToken.findMany({ where: { machineId: m.id }, orderBy: { createdAt: "asc" } })).map(tokenOut);
}

export async function revokeToken(principal: HumanPrincipal, tokenId: string) {
  const out = await commitAuthority(principal, async ({ tx }) => {
    const t = await tx.apiToken.findUnique({ where: { id: tokenId } });
    if (!t) throw notFound(`token ${tokenId}`);
    const m = await ownedMachine(tx, principal, t.machineId).catch(() => {
      throw notFound(`token ${tokenId}`);
    });
    if (t.revokedAt) return { changed: false, result: tokenOut(t) };
    const updated = await tx.apiToken.update({ where: { id: t.id }, data: { revokedAt: new Date() } });
    return { changed: true, result: tokenOut(updated), op: "revoke-token", data: { token: t.id, machine: m.id }, ownerId: m.ownerId, machineId: m.id };
  });
  forgetToken(tokenId);
  return out;
}
