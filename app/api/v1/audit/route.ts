import { ROUTES } from "@/lib/contracts/routes";
import { listAudit } from "@/lib/server/audit-read";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route(ROUTES.listAudit, async ({ query, principal }) => listAudit(principal, query));
