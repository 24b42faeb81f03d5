import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import type { Auth } from "../auth";
import type { Lang } from "../i18n";

export type Schemas = components["schemas"];
export type Company = Schemas["Company"];
export type Location = Schemas["Location"];
export type LocationSummary = Schemas["LocationSummary"];
export type Catalog = Schemas["Catalog"];
export type BookingSystem = Catalog["systems"][number];
export type BookingField = BookingSystem["fields"][number];
export type BookingFieldId = Schemas["BookingFieldId"];
export type BookingSystemId = Schemas["BookingSystemId"];
export type CheckResult = Schemas["CheckResult"];
export type CheckStep = Schemas["CheckStep"];
export type Problem = Schemas["Problem"];
export type BookingProblem = Schemas["BookingProblem"];
export type FieldError = Schemas["FieldError"];
export type PreparedDetailsRequest = Schemas["PreparedDetailsRequest"];
export type SentDetailsRequest = Schemas["SentDetailsRequest"];
export type Me = Schemas["Me"];
export type Administrator = Schemas["Administrator"];
export type Invitation = Schemas["Invitation"];
export type AuditEntry = Schemas["AuditEntry"];

/** What the app needs to know about an answer that was not a success. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<BookingProblem> | null,
  ) {
    super(problem?.detail ?? `HTTP ${status}`);
  }
  fieldErrors(): FieldError[] {
    return this.problem?.errors ?? [];
  }
}

export interface ApiContext {
  auth: Auth;
  lang: () => Lang;
  /** Called when the session is over (401 even after a renewal). */
  onSessionExpired: () => void;
}

/**
 * A typed client of infra/openapi.yaml (openapi-fetch over the generated `paths`): every path,
 * parameter and body is checked by the compiler against the document. Every request carries
 * the bearer token and the chosen language; a 401 is retried once after renewing the token.
 */
export function createApi(baseUrl: string, ctx: ApiContext) {
  const send = async (request: Request): Promise<Response> => {
    const attempt = async (token: string | null) => {
      const r = request.clone();
      if (token) r.headers.set("Authorization", `Bearer ${token}`);
      r.headers.set("Accept-Language", ctx.lang());
      return fetch(r);
    };
    let res = await attempt(await ctx.auth.accessToken());
    if (res.status === 401) {
      const renewed = await ctx.auth.renew();
      if (renewed) res = await attempt(renewed);
      if (res.status === 401) ctx.onSessionExpired();
    }
    return res;
  };
  return createClient<paths>({ baseUrl, fetch: send });
}

export type Api = ReturnType<typeof createApi>;

/**
 * Unwraps an openapi-fetch answer: the data, or an ApiError with the problem document.
 */
export async function ok<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<{ data: T; response: Response }> {
  let answer;
  try {
    answer = await pending;
  } catch {
    throw new ApiError(0, null);
  }
  const { data, error, response } = answer;
  // A 204 has no body: openapi-fetch gives no data, and that is the answer.
  if (response.ok) return { data: data as T, response };
  const problem =
    error && typeof error === "object" && "code" in error ? (error as Partial<BookingProblem>) : null;
  throw new ApiError(response.status, problem);
}
