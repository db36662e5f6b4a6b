/**
 * What every example shares: a gate to the local kernel and the mapping of the two demo tools.
 *
 *   npm start                       # prints the API token of machine research-bot
 *   export FK_URL=http://localhost:3000 FK_TOKEN=fkm_...   # and, better, FK_PUBLIC_KEY=<hex>
 *   npx tsx examples/<adapter>.ts
 *
 * With the demo data, research-bot may read the dataset "alice-data" but not write "report.txt":
 * each example's fake model calls read_data (permitted) and then write_report (blocked).
 */
import { KernelBlockedError, createGate, defineToolMap, fetchKernelKey, type Gate } from "freedom-kernel/sdk";

export const DATASET = process.env.FK_DEMO_DATASET ?? "alice-data";
export const REPORT = process.env.FK_DEMO_REPORT ?? "report.txt";

/** read_data reads the dataset; write_report writes the report. Anything else is refused. */
export const demoTools = defineToolMap({
  read_data: { reads: [DATASET], description: (a: { query?: string }) => `read ${DATASET}: ${String(a?.query ?? "")}` },
  write_report: { writes: [REPORT] },
});

export function say(example: string, line: string): void {
  console.log(`[${example}] ${line}`);
}

/** Starts the gate or exits: no kernel, no agent. */
export async function demoGate(example: string): Promise<Gate> {
  const url = process.env.FK_URL ?? "http://localhost:3000";
  const token = process.env.FK_TOKEN;
  const machine = process.env.FK_MACHINE ?? "research-bot";
  if (!token) {
    console.error(`[${example}] set FK_TOKEN to the machine token \`npm start\` printed for ${machine}`);
    process.exit(2);
  }
  let publicKey = process.env.FK_PUBLIC_KEY;
  try {
    if (!publicKey) {
      const key = await fetchKernelKey(url);
      publicKey = key.publicKey;
      console.warn(
        `[${example}] WARNING: FK_PUBLIC_KEY is not set, so the kernel's key was taken from ${url}/api/v1/keys and key pinning is SKIPPED.\n` +
          `[${example}]   Anyone who can answer for ${url} could impersonate the kernel. Pin it: FK_PUBLIC_KEY=${key.publicKey}  (${key.keyId})`,
      );
    }
    return await createGate({ url, token, machine, publicKey });
  } catch (e) {
    const code = e instanceof KernelBlockedError ? e.code : "ERROR";
    console.error(`[${example}] no kernel, no agent (${code}): ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
