import { useState } from "preact/hooks";
import { useApp } from "../app";
import { ok, type Administrator, type Invitation } from "../api/client";
import { osloTime, type Lang } from "../i18n";
import { Alert, Field, FormPanel, LoadError, Loading, Table, useErrorText, useFormSubmit, useLoad } from "../ui";
import { CompanyPage } from "./company-page";

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * The company's administrators and open invitations: invite (administrators and operators),
 * revoke an invitation, remove an administrator (never the last, unless an operator), and for
 * operators, lift an administrator's lockout.
 */
export function AdministratorsScreen(props: { companyId: string }) {
  const { api, t, lang, me, announce } = useApp();
  const errorText = useErrorText();
  const { companyId } = props;
  const list = useLoad(
    async () => (await ok(api.GET("/v1/companies/{companyId}/administrators", { params: { path: { companyId } } }))).data,
    [companyId, lang],
  );
  const [notice, setNotice] = useState<{ kind: "success" | "error"; text: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);

  function done(text: string) {
    setNotice({ kind: "success", text });
    announce(text);
    list.reload();
  }
  function failed(err: unknown) {
    setNotice({ kind: "error", text: errorText(err) });
  }

  async function remove(a: Administrator) {
    setConfirming(null);
    try {
      await ok(api.DELETE("/v1/companies/{companyId}/administrators/{userId}", { params: { path: { companyId, userId: a.user_id } } }));
      done(t("adminRemoved", { who: a.email ?? a.user_id }));
    } catch (err) {
      failed(err);
    }
  }

  async function revoke(i: Invitation) {
    try {
      await ok(api.DELETE("/v1/companies/{companyId}/invitations/{invitationId}", { params: { path: { companyId, invitationId: i.id } } }));
      done(t("invitationRevoked", { email: i.email }));
    } catch (err) {
      failed(err);
    }
  }

  async function liftLockout(a: Administrator) {
    try {
      await ok(api.DELETE("/v1/administrators/{userId}/lockout", { params: { path: { userId: a.user_id } } }));
      setNotice({ kind: "success", text: t("lockoutLifted", { who: a.email ?? a.user_id }) });
    } catch (err) {
      failed(err);
    }
  }

  return (
    <CompanyPage companyId={companyId} tab="administrators">
      {notice && (
        <Alert kind={notice.kind} focus>
          {notice.text}
        </Alert>
      )}
      {list.loading && !list.data && <Loading />}
      {list.error !== undefined && <LoadError error={list.error} retry={list.reload} />}
      {list.data && (
        <>
          {list.data.administrators.length === 0 && <p>{t("noAdministrators")}</p>}
          <Table
            caption={t("administrators")}
            hidden={list.data.administrators.length === 0}
            columns={[t("colName"), t("email"), t("since"), t("invitedBy"), <span class="sr-only">{t("actions")}</span>]}
          >
              {list.data.administrators.map((a) => (
                <tr key={a.user_id}>
                  <th scope="row">
                    {a.name ?? a.user_id}
                    {a.user_id === me.user_id && <span class="muted"> ({t("you")})</span>}
                  </th>
                  <td>{a.email ?? "–"}</td>
                  <td>{osloTime(lang, a.since)}</td>
                  <td>{a.invited_by ?? "–"}</td>
                  <td class="row-actions">
                    {confirming === a.user_id ? (
                      <span role="group" aria-label={t("confirmRemove", { who: a.email ?? a.user_id })}>
                        <span>{t("confirmRemove", { who: a.email ?? a.user_id })} </span>
                        <button type="button" class="danger" onClick={() => void remove(a)}>
                          {t("yesRemove")}
                        </button>{" "}
                        <button type="button" onClick={() => setConfirming(null)}>
                          {t("cancel")}
                        </button>
                      </span>
                    ) : (
                      <button type="button" aria-label={`${t("remove")} ${a.email ?? a.user_id}`} onClick={() => setConfirming(a.user_id)}>
                        {t("remove")}
                      </button>
                    )}
                    {me.operator && (
                      <button type="button" aria-label={`${t("liftLockout")} ${a.email ?? a.user_id}`} onClick={() => void liftLockout(a)}>
                        {t("liftLockout")}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
          </Table>
          <h2>{t("pendingInvitations")}</h2>
          {list.data.invitations.length === 0 ? (
            <p>{t("noInvitations")}</p>
          ) : (
            <ul class="cards">
              {list.data.invitations.map((i) => (
                <li key={i.id}>
                  <strong>{i.email}</strong>{" "}
                  <span class="muted">{t("invitationMeta", { who: i.invited_by, until: osloTime(lang, i.expires_at) })}</span>{" "}
                  <button type="button" aria-label={`${t("revoke")} ${i.email}`} onClick={() => void revoke(i)}>
                    {t("revoke")}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <InviteForm companyId={companyId} onInvited={done} />
        </>
      )}
    </CompanyPage>
  );
}

function InviteForm(props: { companyId: string; onInvited: (text: string) => void }) {
  const { api, t, lang } = useApp();
  const [email, setEmail] = useState("");
  const [mailLang, setMailLang] = useState<Lang>(lang);
  const { form, errors, formError, busy, submit: run } = useFormSubmit(["email"] as const, "invite-", (f) => (f === "email" ? "email" : null));

  function submit(ev: Event) {
    ev.preventDefault();
    return run(EMAIL.test(email.trim()) ? {} : { email: t("err_email") }, async () => {
      const { data } = await ok(
        api.POST("/v1/companies/{companyId}/invitations", {
          params: { path: { companyId: props.companyId } },
          body: { email: email.trim(), language: mailLang },
        }),
      );
      setEmail("");
      props.onInvited(t("invited", { email: data.email, until: osloTime(lang, data.expires_at) }));
    });
  }

  return (
    <FormPanel id="invite-title" title={t("inviteAdmin")} help={t("inviteHelp")} error={formError}>
      <form ref={form} onSubmit={submit} noValidate>
        <Field id="invite-email" label={t("email")} value={email} onInput={setEmail} required error={errors.email} type="email" maxLength={254} autoComplete="email" />
        <div class="field">
          <label for="invite-lang">{t("mailLanguage")}</label>
          <select id="invite-lang" value={mailLang} onChange={(e) => setMailLang((e.currentTarget as HTMLSelectElement).value as Lang)}>
            <option value="nb">Norsk</option>
            <option value="en">English</option>
          </select>
        </div>
        <button type="submit" class="primary" disabled={busy}>
          {t("sendInvitation")}
        </button>
      </form>
    </FormPanel>
  );
}
