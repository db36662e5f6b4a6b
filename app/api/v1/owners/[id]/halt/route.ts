import { ROUTES } from "@/lib/contracts/routes";
import { haltOwner } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Halts every machine of one owner (the owner themselves, or the operator). */
export const POST = route(ROUTES.haltOwner, async ({ body, params, principal }) => haltOwner(principal, params.id, body.reason));
