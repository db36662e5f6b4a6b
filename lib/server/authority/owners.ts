import "server-only";
import type { z } from "zod";
import type * as C from "../../contracts";
import { formatIso } from "../../kernel/iso-time";
import { hashPassword, newId, type HumanPrincipal } from "../auth";
import { getDb } from "../db/client";
import { ApiError, forbidden } from "../errors";
import { commitAuthority } from "./commit";
import { idTaken } from "./shared";

/** Owners (humans with a console account): registered by the operator. */
export async function createOwner(principal: HumanPrincipal, body: z.infer<typeof C.CreateOwnerRequest>) {
  if (principal.kind !== "operator") throw forbidden("only the operator registers owners");
  const passwordHash = await hashPassword(body.password);
  const email = body.email.toLowerCase();
  return commitAuthority(principal, async ({ tx, by }) => {
    if (await idTaken(tx, body.id)) throw new ApiError("CONFLICT", `the id ${body.id} is taken`);
    if (await tx.account.findUnique({ where: { email } })) throw new ApiError("CONFLICT", "an account with this email exists");
    const entity = await tx.entity.create({ data: { id: body.id, kind: "HUMAN", displayName: body.displayName, createdBy: by } });
    await tx.account.create({ data: { id: newId("acc"), entityId: body.id, email, passwordHash, role: "OWNER" } });
    return {
      changed: true,
      result: { id: entity.id, displayName: entity.displayName, email, createdAt: formatIso(entity.createdAt.getTime()) },
      op: "register-owner",
      data: { owner: body.id, displayName: body.displayName },
      ownerId: body.id,
    };
  });
}

export async function listOwners(principal: HumanPrincipal) {
  const db = getDb();
  const where = principal.kind === "owner" ? { id: principal.entityId, kind: "HUMAN" } : { kind: "HUMAN" };
  const [entities, accounts] = await Promise.all([db.entity.findMany({ where, orderBy: { id: "asc" } }), db.account.findMany({ where: { role: "OWNER" } })]);
  const email = new Map(accounts.map((a) => [a.entityId, a.email]));
  return entities.map((e) => ({ id: e.id, displayName: e.displayName, email: email.get(e.id) ?? null, createdAt: formatIso(e.createdAt.getTime()) }));
}
