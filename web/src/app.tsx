import { createContext } from "preact";
import { useContext, useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { User } from "oidc-client-ts";
import type { Auth } from "./auth";
import { createApi, type Api } from "./api/client";
import { translate, saveLang, type Lang, type MessageKey } from "./i18n";
import { parseRoute, type Route } from "./router";
import { CompaniesScreen } from "./screens/companies";
import { LocationsScreen } from "./screens/locations";
import { LocationScreen } from "./screens/location";

export interface AppContextValue {
  api: Api;
  lang: Lang;
  t: (key: MessageKey, params?: Record<string, string | number>) => string;
  user: User;
  /** Moves to a route (a hash such as `#/firma/<id>`). */
  go: (hash: string) => void;
  /** Announces a short text to screen readers without moving focus. */
  announce: (text: string) => void;
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

  const ctx: AppContextValue = {
    api,
    lang,
    t: (key, params) => translate(lang, key, params),
    user,
    go: (hash) => {
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
        {route.name === "companies" && <CompaniesScreen key={lang} />}
        {route.name === "locations" && <LocationsScreen key={`${lang}${route.companyId}`} companyId={route.companyId} />}
        {route.name === "location" && (
          <LocationScreen key={`${route.companyId}${route.locationId}`} companyId={route.companyId} locationId={route.locationId} />
        )}
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
