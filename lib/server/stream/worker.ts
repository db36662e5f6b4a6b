import "server-only";
import crypto from "node:crypto";
import os from "node:os";
import { GENESIS_HASH, type AuditEntry } from "../../kernel/audit";
import { getCurrentSigner, rowToEntry } from "../audit-log";
import { config, type StreamConfig } from "../config";
import { createDb, type Db } from "../db/client";
import { log } from "../log";
import { advanceCursor, ensureSinkRow, holdLease, recordFailure } from "./lease";
import { describe, natsSink, stdoutSink, webhookSink, type Sink } from "./sinks";
import { sinkState } from "./state";

/**
 * The audit stream (issue 14). The audit log is the outbox: for each configured sink, one replica
 * at a time (the lease holder, lease.ts) reads the entries after the sink's cursor in seq order,
 * delivers them, and moves the cursor only once the sink acknowledged them, in the conditional
 * write that also checks the lease. So delivery is at least once, in seq order, and an outage of
 * any length loses nothing: the entries wait in the log, the worker retries with exponential
 * backoff (capped at FK_STREAM_RETRY_MAX_MS) and resumes at the cursor.
 *
 * Never in the decision path: the worker has its own database client (on SQLite its own
 * connection, which sees only committed entries and never joins a decision's transaction), holds
 * no audit lock, reads with plain indexed range queries and writes one small row per batch.
 * Nothing here can block, slow or fail a decision, and nothing here writes an audit entry.
 */

const IDLE_POLL_MS = 200;
const BACKOFF_BASE_MS = 250;

interface Running {
  readonly id: string;
  stopped: boolean;
  readonly loops: Promise<void>[];
  readonly sinks: Sink[];
}

const global = globalThis as unknown as { __fkStreamWorker?: Running };

/** This replica's holder id: host, process and a random part (a restarted process is a new holder). */
function holderId(): string {
  return `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString("hex")}`;
}

function sinksFor(settings: StreamConfig, db: Db): Sink[] {
  const sinks: Sink[] = [];
  if (settings.nats) sinks.push(natsSink(settings.nats));
  if (settings.webhook) sinks.push(webhookSink(settings.webhook, () => getCurrentSigner(db)));
  if (settings.stdout) sinks.push(stdoutSink());
  return sinks;
}

/**
 * Starts one loop per configured sink, once per process (instrumentation.ts calls it when the
 * Next.js server starts). Does nothing without a sink. Never throws: a problem is logged and
 * retried by the loops.
 */
export function startAuditStream(): void {
  if (global.__fkStreamWorker) return;
  let settings: StreamConfig;
  try {
    settings = config().stream;
  } catch (error) {
    log("error", "audit stream not started: invalid configuration", { error });
    return;
  }
  if (!settings.nats && !settings.webhook && !settings.stdout) return;
  const db = createDb(config().database);
  const sinks = sinksFor(settings, db);
  const running: Running = { id: holderId(), stopped: false, loops: [], sinks };
  global.__fkStreamWorker = running;
  log("info", "audit stream started", { holder: running.id, sinks: sinks.map((s) => s.name) });
  for (const sink of sinks) running.loops.push(runSink(running, db, sink, settings));
}

/** Stops the loops after their current step (tests, clean shutdown). */
export async function stopAuditStream(): Promise<void> {
  const running = global.__fkStreamWorker;
  if (!running) return;
  running.stopped = true;
  await Promise.allSettled(running.loops);
  await Promise.allSettled(running.sinks.map((s) => s.close()));
  delete global.__fkStreamWorker;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Exponential backoff with full jitter on the upper half: 250 ms, 500 ms, 1 s, … up to the cap. */
function backoffMs(attempt: number, capMs: number): number {
  const ceiling = Math.min(capMs, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * The entries after `cursor`, in seq order, at most `limit`, stopping at the first gap (an entry
 * not yet visible: it is shipped on a later round, never skipped).
 */
async function readAfter(db: Db, cursor: number, limit: number): Promise<AuditEntry[]> {
  const rows = await db.auditEntry.findMany({ where: { seq: { gt: cursor } }, orderBy: { seq: "asc" }, take: limit });
  const out: AuditEntry[] = [];
  for (const row of rows) {
    if (row.seq !== cursor + 1 + out.length) break;
    out.push(rowToEntry(row));
  }
  return out;
}

async function runSink(running: Running, db: Db, sink: Sink, settings: StreamConfig): Promise<void> {
  const name = sink.name;
  const state = sinkState(name);
  const me = running.id;
  const leaseMs = settings.leaseMs;
  // One attempt must end well inside the lease, so a holder that is still trying renews in time.
  const attemptTimeoutMs = Math.max(500, Math.min(10_000, Math.floor(leaseMs / 2)));
  const standbyPollMs = Math.max(250, Math.min(5_000, Math.floor(leaseMs / 3)));
  let attempt = 0;
  let retryAt = 0;
  let leaseUntil = 0;
  let cursor = -1;
  let cursorHash: string | null = null;

  while (!running.stopped) {
    try {
      // Take or renew the lease when not held, or past half of it.
      if (!state.leader || Date.now() > leaseUntil - leaseMs / 2) {
        await ensureSinkRow(db, name);
        const lease = await holdLease(db, name, me, leaseMs);
        cursor = lease.row.cursor;
        cursorHash = lease.row.cursorHash;
        state.cursor = cursor;
        if (lease.held && lease.tookOver) {
          state.takeovers += 1;
          log("info", "audit stream: took the lease", { sink: name, holder: me, cursor });
        } else if (!lease.held && state.leader) {
          log("warn", "audit stream: lost the lease", { sink: name, holder: me, to: lease.row.holder });
        }
        state.leader = lease.held;
        leaseUntil = lease.held ? Date.now() + leaseMs : 0;
        if (!lease.held) {
          await sleep(standbyPollMs);
          continue;
        }
      }

      // Backing off from a failed delivery: wait in steps short enough to keep the lease renewed.
      if (Date.now() < retryAt) {
        await sleep(Math.min(retryAt - Date.now(), standbyPollMs));
        continue;
      }
      const entries = await readAfter(db, cursor, settings.batchSize);
      if (entries.length === 0) {
        await sleep(IDLE_POLL_MS);
        continue;
      }
      // The log must continue what this sink was given. It does not after a restore from an
      // older backup or on another database: shipping would hand the sink a second entry under a
      // seq it already holds (and a JetStream stream would drop it as a duplicate). Refuse, say
      // so, and keep refusing until an operator looks (the row's lastError, the failure metric).
      const linksTo = cursor === -1 ? GENESIS_HASH : cursorHash;
      if (linksTo !== null && entries[0]!.prevHash !== linksTo) {
        state.failures += 1;
        const message = `the log after seq ${cursor} does not continue what this sink was sent (entry ${entries[0]!.seq} links to another entry): was the database restored or replaced? Not shipping`;
        log("error", "audit stream: refusing a forked log", { sink: name, cursor, error: message });
        await recordFailure(db, name, me, message).catch(() => undefined);
        retryAt = Date.now() + settings.retryMaxMs;
        continue;
      }
      const last = entries.at(-1)!.seq;
      const lastHash = entries.at(-1)!.entryHash;
      try {
        await sink.deliver(entries, attemptTimeoutMs);
      } catch (error) {
        state.failures += 1;
        const message = describe(error);
        log("warn", "audit stream: delivery failed; retrying", { sink: name, firstSeq: entries[0]!.seq, lastSeq: last, attempt: attempt + 1, error: message });
        await recordFailure(db, name, me, message).catch(() => undefined);
        retryAt = Date.now() + backoffMs(attempt++, settings.retryMaxMs);
        continue;
      }
      attempt = 0;
      state.delivered += entries.length;
      if (await advanceCursor(db, name, me, { from: cursor, to: last, toHash: lastHash }, leaseMs)) {
        cursor = last;
        cursorHash = lastHash;
        state.cursor = last;
        leaseUntil = Date.now() + leaseMs;
      } else {
        // Our lease expired or another replica took it: the cursor stays, so the holder ships these
        // entries again from it, and receivers drop the copies by seq.
        log("warn", "audit stream: lease lost before the cursor moved; handing over", { sink: name, holder: me, lastSeq: last });
        state.leader = false;
        leaseUntil = 0;
      }
    } catch (error) {
      // The database is down or busy: nothing moves, nothing is lost; try again shortly.
      log("warn", "audit stream: database unavailable", { sink: name, error: describe(error) });
      state.leader = false;
      leaseUntil = 0;
      await sleep(Math.min(backoffMs(attempt++, settings.retryMaxMs), standbyPollMs));
    }
  }
}
