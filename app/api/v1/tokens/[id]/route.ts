import { revokeToken } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const DELETE = route({ audience: "human" }, async ({ params, principal }) => revokeToken(requireHuman(principal), params.id!));
