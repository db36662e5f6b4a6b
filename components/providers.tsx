"use client";
import { QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";
import { UNAUTHENTICATED_EVENT } from "@/lib/client/api";
import { makeQueryClient } from "@/lib/client/query-client";

/** The query client for the whole app, and the way back to sign-in when a session ends. */
export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(makeQueryClient);
  useEffect(() => {
    const onUnauthenticated = () => {
      if (window.location.pathname.startsWith("/login")) return;
      client.clear();
      const next = window.location.pathname + window.location.search;
      window.location.assign(`/login?next=${encodeURIComponent(next)}`);
    };
    window.addEventListener(UNAUTHENTICATED_EVENT, onUnauthenticated);
    return () => window.removeEventListener(UNAUTHENTICATED_EVENT, onUnauthenticated);
  }, [client]);
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}
