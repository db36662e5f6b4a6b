import { CreateMachineRequest } from "@/lib/contracts";
import { createMachine, listMachines } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route({ audience: "human", body: CreateMachineRequest }, async ({ body, principal }) => createMachine(requireHuman(principal), body));
export const GET = route({ audience: "human" }, async ({ principal }) => listMachines(requireHuman(principal)));
