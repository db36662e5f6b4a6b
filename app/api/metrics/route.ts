import { ROUTES } from "@/lib/contracts/routes";
import { auditLength } from "@/lib/server/audit-log";
import { route } from "@/lib/server/http";
import { renderMetrics } from "@/lib/server/metrics";

export const dynamic = "force-dynamic";

/** Prometheus text format. Counts only, nothing secret: served without authentication. */
export const GET = route(ROUTES.metrics, async () => {
  let length = -1;
  try {
    length = await auditLength();
  } catch {
    // Metrics must answer while the database is down; -1 says "unknown".
  }
  return new Response(renderMetrics(length), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" } });
});
