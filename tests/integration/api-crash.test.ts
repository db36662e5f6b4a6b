/**
 * Crash safety and audit completeness: kill -9 the server during a burst of verify calls; after a
 * restart every decision a client received is in the log, exactly as it was signed, and the chain,
 * signatures and checkpoints verify with the kernel's functions.
 */
import { describe, expect, it } from "vitest";
import { parseAuditExport, verifyAuditExport } from "@/lib/kernel/audit-export";
import { verifyDecision } from "@/lib/kernel/signing";
import { canonicalJson } from "@/lib/kernel/canonical";
import { PROVIDERS } from "../support/databases";
import { call, OPERATOR_TOKEN, startServer } from "../support/server";
import { makeAgent, verifyAs } from "../support/world";

describe.each(PROVIDERS)("crash safety on %s", (_provider, fresh) => {
  it("every decision a client received survives kill -9", async () => {
    const database = await fresh();
    const first = await startServer({ database: database.config });
    try {
      const agent = await makeAgent(first);
      const received: { record: Record<string, unknown>; signature: string }[] = [];
      let stop = false;
      const worker = async (w: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const res = await verifyAs(first, agent, { actionId: `crash-${w}-${i}`, reads: [agent.resource] });
            if (res.status === 200) received.push(res.body);
          } catch {
            return; // the server is gone
          }
        }
      };
      const workers = Array.from({ length: 8 }, (_, w) => worker(w));
      while (received.length < 150) await new Promise((r) => setTimeout(r, 20));
      await first.kill("SIGKILL");
      stop = true;
      await Promise.all(workers);
      expect(received.length).toBeGreaterThanOrEqual(150);

      const second = await startServer({ database: database.config, dataDir: first.dataDir });
      try {
        const exp = await call(second, "GET", "/audit/export", { token: OPERATOR_TOKEN });
        const parsed = parseAuditExport(exp.body);
        const summary = verifyAuditExport(parsed);
        expect(summary.ok).toBe(true);
        const keys = (await call(second, "GET", "/keys")).body.keys as { publicKey: string }[];
        const bySeq = new Map<number, unknown>();
        for (const line of (exp.body as string).split("\n")) {
          if (!line.includes('"type":"entry"')) continue;
          const e = JSON.parse(line);
          bySeq.set(e.seq, e.payload.record);
        }
        for (const r of received) {
          expect(verifyDecision(r.record, r.signature, keys[0]!.publicKey)).toBe(true);
          const logged = bySeq.get(r.record.auditSeq as number);
          expect(logged, `decision ${String(r.record.actionId)} is in the log`).toBeDefined();
          expect(canonicalJson(logged)).toBe(canonicalJson(r.record));
        }
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
      await database.drop();
    }
  }, 180_000);
});
