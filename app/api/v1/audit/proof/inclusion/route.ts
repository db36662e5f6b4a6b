import { ROUTES } from "@/lib/contracts/routes";
import { inclusion } from "@/lib/server/audit-read";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route(ROUTES.inclusionProof, async ({ query }) => inclusion(query.seq, query.size));
