import { test as base, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests through scripts/web-e2e`);
  return value;
}

export const urls = {
  app: () => env("APP_URL"),
  frontDoor: () => env("FRONT_DOOR_URL"),
  issuer: () => env("ISSUER_URL"),
  /** `cargo lambda watch` itself: test set-up only, with the development identity headers. */
  watch: () => env("WATCH_URL"),
  moto: () => env("MOTO_URL"),
};

export interface Person {
  sub: string;
  email: string;
  name: string;
  groups?: string[];
}

export const DEMO_ADMIN: Person = { sub: "demo-admin", email: "admin@fysio-demo.no", name: "Demo Administrator" };
export const DEMO_OPERATOR: Person = { sub: "demo-operator", email: "drift@bookinglink.no", name: "Demo Operatør", groups: ["bookinglink-operators"] };

/** A person no other test uses, so tests run in parallel without sharing a lockout or data. */
export function newPerson(label: string): Person {
  const id = randomBytes(4).toString("hex");
  return { sub: `e2e-${label}-${id}`, email: `${label}-${id}@e2e.fysio-demo.no`, name: `E2E ${label} ${id}` };
}

/** A valid Norwegian organisation number (MOD11 check digit) no other test has. */
export function orgNumber(): string {
  const weights = [3, 2, 7, 6, 5, 4, 3, 2];
  for (;;) {
    const digits = [9, ...Array.from(randomBytes(7), (b) => b % 10)];
    const sum = digits.reduce((acc, d, i) => acc + d * (weights[i] ?? 0), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return [...digits, check === 11 ? 0 : check].join("");
  }
}

/** Set-up through the API with development headers, straight to watch (never the browser's path). */
export async function devApi<T = unknown>(person: Person, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${urls.watch()}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      "x-dev-user": person.sub,
      "x-dev-email": person.email,
      // Header values travel as Latin-1 from fetch, which watch refuses unless they are ASCII.
      ...(/^[\x20-\x7e]*$/.test(person.name) ? { "x-dev-name": person.name } : {}),
      ...(person.groups?.length ? { "x-dev-groups": person.groups.join(",") } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export interface Workspace {
  person: Person;
  companyId: string;
  companyName: string;
  locationId: string;
  locationName: string;
}

/** The invitation link in the newest mail to `email`, as the emulator's SES holds it. */
export async function invitationLink(email: string): Promise<URL> {
  const mail = (await sentMail()).filter((m) => m.destinations.ToAddresses.includes(email)).pop();
  expect(mail, `an invitation mail to ${email}`).toBeTruthy();
  const link = /https?:\/\/\S+invitation=[^\s&]+&token=[^\s&>"]+/.exec(mail?.body ?? "");
  expect(link, "the mail carries the link").toBeTruthy();
  return new URL(link?.[0] ?? "");
}

/** A company `person` administers: an operator registers it, invites `person`, who accepts with the mail's token. */
export async function companyAdministeredBy(person: Person, companyName: string): Promise<string> {
  const body = { name: companyName, org_number: orgNumber(), invoice_email: person.email };
  const company = await devApi<{ id: string }>(DEMO_OPERATOR, "POST", "/v1/companies", body);
  if (company.status === 409) {
    // The org number is this test's own, so a 409 means the registration ran twice: on a loaded
    // machine the AWS SDK retries a slow call and moto, unlike DynamoDB (which honours the
    // transaction's idempotency token), executes it again. The first run's company is the one.
    const found = await devApi<{ items: { id: string; org_number: string }[] }>(DEMO_OPERATOR, "GET", `/v1/companies?q=${body.org_number}`);
    const registered = found.body.items.find((c) => c.org_number === body.org_number);
    expect(registered, JSON.stringify(company.body)).toBeTruthy();
    company.status = 201;
    company.body = { id: registered?.id ?? "" };
  }
  expect(company.status, JSON.stringify(company.body)).toBe(201);
  const invitation = await devApi<{ id: string }>(DEMO_OPERATOR, "POST", `/v1/companies/${company.body.id}/invitations`, { email: person.email });
  expect(invitation.status, JSON.stringify(invitation.body)).toBe(201);
  const link = await invitationLink(person.email);
  expect(link.searchParams.get("invitation")).toBe(invitation.body.id);
  const accepted = await devApi(person, "POST", `/v1/invitations/${invitation.body.id}/accept`, { token: link.searchParams.get("token") });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
  return company.body.id;
}

/** A person who administers a company of their own with one location. */
export async function adminWithLocation(label: string, locationName = "Majorstuen"): Promise<Workspace> {
  const person = newPerson(label);
  const companyName = `E2E ${label} AS`;
  const companyId = await companyAdministeredBy(person, companyName);
  const location = await devApi<{ id: string }>(person, "POST", `/v1/companies/${companyId}/locations`, {
    name: locationName,
    address: { street: "Kirkeveien 64", postal_code: "0364", city: "Oslo" },
    phone: "+47 22 00 00 01",
    email: "majorstuen@fysio-demo.no",
  });
  expect(location.status, JSON.stringify(location.body)).toBe(201);
  return { person, companyId, companyName, locationId: location.body.id, locationName };
}

export interface SignInOptions {
  ttl?: number;
  renew?: boolean;
}

/** Signs in on the local issuer's page as a demo user or as any person. */
export async function signInOnIssuer(page: Page, person: Person, opts: SignInOptions = {}): Promise<void> {
  await expect(page).toHaveURL(new RegExp(`^${urls.issuer()}/authorize`));
  if (opts.ttl) await page.getByLabel("Innloggingen varer").selectOption(String(opts.ttl));
  if (opts.renew === false) await page.getByLabel("Uten fornyelse").check();
  const demo = ["demo-admin", "demo-operator", "demo-invitee"].includes(person.sub);
  if (demo) {
    await page.getByRole("button", { name: person.name }).click();
  } else {
    await page.getByLabel("Subjekt (sub)").fill(person.sub);
    await page.getByLabel("E-post").fill(person.email);
    await page.getByLabel("Navn", { exact: true }).fill(person.name);
    if (person.groups?.length) await page.getByLabel("Grupper").fill(person.groups.join(","));
    await page.getByRole("button", { name: "Logg inn som denne brukeren" }).click();
  }
  await expect(page.getByRole("banner")).toContainText(person.name);
}

/** Opens the app at a hash route and signs in. */
export async function openApp(page: Page, person: Person, hash = "#/", opts: SignInOptions = {}): Promise<void> {
  await page.goto(`/${hash}`);
  await signInOnIssuer(page, person, opts);
}

/** WCAG 2.1 A and AA, as axe-core checks them, on what the page shows now. */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

export const test = base.extend<{ shot: (name: string) => Promise<void> }>({
  shot: async ({ page }, use, info) => {
    let n = 0;
    const dir = `${process.env["E2E_OUTPUT"] ?? "../.run/e2e"}/screenshots`;
    mkdirSync(dir, { recursive: true });
    const slug = info.title.toLowerCase().replace(/[^a-z0-9æøå]+/g, "-").replace(/^-|-$/g, "");
    await use(async (name: string) => {
      n += 1;
      await page.screenshot({ path: `${dir}/${slug}-${String(n).padStart(2, "0")}-${name}.png`, fullPage: true });
    });
  },
});

export { expect };

/** Sent mail as the emulator's SES recorded it (moto's model data). */
export interface SentMail {
  id: string;
  source: string;
  destinations: { ToAddresses: string[]; CcAddresses?: string[] };
  subject: string;
  body: string;
}

export async function sentMail(): Promise<SentMail[]> {
  const res = await fetch(`${urls.moto()}/moto-api/data.json`);
  const data = (await res.json()) as { ses?: { Message?: SentMail[] } };
  return data.ses?.Message ?? [];
}
