-- CreateTable
CREATE TABLE "RegistryState" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "version" INTEGER NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Entity" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "displayName" TEXT NOT NULL,
    "ownerId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdBy" TEXT
);

-- CreateTable
CREATE TABLE "Account" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "entityId" TEXT,
    "email" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "LoginSession" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "accountId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "csrfToken" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Resource" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "type" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "isPublic" BOOLEAN NOT NULL,
    "ifcLabel" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdBy" TEXT
);

-- CreateTable
CREATE TABLE "Claim" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "holderId" TEXT NOT NULL,
    "resourceId" TEXT,
    "scope" TEXT,
    "canRead" BOOLEAN NOT NULL,
    "canWrite" BOOLEAN NOT NULL,
    "canDelegate" BOOLEAN NOT NULL,
    "confidence" REAL NOT NULL,
    "expiresAt" DATETIME,
    "grantorId" TEXT,
    "revokedAt" DATETIME,
    "approvalId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdBy" TEXT
);

-- CreateTable
CREATE TABLE "Halt" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "target" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdBy" TEXT NOT NULL,
    "liftedAt" DATETIME,
    "liftedBy" TEXT
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "machineId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdBy" TEXT NOT NULL,
    "revokedAt" DATETIME,
    "lastUsedAt" DATETIME
);

-- CreateTable
CREATE TABLE "AgentSession" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "machineId" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "taint" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "UsedNonce" (
    "nonce" TEXT NOT NULL PRIMARY KEY,
    "machineId" TEXT NOT NULL,
    "redeemedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "AuditEntry" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "prevHash" TEXT NOT NULL,
    "entryHash" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "actorId" TEXT,
    "machineId" TEXT,
    "ownerId" TEXT,
    "permitted" BOOLEAN,
    "codes" TEXT,
    "recordedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Checkpoint" (
    "treeSize" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "rootHash" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "SigningKey" (
    "keyId" TEXT NOT NULL PRIMARY KEY,
    "publicKey" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retiredAt" DATETIME
);

-- CreateTable
CREATE TABLE "Approval" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "machineId" TEXT NOT NULL,
    "ownerId" TEXT NOT NULL,
    "actionId" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "actionDigest" TEXT NOT NULL,
    "auditSeq" INTEGER NOT NULL,
    "violations" TEXT NOT NULL,
    "missingGrants" TEXT NOT NULL,
    "curable" BOOLEAN NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedAt" DATETIME,
    "decidedBy" TEXT
);

-- CreateTable
CREATE TABLE "Conflict" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "resourceId" TEXT NOT NULL,
    "claimAId" TEXT NOT NULL,
    "claimBId" TEXT NOT NULL,
    "ownerAId" TEXT NOT NULL,
    "ownerBId" TEXT NOT NULL,
    "suggestion" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "resolution" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolvedAt" DATETIME,
    "resolvedBy" TEXT
);

-- CreateIndex
CREATE INDEX "Entity_ownerId_idx" ON "Entity"("ownerId");

-- CreateIndex
CREATE UNIQUE INDEX "Account_entityId_key" ON "Account"("entityId");

-- CreateIndex
CREATE UNIQUE INDEX "Account_email_key" ON "Account"("email");

-- CreateIndex
CREATE UNIQUE INDEX "LoginSession_tokenHash_key" ON "LoginSession"("tokenHash");

-- CreateIndex
CREATE INDEX "LoginSession_accountId_idx" ON "LoginSession"("accountId");

-- CreateIndex
CREATE INDEX "Claim_holderId_idx" ON "Claim"("holderId");

-- CreateIndex
CREATE INDEX "Claim_resourceId_idx" ON "Claim"("resourceId");

-- CreateIndex
CREATE INDEX "Halt_target_idx" ON "Halt"("target");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");

-- CreateIndex
CREATE INDEX "ApiToken_machineId_idx" ON "ApiToken"("machineId");

-- CreateIndex
CREATE UNIQUE INDEX "AgentSession_machineId_sessionId_key" ON "AgentSession"("machineId", "sessionId");

-- CreateIndex
CREATE UNIQUE INDEX "AuditEntry_entryHash_key" ON "AuditEntry"("entryHash");

-- CreateIndex
CREATE INDEX "AuditEntry_machineId_idx" ON "AuditEntry"("machineId");

-- CreateIndex
CREATE INDEX "AuditEntry_ownerId_idx" ON "AuditEntry"("ownerId");

-- CreateIndex
CREATE INDEX "AuditEntry_kind_idx" ON "AuditEntry"("kind");

-- CreateIndex
CREATE INDEX "Approval_ownerId_status_idx" ON "Approval"("ownerId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "Conflict_claimAId_claimBId_key" ON "Conflict"("claimAId", "claimBId");

-- Append-only audit log (design §7): the database itself refuses UPDATE and DELETE, and refuses an
-- insert that does not extend the chain by exactly one entry (no gap, no fork).
CREATE TRIGGER "AuditEntry_append_only_update" BEFORE UPDATE ON "AuditEntry"
BEGIN SELECT RAISE(ABORT, 'AuditEntry is append-only: UPDATE refused'); END;
CREATE TRIGGER "AuditEntry_append_only_delete" BEFORE DELETE ON "AuditEntry"
BEGIN SELECT RAISE(ABORT, 'AuditEntry is append-only: DELETE refused'); END;
CREATE TRIGGER "AuditEntry_chain_link" BEFORE INSERT ON "AuditEntry"
WHEN NEW."seq" <> COALESCE((SELECT MAX("seq") FROM "AuditEntry"), -1) + 1
  OR NEW."prevHash" <> COALESCE((SELECT "entryHash" FROM "AuditEntry" ORDER BY "seq" DESC LIMIT 1), '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN SELECT RAISE(ABORT, 'AuditEntry insert does not extend the chain'); END;
CREATE TRIGGER "Checkpoint_append_only_update" BEFORE UPDATE ON "Checkpoint"
BEGIN SELECT RAISE(ABORT, 'Checkpoint is append-only: UPDATE refused'); END;
CREATE TRIGGER "Checkpoint_append_only_delete" BEFORE DELETE ON "Checkpoint"
BEGIN SELECT RAISE(ABORT, 'Checkpoint is append-only: DELETE refused'); END;
-- A redeemed permit nonce must stay redeemed.
CREATE TRIGGER "UsedNonce_append_only_update" BEFORE UPDATE ON "UsedNonce"
BEGIN SELECT RAISE(ABORT, 'UsedNonce is append-only: UPDATE refused'); END;
CREATE TRIGGER "UsedNonce_append_only_delete" BEFORE DELETE ON "UsedNonce"
BEGIN SELECT RAISE(ABORT, 'UsedNonce is append-only: DELETE refused'); END;
