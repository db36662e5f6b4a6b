import { ROUTES } from "@/lib/contracts/routes";
import { consoleStats } from "@/lib/server/console";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Dashboard counts over the caller's own decisions, approvals, conflicts and machines. */
export const GET = route(ROUTES.consoleStats, async ({ query, principal }) => consoleStats(principal, query.window));
