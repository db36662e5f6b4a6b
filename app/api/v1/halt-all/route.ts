import { ROUTES } from "@/lib/contracts/routes";
import { haltAll } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route(ROUTES.haltAll, async ({ body, principal }) => haltAll(principal, body.reason));
