import { ROUTES } from "@/lib/contracts/routes";
import { resumeOwner } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route(ROUTES.resumeOwner, async ({ params, principal }) => resumeOwner(principal, params.id));
