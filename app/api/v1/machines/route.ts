import { ROUTES } from "@/lib/contracts/routes";
import { createMachine, listMachines } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route(ROUTES.createMachine, async ({ body, principal }) => createMachine(principal, body));
export const GET = route(ROUTES.listMachines, async ({ principal }) => listMachines(principal));
