-- AlterTable
ALTER TABLE "Claim" ADD COLUMN     "budget" TEXT,
ADD COLUMN     "usedCost" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "usedUses" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "BudgetUse" (
    "claimId" TEXT NOT NULL,
    "use" INTEGER NOT NULL,
    "cost" BIGINT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "nonce" TEXT NOT NULL,
    "auditSeq" INTEGER NOT NULL,

    CONSTRAINT "BudgetUse_pkey" PRIMARY KEY ("claimId","use")
);

-- CreateIndex
CREATE INDEX "BudgetUse_claimId_at_idx" ON "BudgetUse"("claimId", "at");
