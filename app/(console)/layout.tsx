import { headers } from "next/headers";
import type { ReactNode } from "react";
import { TopBar } from "@/components/shell/nav";
import { SessionProvider } from "@/components/shell/session";
import { requireConsolePrincipal } from "./session";

export const dynamic = "force-dynamic";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  // proxy.ts names the page asked for; login only ever follows a local path (see app/login).
  const principal = await requireConsolePrincipal((await headers()).get("x-fk-path") ?? "/");
  return (
    <SessionProvider principal={principal}>
      <TopBar />
      {children}
    </SessionProvider>
  );
}
