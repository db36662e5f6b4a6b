/**
 * A NATS server with JetStream for tests: Debian's nats-server (FK_TEST_NATS_SERVER overrides the
 * binary) on a free port with its own store directory, stopped and started again on the same port
 * and store, so a test can take the stream away and give it back. Never the system one on 4222.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "./server";

export const NATS_SERVER_BIN = process.env.FK_TEST_NATS_SERVER ?? "/usr/sbin/nats-server";

export interface TestNats {
  readonly url: string;
  readonly port: number;
  start(): Promise<void>;
  /** SIGTERM (or the given signal) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes the store. */
  dispose(): Promise<void>;
  readonly output: () => string;
}

async function listening(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startNats(): Promise<TestNats> {
  const port = await freePort();
  const store = fs.mkdtempSync(path.join(os.tmpdir(), "fk-nats-"));
  let child: ChildProcess | null = null;
  let out = "";
  const nats: TestNats = {
    url: `nats://127.0.0.1:${port}`,
    port,
    output: () => out,
    async start() {
      if (child) return;
      const c = spawn(NATS_SERVER_BIN, ["-js", "-sd", store, "-a", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
      c.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      c.stderr!.on("data", (d: Buffer) => (out += d.toString()));
      child = c;
      await listening(port, Date.now() + 10_000);
    },
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      const c = child;
      if (!c) return;
      child = null;
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill(signal);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    },
    async dispose() {
      await nats.stop("SIGKILL");
      fs.rmSync(store, { recursive: true, force: true });
    },
  };
  await nats.start();
  return nats;
}
