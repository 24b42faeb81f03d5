import { useEffect, useRef, useState } from "preact/hooks";
import { useApp } from "../app";
import { ok, type BookingSystem, type Location, type SentDetailsRequest } from "../api/client";
import { osloTime } from "../i18n";
import { Alert, LoadError, Loading, useErrorText, useLoad } from "../ui";

/**
 * "Forespør detaljer": the pre-written request with the vendor's contact, to copy, to open in
 * the person's own mail program, or to have sent within the API's limits: the sends left come
 * with the text and with each send's answer, and at 0 "Send for meg" is disabled with the reason
 * and the time it lifts.
 */
export function DetailsRequest(props: { companyId: string; location: Location; system: BookingSystem; onClose: () => void }) {
  const { api, t, lang, announce } = useApp();
  const errorText = useErrorText();
  const path = { companyId: props.companyId, locationId: props.location.id };
  const system = props.system.id;
  const prepared = useLoad(
    async () =>
      (await ok(api.GET("/v1/companies/{companyId}/locations/{locationId}/booking/request-details", { params: { path, query: { system } } })))
        .data,
    [system, lang],
  );
  const [sent, setSent] = useState<SentDetailsRequest | null>(null);
  const [sendError, setSendError] = useState<string | null>(null);
  const [copyState, setCopyState] = useState<"copied" | "failed" | null>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const last = props.location.details_requests.find((r) => r.system === system);

  async function copy() {
    if (!prepared.data) return;
    try {
      await navigator.clipboard.writeText(prepared.data.body);
      setCopyState("copied");
      announce(t("copied"));
    } catch {
      setCopyState("failed");
    }
  }

  async function send() {
    setBusy(true);
    setSendError(null);
    try {
      const { data } = await ok(api.POST("/v1/companies/{companyId}/locations/{locationId}/booking/request-details", { params: { path }, body: { system } }));
      setSent(data);
    } catch (err) {
      setSendError(errorText(err));
      // A limit reached meanwhile (another administrator, another tab): show what is left now.
      setSent(null);
      prepared.reload();
    } finally {
      setBusy(false);
    }
  }

  const p = prepared.data;
  // The newest answer says what is left: the send's, else the text's.
  const allowance = sent ?? p;
  const noneLeft = allowance !== undefined && allowance !== null && allowance.sends_remaining === 0;
  const sendsText = !allowance
    ? ""
    : noneLeft && allowance.sends_available_at
      ? t(allowance.send_limit_scope === "administrator" ? "sendsNoneAdministrator" : "sendsNoneLocation", {
          time: osloTime(lang, allowance.sends_available_at),
        })
      : t("sendsLeft", { count: String(allowance.sends_remaining) });
  const mailto = p
    ? `mailto:${encodeURIComponent(p.to)}?${[
        p.cc ? `cc=${encodeURIComponent(p.cc)}` : "",
        `subject=${encodeURIComponent(p.subject)}`,
        `body=${encodeURIComponent(p.body)}`,
      ]
        .filter(Boolean)
        .join("&")}`
    : "";

  return (
    <section id="details-request" class="panel inset" aria-labelledby="details-title">
      <h3 id="details-title" tabIndex={-1} ref={heading}>
        {t("detailsTitle", { vendor: props.system.vendor })}
      </h3>
      {prepared.loading && <Loading />}
      {prepared.error !== undefined && <LoadError error={prepared.error} retry={prepared.reload} />}
      {p && (
        <>
          <p>{t("detailsIntro")}</p>
          <dl class="details">
            <dt>{t("detailsTo")}</dt>
            <dd>
              <a href={`mailto:${p.to}`}>{p.to}</a>
            </dd>
            {p.phone && (
              <>
                <dt>{t("detailsPhone")}</dt>
                <dd>
                  <a href={`tel:${p.phone.replace(/\s/g, "")}`}>{p.phone}</a>
                </dd>
              </>
            )}
            {p.cc && (
              <>
                <dt>{t("detailsCc")}</dt>
                <dd>{p.cc}</dd>
              </>
            )}
            <dt>{t("detailsSubject")}</dt>
            <dd id="details-subject">{p.subject}</dd>
          </dl>
          <label for="details-body">{t("detailsBody")}</label>
          <textarea id="details-body" readOnly rows={12} value={p.body} />
          <div class="actions">
            <button type="button" onClick={() => void copy()}>
              {t("copy")}
            </button>
            <a class="button" href={mailto}>
              {t("openMail")}
            </a>
            <button type="button" class="primary" disabled={busy || noneLeft} aria-describedby="sends-left" onClick={() => void send()}>
              {busy ? t("sending") : t("sendForMe")}
            </button>
          </div>
          <p class="help" id="sends-left">
            {sendsText}
            {last && !sent && <> {t("lastRequested", { time: osloTime(lang, last.requested_at), who: last.requested_by.email ?? last.requested_by.name ?? "–" })}</>}
          </p>
          {copyState === "copied" && <Alert kind="success">{t("copied")}</Alert>}
          {copyState === "failed" && <Alert kind="error">{t("copyFailed")}</Alert>}
          {sent && (
            <Alert kind="success" focus>
              {t("sent", { to: sent.to, cc: sent.cc, time: osloTime(lang, sent.requested_at) })}
            </Alert>
          )}
          {sendError && (
            <Alert kind="error" focus>
              {sendError}
            </Alert>
          )}
        </>
      )}
      <button type="button" onClick={props.onClose}>
        {t("close")}
      </button>
    </section>
  );
}
