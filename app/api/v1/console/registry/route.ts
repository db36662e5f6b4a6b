import { ROUTES } from "@/lib/contracts/routes";
import { consoleRegistry } from "@/lib/server/console";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/**
 * The registry as the caller may see it (owners: their part, see lib/server/console.ts ownerView;
 * the operator: all of it), for the console's in-browser checkGrant and verify.
 */
export const GET = route(ROUTES.consoleRegistry, async ({ principal }) => consoleRegistry(principal));
