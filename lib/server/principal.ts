import "server-only";
import { getDb } from "./db/client";

/** The signed-in account as the console shows it. */
export async function describePrincipal(accountId: string) {
  const db = getDb();
  const account = await db.account.findUniqueOrThrow({ where: { id: accountId } });
  const entity = account.entityId ? await db.entity.findUnique({ where: { id: account.entityId } }) : null;
  return {
    accountId: account.id,
    role: account.role as "OWNER" | "OPERATOR",
    entityId: account.entityId,
    email: account.email,
    displayName: entity?.displayName ?? (account.role === "OPERATOR" ? "Operator" : account.email),
  };
}
