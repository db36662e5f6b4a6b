import { expect, test } from "@playwright/test";
import { Fixture, OPERATOR_LOGIN, shot, signIn } from "./support";

test("console pages redirect to sign-in; an owner signs in, sees who they are, and signs out", async ({ page, request }, testInfo) => {
  const owner = await new Fixture(request).owner("Signin");
  for (const path of ["/", "/graph", "/machines", "/approvals", "/conflicts", "/audit", "/playground"]) {
    await page.goto(path);
    await expect(page).toHaveURL(new RegExp(`/login\\?next=${encodeURIComponent(path).replace(/\//g, "%2F")}$`));
  }
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await shot(page, testInfo, "login");

  // A wrong password is refused with a plain message and no session.
  await page.getByLabel("Email").fill(owner.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Wrong" })).toHaveText("Wrong email or password.");
  expect((await page.context().cookies()).some((c) => c.name === "fk_session")).toBe(false);

  // The right one lands on the page that was asked for.
  await page.getByLabel("Password").fill(owner.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/playground$/);
  await expect(page.getByTestId("signed-in-as")).toContainText(`Signed in as ${owner.displayName}`);
  await expect(page.getByTestId("role")).toHaveText("Owner");
  const session = (await page.context().cookies()).find((c) => c.name === "fk_session");
  expect(session?.httpOnly).toBe(true);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/machines");
  await expect(page).toHaveURL(/\/login\?next=%2Fmachines$/);
});

test("the operator signs in with the Operator role", async ({ page }, testInfo) => {
  await signIn(page, OPERATOR_LOGIN);
  await expect(page.getByTestId("role")).toHaveText("Operator");
  await expect(page.getByRole("heading", { name: "Console" })).toBeVisible();
  await expect(page.getByText("You see the whole installation.")).toBeVisible();
  await shot(page, testInfo, "dashboard-operator");
});
