import "server-only";
import crypto from "node:crypto";
import { connect, nanos, RetentionPolicy, StorageType, type JetStreamClient, type NatsConnection } from "nats";
import type { AuditEntry } from "../../kernel/audit";
import { serializeEntryLine } from "../../kernel/audit-export";
import { buildStreamBatch, serializeStreamBatch, streamBatchSigningBytes } from "../../kernel/stream-batch";
import type { StreamConfig } from "../config";
import type { Signer } from "../signer";
import type { SinkName } from "./state";

/**
 * Where the audit stream delivers. `deliver` resolves only once the sink has acknowledged every
 * entry given (JetStream PubAcks, a 2xx, a flushed write) and throws otherwise; the worker then
 * retries the same entries, so a sink sees every entry at least once and may see one again.
 * Every sink writes an entry as its line in the audit export (serializeEntryLine).
 */
export interface Sink {
  readonly name: SinkName;
  deliver(entries: readonly AuditEntry[], timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The JetStream stream's duplicate window: a redelivery within it is dropped by the stream. */
export const NATS_DUPLICATE_WINDOW_MS = 120_000;

/**
 * NATS JetStream: each entry on `<subject>.<payload kind>`, Nats-Msg-Id = its seq, so the stream
 * drops a redelivered entry. The stream (subjects `<subject>.>`, file storage, the duplicate
 * window above) is created when missing; an existing stream is used as it is.
 */
export function natsSink(settings: NonNullable<StreamConfig["nats"]>): Sink {
  let nc: NatsConnection | null = null;
  let js: JetStreamClient | null = null;

  async function ready(timeoutMs: number): Promise<JetStreamClient> {
    if (nc && !nc.isClosed() && js) return js;
    nc = null;
    js = null;
    const conn = await connect({
      servers: [...settings.servers],
      name: "freedom-kernel-audit-stream",
      timeout: timeoutMs,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: false,
    });
    try {
      const jsm = await conn.jetstreamManager({ timeout: timeoutMs });
      try {
        await jsm.streams.info(settings.stream);
      } catch (e) {
        if (!isStreamNotFound(e)) throw e;
        await jsm.streams.add({
          name: settings.stream,
          subjects: [`${settings.subject}.>`],
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          duplicate_window: nanos(NATS_DUPLICATE_WINDOW_MS),
        });
      }
    } catch (e) {
      await conn.close().catch(() => undefined);
      throw e;
    }
    nc = conn;
    js = conn.jetstream({ timeout: timeoutMs });
    return js;
  }

  return {
    name: "nats",
    async deliver(entries, timeoutMs) {
      const client = await ready(timeoutMs);
      const encoder = new TextEncoder();
      // Published back to back on one connection, so the server stores them in seq order; every
      // PubAck must come back before the cursor may move.
      const acks = entries.map((e) =>
        client.publish(`${settings.subject}.${e.payload.kind}`, encoder.encode(serializeEntryLine(e)), {
          msgID: String(e.seq),
          expect: { streamName: settings.stream },
          timeout: timeoutMs,
        }),
      );
      const results = await Promise.allSettled(acks);
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw new Error(`JetStream did not acknowledge every entry: ${describe(failed.reason)}`);
    },
    async close() {
      const c = nc;
      nc = null;
      js = null;
      if (c) await c.close().catch(() => undefined);
    },
  };
}

function isStreamNotFound(e: unknown): boolean {
  const api = (e as { api_error?: { err_code?: number } } | null)?.api_error;
  return api?.err_code === 10059 || /stream not found/i.test(describe(e));
}

/**
 * An HTTP webhook: each batch one POST of a signed batch (lib/kernel/stream-batch.ts), with
 * `X-FK-Stream-Signature: sha256=<hex HMAC-SHA256 of the body>` when a shared secret is set. Only
 * a 2xx acknowledges; redirects are not followed (a receiver that moved says so with a failure).
 */
export function webhookSink(settings: NonNullable<StreamConfig["webhook"]>, signer: () => Promise<Signer>): Sink {
  return {
    name: "webhook",
    async deliver(entries, timeoutMs) {
      const key = await signer();
      const { batch, lines } = buildStreamBatch({ sink: "webhook", keyId: key.keyId, entries });
      const body = serializeStreamBatch(batch, lines, key.sign(streamBatchSigningBytes(batch)));
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-fk-stream-first-seq": String(batch.firstSeq),
        "x-fk-stream-last-seq": String(batch.lastSeq),
      };
      if (settings.secret) headers["x-fk-stream-signature"] = `sha256=${crypto.createHmac("sha256", settings.secret).update(body).digest("hex")}`;
      let res: Response;
      try {
        res = await fetch(settings.url, { method: "POST", headers, body, redirect: "manual", cache: "no-store", signal: AbortSignal.timeout(timeoutMs) });
      } catch (e) {
        // The URL may carry credentials: name the failure, never the URL.
        throw new Error(`webhook unreachable: ${describe((e as { cause?: unknown }).cause ?? e)}`);
      }
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) throw new Error(`webhook answered ${res.status}`);
    },
    async close() {},
  };
}

/** Standard output, JSON Lines: each entry its export line. Delivered once the write is flushed to the pipe. */
export function stdoutSink(out: NodeJS.WritableStream = process.stdout): Sink {
  return {
    name: "stdout",
    deliver(entries) {
      const text = entries.map((e) => serializeEntryLine(e) + "\n").join("");
      return new Promise<void>((resolve, reject) => {
        out.write(text, (error) => (error ? reject(error) : resolve()));
      });
    },
    async close() {},
  };
}

export function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === "string" && code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}
