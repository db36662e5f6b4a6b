import { ROUTES } from "@/lib/contracts/routes";
import { approve } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route(ROUTES.approve, async ({ body, params, principal }) => approve(principal, params.id, body.ttlSeconds, body.widen, body.raise));
