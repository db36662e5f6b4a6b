import { ROUTES } from "@/lib/contracts/routes";
import { decide, MalformedBody } from "@/lib/server/decisions";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/**
 * An agent asks before acting. Answers the signed, committed decision (PERMITTED = a permit). A
 * body with a duplicated member name is a signed, audited MALFORMED_ACTION decision, not a 400.
 */
export const POST = route(
  ROUTES.verify,
  async ({ body, principal }) => decide(principal.machineId, body.action, body.session, principal),
  { onMalformedBody: async (reason, raw, principal) => decide(principal.machineId, new MalformedBody(reason, raw), undefined, principal) },
);
