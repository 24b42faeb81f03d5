import { useEffect } from "preact/hooks";
import { useApp } from "../app";
import { ok } from "../api/client";
import { href } from "../router";
import { LoadError, Loading, ScreenTitle, useLoad } from "../ui";

/** "Firmaer": the companies the caller administers; straight on when there is only one. */
export function CompaniesScreen() {
  const { api, t } = useApp();
  const companies = useLoad(async () => (await ok(api.GET("/v1/companies", { params: { query: { limit: 100 } } }))).data, []);

  useEffect(() => {
    const items = companies.data?.items;
    if (items?.length === 1 && items[0] && !companies.data?.next_cursor) {
      window.location.replace(href.locations(items[0].id));
    }
  }, [companies.data]);

  return (
    <section aria-labelledby="companies-title">
      <ScreenTitle>
        <span id="companies-title">{t("companies")}</span>
      </ScreenTitle>
      {companies.loading && <Loading />}
      {companies.error !== undefined && <LoadError error={companies.error} retry={companies.reload} />}
      {companies.data && companies.data.items.length === 0 && <p>{t("noCompanies")}</p>}
      {companies.data && companies.data.items.length > 0 && (
        <>
          <p>{t("companiesIntro")}</p>
          <ul class="cards">
            {companies.data.items.map((c) => (
              <li key={c.id}>
                <a href={href.locations(c.id)}>{c.name}</a>
                <span class="muted"> {t("orgNumber", { number: c.org_number })}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
