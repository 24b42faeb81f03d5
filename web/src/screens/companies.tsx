import { useEffect, useState } from "preact/hooks";
import { useApp } from "../app";
import { ok } from "../api/client";
import { href } from "../router";
import { Alert, Field, FormPanel, LoadError, Loading, ScreenTitle, useFormSubmit, useLoad, type FieldErrors } from "../ui";
import { rememberCompanies } from "./company-page";

/**
 * "Firmaer": the companies the caller administers, straight on when there is only one. An
 * operator sees every company, searches them, and registers new ones.
 */
export function CompaniesScreen() {
  const { api, t, me } = useApp();
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState("");
  const companies = useLoad(async () => {
    const { data } = await ok(api.GET("/v1/companies", { params: { query: { limit: 100, ...(search ? { q: search } : {}) } } }));
    rememberCompanies(data.items);
    return data;
  }, [search]);

  useEffect(() => {
    const items = companies.data?.items;
    if (!me.operator && items?.length === 1 && items[0] && !companies.data?.next_cursor) {
      window.location.replace(href.locations(items[0].id));
    }
  }, [companies.data]);

  const target = (id: string) => (me.operator ? href.administrators(id) : href.locations(id));
  return (
    <section aria-labelledby="companies-title">
      <ScreenTitle>
        <span id="companies-title">{t("companies")}</span>
      </ScreenTitle>
      {me.operator && <p>{t("operatorNote")}</p>}
      {me.invitations.map((i) => (
        <Alert key={i.id} kind="info">
          {t("openInvitations", { company: i.company_name, who: i.invited_by })}
        </Alert>
      ))}
      {me.operator && (
        <form
          role="search"
          class="search"
          onSubmit={(e) => {
            e.preventDefault();
            setSearch(query.trim());
          }}
        >
          <Field id="company-search" label={t("searchCompanies")} help={t("searchHelp")} value={query} onInput={setQuery} type="search" maxLength={120} />
          <button type="submit">{t("search")}</button>
        </form>
      )}
      {companies.loading && !companies.data && <Loading />}
      {companies.error !== undefined && <LoadError error={companies.error} retry={companies.reload} />}
      {companies.data && companies.data.items.length === 0 && <p>{search ? t("noMatches") : t("noCompanies")}</p>}
      {companies.data && companies.data.items.length > 0 && (
        <>
          {!me.operator && <p>{t("companiesIntro")}</p>}
          <ul class="cards">
            {companies.data.items.map((c) => (
              <li key={c.id}>
                <a href={target(c.id)}>{c.name}</a>
                <span class="muted"> {t("orgNumber", { number: c.org_number })}</span>
              </li>
            ))}
          </ul>
        </>
      )}
      {me.operator && <RegisterCompany />}
    </section>
  );
}

type CompanyField = "name" | "org_number" | "invoice_email";
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Norwegian organisation numbers: nine digits, the last a MOD11 check digit. */
export function validOrgNumber(raw: string): boolean {
  const digits = raw.replace(/\s/g, "");
  if (!/^[0-9]{9}$/.test(digits)) return false;
  const weights = [3, 2, 7, 6, 5, 4, 3, 2];
  const sum = weights.reduce((acc, w, i) => acc + w * Number(digits[i]), 0);
  const check = 11 - (sum % 11);
  return check !== 10 && (check === 11 ? 0 : check) === Number(digits[8]);
}

function RegisterCompany() {
  const { api, t, go } = useApp();
  const [values, setValues] = useState<Record<CompanyField, string>>({ name: "", org_number: "", invoice_email: "" });
  const order: CompanyField[] = ["name", "org_number", "invoice_email"];
  const { form, errors, formError, busy, submit: run } = useFormSubmit(order, "co-", (f) => order.find((o) => o === f));

  function submit(ev: Event) {
    ev.preventDefault();
    const e: FieldErrors<CompanyField> = {};
    if (!values.name.trim()) e.name = t("err_required", { field: t("companyName") });
    if (!validOrgNumber(values.org_number)) e.org_number = t("err_org");
    if (values.invoice_email.trim() && !EMAIL.test(values.invoice_email.trim())) e.invoice_email = t("err_email");
    return run(e, async () => {
      const { data } = await ok(
        api.POST("/v1/companies", {
          body: {
            name: values.name.trim(),
            org_number: values.org_number.replace(/\s/g, ""),
            invoice_email: values.invoice_email.trim() || null,
          },
        }),
      );
      rememberCompanies([data]);
      go(href.administrators(data.id), { kind: "success", text: t("companyRegistered", { name: data.name }) });
    });
  }

  const set = (f: CompanyField) => (v: string) => setValues((old) => ({ ...old, [f]: v }));
  return (
    <FormPanel id="register-title" title={t("registerCompany")} help={t("registerHelp")} error={formError}>
      <form ref={form} onSubmit={submit} noValidate>
        <Field id="co-name" label={t("companyName")} value={values.name} onInput={set("name")} required error={errors.name} maxLength={120} autoComplete="organization" />
        <Field id="co-org_number" label={t("orgNumberLabel")} help={t("orgNumberHelp")} value={values.org_number} onInput={set("org_number")} required error={errors.org_number} maxLength={20} inputMode="numeric" />
        <Field id="co-invoice_email" label={t("invoiceEmail")} value={values.invoice_email} onInput={set("invoice_email")} error={errors.invoice_email} maxLength={254} type="email" />
        <button type="submit" class="primary" disabled={busy}>
          {t("register")}
        </button>
      </form>
    </FormPanel>
  );
}
