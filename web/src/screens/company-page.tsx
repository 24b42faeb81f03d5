import type { ComponentChildren } from "preact";
import { useApp } from "../app";
import { ok, type Company } from "../api/client";
import { href } from "../router";
import { ScreenTitle, useLoad } from "../ui";

const names = new Map<string, string>();

/** Remembers company names from lists already loaded, so a company's pages need no extra call. */
export function rememberCompanies(companies: Company[]): void {
  for (const c of companies) names.set(c.id, c.name);
}

export type CompanyTab = "locations" | "administrators" | "audit";

/**
 * The frame of a company's pages: the way back, the company's name, and the tabs. Operators
 * see the administrators and the audit trail; locations are the administrators' own.
 */
export function CompanyPage(props: { companyId: string; tab: CompanyTab; children: ComponentChildren }) {
  const { api, t, me } = useApp();
  const { companyId } = props;
  const name = useLoad(async () => {
    const known = names.get(companyId);
    if (known) return known;
    const { data } = await ok(api.GET("/v1/companies", { params: { query: { limit: 100 } } }));
    rememberCompanies(data.items);
    return names.get(companyId) ?? null;
  }, [companyId]);
  const tabs: { id: CompanyTab; label: string; href: string }[] = [
    ...(me.operator ? [] : [{ id: "locations" as const, label: t("locations"), href: href.locations(companyId) }]),
    { id: "administrators", label: t("administrators"), href: href.administrators(companyId) },
    { id: "audit", label: t("audit"), href: href.audit(companyId) },
  ];
  const current = tabs.find((x) => x.id === props.tab)?.label ?? "";
  return (
    <>
      <p>
        <a href={href.companies()}>{t("backToCompanies")}</a>
      </p>
      <ScreenTitle>{name.data ? `${current} – ${name.data}` : current}</ScreenTitle>
      <nav aria-label={t("companyNav")} class="tabs">
        <ul>
          {tabs.map((x) => (
            <li key={x.id}>
              <a href={x.href} aria-current={x.id === props.tab ? "page" : undefined}>
                {x.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {props.children}
    </>
  );
}
