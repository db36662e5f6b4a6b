import { resumeOwner } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route({ audience: "human" }, async ({ params, principal }) => resumeOwner(requireHuman(principal), params.id!));
