import { ConflictsQueue } from "@/components/conflicts/conflicts-queue";
import { requireConsolePrincipal } from "../session";

export const dynamic = "force-dynamic";

export default async function Page() {
  await requireConsolePrincipal("/conflicts");
  return (
    <main>
      <ConflictsQueue />
    </main>
  );
}
