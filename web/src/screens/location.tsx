import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { useApp } from "../app";
import { ok, type Catalog, type Location } from "../api/client";
import { osloTime } from "../i18n";
import { href } from "../router";
import { Alert, LoadError, Loading, ScreenTitle, useLoad } from "../ui";
import { BookingForm } from "./booking-form";

/** One location: its details, its saved booking setup, and "Endre" for the booking form. */
export function LocationScreen(props: { companyId: string; locationId: string }) {
  const { api, t, lang } = useApp();
  const { companyId, locationId } = props;
  const [editing, setEditing] = useState(false);
  const data = useLoad(async () => {
    const [location, catalog] = await Promise.all([
      ok(api.GET("/v1/companies/{companyId}/locations/{locationId}", { params: { path: { companyId, locationId } } })),
      ok(api.GET("/v1/booking-systems")),
    ]);
    return { location: location.data, catalog: catalog.data };
  }, [companyId, locationId, lang]);

  const setLocation = (location: Location) => data.data && data.set({ ...data.data, location });

  return (
    <>
      <p>
        <a href={href.locations(companyId)}>{t("backToLocations")}</a>
      </p>
      {data.loading && !data.data && <Loading />}
      {data.error !== undefined && <LoadError error={data.error} retry={data.reload} />}
      {data.data && (
        <>
          <ScreenTitle>{data.data.location.name}</ScreenTitle>
          <LocationDetails location={data.data.location} />
          <section aria-labelledby="booking-title" class="panel">
            <h2 id="booking-title">{t("booking")}</h2>
            {data.data.location.offline && <Alert kind="info">{t("offlineNow")}</Alert>}
            <SavedBooking location={data.data.location} catalog={data.data.catalog} />
            {!editing && (
              <button type="button" class="primary" onClick={() => setEditing(true)}>
                {t("edit")}
              </button>
            )}
            {editing && (
              <BookingForm
                key={lang}
                companyId={companyId}
                location={data.data.location}
                catalog={data.data.catalog}
                onSaved={setLocation}
                onClose={() => setEditing(false)}
              />
            )}
          </section>
        </>
      )}
    </>
  );
}

function LocationDetails(props: { location: Location }) {
  const { t } = useApp();
  const l = props.location;
  return (
    <dl class="details">
      <dt>{t("colAddress")}</dt>
      <dd>
        {l.address.street}, {l.address.postal_code} {l.address.city}
      </dd>
      <dt>{t("phone")}</dt>
      <dd>{l.phone}</dd>
      <dt>{t("email")}</dt>
      <dd>{l.email}</dd>
    </dl>
  );
}

/** The saved identifiers shown as they were saved; the key never is. */
const IDENTIFIERS = ["external_id", "external_department_id", "booking_url"] as const;

export function SavedBooking(props: { location: Location; catalog: Catalog }) {
  const { t, lang } = useApp();
  const b = props.location.booking;
  if (!b) return <p>{t("bookingNotConfigured")}</p>;
  const system = props.catalog.systems.find((s) => s.id === b.system);
  const labelOf = (id: string) => system?.fields.find((f) => f.id === id)?.label ?? id;
  return (
    <div class="saved" aria-labelledby="saved-title" role="group">
      <h3 id="saved-title">{t("savedState")}</h3>
      <dl class="details">
        <dt>{t("bookingSystem")}</dt>
        <dd>{system?.name ?? b.system}</dd>
        {IDENTIFIERS.map((id) => {
          const value = b[id];
          return (
            value && (
              <Fragment key={id}>
                <dt>{labelOf(id)}</dt>
                <dd>{value}</dd>
              </Fragment>
            )
          );
        })}
        {b.api_key_stored && (
          <>
            <dt>{labelOf("api_key")}</dt>
            <dd>{t("apiKeyStored")}</dd>
          </>
        )}
      </dl>
      {b.last_check && (
        <p>
          {t("lastCheck", {
            status: t(`check_${b.last_check.status}`),
            time: osloTime(lang, b.last_check.checked_at),
          })}
        </p>
      )}
      {b.saved_at && <p class="muted">{t("savedBy", { time: osloTime(lang, b.saved_at), who: b.saved_by ?? "–" })}</p>}
    </div>
  );
}
