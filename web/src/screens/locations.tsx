import { useState } from "preact/hooks";
import { useApp } from "../app";
import { ok, type LocationSummary } from "../api/client";
import { osloTime, type MessageKey } from "../i18n";
import { href } from "../router";
import { Alert, Field, LoadError, Loading, Table, useFormSubmit, useLoad, type FieldErrors } from "../ui";
import { CompanyPage } from "./company-page";

/** "Lokasjoner": the company's locations with their booking state, and a form to add one. */
export function LocationsScreen(props: { companyId: string }) {
  const { api, t } = useApp();
  const { companyId } = props;
  const data = useLoad(async () => {
    const [locations, catalog] = await Promise.all([
      ok(api.GET("/v1/companies/{companyId}/locations", { params: { path: { companyId }, query: { limit: 100 } } })),
      ok(api.GET("/v1/booking-systems")),
    ]);
    return {
      locations: locations.data.items,
      systems: new Map(catalog.data.systems.map((s) => [s.id as string, s.name])),
    };
  }, [companyId]);

  return (
    <CompanyPage companyId={companyId} tab="locations">
      {data.loading && !data.data && <Loading />}
      {data.error !== undefined && <LoadError error={data.error} retry={data.reload} />}
      {data.data && (
        <>
          {data.data.locations.length === 0 ? (
            <p>{t("noLocations")}</p>
          ) : (
            <Table class="locations" caption={t("locations")} columns={[t("colName"), t("colAddress"), t("colSystem"), t("colState")]}>
                {data.data.locations.map((l) => (
                  <tr key={l.id}>
                    <th scope="row">
                      <a href={href.location(companyId, l.id)}>{l.name}</a>
                    </th>
                    <td>
                      {l.address.street}, {l.address.postal_code} {l.address.city}
                    </td>
                    <td>{l.booking.state === "not_configured" ? "–" : (data.data?.systems.get(l.booking.system) ?? l.booking.system)}</td>
                    <td>
                      <BookingState location={l} />
                    </td>
                  </tr>
                ))}
            </Table>
          )}
          <NewLocationForm companyId={companyId} onCreated={data.reload} />
        </>
      )}
    </CompanyPage>
  );
}

export function BookingState(props: { location: LocationSummary }) {
  const { t, lang } = useApp();
  const b = props.location.booking;
  const states: string[] = [];
  if (b.state === "failing" && b.last_checked_at) {
    states.push(t("state_failing_since", { time: osloTime(lang, b.last_checked_at) }));
  } else {
    states.push(t(`state_${b.state}` as MessageKey));
  }
  const kind = b.state === "connected" ? "ok" : b.state === "not_configured" || b.state === "unchecked" ? "none" : "bad";
  return (
    <span class="states">
      <span class={`badge ${kind}`}>{states[0]}</span>
      {props.location.offline && <span class="badge offline">{t("state_offline")}</span>}
    </span>
  );
}

type LocationFieldId = "name" | "street" | "postal_code" | "city" | "phone" | "email";
const FIELD_ORDER: LocationFieldId[] = ["name", "street", "postal_code", "city", "phone", "email"];
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** The API's field paths (`address.postal_code`) to this form's fields. */
function fieldOf(path: string): LocationFieldId | null {
  const last = path.replace(/^address\./, "");
  return (FIELD_ORDER as string[]).includes(last) ? (last as LocationFieldId) : null;
}

function NewLocationForm(props: { companyId: string; onCreated: () => void }) {
  const { api, t, announce } = useApp();
  const empty: Record<LocationFieldId, string> = { name: "", street: "", postal_code: "", city: "", phone: "", email: "" };
  const [values, setValues] = useState(empty);
  const [created, setCreated] = useState<string | null>(null);
  const { form, errors, formError, busy, submit: run } = useFormSubmit(FIELD_ORDER, "loc-", fieldOf);

  const labels: Record<LocationFieldId, string> = {
    name: t("name"),
    street: t("street"),
    postal_code: t("postalCode"),
    city: t("city"),
    phone: t("phone"),
    email: t("email"),
  };
  const max: Record<LocationFieldId, number> = { name: 120, street: 200, postal_code: 4, city: 100, phone: 30, email: 254 };

  /** The same rules as the API's validation, so most mistakes are caught before sending. */
  function validate(v: typeof values) {
    const e: FieldErrors<LocationFieldId> = {};
    for (const f of FIELD_ORDER) {
      if (!v[f].trim()) e[f] = t("err_required", { field: labels[f] });
      else if (v[f].length > max[f]) e[f] = t("err_too_long", { field: labels[f], max: max[f] });
    }
    if (!e.postal_code && !/^[0-9]{4}$/.test(v.postal_code.trim())) e.postal_code = t("err_postal");
    const digits = v.phone.replace(/[\s+]/g, "");
    if (!e.phone && (!/^\+?[0-9 ]+$/.test(v.phone.trim()) || digits.length < 8 || digits.length > 15)) e.phone = t("err_phone");
    if (!e.email && !EMAIL.test(v.email.trim())) e.email = t("err_email");
    return e;
  }

  function submit(ev: Event) {
    ev.preventDefault();
    setCreated(null);
    return run(validate(values), async () => {
      const { data } = await ok(
        api.POST("/v1/companies/{companyId}/locations", {
          params: { path: { companyId: props.companyId } },
          body: {
            name: values.name.trim(),
            address: { street: values.street.trim(), postal_code: values.postal_code.trim(), city: values.city.trim() },
            phone: values.phone.trim(),
            email: values.email.trim(),
          },
        }),
      );
      setValues(empty);
      setCreated(t("created", { name: data.name }));
      announce(t("created", { name: data.name }));
      props.onCreated();
    });
  }

  const set = (f: LocationFieldId) => (v: string) => setValues((old) => ({ ...old, [f]: v }));
  return (
    <section aria-labelledby="new-location-title" class="panel">
      <h2 id="new-location-title">{t("newLocation")}</h2>
      {created && <Alert kind="success">{created}</Alert>}
      {formError && <Alert kind="error" focus>{formError}</Alert>}
      <form ref={form} onSubmit={submit} noValidate>
        <Field id="loc-name" label={labels.name} value={values.name} onInput={set("name")} required error={errors.name} maxLength={120} autoComplete="organization" />
        <Field id="loc-street" label={labels.street} value={values.street} onInput={set("street")} required error={errors.street} maxLength={200} autoComplete="street-address" />
        <div class="row">
          <Field id="loc-postal_code" label={labels.postal_code} value={values.postal_code} onInput={set("postal_code")} required error={errors.postal_code} maxLength={4} inputMode="numeric" autoComplete="postal-code" />
          <Field id="loc-city" label={labels.city} value={values.city} onInput={set("city")} required error={errors.city} maxLength={100} autoComplete="address-level2" />
        </div>
        <Field id="loc-phone" label={labels.phone} value={values.phone} onInput={set("phone")} required error={errors.phone} maxLength={30} type="tel" autoComplete="tel" />
        <Field id="loc-email" label={labels.email} value={values.email} onInput={set("email")} required error={errors.email} maxLength={254} type="email" autoComplete="email" />
        <button type="submit" class="primary" disabled={busy}>
          {t("create")}
        </button>
      </form>
    </section>
  );
}
