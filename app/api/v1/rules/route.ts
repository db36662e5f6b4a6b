import { ROUTES } from "@/lib/contracts/routes";
import { addRule, listRules } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** ABAC rules (issue 12): enforced and shadow; changed by the operator through the commit path. */
export const GET = route(ROUTES.listRules, async ({ principal }) => listRules(principal));
export const POST = route(ROUTES.addRule, async ({ body, principal }) => addRule(principal, body));
