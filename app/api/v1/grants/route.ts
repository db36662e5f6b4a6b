import { ROUTES } from "@/lib/contracts/routes";
import { createGrant, listGrants } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Delegation; the kernel's checkGrant decides (422 GRANT_REFUSED with its reasons). */
export const POST = route(ROUTES.createGrant, async ({ body, principal }) => createGrant(principal, body));
export const GET = route(ROUTES.listGrants, async ({ principal }) => listGrants(principal));
