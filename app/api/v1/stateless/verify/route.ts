import { StatelessRequest } from "@/lib/contracts";
import { route } from "@/lib/server/http";
import { statelessVerify } from "@/lib/server/stateless";

export const dynamic = "force-dynamic";

/** The original kernel's wire format. Signed with mode "stateless": never a permit, not audited. */
export const POST = route({ audience: "public", body: StatelessRequest, maxBytes: 1024 * 1024 }, async ({ body }) => statelessVerify(body));
