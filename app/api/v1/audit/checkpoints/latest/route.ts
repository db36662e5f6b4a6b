import { ROUTES } from "@/lib/contracts/routes";
import { latestCheckpoint } from "@/lib/server/audit-read";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route(ROUTES.latestCheckpoint, async () => latestCheckpoint());
