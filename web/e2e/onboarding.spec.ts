import {
  adminWithLocation,
  DEMO_OPERATOR,
  devApi,
  expect,
  expectAccessible,
  invitationLink,
  newPerson,
  openApp,
  orgNumber,
  signInOnIssuer,
  test,
} from "./fixtures";

test("an invitation link is accepted by a new user after signing in", async ({ page, shot }) => {
  const w = await adminWithLocation("inviter");
  const invitee = newPerson("invitee");
  const invited = await devApi(w.person, "POST", `/v1/companies/${w.companyId}/invitations`, { email: invitee.email });
  expect(invited.status, JSON.stringify(invited.body)).toBe(201);
  const link = await invitationLink(invitee.email);

  // The link from the mail, opened in the app: sign in, and the invitation is accepted.
  await page.goto(`/${link.search}`);
  await signInOnIssuer(page, invitee);
  await expect(page.locator("#main").getByText(`Velkommen! Du er nå administrator for ${w.companyName}.`)).toBeVisible();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Lokasjoner – ${w.companyName}`);
  await expect(page.getByRole("row", { name: /Majorstuen/ })).toBeVisible();
  expect(page.url()).not.toContain("token=");
  await expectAccessible(page);
  await shot("invitasjon-godtatt");

  // Both are administrators now; the audit trail has the invitation and the joining.
  await page.getByRole("link", { name: "Administratorer" }).click();
  await expect(page.getByRole("row", { name: new RegExp(invitee.name) })).toContainText(invitee.email);
  await expect(page.getByRole("row", { name: new RegExp(w.person.name) })).toBeVisible();
  await expectAccessible(page);
  await shot("administratorer");
  await page.getByRole("link", { name: "Endringslogg" }).click();
  await expect(page.getByRole("row", { name: /Administrator lagt til/ }).filter({ hasText: invitee.email })).toBeVisible();
  await expect(page.getByRole("row", { name: /Administrator invitert/ }).filter({ hasText: invitee.email }).first()).toBeVisible();
  await expectAccessible(page);
  await shot("endringslogg");

  // The newcomer removes the first administrator; the last one cannot be removed.
  await page.getByRole("link", { name: "Administratorer" }).click();
  await page.getByRole("button", { name: `Fjern ${w.person.email}` }).click();
  await page.getByRole("button", { name: "Ja, fjern" }).click();
  await expect(page.locator("#main").getByText(`${w.person.email} er ikke lenger administrator.`)).toBeVisible();
  await page.getByRole("button", { name: `Fjern ${invitee.email}` }).click();
  await page.getByRole("button", { name: "Ja, fjern" }).click();
  await expect(page.getByRole("alert")).toContainText("eneste administrator");
});

test("an operator registers a company and invites its first administrator", async ({ page, shot }) => {
  await openApp(page, DEMO_OPERATOR);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Firmaer");
  await expect(page.getByText("Du er driftsansvarlig")).toBeVisible();
  await expectAccessible(page);
  await shot("operator-firmaer");

  const name = `E2E Operatør ${orgNumber()} AS`;
  const org = orgNumber();
  await page.getByLabel("Firmanavn").fill(name);
  await page.getByLabel("Organisasjonsnummer").fill("123456789");
  await page.getByRole("button", { name: "Registrer" }).click();
  await expect(page.getByLabel("Organisasjonsnummer")).toBeFocused();
  await expect(page.getByLabel("Organisasjonsnummer")).toHaveAccessibleDescription(/kontrollsiffer/);
  await page.getByLabel("Organisasjonsnummer").fill(`${org.slice(0, 3)} ${org.slice(3, 6)} ${org.slice(6)}`);
  await page.getByRole("button", { name: "Registrer" }).click();
  await expect(page.locator("#main").getByText(`${name} er registrert. Inviter firmaets første administrator.`)).toBeVisible();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Administratorer – ${name}`);
  await expect(page.getByRole("link", { name: "Lokasjoner" })).toHaveCount(0);

  const first = newPerson("first");
  await page.getByRole("textbox", { name: /^E-post/ }).fill(first.email);
  await page.getByRole("button", { name: "Send invitasjon" }).click();
  await expect(page.locator("#main").getByText(`Invitasjonen er sendt til ${first.email}.`)).toBeVisible();
  await expect(page.getByRole("listitem").filter({ hasText: first.email })).toContainText("invitert av");
  await expectAccessible(page);
  await shot("operator-invitert");

  // Search finds it by organisation number.
  await page.getByRole("link", { name: "Tilbake til firmaene" }).click();
  await page.getByLabel("Søk etter firma").fill(org);
  await page.getByRole("button", { name: "Søk" }).click();
  await expect(page.getByRole("link", { name })).toBeVisible();
  await expect(page.locator("ul.cards li")).toHaveCount(1);
  await shot("operator-sok");
});

test("an operator lifts a lockout", async ({ page }) => {
  const w = await adminWithLocation("lifted");
  const test = `/v1/companies/${w.companyId}/locations/${w.locationId}/booking/test`;
  const wrong = { system: "pasientsky", external_id: "00000000-0000-4000-8000-000000000001", external_department_id: "00000000-0000-4000-8000-0000000000d1", api_key: "wrong" };
  for (let i = 0; i < 5; i++) await devApi(w.person, "POST", test, wrong);
  expect((await devApi(w.person, "POST", test, wrong)).status).toBe(429);

  await openApp(page, DEMO_OPERATOR);
  await page.getByLabel("Søk etter firma").fill(w.companyName);
  await page.getByRole("button", { name: "Søk" }).click();
  await page.getByRole("link", { name: w.companyName }).click();
  await page.getByRole("button", { name: `Opphev sperre ${w.person.email}` }).click();
  await expect(page.locator("#main").getByText(`Sperren for ${w.person.email} er opphevet.`)).toBeVisible();
  expect((await devApi(w.person, "POST", test, wrong)).status).toBe(200);
});

test("the demo invitee accepts the demo invitation", async ({ page }) => {
  // The demo data's invitation (tests/integration/src/demo.rs), as scripts/dev prints its link.
  await page.goto("/?invitation=1a000000-0000-4000-8000-000000000001&token=demo-invitation-token-local-only-0000000001");
  await signInOnIssuer(page, { sub: "demo-invitee", email: "ny.admin@fysio-demo.no", name: "Nina Ny" });
  await expect(page.locator("#main").getByText("Velkommen! Du er nå administrator for Fysio Demo AS.")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Lokasjoner – Fysio Demo AS");
});
