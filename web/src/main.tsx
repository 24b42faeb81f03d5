import { render } from "preact";
import "./styles.css";
import { loadConfig } from "./config";
import { Auth } from "./auth";
import { App } from "./app";
import { savedLang, translate } from "./i18n";
import { keepInvitation } from "./invitation";

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
