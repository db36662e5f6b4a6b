import { MachinesPage } from "@/components/machines/machines-page";
import { requireConsolePrincipal } from "../session";

export const dynamic = "force-dynamic";

export default async function Page() {
  await requireConsolePrincipal("/machines");
  return (
    <main>
      <MachinesPage />
    </main>
  );
}
