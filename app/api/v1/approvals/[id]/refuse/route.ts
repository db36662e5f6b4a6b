import { ROUTES } from "@/lib/contracts/routes";
import { refuse } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route(ROUTES.refuse, async ({ body, params, principal }) => refuse(principal, params.id, body.reason));
