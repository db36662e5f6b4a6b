import { ROUTES } from "@/lib/contracts/routes";
import { revokeToken } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const DELETE = route(ROUTES.revokeToken, async ({ params, principal }) => revokeToken(principal, params.id));
