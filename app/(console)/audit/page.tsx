import { AuditPage } from "@/components/audit/audit-page";
import { VIOLATION_CODES } from "@/lib/kernel/types";
import { requireConsolePrincipal } from "../session";

export const dynamic = "force-dynamic";

export default async function Page({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requireConsolePrincipal("/audit");
  const q = await searchParams;
  const code = typeof q.code === "string" && (VIOLATION_CODES as readonly string[]).includes(q.code) ? q.code : "";
  const machine = typeof q.machine === "string" ? q.machine.slice(0, 256) : "";
  return (
    <main>
      <AuditPage initialCode={code} initialMachine={machine} />
    </main>
  );
}
