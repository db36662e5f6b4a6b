import { ROUTES } from "@/lib/contracts/routes";
import { getMachine } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route(ROUTES.getMachine, async ({ params, principal }) => getMachine(principal, params.id));
