import { render } from "preact";
import "./styles.css";
import { loadConfig } from "./config";
import { Auth } from "./auth";
import { App } from "./app";
import { savedLang, translate } from "./i18n";

const INVITATION_KEY = "bookinglink.invitation";

/**
 * An invitation link (`?invitation=<id>&token=<token>`) is kept in this tab's sessionStorage
 * through the sign-in and taken out of the address bar at once, so the token is never sent
 * onwards in a Referer or left in the history.
 */
function keepInvitation(): void {
  const params = new URLSearchParams(window.location.search);
  const id = params.get("invitation");
  const token = params.get("token");
  if (id && token) {
    sessionStorage.setItem(INVITATION_KEY, JSON.stringify({ id, token }));
    window.history.replaceState(null, "", `/${window.location.hash}`);
  }
}

export function takeInvitation(): { id: string; token: string } | null {
  const raw = sessionStorage.getItem(INVITATION_KEY);
  if (!raw) return null;
  sessionStorage.removeItem(INVITATION_KEY);
  return JSON.parse(raw) as { id: string; token: string };
}

function status(text: string): void {
  const root = document.getElementById("app");
  if (root) root.innerHTML = `<main id="main"><p role="status"></p></main>`;
  root?.querySelector("p")?.append(text);
}

async function start(): Promise<void> {
  const lang = savedLang();
  document.documentElement.lang = lang;
  keepInvitation();
  const config = await loadConfig();
  const auth = new Auth(config);
  await auth.handleCallback();
  const user = await auth.user();
  if (!user) {
    status(translate(lang, "signingIn"));
    await auth.signIn(window.location.hash);
    return;
  }
  const root = document.getElementById("app");
  if (root) {
    root.innerHTML = "";
    render(<App auth={auth} apiUrl={config.apiUrl} user={user} initialLang={lang} />, root);
  }
}

start().catch((e: unknown) => {
  console.error(e);
  status(translate(savedLang(), "networkError"));
});
