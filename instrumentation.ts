/**
 * Next.js calls register() once per server process before it serves a request. Tracing
 * (lib/server/tracing.ts) is set up here in the Node.js runtime, and only does anything when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set. NEXT_RUNTIME is Next's own build-time constant, not
 * configuration (config.ts still reads every variable of ours).
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  await (await import("./lib/server/tracing")).startTracing();
  // The audit stream's worker (lib/server/stream): started, not awaited; it runs beside the server
  // and does nothing unless an FK_STREAM_* sink is configured.
  (await import("./lib/server/stream/worker")).startAuditStream();
}
