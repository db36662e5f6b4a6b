import { z } from "zod";
import { consistency } from "@/lib/server/audit-read";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

const Query = z.strictObject({ from: z.coerce.number().int().min(1), to: z.coerce.number().int().min(1) });

export const GET = route({ audience: "human", query: Query }, async ({ query }) => consistency(query.from, query.to));
