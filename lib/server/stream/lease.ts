import "server-only";
import type { Db } from "../db/client";
import type { SinkName } from "./state";

/**
 * The lease and the cursor of a sink: one StreamSink row, changed only by conditional updates, so
 * the database decides every race between replicas.
 *
 *  - take/renew: `holder := me` where the holder is me, nobody, or a holder whose lease expired.
 *  - advance: `cursor := to` where the holder is still me, my lease has not expired, and the cursor
 *    is still `from`. A replica that lost the lease (killed, paused, partitioned, or simply slower
 *    than the lease) matches no row: it can move the cursor neither back nor forward, and the
 *    entries it shipped meanwhile are only duplicates the receivers drop by seq.
 *
 * Times are this replica's clock. Skew between replicas can only make a takeover early, which
 * costs duplicates, never a lost entry or a cursor moved by two holders: the holder column, not
 * the clock, says whose write counts.
 */
export interface LeaseRow {
  readonly cursor: number;
  /** entryHash of the entry at the cursor; null before the first. */
  readonly cursorHash: string | null;
  readonly holder: string | null;
  readonly leaseUntil: Date | null;
}

/** Creates the sink's row (cursor -1: nothing shipped yet) unless another replica did first. */
export async function ensureSinkRow(db: Db, sink: SinkName, now = new Date()): Promise<void> {
  if (await db.streamSink.findUnique({ where: { sink }, select: { sink: true } })) return;
  try {
    await db.streamSink.create({ data: { sink, cursor: -1, updatedAt: now } });
  } catch (e) {
    if (!(await db.streamSink.findUnique({ where: { sink }, select: { sink: true } }))) throw e;
  }
}

/**
 * Takes or renews the lease. Returns the row and whether `me` holds it now; `tookOver` when it
 * was someone else's (or nobody's) before.
 */
export async function holdLease(db: Db, sink: SinkName, me: string, leaseMs: number, now = new Date()): Promise<{ held: boolean; tookOver: boolean; row: LeaseRow }> {
  const until = new Date(now.getTime() + leaseMs);
  const renewed = await db.streamSink.updateMany({ where: { sink, holder: me }, data: { leaseUntil: until, updatedAt: now } });
  let tookOver = false;
  if (renewed.count === 0) {
    const taken = await db.streamSink.updateMany({
      where: { sink, OR: [{ holder: null }, { leaseUntil: null }, { leaseUntil: { lt: now } }] },
      data: { holder: me, leaseUntil: until, takeovers: { increment: 1 }, failures: 0, updatedAt: now },
    });
    tookOver = taken.count === 1;
  }
  const row = await db.streamSink.findUniqueOrThrow({ where: { sink }, select: { cursor: true, cursorHash: true, holder: true, leaseUntil: true } });
  return { held: row.holder === me, tookOver, row };
}

/**
 * Moves the cursor from `from` to `to` (whose entryHash is `toHash`) and renews the lease, iff
 * `me` still holds an unexpired lease and nobody moved the cursor. Returns false when the lease
 * was lost: the caller stops shipping and competes for the lease again.
 */
export async function advanceCursor(
  db: Db,
  sink: SinkName,
  me: string,
  move: { readonly from: number; readonly to: number; readonly toHash: string },
  leaseMs: number,
  now = new Date(),
): Promise<boolean> {
  const { from, to, toHash } = move;
  if (!(to > from)) return false;
  const moved = await db.streamSink.updateMany({
    where: { sink, holder: me, cursor: from, leaseUntil: { gte: now } },
    data: { cursor: to, cursorHash: toHash, leaseUntil: new Date(now.getTime() + leaseMs), failures: 0, lastError: null, lastShippedAt: now, updatedAt: now },
  });
  return moved.count === 1;
}

/** Counts a failed delivery on the row (for the console), if `me` still holds the lease. */
export async function recordFailure(db: Db, sink: SinkName, me: string, message: string, now = new Date()): Promise<void> {
  await db.streamSink.updateMany({ where: { sink, holder: me }, data: { failures: { increment: 1 }, lastError: message.slice(0, 300), updatedAt: now } });
}

/** Gives the lease up (clean shutdown), so another replica need not wait for it to expire. */
export async function releaseLease(db: Db, sink: SinkName, me: string, now = new Date()): Promise<void> {
  await db.streamSink.updateMany({ where: { sink, holder: me }, data: { holder: null, leaseUntil: null, updatedAt: now } });
}
