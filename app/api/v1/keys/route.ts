import { ROUTES } from "@/lib/contracts/routes";
import { route } from "@/lib/server/http";
import { publicKeys } from "@/lib/server/keys";

export const dynamic = "force-dynamic";

export const GET = route(ROUTES.keys, async () => publicKeys());
