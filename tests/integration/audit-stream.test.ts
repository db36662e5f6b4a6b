/**
 * The audit stream (issue 14): the log is the outbox, shipped at least once and in seq order to
 * NATS JetStream, a webhook and stdout, with a lease so one replica ships per sink.
 *  - 10,000 decisions while JetStream is stopped and restarted twice: every entry is in the stream
 *    exactly once (Nats-Msg-Id = seq), in order on each subject, byte for byte its export line;
 *    the stdout sink of the same server wrote every export line too.
 *  - 10,000 decisions to a webhook that fails 30% of requests (half before, half after taking the
 *    batch) and is down for a while: every entry arrives, every batch verifies against /keys
 *    (kernel signature and HMAC), order holds.
 *  - two replicas on one PostgreSQL database, the shipping one killed with SIGKILL mid-batch: the
 *    other takes the lease over and the stream holds every entry once.
 *  - stdout on PostgreSQL, the metrics and the console stats.
 */
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "nats";
import { verifyStreamBatch, type StreamPosition } from "@/lib/kernel/stream-batch";
import { freshPostgres, freshSqlite } from "../support/databases";
import { startNats, type TestNats } from "../support/nats";
import { call, OPERATOR_TOKEN, startServer, type TestServer } from "../support/server";
import { makeAgent, verifyAs, type Agent } from "../support/world";

const SUBJECT = "fk-test.audit";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `n` decisions by `concurrency` agents-in-parallel; `done()` reports progress to a chaos task. */
async function decide(server: TestServer, agent: Agent, n: number, concurrency = 24, tag = "d"): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      const res = await verifyAs(server, agent, { actionId: `${tag}-${i}`, reads: [agent.resource] });
      if (res.status !== 200) throw new Error(`verify ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      progress.done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
const progress = { done: 0 };

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The export's entry lines by seq (each line exactly as exported). */
async function exportLines(server: TestServer): Promise<string[]> {
  const res = await call(server, "GET", "/audit/export", { token: OPERATOR_TOKEN });
  expect(res.status).toBe(200);
  const lines = (res.body as string).split("\n").filter((l) => l.startsWith("{") && JSON.parse(l).type === "entry");
  lines.forEach((l, i) => expect(JSON.parse(l).seq).toBe(i));
  return lines;
}

async function metric(server: TestServer, name: string, sink: string): Promise<number | undefined> {
  const text = await (await fetch(`${server.url}/api/metrics`)).text();
  const m = new RegExp(`^${name}\\{sink="${sink}"\\} (-?\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Every message of a JetStream stream, in stream order. */
async function readStream(nc: NatsConnection, stream: string): Promise<{ subject: string; msgId: string; data: string }[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  const total = info.state.messages;
  const out: { subject: string; msgId: string; data: string }[] = [];
  if (total === 0) return out;
  const consumer = await nc.jetstream().consumers.get(stream);
  const messages = await consumer.consume();
  const decoder = new TextDecoder();
  for await (const m of messages) {
    out.push({ subject: m.subject, msgId: m.headers?.get("Nats-Msg-Id") ?? "", data: decoder.decode(m.data) });
    if (out.length >= total) break;
  }
  await messages.close();
  return out;
}

async function streamCount(nc: NatsConnection, stream: string): Promise<number> {
  try {
    return (await (await nc.jetstreamManager()).streams.info(stream)).state.messages;
  } catch {
    return -1;
  }
}

/** Checks a stream against the export: each entry once, on its kind's subject, in order, byte for byte. */
function expectStreamMatchesExport(messages: { subject: string; msgId: string; data: string }[], lines: string[]): void {
  expect(messages.length).toBe(lines.length);
  const seen = new Set<string>();
  const lastOnSubject = new Map<string, number>();
  for (const m of messages) {
    expect(seen.has(m.msgId), `seq ${m.msgId} twice`).toBe(false);
    seen.add(m.msgId);
    const seq = Number(m.msgId);
    expect(m.data).toBe(lines[seq]);
    const entry = JSON.parse(m.data);
    expect(entry.seq).toBe(seq);
    expect(m.subject).toBe(`${SUBJECT}.${entry.payload.kind}`);
    expect(seq).toBeGreaterThan(lastOnSubject.get(m.subject) ?? -1);
    lastOnSubject.set(m.subject, seq);
  }
  expect(seen.size).toBe(lines.length);
}

let nats: TestNats;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNats();
});

afterAll(async () => {
  await nc?.close().catch(() => undefined);
  await nats?.dispose();
});

describe("the audit stream", () => {
  it("NATS JetStream and stdout: 10,000 decisions, JetStream stopped and restarted twice, every entry exactly once and in order", async () => {
    const database = await freshSqlite();
    const stream = "FK_TEST_NATS";
    const server = await startServer({
      database: database.config,
      env: { FK_STREAM_NATS_URL: nats.url, FK_STREAM_NATS_STREAM: stream, FK_STREAM_NATS_SUBJECT: SUBJECT, FK_STREAM_STDOUT: "1", FK_STREAM_RETRY_MAX_MS: "1000", FK_LOG_LEVEL: "warn" },
    });
    try {
      const agent = await makeAgent(server);
      progress.done = 0;
      const N = 10_000;
      const chaos = (async () => {
        for (const at of [2_500, 6_000]) {
          while (progress.done < at) await sleep(20);
          await nats.stop();
          await sleep(1_500);
          await nats.start();
        }
      })();
      await decide(server, agent, N);
      await chaos;
      const lines = await exportLines(server);
      expect(lines.length).toBeGreaterThan(N);
      nc = await connect({ servers: nats.url });
      await until("the stream to hold every entry", async () => (await streamCount(nc, stream)) >= lines.length, 90_000);
      expectStreamMatchesExport(await readStream(nc, stream), lines);
      await until("the lag metric to reach 0", async () => (await metric(server, "fk_stream_lag", "nats")) === 0);
      expect(await metric(server, "fk_stream_failures_total", "nats")).toBeGreaterThan(0);

      // stdout: the same lines, in order (redeliveries would repeat a seq; this sink had no outage)
      await until("stdout to carry every entry", async () => (await metric(server, "fk_stream_lag", "stdout")) === 0);
      const printed = server
        .output()
        .split("\n")
        .filter((l) => l.startsWith('{"entryHash"'));
      const bySeq = new Map<number, string>();
      let last = -1;
      for (const l of printed) {
        const seq = JSON.parse(l).seq as number;
        expect(seq).toBeLessThanOrEqual(last + 1); // in order; a repeat only after a redelivery
        last = Math.max(last, seq);
        if (bySeq.has(seq)) expect(bySeq.get(seq)).toBe(l);
        bySeq.set(seq, l);
      }
      expect(bySeq.size).toBe(lines.length);
      lines.forEach((l, seq) => expect(bySeq.get(seq)).toBe(l));
    } finally {
      await server.stop();
      await database.drop();
    }
  }, 240_000);

  it("webhook: 10,000 decisions to a receiver that fails 30% of requests and is down for a while; every batch verifies and nothing is lost", async () => {
    const database = await freshSqlite();
    const secret = crypto.randomBytes(24).toString("hex");
    let keys: Record<string, string> = {};
    let position: StreamPosition = null;
    const received: string[] = [];
    const refusals: string[] = [];
    let requests = 0;
    let rng = 0x2545f491;
    const random = () => {
      rng = (rng * 1103515245 + 12345) & 0x7fffffff;
      return rng / 0x7fffffff;
    };
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        requests++;
        const body = Buffer.concat(chunks).toString("utf8");
        const roll = random();
        if (roll < 0.15) return res.writeHead(503).end("try later"); // failed before taking the batch
        const hmac = `sha256=${crypto.createHmac("sha256", secret).update(body).digest("hex")}`;
        if (req.headers["x-fk-stream-signature"] !== hmac) {
          refusals.push("HMAC");
          return res.writeHead(401).end();
        }
        const v = verifyStreamBatch(body, keys, { receivedUpTo: position });
        if (!v.ok) {
          refusals.push(`${v.code}: ${v.message}`);
          return res.writeHead(400).end(v.code);
        }
        for (const e of v.fresh) received.push(JSON.stringify(e.seq));
        const lastEntry = v.entries.at(-1)!;
        if (v.fresh.length > 0) position = { seq: lastEntry.seq, entryHash: lastEntry.entryHash };
        if (roll < 0.3) return res.writeHead(500).end("lost ack"); // took the batch, the answer fails
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const port = (receiver.address() as AddressInfo).port;
    const server = await startServer({
      database: database.config,
      env: {
        FK_STREAM_WEBHOOK_URL: `http://127.0.0.1:${port}/ingest`,
        FK_STREAM_WEBHOOK_SECRET: secret,
        FK_STREAM_BATCH_SIZE: "300",
        FK_STREAM_RETRY_MAX_MS: "1000",
        FK_LOG_LEVEL: "error",
      },
    });
    try {
      keys = Object.fromEntries(((await call(server, "GET", "/keys")).body.keys as { keyId: string; publicKey: string }[]).map((k) => [k.keyId, k.publicKey]));
      const agent = await makeAgent(server);
      progress.done = 0;
      const outage = (async () => {
        while (progress.done < 3_000) await sleep(20);
        receiver.close();
        receiver.closeAllConnections();
        await sleep(4_000);
        await new Promise<void>((r) => receiver.listen(port, "127.0.0.1", r));
      })();
      await decide(server, agent, 10_000, 24, "w");
      await outage;
      const lines = await exportLines(server);
      await until("the receiver to hold every entry", async () => received.length >= lines.length, 90_000);
      expect(refusals).toEqual([]);
      expect(received).toEqual(lines.map((_l, seq) => JSON.stringify(seq)));
      expect(position).toEqual({ seq: lines.length - 1, entryHash: JSON.parse(lines.at(-1)!).entryHash });
      expect(requests).toBeGreaterThan(34); // at least one failure-and-retry per batch on average
      await until("the lag metric to reach 0", async () => (await metric(server, "fk_stream_lag", "webhook")) === 0);
      expect(await metric(server, "fk_stream_failures_total", "webhook")).toBeGreaterThan(0);
    } finally {
      await server.stop();
      receiver.close();
      receiver.closeAllConnections();
      await database.drop();
    }
  }, 240_000);

  it("two replicas on one PostgreSQL database: kill -9 of the shipping one mid-batch, the other takes over, every entry once", async () => {
    const database = await freshPostgres();
    const stream = "FK_TEST_TAKEOVER";
    const env = { FK_STREAM_NATS_URL: nats.url, FK_STREAM_NATS_STREAM: stream, FK_STREAM_NATS_SUBJECT: SUBJECT, FK_STREAM_LEASE_MS: "2000", FK_STREAM_BATCH_SIZE: "50", FK_LOG_LEVEL: "warn" };
    const a = await startServer({ database: database.config, env });
    const b = await startServer({ database: database.config, dataDir: a.dataDir, env });
    try {
      const agent = await makeAgent(a);
      nc ??= await connect({ servers: nats.url });
      await until("a replica to take the lease", async () => ((await metric(a, "fk_stream_leader", "nats")) ?? 0) + ((await metric(b, "fk_stream_leader", "nats")) ?? 0) === 1);
      const leaderIsA = (await metric(a, "fk_stream_leader", "nats")) === 1;
      const [leader, other] = leaderIsA ? [a, b] : [b, a];
      // Load through the replica that stays; kill the shipper while it is behind (mid-batch).
      progress.done = 0;
      const load = decide(other, agent, 3_000, 16, "k");
      await until("the shipper to be mid-stream", async () => {
        const shipped = await streamCount(nc, stream);
        return progress.done > 800 && shipped > 200;
      });
      await leader.kill("SIGKILL");
      await load;
      const lines = await exportLines(other);
      await until("the survivor to ship every entry", async () => (await streamCount(nc, stream)) >= lines.length, 60_000);
      expectStreamMatchesExport(await readStream(nc, stream), lines);
      expect(await metric(other, "fk_stream_leader", "nats")).toBe(1);
      expect(await metric(other, "fk_stream_takeovers_total", "nats")).toBeGreaterThanOrEqual(1);
      const stats = await call(other, "GET", "/console/stats?window=24h", { token: OPERATOR_TOKEN });
      expect(stats.status).toBe(200);
      const nat = (stats.body.stream as any[]).find((s) => s.sink === "nats");
      expect(nat).toMatchObject({ configured: true, cursor: lines.length - 1, lag: 0 });
      expect(nat.holder).toMatch(/:\d+:[0-9a-f]{8}$/);
      expect(nat.takeovers).toBeGreaterThanOrEqual(2); // the first holder, then the survivor
    } finally {
      await a.stop();
      await b.stop();
      await database.drop();
    }
  }, 240_000);

  it("stdout on PostgreSQL: JSON Lines that parse and match the export; console stats for the operator only", async () => {
    const database = await freshPostgres();
    const server = await startServer({ database: database.config, env: { FK_STREAM_STDOUT: "1", FK_LOG_LEVEL: "warn" } });
    try {
      const agent = await makeAgent(server);
      progress.done = 0;
      await decide(server, agent, 200, 8, "s");
      const lines = await exportLines(server);
      await until("stdout to carry every entry", async () => (await metric(server, "fk_stream_lag", "stdout")) === 0);
      const printed = server
        .output()
        .split("\n")
        .filter((l) => l.includes('"type":"entry"'));
      expect(printed).toEqual(lines);
      for (const l of printed) expect(JSON.parse(l).type).toBe("entry");
      expect(await metric(server, "fk_stream_cursor", "stdout")).toBe(lines.length - 1);
      const stats = await call(server, "GET", "/console/stats?window=24h", { token: OPERATOR_TOKEN });
      expect(stats.body.stream).toEqual([
        expect.objectContaining({ sink: "stdout", configured: true, cursor: lines.length - 1, lag: 0, failures: 0, lastError: null }),
      ]);
    } finally {
      await server.stop();
      await database.drop();
    }
  }, 120_000);
});
