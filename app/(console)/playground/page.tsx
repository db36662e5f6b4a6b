import { Playground } from "@/components/playground/playground";
import { requireConsolePrincipal } from "../session";

export const dynamic = "force-dynamic";

export default async function Page() {
  await requireConsolePrincipal("/playground");
  return (
    <main>
      <Playground />
    </main>
  );
}
