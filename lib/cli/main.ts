/**
 * The Node side of the `freedom-kernel` command: it touches the process, the file system, the
 * clock and the random number generator, and hands them to the pure kernel. Everything else is runCli (run.ts),
 * a pure function. bin/freedom-kernel.mjs registers tsx and calls main(process.argv).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { readsStdin, runCli } from "./run";

function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch {
    // No stdin at all (closed descriptor): treated like empty input, which verify refuses clearly.
    return "";
  }
}

/** Runs the CLI with `argv` as process.argv (node, script, ...args) and returns the exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const args = argv.slice(2);
  // `audit fetch` is the one command that uses the network; it lives with the SDK's HTTP client so
  // that runCli stays pure and synchronous.
  if (args[0] === "audit" && args[1] === "fetch") {
    const { runAuditFetchCli } = await import("../sdk/audit-fetch");
    const r = await runAuditFetchCli(args.slice(2));
    if (r.stdout) process.stdout.write(r.stdout);
    if (r.stderr) process.stderr.write(r.stderr);
    return r.exitCode;
  }
  const result = runCli(args, readsStdin(args) ? readStdin() : "", (path) => new Uint8Array(readFileSync(path)), {
    now: Date.now(),
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
  });
  if (result.stdout) process.stdout.write(result.stdout);
  if (result.stderr) process.stderr.write(result.stderr);
  return result.exitCode;
}
