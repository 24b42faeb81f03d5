import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";
import type { AppConfig } from "./config";

/**
 * Sign-in with the authorization code flow and PKCE (oidc-client-ts). Tokens and the sign-in
 * state live in this tab's sessionStorage only: gone when the tab closes, never shared with
 * other tabs through localStorage. Access tokens are renewed with the refresh token before
 * they expire.
 */
export class Auth {
  readonly manager: UserManager;
  private expiredListeners = new Set<() => void>();
  private readonly bearer: "access" | "id";

  constructor(config: AppConfig) {
    this.bearer = config.bearerToken;
    const origin = window.location.origin;
    const store = new WebStorageStateStore({ store: window.sessionStorage });
    this.manager = new UserManager({
      authority: config.issuer,
      client_id: config.clientId,
      redirect_uri: `${origin}/`,
      post_logout_redirect_uri: `${origin}/`,
      response_type: "code",
      scope: "openid profile email",
      userStore: store,
      stateStore: store,
      automaticSilentRenew: true,
      // Renew a minute before expiry, so a request never leaves with a token about to lapse.
      accessTokenExpiringNotificationTimeInSeconds: 60,
      revokeTokensOnSignout: true,
      loadUserInfo: false,
      monitorSession: false,
    });
    this.manager.events.addAccessTokenExpired(() => this.expiredListeners.forEach((f) => f()));
  }

  /** Completes a sign-in when the issuer sent the browser back here; returns where to go next. */
  async handleCallback(): Promise<string | null> {
    const params = new URLSearchParams(window.location.search);
    if (!params.has("state") || !(params.has("code") || params.has("error"))) return null;
    const user = await this.manager.signinRedirectCallback();
    const state = user.state as { returnTo?: string } | undefined;
    window.history.replaceState(null, "", `/${state?.returnTo ?? ""}`);
    return state?.returnTo ?? "";
  }

  async user(): Promise<User | null> {
    const user = await this.manager.getUser();
    return user && !user.expired ? user : null;
  }

  /** The token the API is called with (the access token, or the ID token where configured). */
  async accessToken(): Promise<string | null> {
    const user = await this.user();
    return (this.bearer === "id" ? user?.id_token : user?.access_token) ?? null;
  }

  /** Tries the refresh token once; null when the session cannot be renewed. */
  async renew(): Promise<string | null> {
    try {
      const user = await this.manager.signinSilent();
      return (this.bearer === "id" ? user?.id_token : user?.access_token) ?? null;
    } catch {
      return null;
    }
  }

  signIn(returnTo: string): Promise<void> {
    return this.manager.signinRedirect({ state: { returnTo } });
  }

  async signOut(): Promise<void> {
    const user = await this.manager.getUser();
    if (!user) {
      await this.manager.removeUser();
      window.location.assign("/");
      return;
    }
    await this.manager.signoutRedirect({ id_token_hint: user.id_token });
  }

  onExpired(listener: () => void): () => void {
    this.expiredListeners.add(listener);
    return () => this.expiredListeners.delete(listener);
  }
}
