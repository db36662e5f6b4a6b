import { route } from "@/lib/server/http";
import { openApiDocument } from "@/lib/server/openapi";

export const dynamic = "force-dynamic";

export const GET = route({ audience: "public" }, async () => openApiDocument());
