import { listConflicts } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route({ audience: "human" }, async ({ principal }) => listConflicts(requireHuman(principal)));
