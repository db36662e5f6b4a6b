/** Per-test data through the operator API: an owner, a machine with a token, a granted resource. */
import crypto from "node:crypto";
import { call, OPERATOR_TOKEN } from "./server";

export interface Agent {
  owner: string;
  machine: string;
  token: string;
  resource: string;
}

export async function makeAgent(server: { api: string }, name = "agent"): Promise<Agent> {
  const s = crypto.randomBytes(4).toString("hex");
  const op = async (method: string, path: string, body?: unknown) => {
    const res = await call(server, method, path, { token: OPERATOR_TOKEN, body });
    if (res.status !== 200) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const owner = `${name}-owner-${s}`;
  const machine = `${name}-bot-${s}`;
  const resource = `${name}-data-${s}`;
  await op("POST", "/owners", { id: owner, displayName: owner, email: `${owner}@test.example`, password: "owner-password-123" });
  await op("POST", "/machines", { id: machine, owner });
  await op("POST", "/resources", { id: resource, type: "dataset", scope: `/data/${owner}`, isPublic: false, owner });
  await op("POST", "/grants", { holder: machine, resource, canRead: true, canWrite: true, canDelegate: false, grantor: owner });
  const token = (await op("POST", `/machines/${machine}/tokens`, { label: "test" })).secret as string;
  return { owner, machine, token, resource };
}

/** POST /verify as the agent. */
export function verifyAs(server: { api: string }, agent: Agent, action: Record<string, unknown>) {
  return call(server, "POST", "/verify", { token: agent.token, body: { action: { actor: agent.machine, ...action } } });
}
