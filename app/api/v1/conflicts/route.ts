import { ROUTES } from "@/lib/contracts/routes";
import { listConflicts } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route(ROUTES.listConflicts, async ({ principal }) => listConflicts(principal));
