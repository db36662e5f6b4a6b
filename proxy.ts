import { NextResponse, type NextRequest } from "next/server";

/**
 * Tells the console layout which page was asked for, so that a visit without a session lands on
 * /login?next=<that page>. It authorises nothing: the layout and every page check the session
 * themselves (and every API route does, in its wrapper).
 */
export function proxy(request: NextRequest) {
  const headers = new Headers(request.headers);
  headers.set("x-fk-path", request.nextUrl.pathname + request.nextUrl.search);
  return NextResponse.next({ request: { headers } });
}

export const config = {
  matcher: ["/", "/graph/:path*", "/machines/:path*", "/approvals/:path*", "/conflicts/:path*", "/audit/:path*", "/playground/:path*"],
};
