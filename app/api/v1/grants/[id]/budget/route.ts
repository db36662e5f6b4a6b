import { ROUTES } from "@/lib/contracts/routes";
import { setGrantBudget } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** A grant's budget (issue 13): set, raised or removed through the commit path; attenuation applies. */
export const POST = route(ROUTES.setGrantBudget, async ({ body, params, principal }) => setGrantBudget(principal, params.id, body.budget));
