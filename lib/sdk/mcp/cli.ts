/**
 * The `freedom-kernel-mcp-proxy` command.
 *
 *   freedom-kernel-mcp-proxy --kernel URL --machine ID --public-key HEX --map mapping.json \
 *       [--token T] [--upstream-url URL | -- <server command> [args...]] [--listen PORT [--host H]]
 *
 * The token may (and should) come from FK_TOKEN instead of --token, which other users of the machine
 * can read in the process list; FK_URL, FK_MACHINE and FK_PUBLIC_KEY stand in for the other flags.
 * The proxy refuses to start when the kernel is unreachable or presents another key. Logs go to
 * stderr: on the stdio host side, stdout is the MCP channel.
 */
import fs from "node:fs";
import { describeJsonError, parseJsonStrict } from "../../kernel/json";
import { createGate, type Gate } from "../gate";
import { KernelBlockedError } from "../errors";
import { toolMapFromJson, type ToolMap } from "../mapping";
import { GatingProxy, connectUpstream, serveHttp, serveStdio, type UpstreamSpec } from "./proxy";

export const USAGE = `usage: freedom-kernel-mcp-proxy --kernel URL --machine ID --public-key HEX --map mapping.json
         [--token TOKEN] (or FK_TOKEN; preferred: --token shows in the process list)
         (--upstream-url http://host/mcp | -- <server command> [args...])
         [--listen PORT [--host 127.0.0.1] [--listen-token T]]   (default: stdio to the host)
         [--timeout-ms 5000] [--session ID]

mapping.json: { "tools": { "<tool>": { "reads": ["{arg}"], "writes": [...], "delegates": [...],
                "governsHumans": [...], "flags": { "<flag>": true }, "description": "..." } } }
Tools missing from the mapping are refused. FK_URL, FK_MACHINE, FK_PUBLIC_KEY, FK_PROXY_TOKEN
may replace --kernel, --machine, --public-key, --listen-token.
`;

export interface ProxyCliOptions {
  readonly kernel: string;
  readonly token: string;
  readonly machine: string;
  readonly publicKey: string;
  readonly mapPath: string;
  readonly upstream: UpstreamSpec;
  readonly listen?: { readonly port: number; readonly host: string; readonly token?: string | undefined } | undefined;
  readonly timeoutMs?: number | undefined;
  readonly session?: string | undefined;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const VALUED = new Set(["--kernel", "--token", "--machine", "--public-key", "--map", "--upstream-url", "--listen", "--host", "--listen-token", "--timeout-ms", "--session"]);

/** Parses argv (after the program name). Throws UsageError. */
export function parseProxyArgs(argv: readonly string[], env: Record<string, string | undefined> = process.env): ProxyCliOptions | "help" {
  const values = new Map<string, string>();
  let command: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      command = argv.slice(i + 1);
      break;
    }
    if (arg === "--help" || arg === "-h") return "help";
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!VALUED.has(name)) throw new UsageError(`unknown argument ${arg}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    if (values.has(name)) throw new UsageError(`${name} given twice`);
    values.set(name, value);
  }
  const need = (flag: string, envName: string): string => {
    const v = values.get(flag) ?? env[envName];
    if (v === undefined || v === "") throw new UsageError(`${flag} (or ${envName}) is required`);
    return v;
  };
  const kernel = need("--kernel", "FK_URL");
  const token = need("--token", "FK_TOKEN");
  const machine = need("--machine", "FK_MACHINE");
  const publicKey = need("--public-key", "FK_PUBLIC_KEY");
  const mapPath = values.get("--map");
  if (mapPath === undefined) throw new UsageError("--map mapping.json is required: unmapped tools are refused, so a proxy without a mapping could do nothing");
  const upstreamUrl = values.get("--upstream-url");
  if ((upstreamUrl === undefined) === (command === undefined || command.length === 0)) {
    throw new UsageError("name exactly one upstream: --upstream-url URL, or -- <server command> [args...]");
  }
  const upstream: UpstreamSpec =
    upstreamUrl !== undefined
      ? { kind: "http", url: upstreamUrl }
      : { kind: "stdio", command: (command as string[])[0] as string, args: (command as string[]).slice(1), env: definedEnv(env) };
  const listenText = values.get("--listen");
  let listen: ProxyCliOptions["listen"];
  if (listenText !== undefined) {
    const port = Number(listenText);
    if (!/^\d+$/.test(listenText) || port > 65535) throw new UsageError("--listen takes a port number");
    listen = { port, host: values.get("--host") ?? "127.0.0.1", token: values.get("--listen-token") ?? env.FK_PROXY_TOKEN };
  } else if (values.has("--host") || values.has("--listen-token")) {
    throw new UsageError("--host and --listen-token need --listen");
  }
  const timeoutText = values.get("--timeout-ms");
  const timeoutMs = timeoutText === undefined ? undefined : Number(timeoutText);
  if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs <= 0)) throw new UsageError("--timeout-ms takes a positive number");
  return { kernel, token, machine, publicKey, mapPath, upstream, listen, timeoutMs, session: values.get("--session") };
}

function definedEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function log(line: string): void {
  process.stderr.write(`[freedom-kernel-mcp-proxy] ${line}\n`);
}

/** Loads the mapping file; throws UsageError with the file's problems. */
export function loadToolMap(path: string): ToolMap {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = parseJsonStrict(text);
  if (!parsed.ok) throw new UsageError(`${path} is not valid JSON: ${describeJsonError(parsed)}`);
  const json = parsed.value;
  try {
    return toolMapFromJson(json);
  } catch (e) {
    throw new UsageError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Runs the proxy until the host goes away (stdio) or a signal arrives. Resolves with the exit code:
 * 0 after a clean shutdown, 1 when the kernel or the upstream server cannot be used, 2 for usage.
 */
export async function runProxyCli(argv: readonly string[]): Promise<number> {
  let options: ProxyCliOptions | "help";
  let tools: ToolMap;
  try {
    options = parseProxyArgs(argv);
    if (options === "help") {
      process.stdout.write(USAGE);
      return 0;
    }
    tools = loadToolMap(options.mapPath);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`freedom-kernel-mcp-proxy: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  let gate: Gate;
  try {
    gate = await createGate({ url: options.kernel, token: options.token, machine: options.machine, publicKey: options.publicKey, timeoutMs: options.timeoutMs });
  } catch (e) {
    const code = e instanceof KernelBlockedError ? e.code : "KERNEL_UNAVAILABLE";
    log(`no kernel, no agent: refusing to start (${code}): ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  let upstream;
  try {
    upstream = await connectUpstream(options.upstream);
  } catch (e) {
    log(`cannot connect to the upstream MCP server: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  const proxy = new GatingProxy({
    gate,
    tools,
    upstream,
    session: options.session,
    onDecision: (d) => log(d.permitted ? `permitted ${d.tool}` : `refused ${d.tool} (${d.code ?? "BLOCKED"})`),
  });
  log(`kernel ${gate.api} (key ${gate.keyId}), machine ${gate.machine}, ${tools.tools.length} mapped tool(s)`);

  let host: { close(): Promise<void> };
  try {
    if (options.listen) {
      const served = await serveHttp(proxy, { port: options.listen.port, host: options.listen.host, bearerToken: options.listen.token });
      log(`listening ${served.url}`);
      host = served;
    } else {
      host = await serveStdio(proxy);
    }
  } catch (e) {
    log(`cannot serve the host side: ${e instanceof Error ? e.message : String(e)}`);
    await upstream.close().catch(() => undefined);
    return 1;
  }

  return new Promise<number>((resolve) => {
    let done = false;
    const shutdown = async (code: number) => {
      if (done) return;
      done = true;
      await host.close().catch(() => undefined);
      await proxy.close();
      await upstream.close().catch(() => undefined);
      resolve(code);
    };
    process.once("SIGINT", () => void shutdown(0));
    process.once("SIGTERM", () => void shutdown(0));
    if (!options.listen) process.stdin.once("end", () => void shutdown(0));
    upstream.onclose = () => {
      if (done) return;
      log("the upstream MCP server went away");
      void shutdown(1);
    };
  });
}
