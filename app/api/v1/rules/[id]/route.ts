import { ROUTES } from "@/lib/contracts/routes";
import { removeRule } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const DELETE = route(ROUTES.removeRule, async ({ params, principal }) => removeRule(principal, params.id));
