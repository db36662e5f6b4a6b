import { StatsQuery } from "@/lib/contracts/console";
import { consoleStats } from "@/lib/server/console";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Dashboard counts over the caller's own decisions, approvals, conflicts and machines. */
export const GET = route({ audience: "human", query: StatsQuery }, async ({ query, principal }) => consoleStats(requireHuman(principal), query.window));
