/**
 * The signing key's lifecycle and configuration errors over real processes (`npm start` =
 * scripts/start.ts, `npm run keys:rotate` = scripts/keys-rotate.ts, the auditor CLI):
 *  - a key is created only for a store that never signed; a missing key after decisions stops
 *    the start with a message naming the expected key, and restoring the file brings it back;
 *  - rotation is explicit, logs both keys (the old one endorsing the new), and the export
 *    verifies across it; a retired key is refused at start;
 *  - replicas on one PostgreSQL database: after a rotation a replica still holding the old key
 *    refuses to sign (503 SIGNER_UNAVAILABLE) instead of signing with a retired key;
 *  - invalid configuration stops the start with one message listing every problem.
 */
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { keyIdOf, publicKeyOf, signingBytes, verifyBytes, verifyDecision } from "@/lib/kernel/signing";
import { freshPostgres, freshSqlite } from "../support/databases";
import { call, OPERATOR_TOKEN, startServer, startServerExpectingFailure, type TestServer } from "../support/server";
import { makeAgent, verifyAs } from "../support/world";

const ROOT = path.resolve(import.meta.dirname, "../..");

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => resolve({ code, out }));
  });
}

const rotate = (env: Record<string, string>, ...args: string[]) =>
  run([path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "--conditions=react-server", "scripts/keys-rotate.ts", ...args], env);
const auditVerify = (file: string, keys: string) => run([path.join(ROOT, "bin/freedom-kernel.mjs"), "audit", "verify", file, "--keys", keys], {});

async function keysOf(server: TestServer) {
  const res = await call(server, "GET", "/keys");
  expect(res.status).toBe(200);
  return res.body.keys as { keyId: string; publicKey: string; status: string }[];
}

async function permittedAndSigned(server: TestServer, agent: Awaited<ReturnType<typeof makeAgent>>, actionId: string, keyId: string) {
  const res = await verifyAs(server, agent, { actionId, reads: [agent.resource] });
  expect(res.status).toBe(200);
  expect(res.body.record.permitted).toBe(true);
  expect(res.body.record.keyId).toBe(keyId);
  const key = (await keysOf(server)).find((k) => k.keyId === keyId)!;
  expect(key.status).toBe("current");
  expect(verifyDecision(res.body.record, res.body.signature, key.publicKey)).toBe(true);
}

const fileKeyId = (file: string) => keyIdOf(publicKeyOf(fs.readFileSync(file, "utf8").trim()));

describe("key lifecycle on SQLite", () => {
  it("never replaces a missing key, restores, rotates explicitly with both keys logged, refuses a retired key", async () => {
    const database = await freshSqlite();
    const dataDir = fs.mkdtempSync(path.join(path.dirname(database.config.url), "data-"));
    const keyFile = path.join(dataDir, "signing-key");
    const env = { FK_DATA_DIR: dataDir, DATABASE_URL: `file:${database.config.url}`, FK_LOG_LEVEL: "silent" };
    try {
      // A store that never signed gets a key at its first start.
      let server = await startServer({ database: database.config, dataDir });
      expect(fs.existsSync(keyFile)).toBe(true);
      const k1 = fileKeyId(keyFile);
      const agent = await makeAgent(server);
      await permittedAndSigned(server, agent, "first", k1);
      await server.stop();

      // Key moved away: the start refuses, names the key it expects, and creates nothing.
      fs.renameSync(keyFile, `${keyFile}.away`);
      const missing = await startServerExpectingFailure({ database: database.config, dataDir });
      expect(missing.code).not.toBe(0);
      expect(missing.output).toContain(k1);
      expect(missing.output).toMatch(/put the key file of .* back at/);
      expect(missing.output).toContain("npm run keys:rotate");
      expect(fs.existsSync(keyFile)).toBe(false);

      // Restored: serves again under the same key.
      fs.renameSync(`${keyFile}.away`, keyFile);
      server = await startServer({ database: database.config, dataDir });
      await permittedAndSigned(server, agent, "restored", k1);
      await server.stop();

      // Rotation without the old key needs --old-key-lost; with it, the old key endorses the new.
      fs.renameSync(keyFile, `${keyFile}.away`);
      const refused = await rotate(env);
      expect(refused.code).not.toBe(0);
      expect(refused.out).toContain("--old-key-lost");
      expect(fs.existsSync(`${keyFile}.new`)).toBe(false);
      fs.renameSync(`${keyFile}.away`, keyFile);
      const rotated = await rotate(env);
      expect(rotated.code, rotated.out).toBe(0);
      const k2 = fileKeyId(keyFile);
      expect(k2).not.toBe(k1);
      const retiredFile = `${keyFile}.retired-${k1.replace("ed25519:", "")}`;
      expect(fileKeyId(retiredFile)).toBe(k1);

      server = await startServer({ database: database.config, dataDir });
      const keys = await keysOf(server);
      expect(keys.map((k) => [k.keyId, k.status])).toEqual([
        [k1, "retired"],
        [k2, "current"],
      ]);
      await permittedAndSigned(server, agent, "after-rotation", k2);

      // The export holds both key entries; the rotation carries the old key's endorsement.
      const exp = await call(server, "GET", "/audit/export", { token: OPERATOR_TOKEN });
      expect(exp.status).toBe(200);
      const lines = (exp.body as string).split("\n").filter(Boolean).map((l) => JSON.parse(l));
      const keyEntries = lines.filter((l) => l.type === "entry" && l.payload.kind === "key").map((l) => l.payload);
      expect(keyEntries.map((p) => [p.op, p.keyId])).toEqual([
        ["activate", k1],
        ["rotate", k2],
      ]);
      const rotation = keyEntries[1];
      expect(rotation.previousKeyId).toBe(k1);
      expect(rotation.endorsement.keyId).toBe(k1);
      const endorsed = signingBytes("freedom-kernel/key-endorsement/v1\n", { previousKeyId: k1, keyId: k2, publicKey: rotation.publicKey });
      expect(verifyBytes(endorsed, rotation.endorsement.signature, keys[0]!.publicKey)).toBe(true);
      expect(verifyBytes(endorsed, rotation.endorsement.signature, keys[1]!.publicKey)).toBe(false);

      // The auditor's CLI verifies the export across the rotation.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fk-keys-"));
      fs.writeFileSync(path.join(dir, "export.jsonl"), exp.body as string);
      fs.writeFileSync(path.join(dir, "keys.json"), JSON.stringify({ domain: "x", keys }));
      const verified = await auditVerify(path.join(dir, "export.jsonl"), path.join(dir, "keys.json"));
      expect(verified.code, verified.out).toBe(0);
      await server.stop();

      // The retired key put back is refused at start, with its own message.
      fs.copyFileSync(keyFile, path.join(dataDir, "current-key-backup"));
      fs.copyFileSync(retiredFile, keyFile);
      const retired = await startServerExpectingFailure({ database: database.config, dataDir });
      expect(retired.code).not.toBe(0);
      expect(retired.output).toMatch(new RegExp(`${k1} from .* was retired by a key rotation`));
      expect(retired.output).toContain(k2);
    } finally {
      await database.drop();
    }
  }, 300_000);

  it("invalid configuration stops the start with one message naming every variable, never a secret", async () => {
    const database = await freshSqlite();
    try {
      const secret = "short-secret";
      const bad = await startServerExpectingFailure({ database: database.config, env: { FK_OPERATOR_TOKEN: secret, FK_PERMIT_TTL_MS: "abc", FK_SIGNING_KEY: "zz" } });
      expect(bad.code).not.toBe(0);
      expect(bad.output).toContain("invalid configuration");
      expect(bad.output).toMatch(/FK_OPERATOR_TOKEN is too short .*at least 16 characters/);
      expect(bad.output).toMatch(/FK_PERMIT_TTL_MS "abc" is not an integer; expected/);
      expect(bad.output).toMatch(/FK_SIGNING_KEY is malformed .*64 hex characters/);
      expect(bad.output).not.toContain(secret);
      // Nothing was created on the way out.
      expect(fs.existsSync(database.config.url)).toBe(false);
    } finally {
      await database.drop();
    }
  }, 120_000);
});

describe("key lifecycle on PostgreSQL with replicas", () => {
  it("after a rotation a replica still holding the old key refuses to sign; the new key serves", async () => {
    const database = await freshPostgres();
    const seed1 = crypto.randomBytes(32).toString("hex");
    const k1 = keyIdOf(publicKeyOf(seed1));
    const servers: TestServer[] = [];
    try {
      const a = await startServer({ database: database.config, env: { FK_SIGNING_KEY: seed1 } });
      servers.push(a);
      const b = await startServer({ database: database.config, env: { FK_SIGNING_KEY: seed1 } });
      servers.push(b);
      const agent = await makeAgent(a);
      await permittedAndSigned(a, agent, "a-before", k1);
      await permittedAndSigned(b, agent, "b-before", k1);

      // An unknown key for this store is refused at start, before it signs anything.
      const stranger = await startServerExpectingFailure({ database: database.config, env: { FK_SIGNING_KEY: crypto.randomBytes(32).toString("hex") } });
      expect(stranger.code).not.toBe(0);
      expect(stranger.output).toContain(`names ${k1}`);

      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fk-rot-")), "new-key");
      const rotated = await rotate({ DATABASE_URL: database.config.url, FK_SIGNING_KEY: seed1, FK_LOG_LEVEL: "silent" }, "--out", out);
      expect(rotated.code, rotated.out).toBe(0);
      const seed2 = fs.readFileSync(out, "utf8").trim();
      const k2 = keyIdOf(publicKeyOf(seed2));

      // Both running replicas still hold k1: they refuse, and never call k1 current.
      for (const s of [a, b]) {
        const res = await verifyAs(s, agent, { actionId: `stale-${s.url}`, reads: [agent.resource] });
        expect(res.status).toBe(503);
        expect(JSON.stringify(res.body)).toContain("SIGNER_UNAVAILABLE");
        expect(JSON.stringify(res.body)).not.toContain('"permitted":true');
        expect((await call(s, "GET", "/keys")).status).toBe(503);
      }
      // A replica restarted with the retired key does not start.
      await a.stop();
      const stale = await startServerExpectingFailure({ database: database.config, env: { FK_SIGNING_KEY: seed1 } });
      expect(stale.code).not.toBe(0);
      expect(stale.output).toContain("was retired by a key rotation");
      // With the new key it serves; the other replica keeps refusing.
      const c = await startServer({ database: database.config, env: { FK_SIGNING_KEY: seed2 } });
      servers.push(c);
      await permittedAndSigned(c, agent, "c-after", k2);
      expect((await verifyAs(b, agent, { actionId: "b-still-stale", reads: [agent.resource] })).status).toBe(503);
      expect((await keysOf(c)).map((k) => [k.keyId, k.status])).toEqual([
        [k1, "retired"],
        [k2, "current"],
      ]);
    } finally {
      for (const s of servers) await s.stop();
      await database.drop();
    }
  }, 300_000);
});
