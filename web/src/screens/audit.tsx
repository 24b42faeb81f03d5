import { useState } from "preact/hooks";
import { useApp } from "../app";
import { ok, type AuditEntry } from "../api/client";
import { osloTime, type MessageKey } from "../i18n";
import { Alert, LoadError, Loading, Table, useErrorText, useLoad } from "../ui";
import { CompanyPage } from "./company-page";

/** "Endringslogg": every change in the company, newest first, a page at a time. */
export function AuditScreen(props: { companyId: string }) {
  const { api, t, lang } = useApp();
  const errorText = useErrorText();
  const { companyId } = props;
  const first = useLoad(
    async () => (await ok(api.GET("/v1/companies/{companyId}/audit", { params: { path: { companyId }, query: { limit: 25 } } }))).data,
    [companyId, lang],
  );
  const [more, setMore] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const next = cursor === undefined ? first.data?.next_cursor : cursor;

  async function loadMore() {
    if (!next) return;
    try {
      const { data } = await ok(api.GET("/v1/companies/{companyId}/audit", { params: { path: { companyId }, query: { limit: 25, cursor: next } } }));
      setMore((m) => [...m, ...data.items]);
      setCursor(data.next_cursor);
    } catch (err) {
      setError(errorText(err));
    }
  }

  const entries = [...(first.data?.items ?? []), ...more];
  return (
    <CompanyPage companyId={companyId} tab="audit">
      {first.loading && !first.data && <Loading />}
      {first.error !== undefined && <LoadError error={first.error} retry={first.reload} />}
      {first.data && entries.length === 0 && <p>{t("auditEmpty")}</p>}
      {entries.length > 0 && (
        <Table class="audit" caption={t("audit")} columns={[t("when"), t("who"), t("what"), t("detailsCol")]}>
            {entries.map((e) => (
              <tr key={e.id}>
                <td>{osloTime(lang, e.at)}</td>
                <td>{e.actor.email ?? e.actor.user_id}</td>
                <th scope="row">{t(`action_${e.action}` as MessageKey)}</th>
                <td>
                  <AuditDetails details={e.details} />
                </td>
              </tr>
            ))}
        </Table>
      )}
      {error && <Alert kind="error">{error}</Alert>}
      {next && (
        <button type="button" onClick={() => void loadMore()}>
          {t("showMore")}
        </button>
      )}
    </CompanyPage>
  );
}

/** What changed, as the API recorded it (never a key or a token). */
function AuditDetails(props: { details: Record<string, unknown> }) {
  const entries = Object.entries(props.details).filter(([, v]) => v !== null && v !== undefined && typeof v !== "object");
  if (entries.length === 0) return <span>–</span>;
  return (
    <dl class="details compact">
      {entries.map(([k, v]) => (
        <>
          <dt key={`${k}-k`}>{k}</dt>
          <dd key={`${k}-v`}>{String(v)}</dd>
        </>
      ))}
    </dl>
  );
}
