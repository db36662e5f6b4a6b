import { resumeAll } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route({ audience: "operator" }, async ({ principal }) => resumeAll(requireHuman(principal)));
