import { ROUTES } from "@/lib/contracts/routes";
import { resolve } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route(ROUTES.resolveConflict, async ({ body, params, principal }) => resolve(principal, params.id, body));
