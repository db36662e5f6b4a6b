import { WhatIfPage } from "@/components/what-if/what-if-page";
import { requireConsolePrincipal } from "../session";

export const dynamic = "force-dynamic";

export default async function Page() {
  await requireConsolePrincipal("/what-if");
  return (
    <main>
      <WhatIfPage />
    </main>
  );
}
