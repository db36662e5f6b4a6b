-- AlterTable
ALTER TABLE "Resource" ADD COLUMN "ownerId" TEXT;

-- CreateTable
CREATE TABLE "IssuedPermit" (
    "machineId" TEXT NOT NULL,
    "actionId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "actionDigest" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "record" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "auditSeq" INTEGER NOT NULL,
    "snapshotVersion" INTEGER NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("machineId", "actionId")
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Halt" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "target" TEXT,
    "createdVersion" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdBy" TEXT NOT NULL,
    "liftedAt" DATETIME,
    "liftedBy" TEXT
);
INSERT INTO "new_Halt" ("createdAt", "createdBy", "id", "kind", "liftedAt", "liftedBy", "target") SELECT "createdAt", "createdBy", "id", "kind", "liftedAt", "liftedBy", "target" FROM "Halt";
DROP TABLE "Halt";
ALTER TABLE "new_Halt" RENAME TO "Halt";
CREATE INDEX "Halt_target_idx" ON "Halt"("target");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "IssuedPermit_nonce_idx" ON "IssuedPermit"("nonce");

-- Backfill (hand-written): a resource's owner is the human who registered it, i.e. the holder of
-- its first root claim.
UPDATE "Resource" SET "ownerId" = (
    SELECT c."holderId" FROM "Claim" c
    WHERE c."resourceId" = "Resource"."id" AND c."grantorId" IS NULL
    ORDER BY c."createdAt" ASC, c."id" ASC LIMIT 1
);
