import { ROUTES } from "@/lib/contracts/routes";
import { resumeAll } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route(ROUTES.resumeAll, async ({ principal }) => resumeAll(principal));
