import { CreateTokenRequest } from "@/lib/contracts";
import { createToken, listTokens } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** The secret is in this response only; the server keeps its SHA-256. */
export const POST = route({ audience: "human", body: CreateTokenRequest }, async ({ body, params, principal }) =>
  createToken(requireHuman(principal), params.id!, body.label),
);
export const GET = route({ audience: "human" }, async ({ params, principal }) => listTokens(requireHuman(principal), params.id!));
