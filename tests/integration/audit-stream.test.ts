/**
 * The audit stream (issue 14): the log is the outbox, shipped at least once and in seq order to
 * NATS JetStream, a webhook and stdout, with a lease so one replica ships per sink.
 *  - 10,000 decisions, one server with all three sinks (one load for three scenarios: the sinks
 *    are independent, and an outage of one must not hold up another):
 *    JetStream stopped and restarted twice: every entry is in the stream exactly once
 *    (Nats-Msg-Id = seq), in order on each subject, byte for byte its export line;
 *    a webhook that fails 30% of requests (half before, half after taking the batch) and is down
 *    for a while: every entry arrives, every batch verifies against /keys (kernel signature and
 *    HMAC), order holds; stdout wrote every export line.
 *  - two replicas on one PostgreSQL database, the webhook's shipper killed with SIGKILL while the
 *    receiver holds its batch: the other takes the lease over, redelivers that batch, and after
 *    dedupe by seq the receiver (and the JetStream stream) hold every entry once.
 *  - stdout on PostgreSQL, the metrics and the console stats.
 */
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "nats";
import pg from "pg";
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
function expectStreamMatchesExport(messages: { subject: string; msgId: string; data: string }[], lines: string[], subject = SUBJECT): void {
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
    expect(m.subject).toBe(`${subject}.${entry.payload.kind}`);
    expect(seq).toBeGreaterThan(lastOnSubject.get(m.subject) ?? -1);
    lastOnSubject.set(m.subject, seq);
  }
  expect(seen.size).toBe(lines.length);
}

/**
 * A webhook receiver as a careful one would be written: checks the HMAC, verifies each batch with
 * the kernel's verifyStreamBatch against the keys from /keys and its own position, keeps only the
 * fresh entries. It fails 30% of requests (seeded): half before taking the batch, half after (the
 * answer is lost, so the batch comes again), and can go down for a while.
 */
async function startReceiver(options: { failRate?: number } = {}) {
  const failRate = options.failRate ?? 0.3;
  let rng = 0x2545f491;
  const random = () => {
    rng = (rng * 1103515245 + 12345) & 0x7fffffff;
    return rng / 0x7fffffff;
  };
  const state = {
    secret: crypto.randomBytes(24).toString("hex"),
    keys: {} as Record<string, string>,
    position: null as StreamPosition,
    received: [] as number[],
    refusals: [] as string[],
    failed: 0,
    lostAcks: 0,
    /** Entries delivered again after they were received (what dedupe by seq removes). */
    redelivered: 0,
    port: 0,
    /** Set to hold the next batch: it is taken, then the answer waits for release(). */
    hold: null as null | { taken: () => void; release: Promise<void> },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (Object.keys(state.keys).length === 0) return res.writeHead(503).end("no keys yet");
      const roll = failRate === 0 ? 1 : random();
      if (roll < failRate / 2) {
        state.failed++;
        return res.writeHead(503).end("try later");
      }
      const hmac = `sha256=${crypto.createHmac("sha256", state.secret).update(body).digest("hex")}`;
      if (req.headers["x-fk-stream-signature"] !== hmac) {
        state.refusals.push("HMAC");
        return res.writeHead(401).end();
      }
      const v = verifyStreamBatch(body, state.keys, { receivedUpTo: state.position });
      if (!v.ok) {
        state.refusals.push(`${v.code}: ${v.message}`);
        return res.writeHead(400).end(v.code);
      }
      for (const e of v.fresh) state.received.push(e.seq);
      state.redelivered += v.entries.length - v.fresh.length;
      const last = v.entries.at(-1)!;
      if (v.fresh.length > 0) state.position = { seq: last.seq, entryHash: last.entryHash };
      const hold = state.hold;
      if (hold) {
        state.hold = null;
        hold.taken();
        void hold.release.then(() => res.writeHead(204).end());
        return;
      }
      if (roll < failRate) {
        state.lostAcks++;
        return res.writeHead(500).end("lost ack");
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    async down(ms: number) {
      server.close();
      server.closeAllConnections();
      await sleep(ms);
      await new Promise<void>((r) => server.listen(state.port, "127.0.0.1", r));
    },
    async close() {
      server.close();
      server.closeAllConnections();
    },
  });
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
  it("10,000 decisions: JetStream stopped and restarted twice, a webhook failing 30% of requests and down for a while, stdout; every sink gets every entry, in order", async () => {
    const database = await freshSqlite();
    const stream = "FK_TEST_NATS";
    const webhook = await startReceiver();
    const server = await startServer({
      database: database.config,
      env: {
        FK_STREAM_NATS_URL: nats.url,
        FK_STREAM_NATS_STREAM: stream,
        FK_STREAM_NATS_SUBJECT: SUBJECT,
        FK_STREAM_WEBHOOK_URL: `http://127.0.0.1:${webhook.port}/ingest`,
        FK_STREAM_WEBHOOK_SECRET: webhook.secret,
        FK_STREAM_STDOUT: "1",
        FK_STREAM_BATCH_SIZE: "300",
        FK_STREAM_RETRY_MAX_MS: "1000",
        FK_LOG_LEVEL: "error",
      },
    });
    try {
      webhook.keys = Object.fromEntries(((await call(server, "GET", "/keys")).body.keys as { keyId: string; publicKey: string }[]).map((k) => [k.keyId, k.publicKey]));
      const agent = await makeAgent(server);
      progress.done = 0;
      const N = 10_000;
      // JetStream goes away twice; the webhook is down once, between them. The sinks do not wait on each other.
      const natsChaos = (async () => {
        for (const at of [2_000, 6_500]) {
          while (progress.done < at) await sleep(20);
          await nats.stop();
          await sleep(1_500);
          await nats.start();
        }
      })();
      const webhookOutage = (async () => {
        while (progress.done < 4_000) await sleep(20);
        await webhook.down(4_000);
      })();
      await decide(server, agent, N, 48);
      await Promise.all([natsChaos, webhookOutage]);
      const lines = await exportLines(server);
      expect(lines.length).toBeGreaterThan(N);

      // JetStream: every entry once (Nats-Msg-Id = seq), on its kind's subject, in order, as exported.
      nc = await connect({ servers: nats.url });
      await until("the stream to hold every entry", async () => (await streamCount(nc, stream)) >= lines.length, 90_000);
      expectStreamMatchesExport(await readStream(nc, stream), lines);
      await until("the NATS lag to reach 0", async () => (await metric(server, "fk_stream_lag", "nats")) === 0);
      expect(await metric(server, "fk_stream_failures_total", "nats")).toBeGreaterThan(0);

      // Webhook: every batch verified (kernel signature against /keys, HMAC, chain, order); nothing lost.
      await until("the receiver to hold every entry", async () => webhook.received.length >= lines.length, 90_000);
      expect(webhook.refusals).toEqual([]);
      expect(webhook.received).toEqual(lines.map((_l, seq) => seq));
      expect(webhook.position).toEqual({ seq: lines.length - 1, entryHash: JSON.parse(lines.at(-1)!).entryHash });
      expect(webhook.failed).toBeGreaterThan(0);
      expect(webhook.lostAcks).toBeGreaterThan(0);
      await until("the webhook lag to reach 0", async () => (await metric(server, "fk_stream_lag", "webhook")) === 0);
      expect(await metric(server, "fk_stream_failures_total", "webhook")).toBeGreaterThan(0);

      // stdout: the export's lines, in order (a repeat of a seq could only follow a failed write).
      await until("stdout to carry every entry", async () => (await metric(server, "fk_stream_lag", "stdout")) === 0);
      const printed = server
        .output()
        .split("\n")
        .filter((l) => l.startsWith('{"entryHash"'));
      expect(printed).toEqual(lines);
    } finally {
      await server.stop();
      await webhook.close();
      await database.drop();
    }
  }, 240_000);

  it("two replicas on one PostgreSQL database: kill -9 of the shipping one mid-batch, the other takes over, nothing lost or doubled beyond dedupe", async () => {
    const database = await freshPostgres();
    // Its own stream and subjects: JetStream refuses a stream whose subjects overlap another's.
    const stream = "FK_TEST_TAKEOVER";
    const subject = "fk-test.takeover";
    const webhook = await startReceiver({ failRate: 0 });
    const env = {
      FK_STREAM_NATS_URL: nats.url,
      FK_STREAM_NATS_STREAM: stream,
      FK_STREAM_NATS_SUBJECT: subject,
      FK_STREAM_WEBHOOK_URL: `http://127.0.0.1:${webhook.port}/ingest`,
      FK_STREAM_WEBHOOK_SECRET: webhook.secret,
      FK_STREAM_LEASE_MS: "2000",
      FK_STREAM_BATCH_SIZE: "50",
      FK_LOG_LEVEL: "error",
    };
    const a = await startServer({ database: database.config, env });
    const b = await startServer({ database: database.config, dataDir: a.dataDir, env });
    try {
      webhook.keys = Object.fromEntries(((await call(a, "GET", "/keys")).body.keys as { keyId: string; publicKey: string }[]).map((k) => [k.keyId, k.publicKey]));
      const agent = await makeAgent(a);
      nc ??= await connect({ servers: nats.url });
      const leads = async (s: TestServer) => (await metric(s, "fk_stream_leader", "webhook")) === 1;
      await until("a replica to ship to the webhook", async () => (await leads(a)) !== (await leads(b)));
      const [leader, other] = (await leads(a)) ? [a, b] : [b, a];
      // Load through the replica that stays. Mid-batch: the receiver takes a batch and, before it
      // answers, the shipper is killed; its cursor never moves past that batch.
      progress.done = 0;
      const load = decide(other, agent, 1_200, 16, "k");
      while (progress.done < 300) await sleep(20);
      let release = () => {};
      const taken = new Promise<void>((resolve) => {
        webhook.hold = { taken: resolve, release: new Promise<void>((r) => (release = r)) };
      });
      await taken;
      await leader.kill("SIGKILL");
      release();
      await load;
      const lines = await exportLines(other);
      await until("the survivor to ship every entry to the webhook", async () => webhook.received.length >= lines.length, 60_000);
      await until("the survivor to ship every entry to JetStream", async () => (await streamCount(nc, stream)) >= lines.length, 60_000);
      expect(webhook.refusals).toEqual([]);
      expect(webhook.received).toEqual(lines.map((_l, seq) => seq)); // every entry once after dedupe by seq
      expect(webhook.redelivered).toBeGreaterThan(0); // the batch the killed replica shipped came again
      expectStreamMatchesExport(await readStream(nc, stream), lines, subject);
      expect(await metric(other, "fk_stream_leader", "webhook")).toBe(1);
      expect(await metric(other, "fk_stream_takeovers_total", "webhook")).toBeGreaterThanOrEqual(1);
      const stats = await call(other, "GET", "/console/stats?window=24h", { token: OPERATOR_TOKEN });
      expect(stats.status).toBe(200);
      const hook = (stats.body.stream as any[]).find((s) => s.sink === "webhook");
      expect(hook).toMatchObject({ configured: true, cursor: lines.length - 1, lag: 0 });
      expect(hook.holder).toMatch(/:\d+:[0-9a-f]{8}$/);
      expect(hook.takeovers).toBeGreaterThanOrEqual(2); // the first holder, then the survivor
    } finally {
      await a.stop();
      await b.stop();
      await webhook.close();
      await database.drop();
    }
  }, 240_000);

  it("stdout on PostgreSQL: JSON Lines that parse and match the export; console stats for the operator only; a forked log is refused", async () => {
    const database = await freshPostgres();
    const server = await startServer({ database: database.config, env: { FK_STREAM_STDOUT: "1", FK_STREAM_LEASE_MS: "2000", FK_LOG_LEVEL: "warn" } });
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
      const owner = await call(server, "POST", "/session", { body: { email: `${agent.owner}@test.example`, password: "owner-password-123" } });
      expect(owner.status).toBe(200);
      const cookie = owner.headers
        .getSetCookie()
        .map((c) => c.split(";")[0]!)
        .join("; ");
      const ownerStats = await call(server, "GET", "/console/stats?window=24h", { headers: { cookie } });
      expect(ownerStats.status).toBe(200);
      expect(ownerStats.body.stream).toEqual([]);

      // The sink was given another history than this log (as after restoring an older backup):
      // the worker refuses to ship what follows instead of handing out a second entry per seq.
      const pgc = new pg.Client({ connectionString: database.config.url });
      await pgc.connect();
      try {
        await pgc.query(`UPDATE "StreamSink" SET "cursorHash" = $1 WHERE "sink" = 'stdout'`, ["ab".repeat(32)]);
      } finally {
        await pgc.end();
      }
      await sleep(1_500); // the holder re-reads its row when it renews the lease (every second here)
      await decide(server, agent, 20, 4, "f");
      await until("the refusal to show", async () => {
        const s = await call(server, "GET", "/console/stats?window=24h", { token: OPERATOR_TOKEN });
        return /does not continue what this sink was sent/.test(s.body.stream[0]?.lastError ?? "");
      });
      expect(server.output().split("\n").filter((l) => l.includes('"type":"entry"'))).toEqual(lines);
      expect(await metric(server, "fk_stream_lag", "stdout")).toBe(20);
    } finally {
      await server.stop();
      await database.drop();
    }
  }, 120_000);
});
