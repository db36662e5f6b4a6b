/**
 * The audit stream's lease and cursor (lib/server/stream/lease.ts) against real databases: one
 * holder per sink, takeover only after expiry, and a replica that lost the lease can move the
 * cursor neither back nor forward. Times are passed in, so the test does not wait for a lease.
 */
import { describe, expect, it } from "vitest";
import { createDb } from "@/lib/server/db/client";
import { applyPendingMigrations } from "@/lib/server/db/migrations";
import { advanceCursor, ensureSinkRow, holdLease, recordFailure, releaseLease } from "@/lib/server/stream/lease";
import { PROVIDERS } from "../support/databases";

const LEASE = 2_000;
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
const hash = (seq: number) => seq.toString(16).padStart(64, "0");

describe.each(PROVIDERS)("stream lease on %s", (_provider, fresh) => {
  it("one holder; takeover after expiry; a replica without the lease cannot move the cursor", async () => {
    const database = await fresh();
    await applyPendingMigrations(database.config);
    const db = createDb(database.config);
    try {
      await Promise.all([ensureSinkRow(db, "webhook", at(0)), ensureSinkRow(db, "webhook", at(0))]); // racing creators
      const a1 = await holdLease(db, "webhook", "A", LEASE, at(0));
      expect(a1).toMatchObject({ held: true, tookOver: true, row: { cursor: -1, holder: "A" } });
      const b1 = await holdLease(db, "webhook", "B", LEASE, at(500));
      expect(b1).toMatchObject({ held: false, tookOver: false, row: { holder: "A" } });
      expect(await advanceCursor(db, "webhook", "B", { from: -1, to: 9, toHash: hash(9) }, LEASE, at(600))).toBe(false);
      expect(await advanceCursor(db, "webhook", "A", { from: -1, to: 9, toHash: hash(9) }, LEASE, at(700))).toBe(true); // also renews to 2700
      expect(await advanceCursor(db, "webhook", "A", { from: 5, to: 12, toHash: hash(12) }, LEASE, at(800))).toBe(false); // not where it left it
      expect(await advanceCursor(db, "webhook", "A", { from: 9, to: 9, toHash: hash(9) }, LEASE, at(800))).toBe(false); // never in place or back
      expect(await advanceCursor(db, "webhook", "A", { from: 9, to: 3, toHash: hash(3) }, LEASE, at(800))).toBe(false);

      // A stops renewing (killed, paused). B takes over only once the lease has expired.
      expect((await holdLease(db, "webhook", "B", LEASE, at(2_600))).held).toBe(false);
      const b2 = await holdLease(db, "webhook", "B", LEASE, at(2_800));
      expect(b2).toMatchObject({ held: true, tookOver: true, row: { cursor: 9, holder: "B" } });

      // A comes back: it can neither move the cursor forward (it shipped a duplicate) nor back, nor renew.
      expect(await advanceCursor(db, "webhook", "A", { from: 9, to: 19, toHash: hash(19) }, LEASE, at(2_900))).toBe(false);
      expect(await advanceCursor(db, "webhook", "A", { from: 9, to: 5, toHash: hash(5) }, LEASE, at(2_900))).toBe(false);
      expect((await holdLease(db, "webhook", "A", LEASE, at(2_900))).held).toBe(false);
      await recordFailure(db, "webhook", "A", "not mine to count", at(2_900));
      expect(await advanceCursor(db, "webhook", "B", { from: 9, to: 19, toHash: hash(19) }, LEASE, at(3_000))).toBe(true);

      // B's own lease expired but nobody took it: B may renew and go on.
      expect((await holdLease(db, "webhook", "B", LEASE, at(9_000))).held).toBe(true);
      await recordFailure(db, "webhook", "B", "webhook answered 503", at(9_100));
      // ...but not advance on an expired lease without renewing first.
      expect(await advanceCursor(db, "webhook", "B", { from: 19, to: 29, toHash: hash(29) }, LEASE, at(20_000))).toBe(false);

      await releaseLease(db, "webhook", "B", at(20_100));
      const a2 = await holdLease(db, "webhook", "A", LEASE, at(20_200));
      expect(a2).toMatchObject({ held: true, tookOver: true, row: { cursor: 19 } });
      const row = await db.streamSink.findUniqueOrThrow({ where: { sink: "webhook" } });
      expect(row).toMatchObject({ cursor: 19, cursorHash: hash(19), holder: "A", takeovers: 3, failures: 0, lastError: "webhook answered 503" });
      expect(a2.row.cursorHash).toBe(hash(19));
      // Sinks are independent rows.
      await ensureSinkRow(db, "nats", at(0));
      expect((await holdLease(db, "nats", "B", LEASE, at(20_300))).held).toBe(true);
    } finally {
      await db.$disconnect();
      await database.drop();
    }
  });
});
