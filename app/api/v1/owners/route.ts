import { ROUTES } from "@/lib/contracts/routes";
import { createOwner, listOwners } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route(ROUTES.createOwner, async ({ body, principal }) => createOwner(principal, body));
export const GET = route(ROUTES.listOwners, async ({ principal }) => listOwners(principal));
