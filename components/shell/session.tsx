"use client";
import { createContext, useContext, type ReactNode } from "react";
import type { Principal } from "@/lib/client/hooks";

const SessionContext = createContext<Principal | null>(null);

/** The signed-in principal, read on the server by the console layout. */
export function SessionProvider({ principal, children }: { principal: Principal; children: ReactNode }) {
  return <SessionContext.Provider value={principal}>{children}</SessionContext.Provider>;
}

export function usePrincipal(): Principal {
  const p = useContext(SessionContext);
  if (!p) throw new Error("usePrincipal outside the console layout");
  return p;
}

export const isOperator = (p: Principal) => p.role === "OPERATOR";
