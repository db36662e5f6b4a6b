import { resumeMachine } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route({ audience: "human" }, async ({ params, principal }) => resumeMachine(requireHuman(principal), params.id!));
