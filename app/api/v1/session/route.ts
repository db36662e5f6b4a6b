import { ROUTES } from "@/lib/contracts/routes";
import { createLoginSession, endLoginSession, sessionCookies, signIn } from "@/lib/server/auth";
import { ApiError } from "@/lib/server/errors";
import { route } from "@/lib/server/http";
import { describePrincipal } from "@/lib/server/principal";

export const dynamic = "force-dynamic";

/** Sign in: sets the HttpOnly session cookie and returns the CSRF token for state changes. */
export const POST = route(ROUTES.signIn, async ({ req, body }) => {
  const ok = await signIn(body.email, body.password);
  if (!ok) throw new ApiError("UNAUTHENTICATED", "wrong email or password");
  const session = await createLoginSession(ok.accountId);
  const principal = await describePrincipal(ok.accountId);
  const headers = new Headers({ "cache-control": "no-store" });
  for (const c of sessionCookies(req, session)) headers.append("set-cookie", c);
  return Response.json({ principal, csrfToken: session.csrfToken }, { headers });
});

export const GET = route(ROUTES.getSession, async ({ principal: p }) => ({
  principal: {
    accountId: p.accountId ?? "operator-token",
    role: p.kind === "operator" ? "OPERATOR" : "OWNER",
    entityId: p.kind === "owner" ? p.entityId : null,
    email: p.email ?? "",
    displayName: p.displayName,
  },
  csrfToken: p.csrfToken ?? "",
}));

export const DELETE = route(ROUTES.signOut, async ({ req }) => {
  await endLoginSession(req);
  const headers = new Headers({ "cache-control": "no-store" });
  for (const c of sessionCookies(req, null)) headers.append("set-cookie", c);
  return Response.json({ signedOut: true }, { headers });
});
