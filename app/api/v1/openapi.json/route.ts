import { ROUTES } from "@/lib/contracts/routes";
import { route } from "@/lib/server/http";
import { openApiDocument } from "@/lib/server/openapi";

export const dynamic = "force-dynamic";

export const GET = route(ROUTES.openapi, async () => openApiDocument());
