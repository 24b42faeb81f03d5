/** Written at deploy time from the stack's outputs (infra/README.md), served next to the app. */
export interface AppConfig {
  /** The HTTP API's base URL, without a trailing slash. */
  apiUrl: string;
  /** The OpenID Connect issuer (the tokens' `iss`). */
  issuer: string;
  clientId: string;
  /**
   * Which token the API gets as the bearer: `access` (default), or `id` where access tokens
   * carry no `email`/`email_verified` (Cognito without a pre-token-generation trigger).
   */
  bearerToken: "access" | "id";
}

export async function loadConfig(): Promise<AppConfig> {
  const res = await fetch("/config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`config.json: ${res.status}`);
  const raw = (await res.json()) as Partial<AppConfig>;
  if (!raw.apiUrl || !raw.issuer || !raw.clientId) throw new Error("config.json is incomplete");
  return {
    apiUrl: raw.apiUrl.replace(/\/$/, ""),
    issuer: raw.issuer,
    clientId: raw.clientId,
    bearerToken: raw.bearerToken === "id" ? "id" : "access",
  };
}
