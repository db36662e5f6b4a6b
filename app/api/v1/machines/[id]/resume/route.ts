import { ROUTES } from "@/lib/contracts/routes";
import { resumeMachine } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route(ROUTES.resumeMachine, async ({ params, principal }) => resumeMachine(principal, params.id));
