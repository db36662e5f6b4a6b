import { ROUTES } from "@/lib/contracts/routes";
import { removeResource } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Removes a resource and every claim on it by id (its owner, or the operator). */
export const DELETE = route(ROUTES.removeResource, async ({ params, principal }) => removeResource(principal, params.id));
