/**
 * A deterministic synthetic registry of about `size` nodes (humans, machines, resources) for
 * checking that the graph editor stays responsive at scale (/graph?synthetic=2000). It lives only
 * in the page: nothing is sent to the server.
 */
import type { RegistryDataJson } from "@/lib/contracts/console";
import { RESOURCE_TYPES } from "@/lib/kernel/types";

export const MAX_SYNTHETIC = 10_000;

export function syntheticRegistry(size: number): RegistryDataJson {
  const n = Math.max(3, Math.min(MAX_SYNTHETIC, Math.floor(size)));
  const humans = Math.max(1, Math.round(n / 50));
  const machines = Math.max(1, Math.round(n * 0.38));
  const resources = Math.max(1, n - humans - machines);
  const pad = (i: number) => String(i).padStart(4, "0");
  const h = (i: number) => `human-${pad(i)}`;
  const m = (i: number) => `machine-${pad(i)}`;
  const r = (i: number) => `resource-${pad(i)}`;
  const entities: RegistryDataJson["entities"] = [];
  const machineOwners: RegistryDataJson["machineOwners"] = [];
  const res: RegistryDataJson["resources"] = [];
  const claims: RegistryDataJson["claims"] = [];
  for (let i = 0; i < humans; i++) entities.push({ id: h(i), kind: "HUMAN", displayName: `Owner ${i}` });
  for (let i = 0; i < machines; i++) {
    entities.push({ id: m(i), kind: "MACHINE", displayName: `Agent ${i}` });
    machineOwners.push({ machine: m(i), owner: h(i % humans) });
  }
  let c = 0;
  const claim = (x: Omit<RegistryDataJson["claims"][number], "id" | "confidence"> & { confidence?: number }) =>
    claims.push({ confidence: 1, ...x, id: `claim-${String(c++).padStart(5, "0")}` });
  for (let i = 0; i < resources; i++) {
    const owner = i % humans;
    res.push({ id: r(i), type: RESOURCE_TYPES[i % RESOURCE_TYPES.length]!, scope: `/org/${h(owner)}/${i % 7}`, isPublic: i % 23 === 0 });
    claim({ holder: h(owner), resource: r(i), canRead: true, canWrite: true, canDelegate: true });
    // Delegate to one of the owner's machines (machines of owner k are k, k + humans, ...).
    const perOwner = Math.ceil((machines - owner) / humans);
    if (perOwner > 0) {
      const machine = owner + humans * (i % perOwner);
      if (machine < machines) claim({ holder: m(machine), resource: r(i), canRead: true, canWrite: i % 3 === 0, canDelegate: false, grantor: h(owner) });
    }
    if (i % 10 === 0 && humans > 1) {
      claim({ holder: h((owner + 1) % humans), resource: r(i), canRead: true, canWrite: false, canDelegate: false, confidence: 0.9, grantor: h(owner) });
    }
  }
  return { version: 0, entities, machineOwners, resources: res, claims, halts: [] };
}
