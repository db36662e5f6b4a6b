import { GraphEditor } from "@/components/graph/graph-editor";
import { MAX_SYNTHETIC } from "@/components/graph/synthetic";
import { requireConsolePrincipal } from "../session";

export const dynamic = "force-dynamic";

export default async function GraphPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requireConsolePrincipal("/graph");
  const raw = (await searchParams).synthetic;
  const n = typeof raw === "string" ? Number.parseInt(raw, 10) : NaN;
  const synthetic = Number.isFinite(n) && n > 0 ? Math.min(n, MAX_SYNTHETIC) : null;
  return (
    <main className="wide">
      <GraphEditor synthetic={synthetic} />
    </main>
  );
}
