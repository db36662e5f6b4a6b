import { ApprovalsInbox } from "@/components/approvals/approvals-inbox";
import { requireConsolePrincipal } from "../session";

export const dynamic = "force-dynamic";

export default async function Page() {
  await requireConsolePrincipal("/approvals");
  return (
    <main>
      <ApprovalsInbox />
    </main>
  );
}
