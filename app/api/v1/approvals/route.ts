import { ROUTES } from "@/lib/contracts/routes";
import { listApprovals } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route(ROUTES.listApprovals, async ({ query, principal }) => listApprovals(principal, query.status));
