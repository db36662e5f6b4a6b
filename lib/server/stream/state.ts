import "server-only";

/**
 * What this process knows about its audit stream, for /api/metrics. Kept on globalThis: Next
 * bundles the instrumentation hook (which runs the worker) and the route handlers (which read
 * this) separately, so a module-level variable would be two variables.
 */
export const SINK_NAMES = ["nats", "webhook", "stdout"] as const;
export type SinkName = (typeof SINK_NAMES)[number];

export interface SinkState {
  /** Last acknowledged seq as this replica last read or wrote it (-1: none). */
  cursor: number;
  /** Whether this replica holds the sink's lease. */
  leader: boolean;
  /** Entries this replica delivered (a redelivery counts again). */
  delivered: number;
  /** Failed delivery attempts by this replica. */
  failures: number;
  /** Times this replica took the lease. */
  takeovers: number;
}

const global = globalThis as unknown as { __fkStream?: Map<SinkName, SinkState> };
const sinks = (global.__fkStream ??= new Map<SinkName, SinkState>());

/** The state of a configured sink (created on first use by the worker). */
export function sinkState(name: SinkName): SinkState {
  let s = sinks.get(name);
  if (!s) {
    s = { cursor: -1, leader: false, delivered: 0, failures: 0, takeovers: 0 };
    sinks.set(name, s);
  }
  return s;
}

/** Every sink this process runs a worker for, in a fixed order. */
export function sinkStates(): [SinkName, Readonly<SinkState>][] {
  return SINK_NAMES.flatMap((n) => {
    const s = sinks.get(n);
    return s ? [[n, s] as [SinkName, SinkState]] : [];
  });
}
