import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { useApp } from "./app";
import { ApiError } from "./api/client";
import { translate, type Lang } from "./i18n";

/** A heading that takes focus when the screen opens, so a screen reader starts there. */
export function ScreenTitle(props: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {props.children}
    </h1>
  );
}

export interface FieldProps {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  required?: boolean;
  help?: string | undefined;
  error?: string | undefined;
  type?: string;
  maxLength?: number | undefined;
  autoComplete?: string;
  inputMode?: "text" | "numeric" | "tel" | "email" | "url";
  placeholder?: string | undefined;
  highlighted?: boolean;
}

/** A labelled input whose help and error are tied to it with aria-describedby. */
export function Field(p: FieldProps) {
  const { t } = useApp();
  const described = [p.error ? `${p.id}-error` : "", p.help ? `${p.id}-help` : ""].filter(Boolean).join(" ");
  return (
    <div class={`field${p.error || p.highlighted ? " invalid" : ""}`}>
      <label for={p.id}>
        {p.label}
        {p.required && <span class="req"> ({t("required")})</span>}
      </label>
      {p.help && (
        <p class="help" id={`${p.id}-help`}>
          {p.help}
        </p>
      )}
      {p.error && (
        <p class="error" id={`${p.id}-error`}>
          {p.error}
        </p>
      )}
      <input
        id={p.id}
        name={p.id}
        type={p.type ?? "text"}
        value={p.value}
        required={p.required}
        maxLength={p.maxLength}
        autoComplete={p.autoComplete}
        inputMode={p.inputMode}
        placeholder={p.placeholder}
        aria-invalid={p.error || p.highlighted ? "true" : undefined}
        aria-describedby={described || undefined}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)}
      />
    </div>
  );
}

/** The text to show for a failed request: the API's own detail, or a network message. */
export function problemText(e: unknown, lang: Lang): string {
  if (e instanceof ApiError && e.problem?.detail) return e.problem.detail;
  return translate(lang, "networkError");
}

export function useErrorText(): (e: unknown) => string {
  const { lang } = useApp();
  return (e) => problemText(e, lang);
}

export function Alert(props: { children: ComponentChildren; kind?: "error" | "success" | "info"; focus?: boolean; id?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (props.focus) ref.current?.focus();
  }, [props.focus]);
  return (
    <div
      ref={ref}
      id={props.id}
      class={`alert ${props.kind ?? "info"}`}
      role={props.kind === "error" ? "alert" : "status"}
      tabIndex={props.focus ? -1 : undefined}
    >
      {props.children}
    </div>
  );
}

/** Loads data when the screen opens (and when `deps` change); `reload` fetches it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, n]);
  return { ...state, reload: () => setN((x) => x + 1), set: (data: T) => setState({ data, loading: false }) };
}

export function Loading() {
  const { t } = useApp();
  return <p role="status">{t("loading")}</p>;
}

export function LoadError(props: { error: unknown; retry: () => void }) {
  const text = useErrorText()(props.error);
  const { t } = useApp();
  return (
    <Alert kind="error">
      <p>{text}</p>
      <button type="button" onClick={props.retry}>
        {t("retry")}
      </button>
    </Alert>
  );
}

/** A table with a caption for screen readers and one header row of column headings. */
export function Table(props: { caption: string; columns: ComponentChildren[]; class?: string; hidden?: boolean; children: ComponentChildren }) {
  return (
    <table class={props.class} hidden={props.hidden}>
      <caption class="sr-only">{props.caption}</caption>
      <thead>
        <tr>
          {props.columns.map((c, i) => (
            <th scope="col" key={i}>
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}

/** A form's panel: its heading, a line of help, and the error that is not about one field. */
export function FormPanel(props: { id: string; title: string; help?: string; error: string | null; children: ComponentChildren }) {
  return (
    <section class="panel" aria-labelledby={props.id}>
      <h2 id={props.id}>{props.title}</h2>
      {props.help && <p class="help">{props.help}</p>}
      {props.error && (
        <Alert kind="error" focus>
          {props.error}
        </Alert>
      )}
      {props.children}
    </section>
  );
}

/**
 * The API's messages for a form's own fields (the first per field), from an answer's problem;
 * `fieldOf` maps the API's field name to the form's, or to nothing for fields it lacks.
 */
export function fieldMessages<F extends string>(err: unknown, fieldOf: (apiField: string) => F | null | undefined): Partial<Record<F, string>> {
  const messages: Partial<Record<F, string>> = {};
  if (err instanceof ApiError) {
    for (const fe of err.fieldErrors()) {
      const f = fieldOf(fe.field);
      if (f && !messages[f]) messages[f] = fe.message;
    }
  }
  return messages;
}

export type FieldErrors<F extends string> = Partial<Record<F, string>>;

/**
 * A form's submit cycle: the app's own checks first, then the request. Field errors, whether
 * the app's or the API's, go under their fields and the first of them (in `order`) takes focus;
 * any other failure becomes the form's message. Inputs are found as `#<idPrefix><field>`.
 */
export function useFormSubmit<F extends string>(order: readonly F[], idPrefix: string, fieldOf: (apiField: string) => F | null | undefined) {
  const errorText = useErrorText();
  const [errors, setErrors] = useState<FieldErrors<F>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  /** Shows the errors; true when there was one. */
  function show(e: FieldErrors<F>): boolean {
    setErrors(e);
    const first = order.find((f) => e[f]);
    if (first) form.current?.querySelector<HTMLElement>(`#${idPrefix}${first}`)?.focus();
    return first !== undefined;
  }

  async function submit(ownErrors: FieldErrors<F>, send: () => Promise<void>) {
    setFormError(null);
    if (show(ownErrors)) return;
    setBusy(true);
    try {
      await send();
    } catch (err) {
      if (!show(fieldMessages(err, fieldOf))) setFormError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return { form, errors, formError, busy, submit };
}
