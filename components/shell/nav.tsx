"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useApprovals, useSignOut } from "@/lib/client/hooks";
import { usePrincipal } from "./session";

const LINKS = [
  { href: "/", label: "Dashboard" },
  { href: "/graph", label: "Graph" },
  { href: "/machines", label: "Machines" },
  { href: "/approvals", label: "Approvals" },
  { href: "/conflicts", label: "Conflicts" },
  { href: "/audit", label: "Audit" },
  { href: "/playground", label: "Playground" },
  { href: "/what-if", label: "What if" },
] as const;

export function TopBar() {
  const pathname = usePathname();
  const principal = usePrincipal();
  const signOut = useSignOut();
  const approvals = useApprovals();
  const pending = approvals.data?.filter((a) => a.status === "PENDING" && a.curable).length ?? 0;
  const operator = principal.role === "OPERATOR";
  return (
    <header className="topbar">
      <Link href="/" className="brand">
        <span className="brand-mark" aria-hidden="true" />
        Freedom Kernel
      </Link>
      <nav aria-label="Main">
        {LINKS.map((l) => {
          const active = l.href === "/" ? pathname === "/" : pathname.startsWith(l.href);
          return (
            <Link key={l.href} href={l.href} aria-current={active ? "page" : undefined}>
              {l.label}
              {l.href === "/approvals" && pending > 0 ? (
                <span className="nav-count" aria-label={`${pending} pending`}>
                  {pending}
                </span>
              ) : null}
            </Link>
          );
        })}
      </nav>
      <div className="who" data-testid="signed-in-as">
        <span>
          Signed in as <strong>{principal.displayName}</strong>
          {principal.email ? <span className="sr-only"> ({principal.email})</span> : null}
        </span>
        <span className={`role${operator ? " operator" : ""}`} data-testid="role">
          {operator ? "Operator" : "Owner"}
        </span>
        <button
          type="button"
          className="btn-sm"
          disabled={signOut.isPending}
          onClick={() =>
            signOut.mutate(undefined, {
              // A full navigation: nothing of the signed-out session stays in memory.
              onSuccess: () => window.location.replace("/login"),
            })
          }
        >
          Sign out
        </button>
        {signOut.isError ? (
          <span role="alert" className="small">
            Sign-out failed: {signOut.error.message}
          </span>
        ) : null}
      </div>
    </header>
  );
}
