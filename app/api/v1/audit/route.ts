import { AuditQuery } from "@/lib/contracts";
import { listAudit } from "@/lib/server/audit-read";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route({ audience: "human", query: AuditQuery }, async ({ query, principal }) => listAudit(requireHuman(principal), query));
