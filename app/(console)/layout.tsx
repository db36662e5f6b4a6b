import type { ReactNode } from "react";
import { TopBar } from "@/components/shell/nav";
import { SessionProvider } from "@/components/shell/session";
import { requireConsolePrincipal } from "./session";

export const dynamic = "force-dynamic";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const principal = await requireConsolePrincipal("/");
  return (
    <SessionProvider principal={principal}>
      <TopBar />
      {children}
    </SessionProvider>
  );
}
