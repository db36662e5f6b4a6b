import { ROUTES } from "@/lib/contracts/routes";
import { route } from "@/lib/server/http";
import { simulate } from "@/lib/server/simulate";

export const dynamic = "force-dynamic";

/** What-if replay (issue 12): signed, audited, and nothing of the change set is kept. */
export const POST = route(ROUTES.simulate, async ({ body, principal }) => simulate(principal, body));
