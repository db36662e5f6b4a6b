import { ROUTES } from "@/lib/contracts/routes";
import { route } from "@/lib/server/http";
import { statelessVerify } from "@/lib/server/stateless";

export const dynamic = "force-dynamic";

/** The original kernel's wire format. Signed with mode "stateless": never a permit, not audited. */
export const POST = route(ROUTES.statelessVerify, async ({ body }) => statelessVerify(body));
