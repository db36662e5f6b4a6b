/**
 * The floor of `npm run bench:api` (issue 11): the least a server can do for one decision with
 * this kernel and this driver, measured by the same load generator in the same run as the product.
 *
 * Per POST /api/v1/verify it does the work the product does for a decision, and nothing else:
 * bearer token lookup (SHA-256 of the secret in a map, as the product's cache), strict JSON
 * parsing, the kernel's parse + verify, the decision record, a node:crypto Ed25519 signature, a
 * hash-chained, signed audit entry (the kernel's buildAuditEntry) inserted into the product's own
 * AuditEntry table (its triggers check the chain) — SQLite in WAL with synchronous=FULL through
 * better-sqlite3, or PostgreSQL through one `pg` connection with one multi-row INSERT per batch —
 * group commit (every decision that arrived while the last batch was written goes into the next
 * transaction), and the answer only after its commit. No Next.js, no ORM, no idempotency record,
 * no registry reload: those are what the product adds on top.
 *
 * Usage (bench:api starts it): tsx --conditions=react-server bench/floor-server.ts <sqlite-file | postgresql://…> <port>
 * It prints one JSON line `{ "ready": true, "token": …, "machine": …, "resource": … }` when it listens.
 */
import crypto from "node:crypto";
import http from "node:http";
import Database from "better-sqlite3";
import pg from "pg";
import { buildAuditEntry, type AuditEntry } from "../lib/kernel/audit";
import { useSha256 } from "../lib/kernel/bytes";
import { parseJsonStrict } from "../lib/kernel/json";
import { buildDecisionRecord, decisionSigningBytes, keyIdOf } from "../lib/kernel/signing";
import { buildSnapshot } from "../lib/kernel/snapshot";
import { verify } from "../lib/kernel/verify";
import { parseAction } from "../lib/kernel/action";
import { applyPendingMigrations } from "../lib/server/db/migrations";

const [file, portText] = process.argv.slice(2);
if (!file || !portText) throw new Error("usage: floor-server.ts <sqlite-file | postgresql://…> <port>");
const isPostgres = /^postgres(ql)?:\/\//.test(file);

useSha256((bytes) => crypto.createHash("sha256").update(bytes).digest());

const MACHINE = "floor-bot";
const RESOURCE = "floor-data";
const snapshot = buildSnapshot({
  version: 1,
  entities: [
    { id: "floor-owner", kind: "HUMAN", displayName: "Floor owner" },
    { id: MACHINE, kind: "MACHINE", displayName: "Floor bot" },
  ],
  machineOwners: [{ machine: MACHINE, owner: "floor-owner" }],
  resources: [{ id: RESOURCE, type: "file", scope: "/floor/data", isPublic: false }],
  claims: [
    { id: "root", holder: "floor-owner", resource: RESOURCE, canRead: true, canWrite: true, canDelegate: true, confidence: 1 },
    { id: "grant", holder: MACHINE, resource: RESOURCE, canRead: true, canWrite: false, canDelegate: false, confidence: 1, grantor: "floor-owner" },
  ],
  halts: [],
});

const secret = `fkm_floor_${crypto.randomBytes(16).toString("hex")}`;
const tokens = new Map([[crypto.createHash("sha256").update(secret).digest("hex"), MACHINE]]);

const seed = crypto.randomBytes(32);
const privateKey = crypto.createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
const publicKey = new Uint8Array(crypto.createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(12));
const keyId = keyIdOf(publicKey);
const sign = (bytes: Uint8Array) => crypto.sign(null, bytes, privateKey).toString("hex");

interface Pending {
  entry: AuditEntry;
  permitted: boolean;
  codes: string;
  res: http.ServerResponse;
  body: string;
}

/** One batch in one transaction; throws when nothing of it was committed. */
type WriteBatch = (rows: Pending[]) => Promise<void>;

async function sqliteStore(): Promise<{ last: { seq: number; entryHash: string } | null; write: WriteBatch; reload: () => Promise<{ seq: number; entryHash: string } | null> }> {
  await applyPendingMigrations({ provider: "sqlite", url: file! });
  const db = new Database(file!);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  const insert = db.prepare(
    `INSERT INTO "AuditEntry" (seq, prevHash, entryHash, payload, signature, keyId, kind, actorId, machineId, ownerId, permitted, codes, recordedAt)
     VALUES (?, ?, ?, ?, ?, ?, 'decision', ?, ?, ?, ?, ?, ?)`,
  );
  const lastRow = () => (db.prepare(`SELECT seq, entryHash FROM "AuditEntry" ORDER BY seq DESC LIMIT 1`).get() as { seq: number; entryHash: string } | undefined) ?? null;
  const tx = db.transaction((rows: Pending[]) => {
    for (const p of rows) {
      const e = p.entry;
      insert.run(e.seq, e.prevHash, e.entryHash, JSON.stringify(e.payload), e.signature, e.keyId, MACHINE, MACHINE, "floor-owner", p.permitted ? 1 : 0, p.codes, Date.parse(e.recordedAt ?? ""));
    }
  });
  return { last: lastRow(), write: async (rows) => tx(rows), reload: async () => lastRow() };
}

async function postgresStore(): Promise<{ last: { seq: number; entryHash: string } | null; write: WriteBatch; reload: () => Promise<{ seq: number; entryHash: string } | null> }> {
  await applyPendingMigrations({ provider: "postgresql", url: file! });
  const client = new pg.Client({ connectionString: file });
  await client.connect();
  const lastRow = async () => ((await client.query(`SELECT seq, "entryHash" FROM "AuditEntry" ORDER BY seq DESC LIMIT 1`)).rows[0] as { seq: number; entryHash: string } | undefined) ?? null;
  const write: WriteBatch = async (rows) => {
    const values: unknown[] = [];
    const tuples = rows.map((p, i) => {
      const e = p.entry;
      values.push(e.seq, e.prevHash, e.entryHash, JSON.stringify(e.payload), e.signature, e.keyId, MACHINE, MACHINE, "floor-owner", p.permitted, p.codes, new Date(e.recordedAt ?? ""));
      const o = i * 12;
      return `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6}, 'decision', $${o + 7}, $${o + 8}, $${o + 9}, $${o + 10}, $${o + 11}, $${o + 12})`;
    });
    await client.query("BEGIN");
    try {
      await client.query(
        `INSERT INTO "AuditEntry" (seq, "prevHash", "entryHash", payload, signature, "keyId", kind, "actorId", "machineId", "ownerId", permitted, codes, "recordedAt") VALUES ${tuples.join(", ")}`,
        values,
      );
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    }
  };
  return { last: await lastRow(), write, reload: lastRow };
}

const store = isPostgres ? await postgresStore() : await sqliteStore();
let last = store.last;
let batch: Pending[] = [];
let scheduled = false;
let writing = false;

async function flush(): Promise<void> {
  scheduled = false;
  if (writing) return; // the batch in flight schedules the next one when it is done
  const rows = batch;
  batch = [];
  writing = true;
  try {
    await store.write(rows);
    for (const p of rows) answer(p.res, 200, p.body);
  } catch {
    // Nothing of the batch is on disk: refuse every answer in it, and continue the chain from disk.
    // (Decisions made meanwhile extend the refused entries: refuse them too.)
    const refused = [...rows, ...batch];
    batch = [];
    last = await store.reload().catch(() => last);
    for (const p of refused) answer(p.res, 503, '{"permitted":false,"error":{"code":"AUDIT_UNAVAILABLE"}}');
  } finally {
    writing = false;
  }
  if (batch.length > 0 && !scheduled) {
    scheduled = true;
    setImmediate(() => void flush());
  }
}

function answer(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function decide(machine: string, text: string, res: http.ServerResponse): void {
  const parsed = parseJsonStrict(text);
  const action = parsed.ok && typeof parsed.value === "object" && parsed.value !== null ? (parsed.value as { action?: unknown }).action : undefined;
  const p = parseAction(action);
  if (!p.ok || p.action.actor !== machine) return answer(res, 400, '{"permitted":false,"error":{"code":"VALIDATION_FAILED"}}');
  const now = Date.now();
  const result = verify(snapshot, p.action, now);
  const seq = last === null ? 0 : last.seq + 1;
  const record = buildDecisionRecord({ result, action: p.action, mode: "live", now, nonce: crypto.randomBytes(16).toString("hex"), keyId, auditSeq: seq });
  const signature = sign(decisionSigningBytes(record));
  const entry = buildAuditEntry(last, { kind: "decision", record, signature, keyId }, sign, keyId, { now });
  last = { seq: entry.seq, entryHash: entry.entryHash };
  batch.push({ entry, permitted: record.permitted, codes: record.violations.map((v) => v.code).join(","), res, body: JSON.stringify({ record, signature, keyId }) });
  if (!scheduled) {
    scheduled = true;
    setImmediate(() => void flush());
  }
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/api/v1/verify") return answer(res, 404, '{"error":{"code":"NOT_FOUND"}}');
  const auth = req.headers.authorization ?? "";
  const machine = auth.startsWith("Bearer ") ? tokens.get(crypto.createHash("sha256").update(auth.slice(7)).digest("hex")) : undefined;
  if (machine === undefined) return answer(res, 401, '{"permitted":false,"error":{"code":"UNAUTHENTICATED"}}');
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (c: Buffer) => {
    size += c.length;
    if (size > 64 * 1024) req.destroy();
    else chunks.push(c);
  });
  req.on("end", () => decide(machine, Buffer.concat(chunks).toString("utf8"), res));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(portText), "127.0.0.1", () => {
  console.log(JSON.stringify({ ready: true, token: secret, machine: MACHINE, resource: RESOURCE }));
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.close(() => process.exit(0)));
