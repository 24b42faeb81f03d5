import type { Page } from "@playwright/test";
import { adminWithLocation, devApi, expect, expectAccessible, openApp, sentMail, test } from "./fixtures";

const PASIENTSKY = {
  external_id: "00000000-0000-4000-8000-000000000001",
  external_department_id: "00000000-0000-4000-8000-0000000000d1",
  key: "sandbox-key-ok",
};

async function openBookingForm(page: Page, locationName: string) {
  await page.getByRole("link", { name: locationName }).click();
  await expect(page.getByRole("heading", { level: 1, name: locationName })).toBeFocused();
  await page.getByRole("button", { name: "Endre" }).click();
  await expect(page.getByLabel("Bookingsystem")).toBeFocused();
}

async function fillPasientsky(page: Page, key: string) {
  await page.getByLabel("Bookingsystem").selectOption({ label: "EG Pasientsky" });
  await page.getByLabel("Ekstern ID").fill(PASIENTSKY.external_id);
  await page.getByLabel("Ekstern avdeling ID").fill(PASIENTSKY.external_department_id);
  await page.getByLabel("API-nøkkel").fill(key);
}

test("pasientsky: the seven steps, a wrong key first, then the right one, then save", async ({ page, shot }) => {
  const w = await adminWithLocation("seven");
  // 1. Log in; one company, so straight on to its locations.
  await openApp(page, w.person);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Lokasjoner – ${w.companyName}`);
  await expect(page.getByRole("row", { name: /Majorstuen/ })).toContainText("Ikke satt opp");
  await expectAccessible(page);
  await shot("lokasjoner");

  // 2–3. The location, "Endre", the system from "Velg...".
  await openBookingForm(page, w.locationName);
  await expect(page.getByLabel("Bookingsystem").locator("option").first()).toHaveText("Velg...");
  await expect(page.getByLabel("Ekstern ID")).toHaveCount(0);
  await fillPasientsky(page, "wrong-key");
  await expect(page.getByLabel("Booking-URL")).toHaveCount(0);
  await expect(page.getByText("Etter 5 mislykkede tester innen en time")).toBeVisible();
  await expectAccessible(page);
  await shot("endre-pasientsky");

  // 5. "Test kobling" with a wrong key: the report, the key field at fault and focused.
  await page.getByRole("button", { name: "Test kobling" }).click();
  const key = page.getByLabel("API-nøkkel");
  await expect(key).toBeFocused();
  await expect(key).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#bk-api_key-error")).toContainText("godtok ikke API-nøkkelen");
  const report = page.locator(".report");
  await expect(report).toContainText("Koblingen virker ikke");
  await expect(report.locator("li").nth(0)).toContainText("OK");
  await expect(report.locator("li").nth(1)).toContainText("Feilet");
  await expect(report.locator("li").nth(2)).toContainText("Hoppet over");
  // What is wrong is said once in the report, beside the step that failed.
  await expect(report.getByText(/godtok ikke API-nøkkelen/)).toHaveCount(1);
  await expect(page.locator("#attempts")).toHaveText("Mislykkede tester igjen før sperre: 4 av 5.");
  await expectAccessible(page);
  await shot("test-feil-nokkel");

  // The right key: "Suksess", results focused.
  await key.fill(PASIENTSKY.key);
  await page.getByRole("button", { name: "Test kobling" }).click();
  await expect(page.locator(".report .verdict")).toHaveText("Suksess");
  await expect(page.locator(".report").getByText("Suksess", { exact: true })).toHaveCount(1);
  await expect(page.locator("section.result")).toBeFocused();
  await expect(key).not.toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#attempts")).toHaveText("Mislykkede tester igjen før sperre: 5 av 5.");
  await shot("test-suksess");

  // "Test og lagre": saved; the key shows as stored, never its value.
  await page.getByRole("button", { name: "Test og lagre" }).click();
  await expect(page.locator(".report")).toContainText("Lagret. Lokasjonen er koblet til EG Pasientsky.");
  const saved = page.getByRole("group", { name: "Lagret oppsett" });
  await expect(saved).toContainText("EG Pasientsky");
  await expect(saved).toContainText(PASIENTSKY.external_id);
  await expect(saved).toContainText("Lagret");
  await expect(page.locator("body")).not.toContainText(PASIENTSKY.key);
  await expect(key).toHaveValue("");
  await expect(key).toHaveAttribute("placeholder", /Lagret/);
  await expect(key).not.toHaveAttribute("required", "");
  await expectAccessible(page);
  await shot("lagret");

  // Back on the list the state shows at a glance; the API holds what was saved.
  await page.getByRole("link", { name: "Tilbake til lokasjonene" }).click();
  await expect(page.getByRole("row", { name: /Majorstuen/ })).toContainText("Koblet");
  const stored = await devApi<{ booking: { system: string; api_key_stored: boolean } }>(
    w.person,
    "GET",
    `/v1/companies/${w.companyId}/locations/${w.locationId}`,
  );
  expect(stored.body.booking).toMatchObject({ system: "pasientsky", api_key_stored: true });
  await shot("lokasjoner-koblet");
});

test("a stored key is kept when the field is left empty", async ({ page }) => {
  const w = await adminWithLocation("keep-key");
  await openApp(page, w.person);
  await openBookingForm(page, w.locationName);
  await fillPasientsky(page, PASIENTSKY.key);
  await page.getByRole("button", { name: "Test og lagre" }).click();
  await expect(page.locator(".report .verdict")).toHaveText("Suksess");
  // Test again with the field empty: the stored key is used.
  await expect(page.getByLabel("API-nøkkel")).toHaveValue("");
  await page.getByRole("button", { name: "Test kobling" }).click();
  await expect(page.locator(".report .verdict")).toHaveText("Suksess");
});

test("extensor shows only the booking URL", async ({ page, shot }) => {
  const w = await adminWithLocation("extensor", "Bergen sentrum");
  await openApp(page, w.person);
  await openBookingForm(page, w.locationName);
  await page.getByLabel("Bookingsystem").selectOption({ label: "Extensor 05" });
  await expect(page.getByLabel("Booking-URL")).toBeVisible();
  await expect(page.getByLabel("Ekstern ID")).toHaveCount(0);
  await expect(page.getByLabel("API-nøkkel")).toHaveCount(0);
  await expect(page.locator("#bk-booking_url-help")).toContainText("extensor.no");
  // A booking page that does not exist (404) is the field's fault.
  await page.getByLabel("Booking-URL").fill("https://booking.extensor.no/sandbox/unknown");
  await page.getByRole("button", { name: "Test kobling" }).click();
  await expect(page.getByLabel("Booking-URL")).toBeFocused();
  await expect(page.getByLabel("Booking-URL")).toHaveAttribute("aria-invalid", "true");
  await shot("extensor-feil");
  await page.getByLabel("Booking-URL").fill("https://booking.extensor.no/sandbox/ok");
  await page.getByRole("button", { name: "Test og lagre" }).click();
  await expect(page.getByRole("group", { name: "Lagret oppsett" })).toContainText("https://booking.extensor.no/sandbox/ok");
  await expectAccessible(page);
  await shot("extensor-lagret");
});

test("request details: copy the text and have it sent", async ({ page, context, shot }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const w = await adminWithLocation("details");
  await openApp(page, w.person);
  await openBookingForm(page, w.locationName);
  await page.getByLabel("Bookingsystem").selectOption({ label: "ASPIT Physica" });
  await page.getByRole("button", { name: "Forespør detaljer" }).click();
  await expect(page.getByRole("heading", { name: /Forespør detaljer fra ASPIT/ })).toBeFocused();
  const body = page.getByLabel("Tekst", { exact: true });
  await expect(body).toHaveValue(/Majorstuen/);
  await expect(page.getByRole("link", { name: "Åpne i e-postprogrammet" })).toHaveAttribute("href", /^mailto:support%40aspit\.no\?cc=/);
  await expectAccessible(page);
  await shot("foresporsel");

  await page.getByRole("button", { name: "Kopier tekst" }).click();
  await expect(page.getByText("Teksten er kopiert.").first()).toBeVisible();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe(await body.inputValue());

  // The sends left are shown with the text, and one fewer after a send.
  const sendsLeft = page.locator("#sends-left");
  await expect(sendsLeft).toContainText("Sendinger igjen: 3.");
  await expect(page.getByRole("button", { name: "Send for meg" })).toHaveAccessibleDescription(/Sendinger igjen: 3\./);
  const answer = page.waitForResponse((r) => r.url().includes("/booking/request-details") && r.request().method() === "POST");
  await page.getByRole("button", { name: "Send for meg" }).click();
  const sentRequest = (await (await answer).json()) as { message_id: string; sends_remaining: number };
  expect(sentRequest.sends_remaining).toBe(2);
  const sent = page.locator(".alert.success", { hasText: "Sendt til" });
  await expect(sent).toBeFocused();
  await expect(sent).toContainText("support@aspit.no");
  await expect(sendsLeft).toContainText("Sendinger igjen: 2.");
  await expect(page.getByRole("button", { name: "Send for meg" })).toBeEnabled();
  await shot("foresporsel-sendt");

  // The mail, read back from the emulator's SES: to the vendor, the administrator in Cc, the
  // text that was shown.
  const mail = (await sentMail()).find((m) => m.id === sentRequest.message_id);
  expect(mail, "the request reached the emulator's SES").toBeTruthy();
  expect(mail?.destinations.ToAddresses).toContain("support@aspit.no");
  expect(mail?.destinations.CcAddresses).toContain(w.person.email);
  expect(mail?.body).toContain("Majorstuen");
});

test("request details: with no sends left, Send for meg is disabled and says when it can send again", async ({ page, shot }) => {
  const w = await adminWithLocation("details-none");
  const path = `/v1/companies/${w.companyId}/locations/${w.locationId}/booking/request-details`;
  for (let i = 0; i < 3; i++) {
    const sent = await devApi(w.person, "POST", path, { system: "physica" });
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
  }
  await openApp(page, w.person);
  await openBookingForm(page, w.locationName);
  await page.getByLabel("Bookingsystem").selectOption({ label: "ASPIT Physica" });
  await page.getByRole("button", { name: "Forespør detaljer" }).click();
  await expect(page.getByRole("heading", { name: /Forespør detaljer fra ASPIT/ })).toBeFocused();
  const send = page.getByRole("button", { name: "Send for meg" });
  await expect(send).toBeDisabled();
  await expect(send).toHaveAccessibleDescription(/allerede sendt 3 forespørsler .* Du kan få sendt en ny fra .+ \(norsk tid\)/);
  // Copying and the mail program still work.
  await expect(page.getByRole("button", { name: "Kopier tekst" })).toBeEnabled();
  await expect(page.getByRole("link", { name: "Åpne i e-postprogrammet" })).toHaveAttribute("href", /^mailto:/);
  await expectAccessible(page);
  await shot("foresporsel-ingen-igjen");

  // Another system of the same location has sends of its own.
  await page.getByRole("button", { name: "Lukk" }).click();
  await page.getByLabel("Bookingsystem").selectOption({ label: "HANO" });
  await page.getByRole("button", { name: "Forespør detaljer" }).click();
  await expect(page.locator("#sends-left")).toContainText("Sendinger igjen: 3.");
  await expect(page.getByRole("button", { name: "Send for meg" })).toBeEnabled();
});

test("offline: ticked and saved, insurers cannot book there", async ({ page, shot }) => {
  const w = await adminWithLocation("offline");
  await openApp(page, w.person);
  await openBookingForm(page, w.locationName);
  await fillPasientsky(page, PASIENTSKY.key);
  const offline = page.getByLabel("Denne lokasjonen er offline");
  await expect(offline).toHaveAccessibleDescription(/Forsikringsselskapene kan ikke booke/);
  await offline.check();
  await page.getByRole("button", { name: "Test og lagre" }).click();
  await expect(page.getByText("Lokasjonen er offline: forsikringsselskapene kan ikke booke her nå.")).toBeVisible();
  await shot("offline");
  await page.getByRole("link", { name: "Tilbake til lokasjonene" }).click();
  await expect(page.getByRole("row", { name: /Majorstuen/ })).toContainText("Offline");
  const stored = await devApi<{ offline: boolean }>(w.person, "GET", `/v1/companies/${w.companyId}/locations/${w.locationId}`);
  expect(stored.body.offline).toBe(true);
});

test("lockout after 5 failed tests, with the time it lifts in Oslo time", async ({ page, shot }) => {
  const w = await adminWithLocation("lockout");
  await openApp(page, w.person);
  await openBookingForm(page, w.locationName);
  await fillPasientsky(page, "wrong-key");
  const test = page.getByRole("button", { name: "Test kobling" });
  for (let left = 4; left >= 0; left--) {
    await test.click();
    await expect(page.locator("#attempts")).toHaveText(`Mislykkede tester igjen før sperre: ${left} av 5.`);
  }
  await test.click();
  const locked = page.getByText(/Testing er sperret til .* kl\.? \d{2}[:.]\d{2}|Testing er sperret til .*\d{2}[:.]\d{2}/);
  await expect(locked).toBeVisible();
  await expect(page.locator("section.result")).toBeFocused();
  await expect(test).toBeDisabled();
  await expect(page.getByRole("button", { name: "Test og lagre" })).toBeDisabled();
  await expect(page.locator("#attempts")).toHaveText("Mislykkede tester igjen før sperre: 0 av 5.");
  // The time shown is an hour after the fifth failure, in Oslo time.
  const expected = new Intl.DateTimeFormat("nb-NO", { timeZone: "Europe/Oslo", hour: "2-digit", minute: "2-digit" });
  const text = (await locked.textContent()) ?? "";
  const inAnHour = [0, 1, 2].map((m) => expected.format(new Date(Date.now() + 3600_000 - m * 60_000)));
  expect(inAnHour.some((hhmm) => text.includes(hhmm)), `${text} names ${inAnHour.join(" or ")}`).toBe(true);
  await expectAccessible(page);
  await shot("sperret");
});

test("English: the switch changes the app and the API's texts", async ({ page, shot }) => {
  const w = await adminWithLocation("english");
  await openApp(page, w.person);
  await page.getByRole("button", { name: "English" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Locations – ${w.companyName}`);
  await page.getByRole("link", { name: w.locationName }).click();
  await page.getByRole("button", { name: "Edit" }).click();
  await expect(page.getByLabel("Booking system").locator("option").first()).toHaveText("Select...");
  await page.getByLabel("Booking system").selectOption({ label: "EG Pasientsky" });
  // The catalog's labels come from the API in English.
  await expect(page.getByLabel("External ID")).toBeVisible();
  await page.getByLabel("External ID").fill(PASIENTSKY.external_id);
  await page.getByLabel("External department ID").fill(PASIENTSKY.external_department_id);
  await page.getByLabel("API key").fill("wrong-key");
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.locator("#bk-api_key-error")).toContainText("did not accept the API key");
  await expect(page.locator("#attempts")).toHaveText("Failed tests left before a lockout: 4 of 5.");
  await expectAccessible(page);
  await shot("english");
  await page.getByRole("button", { name: "Norsk" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "nb");
});

test("version conflict: reload keeps what was typed, except the key", async ({ page, shot }) => {
  const w = await adminWithLocation("conflict");
  await openApp(page, w.person);
  await openBookingForm(page, w.locationName);
  await fillPasientsky(page, PASIENTSKY.key);
  // Someone else edits the location meanwhile.
  const other = await devApi(w.person, "PATCH", `/v1/companies/${w.companyId}/locations/${w.locationId}`, { name: "Majorstuen Fysio", version: 1 });
  expect(other.status).toBe(200);
  await page.getByRole("button", { name: "Test og lagre" }).click();
  await expect(page.getByText("Lokasjonen er endret av noen andre")).toBeVisible();
  await expect(page.locator("section.result")).toBeFocused();
  await shot("konflikt");
  await page.getByRole("button", { name: "Last inn på nytt" }).click();
  await expect(page.getByText("Ny versjon lastet inn")).toBeVisible();
  await expect(page.getByLabel("Ekstern ID")).toHaveValue(PASIENTSKY.external_id);
  await expect(page.getByLabel("Ekstern avdeling ID")).toHaveValue(PASIENTSKY.external_department_id);
  await expect(page.getByLabel("API-nøkkel")).toHaveValue("");
  await page.getByLabel("API-nøkkel").fill(PASIENTSKY.key);
  await page.getByRole("button", { name: "Test og lagre" }).click();
  await expect(page.locator(".report")).toContainText("Lagret.");
  await shot("konflikt-lagret");
});

test("create a location: errors next to their fields", async ({ page, shot }) => {
  const w = await adminWithLocation("create");
  await openApp(page, w.person);
  await page.getByLabel("Navn").fill("Grünerløkka");
  await page.getByLabel("Gateadresse").fill("Thorvald Meyers gate 30");
  await page.getByLabel("Postnummer").fill("55");
  await page.getByLabel("Poststed").fill("Oslo");
  await page.getByLabel("Telefon").fill("12");
  await page.getByLabel("E-post").fill("ikke-en-adresse");
  await page.getByRole("button", { name: "Legg til" }).click();
  await expect(page.getByLabel("Postnummer")).toBeFocused();
  await expect(page.getByLabel("Postnummer")).toHaveAccessibleDescription(/fire sifre/);
  await expect(page.getByLabel("Telefon")).toHaveAccessibleDescription(/8–15 sifre/);
  await expect(page.getByLabel("E-post")).toHaveAccessibleDescription(/Ugyldig e-postadresse/);
  await expectAccessible(page);
  await shot("ny-lokasjon-feil");
  await page.getByLabel("Postnummer").fill("0555");
  await page.getByLabel("Telefon").fill("+47 22 00 00 02");
  await page.getByLabel("E-post").fill("0555@fysio-demo.no");
  await page.getByRole("button", { name: "Legg til" }).click();
  await expect(page.getByText("Lokasjonen Grünerløkka er lagt til.").first()).toBeVisible();
  await expect(page.getByRole("row", { name: /Grünerløkka/ })).toContainText("Ikke satt opp");
  await shot("ny-lokasjon");
});

test("keyboard only: from the location to Suksess without a pointer", async ({ page, shot }) => {
  const w = await adminWithLocation("keyboard");
  await openApp(page, w.person, `#/firma/${w.companyId}/lokasjon/${w.locationId}`);
  await expect(page.getByRole("heading", { level: 1, name: w.locationName })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Endre" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Bookingsystem")).toBeFocused();
  await page.keyboard.type("EG Pasientsky");
  await expect(page.getByLabel("Bookingsystem")).toHaveValue("pasientsky");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Forespør detaljer" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Ekstern ID")).toBeFocused();
  await page.keyboard.type(PASIENTSKY.external_id);
  await page.keyboard.press("Tab");
  await page.keyboard.type(PASIENTSKY.external_department_id);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("API-nøkkel")).toBeFocused();
  await page.keyboard.type(PASIENTSKY.key);
  // Enter in the form is "Test kobling".
  await page.keyboard.press("Enter");
  await expect(page.locator(".report .verdict")).toHaveText("Suksess");
  await expect(page.locator("section.result")).toBeFocused();
  await shot("tastatur");
});
