import { adminWithLocation, DEMO_ADMIN, expect, expectAccessible, openApp, signInOnIssuer, test, urls } from "./fixtures";

test("demo administrator: Firmaer lists both companies, tokens never in localStorage", async ({ page, shot }) => {
  await openApp(page, DEMO_ADMIN);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Firmaer");
  await expect(page.getByRole("link", { name: "Fysio Demo AS" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Psykologene Demo AS" })).toBeVisible();
  await expectAccessible(page);
  await shot("firmaer");
  const stores = await page.evaluate(() => ({ local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage) }));
  expect(stores.local).not.toContain("access_token");
  expect(stores.local).not.toContain("refresh_token");
  expect(stores.session).toContain("access_token");
});

test("the browser's API calls carry a bearer token and no development headers", async ({ page }) => {
  const w = await adminWithLocation("headers");
  const seen: Record<string, string>[] = [];
  page.on("request", (r) => {
    if (r.url().startsWith(urls.frontDoor()) && r.method() !== "OPTIONS") seen.push(r.headers());
  });
  await openApp(page, w.person);
  await expect(page.getByRole("row", { name: /Majorstuen/ })).toBeVisible();
  expect(seen.length).toBeGreaterThan(0);
  for (const h of seen) {
    expect(h["authorization"]).toMatch(/^Bearer ey/);
    expect(Object.keys(h).filter((k) => k.startsWith("x-dev-"))).toEqual([]);
    expect(h["accept-language"]).toBe("nb");
  }
});

test("a token about to expire is renewed before it does", async ({ page }) => {
  const w = await adminWithLocation("renew");
  await page.goto("/");
  await signInOnIssuer(page, w.person, { ttl: 65 });
  const first = await page.evaluate(() => Object.keys(sessionStorage).map((k) => sessionStorage.getItem(k)).join());
  // Renewal starts a minute before expiry: after 5 s for a 65 s token.
  await expect
    .poll(async () => page.evaluate(() => Object.keys(sessionStorage).map((k) => sessionStorage.getItem(k)).join()), { timeout: 20_000 })
    .not.toBe(first);
  await page.getByRole("link", { name: "Majorstuen" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Majorstuen" })).toBeVisible();
});

test("an expired token that cannot be renewed asks to sign in again and comes back", async ({ page, shot }) => {
  const w = await adminWithLocation("expired");
  await page.goto("/");
  await signInOnIssuer(page, w.person, { ttl: 5, renew: false });
  await page.getByRole("link", { name: "Majorstuen" }).click();
  const dialog = page.getByRole("alertdialog", { name: "Innloggingen er utløpt" });
  await expect(dialog).toBeVisible({ timeout: 20_000 });
  await expect(dialog.getByRole("button", { name: "Logg inn igjen" })).toBeFocused();
  await expectAccessible(page);
  // The front door refuses the expired token as API Gateway does.
  const token = await page.evaluate(() => {
    for (const k of Object.keys(sessionStorage)) {
      const v = sessionStorage.getItem(k) ?? "";
      if (v.includes("access_token")) return (JSON.parse(v) as { access_token: string }).access_token;
    }
    return "";
  });
  const res = await fetch(`${urls.frontDoor()}/v1/companies`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(401);
  expect(await res.json()).toEqual({ message: "Unauthorized" });
  expect(res.headers.get("www-authenticate")).toContain("the token has expired");
  await shot("utlopt");
  await dialog.getByRole("button", { name: "Logg inn igjen" }).click();
  await signInOnIssuer(page, w.person);
  await expect(page.getByRole("heading", { level: 1, name: "Majorstuen" })).toBeVisible();
  await shot("tilbake");
});

test("sign out ends the session", async ({ page }) => {
  await openApp(page, DEMO_ADMIN);
  await page.getByRole("button", { name: "Logg ut" }).click();
  // Back at the app without a session, which sends the browser to sign in again.
  await expect(page).toHaveURL(new RegExp(`^${urls.issuer()}/authorize`));
  await expect(page.getByRole("heading", { name: "Logg inn" })).toBeVisible();
});
