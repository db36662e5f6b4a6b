import { z } from "zod";
import { inclusion } from "@/lib/server/audit-read";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

const Query = z.strictObject({ seq: z.coerce.number().int().min(0), size: z.coerce.number().int().min(1) });

export const GET = route({ audience: "human", query: Query }, async ({ query }) => inclusion(query.seq, query.size));
