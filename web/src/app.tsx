import { createContext } from "preact";
import { useContext, useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { User } from "oidc-client-ts";
import type { Auth } from "./auth";
import { createApi, ok, type Api, type Me } from "./api/client";
import { takeInvitation } from "./invitation";
import { translate, saveLang, type Lang, type MessageKey } from "./i18n";
import { parseRoute, type Route } from "./router";
import { CompaniesScreen } from "./screens/companies";
import { LocationsScreen } from "./screens/locations";
import { LocationScreen } from "./screens/location";
import { AdministratorsScreen } from "./screens/administrators";
import { AuditScreen } from "./screens/audit";
import { Alert, LoadError, Loading, problemText } from "./ui";

export interface AppContextValue {
  api: Api;
  lang: Lang;
  t: (key: MessageKey, params?: Record<string, string | number>) => string;
  user: User;
  /** Who the API says the caller is: operator or not, open invitations. */
  me: Me;
  /** Moves to a route (a hash such as `#/firma/<id>`), with a notice to show there. */
  go: (hash: string, notice?: Notice) => void;
  /** Announces a short text to screen readers without moving focus. */
  announce: (text: string) => void;
}

export interface Notice {
  kind: "success" | "error" | "info";
  text: string;
}

const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error("useApp outside <App>");
  return ctx;
}

function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export function App(props: { auth: Auth; apiUrl: string; user: User; initialLang: Lang }) {
  const [lang, setLang] = useState<Lang>(props.initialLang);
  const [user, setUser] = useState<User>(props.user);
  const [expired, setExpired] = useState(false);
  const [announcement, setAnnouncement] = useState("");
  const [me, setMe] = useState<Me | null>(null);
  const [meError, setMeError] = useState<unknown>(undefined);
  const [meLoads, setMeLoads] = useState(0);
  const [notice, setNotice] = useState<(Notice & { hash: string }) | null>(null);
  const route = useHashRoute();
  const langRef = useRef(lang);
  langRef.current = lang;

  const api = useMemo(
    () => createApi(props.apiUrl, { auth: props.auth, lang: () => langRef.current, onSessionExpired: () => setExpired(true) }),
    [props.apiUrl, props.auth],
  );

  useEffect(() => {
    const offExpired = props.auth.onExpired(() => setExpired(true));
    const onLoaded = (u: User) => {
      setUser(u);
      setExpired(false);
    };
    props.auth.manager.events.addUserLoaded(onLoaded);
    return () => {
      offExpired();
      props.auth.manager.events.removeUserLoaded(onLoaded);
    };
  }, [props.auth]);

  useEffect(() => saveLang(lang), [lang]);

  // A notice belongs to the page it was given for; leaving that page drops it.
  useEffect(() => {
    if (notice && notice.hash !== (window.location.hash || "#/")) setNotice(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [route]);

  // Who the caller is, and an invitation link followed before signing in: accepted first, so
  // the new administrator lands in their company.
  useEffect(() => {
    let live = true;
    setMeError(undefined);
    (async () => {
      const invitation = takeInvitation();
      let accepted: (Notice & { hash: string }) | null = null;
      if (invitation) {
        try {
          const { data } = await ok(
            api.POST("/v1/invitations/{invitationId}/accept", { params: { path: { invitationId: invitation.id } }, body: { token: invitation.token } }),
          );
          const text = translate(langRef.current, "invitationAccepted", { company: data.company.name });
          accepted = { kind: "success", text, hash: `#/firma/${data.company.id}` };
        } catch (err) {
          const text = `${translate(langRef.current, "invitationFailed")} ${problemText(err, langRef.current)}`;
          accepted = { kind: "error", text, hash: "#/" };
        }
      }
      const { data } = await ok(api.GET("/v1/me"));
      if (!live) return;
      setMe(data);
      if (accepted) {
        setNotice(accepted);
        window.location.hash = accepted.hash;
      }
    })().catch((err: unknown) => live && setMeError(err));
    return () => {
      live = false;
    };
  }, [api, meLoads]);

  const ctx: AppContextValue = {
    api,
    lang,
    t: (key, params) => translate(lang, key, params),
    user,
    me: me ?? { user_id: user.profile.sub, email: null, email_verified: false, name: null, operator: false, invitations: [] },
    go: (hash, next) => {
      if (next) setNotice({ ...next, hash });
      window.location.hash = hash;
    },
    announce: (text) => {
      setAnnouncement("");
      window.setTimeout(() => setAnnouncement(text), 50);
    },
  };
  const t = ctx.t;
  const name = user.profile.name ?? user.profile.email ?? user.profile.sub;

  return (
    <AppContext.Provider value={ctx}>
      <a class="skip" href="#main" inert={expired} onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>
        {t("skipToContent")}
      </a>
      {/* While the session-expired dialog is open, the page behind it takes no focus or input. */}
      <header class="top" inert={expired}>
        <a class="brand" href="#/">{t("appName")}</a>
        <nav aria-label={t("mainNav")}>
          <a href="#/" aria-current={route.name === "companies" ? "page" : undefined}>{t("companies")}</a>
        </nav>
        <div class="session">
          <span>{t("signedInAs", { name })}</span>
          <button type="button" lang={t("switchLanguageLang")} onClick={() => setLang(lang === "nb" ? "en" : "nb")}>
            {t("switchLanguage")}
          </button>
          <button type="button" onClick={() => void props.auth.signOut()}>{t("signOut")}</button>
        </div>
      </header>
      <main id="main" tabIndex={-1} inert={expired}>
        {notice && notice.hash === (window.location.hash || "#/") && (
          <Alert kind={notice.kind} focus>
            {notice.text}
          </Alert>
        )}
        {!me && meError === undefined && <Loading />}
        {!me && meError !== undefined && <LoadError error={meError} retry={() => setMeLoads((n) => n + 1)} />}
        {me && route.name === "companies" && <CompaniesScreen key={lang} />}
        {me && route.name === "locations" && <LocationsScreen key={`${lang}${route.companyId}`} companyId={route.companyId} />}
        {me && route.name === "location" && (
          <LocationScreen key={`${route.companyId}${route.locationId}`} companyId={route.companyId} locationId={route.locationId} />
        )}
        {me && route.name === "administrators" && <AdministratorsScreen key={route.companyId} companyId={route.companyId} />}
        {me && route.name === "audit" && <AuditScreen key={route.companyId} companyId={route.companyId} />}
        {route.name === "not_found" && <p>{t("notFound")}</p>}
      </main>
      <div class="sr-only" role="status" aria-live="polite">{announcement}</div>
      {expired && <SessionExpired onSignIn={() => void props.auth.signIn(window.location.hash)} />}
    </AppContext.Provider>
  );
}

function SessionExpired(props: { onSignIn: () => void }) {
  const { t } = useApp();
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => button.current?.focus(), []);
  return (
    <div class="backdrop">
      <div role="alertdialog" aria-modal="true" aria-labelledby="expired-title" aria-describedby="expired-text" class="dialog">
        <h2 id="expired-title">{t("sessionExpiredTitle")}</h2>
        <p id="expired-text">{t("sessionExpiredText")}</p>
        <button type="button" class="primary" ref={button} onClick={props.onSignIn}>{t("signInAgain")}</button>
      </div>
    </div>
  );
}
