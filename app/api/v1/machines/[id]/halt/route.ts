import { ROUTES } from "@/lib/contracts/routes";
import { haltMachine } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Kill switch: the machine's next decision, on every replica, is BLOCKED (HALTED). */
export const POST = route(ROUTES.haltMachine, async ({ body, params, principal }) => haltMachine(principal, params.id, body.reason));
