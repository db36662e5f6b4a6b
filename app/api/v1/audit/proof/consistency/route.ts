import { ROUTES } from "@/lib/contracts/routes";
import { consistency } from "@/lib/server/audit-read";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route(ROUTES.consistencyProof, async ({ query }) => consistency(query.from, query.to));
