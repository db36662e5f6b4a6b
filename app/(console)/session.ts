import "server-only";
import { cache } from "react";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import type { z } from "zod";
import type { Principal } from "@/lib/contracts";
import { principalFromCookieHeader } from "@/lib/server/console";

/**
 * The console's guard, run by the layout and again by every page (a layout is not re-run on
 * client navigation, a page is): the session cookie is checked with the same `authenticate` as
 * every API route; no valid session, no page.
 */
export const readConsolePrincipal = cache(async (): Promise<z.infer<typeof Principal> | null> => {
  const jar = await cookies();
  const header = jar
    .getAll()
    .map((c) => `${c.name}=${encodeURIComponent(c.value)}`)
    .join("; ");
  const p = await principalFromCookieHeader(header);
  if (!p) return null;
  return {
    accountId: p.accountId ?? "operator-token",
    role: p.kind === "operator" ? "OPERATOR" : "OWNER",
    entityId: p.kind === "owner" ? p.entityId : null,
    email: p.email ?? "",
    displayName: p.displayName,
  };
});

export async function requireConsolePrincipal(path: string) {
  const p = await readConsolePrincipal();
  if (!p) redirect(`/login?next=${encodeURIComponent(path)}`);
  return p;
}
