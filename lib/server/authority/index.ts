import "server-only";

/**
 * Changes of authority (design §3, §8, §9, §13), one file per kind, all committed through
 * commit.ts's commitAuthority: one transaction that re-checks, applies, has the kernel validate
 * the new registry, audits and bumps the registry version.
 */
export { commitAuthority, proposeChange, validateProposedRegistry, type Applied, type AuthorityChange, type CommitContext, type Proposal } from "./commit";
export { actingOwner, actorName, grantOut, ownedMachine } from "./shared";
export { createOwner, listOwners } from "./owners";
export { createMachine, getMachine, listMachines } from "./machines";
export { createResource, listResources, removeResource } from "./resources";
export { createGrant, listGrants, revokeGrant, setGrantBudget } from "./grants";
export { createRootClaim } from "./claims";
export { haltAll, haltMachine, haltOwner, resumeAll, resumeMachine, resumeOwner } from "./halts";
export { createToken, listTokens, revokeToken } from "./tokens";
export { approve, listApprovals, refuse } from "./approvals";
export { listConflicts, resolve } from "./conflicts";
export { addRule, listRules, removeRule, setRuleMode } from "./rules";
