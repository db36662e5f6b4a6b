-- CreateTable
CREATE TABLE "BudgetUse" (
    "claimId" TEXT NOT NULL,
    "use" INTEGER NOT NULL,
    "cost" BIGINT NOT NULL,
    "at" DATETIME NOT NULL,
    "nonce" TEXT NOT NULL,
    "auditSeq" INTEGER NOT NULL,

    PRIMARY KEY ("claimId", "use")
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Claim" (
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
    "createdBy" TEXT,
    "budget" TEXT,
    "usedUses" INTEGER NOT NULL DEFAULT 0,
    "usedCost" BIGINT NOT NULL DEFAULT 0
);
INSERT INTO "new_Claim" ("approvalId", "canDelegate", "canRead", "canWrite", "confidence", "createdAt", "createdBy", "expiresAt", "grantorId", "holderId", "id", "resourceId", "revokedAt", "scope") SELECT "approvalId", "canDelegate", "canRead", "canWrite", "confidence", "createdAt", "createdBy", "expiresAt", "grantorId", "holderId", "id", "resourceId", "revokedAt", "scope" FROM "Claim";
DROP TABLE "Claim";
ALTER TABLE "new_Claim" RENAME TO "Claim";
CREATE INDEX "Claim_holderId_idx" ON "Claim"("holderId");
CREATE INDEX "Claim_resourceId_idx" ON "Claim"("resourceId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "BudgetUse_claimId_at_idx" ON "BudgetUse"("claimId", "at");
