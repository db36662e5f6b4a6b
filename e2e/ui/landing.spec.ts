import { expect, test } from "@playwright/test";

test("the sign-in page shows a healthy system", async ({ page }, testInfo) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expect(page.getByTestId("health-status")).toHaveText("ok");
  await expect(page.getByTestId("db-provider")).toHaveText("sqlite");
  await page.screenshot({ path: testInfo.outputPath("landing.png"), fullPage: true });
});
