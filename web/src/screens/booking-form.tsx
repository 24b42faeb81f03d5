import { useEffect, useRef, useState } from "preact/hooks";
import { useApp } from "../app";
import {
  ApiError,
  ok,
  type BookingField,
  type BookingFieldId,
  type BookingSystemId,
  type Catalog,
  type CheckResult,
  type CheckStep,
  type Location,
} from "../api/client";
import { osloTime, type MessageKey } from "../i18n";
import { Alert, Field, useErrorText } from "../ui";
import { DetailsRequest } from "./details-request";

type Values = Record<BookingFieldId, string>;
const EMPTY: Values = { external_id: "", external_department_id: "", api_key: "", booking_url: "" };
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

interface Report {
  kind: "test" | "save";
  succeeded: boolean;
  message: string;
  steps: CheckStep[];
  saved: boolean;
}

const ATTEMPTS_KEY = "bookinglink.attempts";

/** The attempts left as the API last said, kept for this tab so the number stays in view. */
function rememberAttempts(n: number | undefined): void {
  if (typeof n === "number") sessionStorage.setItem(ATTEMPTS_KEY, String(n));
}
function rememberedAttempts(): number | null {
  const raw = sessionStorage.getItem(ATTEMPTS_KEY);
  return raw === null ? null : Number(raw);
}

/**
 * "Endre": the booking form drawn from the catalog. Only the chosen system's fields appear,
 * with the catalog's label, help, required flag, format and length. A stored key is shown as
 * stored and kept when the field is left empty.
 */
export function BookingForm(props: {
  companyId: string;
  location: Location;
  catalog: Catalog;
  onSaved: (location: Location) => void;
  onClose: () => void;
}) {
  const { api, t, lang, announce } = useApp();
  const errorText = useErrorText();
  const stored = props.location.booking;
  const [location, setLocation] = useState(props.location);
  const [system, setSystem] = useState<BookingSystemId | "">((stored?.system as BookingSystemId | undefined) ?? "");
  const [values, setValues] = useState<Values>({
    ...EMPTY,
    external_id: stored?.external_id ?? "",
    external_department_id: stored?.external_department_id ?? "",
    booking_url: stored?.booking_url ?? "",
  });
  const [offline, setOffline] = useState(props.location.offline);
  const [errors, setErrors] = useState<Partial<Record<BookingFieldId, string>>>({});
  const [atFault, setAtFault] = useState<BookingFieldId | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [attempts, setAttempts] = useState<number | null>(rememberedAttempts);
  const [lockedUntil, setLockedUntil] = useState<string | null>(null);
  const [busy, setBusy] = useState<"test" | "save" | null>(null);
  const [conflict, setConflict] = useState(false);
  const [reloaded, setReloaded] = useState(false);
  const [detailsOpen, setDetailsOpen] = useState(false);
  const [focusResult, setFocusResult] = useState(0);
  const selectRef = useRef<HTMLSelectElement>(null);
  const resultRef = useRef<HTMLElement>(null);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => selectRef.current?.focus(), []);
  useEffect(() => {
    if (focusResult) resultRef.current?.focus();
  }, [focusResult]);

  const chosen = props.catalog.systems.find((s) => s.id === system);
  const keyStored = Boolean(location.booking?.api_key_stored && location.booking.system === system);

  function updateAttempts(n: number | undefined) {
    if (typeof n === "number") {
      setAttempts(n);
      rememberAttempts(n);
    }
  }

  function focusField(id: BookingFieldId) {
    formRef.current?.querySelector<HTMLInputElement>(`#bk-${id}`)?.focus();
  }

  function validate(): Partial<Record<BookingFieldId, string>> {
    const e: Partial<Record<BookingFieldId, string>> = {};
    for (const f of chosen?.fields ?? []) {
      const v = values[f.id].trim();
      const optionalKey = f.id === "api_key" && keyStored;
      if (!v) {
        if (f.required && !optionalKey) e[f.id] = t("err_required", { field: f.label });
        continue;
      }
      if (v.length > f.max_length) e[f.id] = t("err_too_long", { field: f.label, max: f.max_length });
      else if (f.format === "uuid" && !UUID.test(v)) e[f.id] = t("err_uuid", { field: f.label });
      else if (f.format === "https_url" && !/^https:\/\//i.test(v)) e[f.id] = t("err_https", { field: f.label });
    }
    return e;
  }

  /** What the form sends: only the chosen system's fields, empty ones left out. */
  function input() {
    const body: { system: BookingSystemId } & Partial<Record<BookingFieldId, string>> = {
      system: system as BookingSystemId,
    };
    for (const f of chosen?.fields ?? []) {
      const v = f.secret ? values[f.id] : values[f.id].trim();
      if (v) body[f.id] = v;
    }
    return body;
  }

  function showReport(r: Report) {
    setReport(r);
    const failed = r.steps.find((s) => s.status === "failed" && s.field);
    const field = failed?.field ?? null;
    setAtFault(field);
    if (field) {
      // The field at fault takes focus; its message is tied to it, the report is right below.
      window.setTimeout(() => focusField(field), 0);
      announce(r.message);
    } else {
      setFocusResult((n) => n + 1);
    }
  }

  function handleProblem(err: unknown, kind: "test" | "save") {
    if (!(err instanceof ApiError) || !err.problem) {
      setProblem(errorText(err));
      setFocusResult((n) => n + 1);
      return;
    }
    const p = err.problem;
    updateAttempts(p.attempts_remaining);
    if (p.code === "too_many_attempts" && p.retry_at) {
      setLockedUntil(p.retry_at);
      setFocusResult((n) => n + 1);
      return;
    }
    if (p.code === "version_conflict") {
      setConflict(true);
      setFocusResult((n) => n + 1);
      return;
    }
    if (p.code === "connection_test_failed" && p.steps) {
      showReport({ kind, succeeded: false, message: p.detail ?? "", steps: p.steps, saved: false });
      return;
    }
    const fieldErrors: Partial<Record<BookingFieldId, string>> = {};
    for (const fe of err.fieldErrors()) {
      if (fe.field in EMPTY && !fieldErrors[fe.field as BookingFieldId]) fieldErrors[fe.field as BookingFieldId] = fe.message;
    }
    if (Object.keys(fieldErrors).length) {
      setErrors(fieldErrors);
      const first = chosen?.fields.find((f) => fieldErrors[f.id]);
      if (first) focusField(first.id);
      return;
    }
    setProblem(p.detail ?? errorText(err));
    setFocusResult((n) => n + 1);
  }

  async function run(kind: "test" | "save") {
    setReport(null);
    setProblem(null);
    setConflict(false);
    setReloaded(false);
    setAtFault(null);
    const e = validate();
    setErrors(e);
    if (!system) {
      selectRef.current?.focus();
      return;
    }
    const first = chosen?.fields.find((f) => e[f.id]);
    if (first) {
      focusField(first.id);
      return;
    }
    setBusy(kind);
    const path = { companyId: props.companyId, locationId: location.id };
    try {
      if (kind === "test") {
        const { data } = await ok(api.POST("/v1/companies/{companyId}/locations/{locationId}/booking/test", { params: { path }, body: input() }));
        updateAttempts(data.attempts_remaining);
        showReport(reportOf("test", data));
      } else {
        const { data } = await ok(
          api.POST("/v1/companies/{companyId}/locations/{locationId}/booking/save", {
            params: { path },
            body: { ...input(), offline, version: location.version },
          }),
        );
        updateAttempts(data.attempts_remaining);
        setLocation(data.location);
        setOffline(data.location.offline);
        setValues((v) => ({ ...v, api_key: "" }));
        props.onSaved(data.location);
        const check = data.check;
        setReport({
          kind: "save",
          succeeded: true,
          message: t("saved", { system: chosen?.name ?? system }),
          steps: check?.steps ?? [],
          saved: true,
        });
        setFocusResult((n) => n + 1);
      }
    } catch (err) {
      handleProblem(err, kind);
    } finally {
      setBusy(null);
    }
  }

  async function reload() {
    try {
      const { data } = await ok(
        api.GET("/v1/companies/{companyId}/locations/{locationId}", { params: { path: { companyId: props.companyId, locationId: location.id } } }),
      );
      setLocation(data);
      props.onSaved(data);
      // What was typed stays; the key never does.
      setValues((v) => ({ ...v, api_key: "" }));
      setConflict(false);
      setReloaded(true);
      setFocusResult((n) => n + 1);
    } catch (err) {
      setProblem(errorText(err));
    }
  }

  const locked = lockedUntil !== null && Date.parse(lockedUntil) > Date.now();
  const set = (id: BookingFieldId) => (v: string) => {
    setValues((old) => ({ ...old, [id]: v }));
    if (atFault === id) setAtFault(null);
  };

  return (
    <form ref={formRef} class="booking-form" noValidate onSubmit={(e) => { e.preventDefault(); void run("test"); }}>
      <div class="field">
        <label for="bk-system">{t("bookingSystem")}</label>
        <select
          id="bk-system"
          ref={selectRef}
          value={system}
          onChange={(e) => {
            setSystem((e.currentTarget as HTMLSelectElement).value as BookingSystemId | "");
            setReport(null);
            setErrors({});
            setAtFault(null);
            setDetailsOpen(false);
          }}
        >
          <option value="">{t("choose")}</option>
          {props.catalog.systems.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </div>

      {chosen && (
        <>
          <p>
            <button type="button" aria-expanded={detailsOpen} aria-controls="details-request" onClick={() => setDetailsOpen(!detailsOpen)}>
              {t("requestDetails")}
            </button>
          </p>
          {detailsOpen && (
            <DetailsRequest companyId={props.companyId} location={location} system={chosen} onClose={() => setDetailsOpen(false)} />
          )}
          {chosen.fields.map((f) => (
            <BookingInput
              key={`${system}-${f.id}`}
              field={f}
              value={values[f.id]}
              onInput={set(f.id)}
              error={errors[f.id] ?? (atFault === f.id ? failedMessage(report, f.id) : undefined)}
              keyStored={keyStored}
            />
          ))}
        </>
      )}

      <div class="field checkbox">
        <input id="bk-offline" type="checkbox" checked={offline} aria-describedby="bk-offline-help" onChange={(e) => setOffline((e.currentTarget as HTMLInputElement).checked)} />
        <label for="bk-offline">{t("offline")}</label>
        <p class="help" id="bk-offline-help">
          {t("offlineHelp")}
        </p>
      </div>

      <p class="attempts" id="attempts" aria-live="polite">
        {attempts === null ? t("attemptsUnknown") : t("attemptsLeft", { n: attempts })}
      </p>

      <div class="actions">
        <button type="submit" disabled={busy !== null || locked} aria-describedby="attempts">
          {busy === "test" ? t("testing") : t("testConnection")}
        </button>
        <button type="button" class="primary" disabled={busy !== null || locked} aria-describedby="attempts" onClick={() => void run("save")}>
          {busy === "save" ? t("saving") : t("testAndSave")}
        </button>
        <button type="button" onClick={props.onClose}>
          {t("cancel")}
        </button>
      </div>

      <section ref={resultRef} tabIndex={-1} aria-labelledby="result-title" class="result" hidden={!report && !problem && !conflict && !lockedUntil && !reloaded}>
        <h3 id="result-title">{t("result")}</h3>
        {lockedUntil && (
          <Alert kind="error">
            <p>{t("lockedUntil", { time: osloTime(lang, lockedUntil) })}</p>
          </Alert>
        )}
        {conflict && (
          <Alert kind="error">
            <p>
              <strong>{t("conflictTitle")}.</strong> {t("conflictText")}
            </p>
            <button type="button" onClick={() => void reload()}>
              {t("reload")}
            </button>
          </Alert>
        )}
        {reloaded && <Alert kind="info">{t("reloaded")}</Alert>}
        {problem && <Alert kind="error">{problem}</Alert>}
        {report && <ReportView report={report} />}
      </section>
    </form>
  );
}

function failedMessage(report: Report | null, field: BookingFieldId): string | undefined {
  return report?.steps.find((s) => s.status === "failed" && s.field === field)?.message;
}

function reportOf(kind: "test" | "save", r: CheckResult): Report {
  return { kind, succeeded: r.succeeded, message: r.message, steps: r.steps, saved: false };
}

function BookingInput(props: { field: BookingField; value: string; onInput: (v: string) => void; error: string | undefined; keyStored: boolean }) {
  const { t } = useApp();
  const f = props.field;
  const stored = f.id === "api_key" && props.keyStored;
  return (
    <Field
      id={`bk-${f.id}`}
      label={f.label}
      value={props.value}
      onInput={props.onInput}
      required={f.required && !stored}
      help={stored ? `${f.help} ${t("apiKeyStoredHelp")}` : f.help}
      error={props.error}
      maxLength={f.max_length}
      type={f.secret ? "password" : f.format === "https_url" ? "url" : "text"}
      autoComplete="off"
      placeholder={stored ? `${t("apiKeyStored")} ••••••••` : undefined}
      inputMode={f.format === "https_url" ? "url" : "text"}
    />
  );
}

function ReportView(props: { report: Report }) {
  const { t } = useApp();
  const r = props.report;
  const verdict = r.succeeded ? t("success") : t("failure");
  return (
    <div class={`report ${r.succeeded ? "ok" : "bad"}`}>
      <p class="verdict">
        <strong>{verdict}</strong>
      </p>
      {/* A passed test's message is the verdict itself ("Suksess"), and a failed one's is
          usually its failed step's: said once, beside the step, is enough. */}
      {r.message && r.message !== verdict && !r.steps.some((s) => s.message === r.message) && (
        <p>{r.message}</p>
      )}
      {!r.succeeded && r.kind === "save" && <p>{t("notSaved")}</p>}
      {r.steps.length > 0 && (
        <ol class="steps">
          {r.steps.map((s) => (
            <li key={s.step} class={`step ${stepStatus(s)}`}>
              <span class="step-name">{t(`step_${s.step}` as MessageKey)}</span>{" "}
              <span class={`badge ${stepStatus(s)}`}>{t(`status_${stepStatus(s)}` as MessageKey)}</span>
              {s.message && <span class="step-message">{s.message}</span>}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** ok / failed / skipped, and "not verifiable" when the vendor offers no way to check a step. */
function stepStatus(s: CheckStep): string {
  if ((s.status as string) === "not_verifiable" || s.code === "not_verifiable") return "not_verifiable";
  return s.status;
}
