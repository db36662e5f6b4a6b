-- AlterTable
ALTER TABLE "Resource" ADD COLUMN     "ownerId" TEXT;

-- AlterTable
ALTER TABLE "Halt" ADD COLUMN     "createdVersion" INTEGER NOT NULL DEFAULT 0;

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
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IssuedPermit_pkey" PRIMARY KEY ("machineId","actionId")
);

-- CreateIndex
CREATE INDEX "IssuedPermit_nonce_idx" ON "IssuedPermit"("nonce");

-- Backfill (hand-written): a resource's owner is the human who registered it, i.e. the holder of
-- its first root claim.
UPDATE "Resource" SET "ownerId" = (
    SELECT c."holderId" FROM "Claim" c
    WHERE c."resourceId" = "Resource"."id" AND c."grantorId" IS NULL
    ORDER BY c."createdAt" ASC, c."id" ASC LIMIT 1
);
