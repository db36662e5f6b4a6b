import { ROUTES } from "@/lib/contracts/routes";
import { setRuleMode } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Promote a shadow rule to enforce (or back): an audited change of authority. */
export const POST = route(ROUTES.setRuleMode, async ({ body, params, principal }) => setRuleMode(principal, params.id, body.mode));
