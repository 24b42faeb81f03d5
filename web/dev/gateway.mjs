// @ts-check
// What the local front door does, as plain functions so they are unit tested without a server:
// the route table read from the Rust source, API Gateway's JWT authorizer checks, the HTTP API
// (payload 2.0) event, the CORS configuration read from the SAM template, and the mapping of a
// function's answer back to HTTP.

import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { createRemoteJWKSet, jwtVerify, errors as joseErrors } from "jose";

/**
 * @typedef {{ method: string, path: string, function: string }} Route
 * @typedef {{ routes: Route[], defaultFunction: string }} RouteTable
 */

/**
 * The route table as `shared/src/routes.rs` (ROUTES) states it, and the function that serves
 * API Gateway's `$default` route as the watch router in the root Cargo.toml names it.
 * @param {string} routesRs text of shared/src/routes.rs
 * @param {string} cargoToml text of the root Cargo.toml
 * @returns {RouteTable}
 */
export function parseRouteTable(routesRs, cargoToml) {
  const routes = [];
  const re = /Route\s*\{[^}]*?method:\s*"([A-Z]+)",\s*path:\s*"([^"]+)",\s*function:\s*"([^"]+)"/g;
  for (const m of routesRs.matchAll(re)) {
    routes.push({ method: m[1] ?? "", path: m[2] ?? "", function: m[3] ?? "" });
  }
  if (routes.length === 0) throw new Error("no routes found in routes.rs");
  const catchAll = /^"\/\{\*path\}"\s*=\s*"([^"]+)"/m.exec(cargoToml);
  if (!catchAll) throw new Error('no "/{*path}" entry in the watch router of Cargo.toml');
  return { routes, defaultFunction: catchAll[1] ?? "" };
}

/**
 * @param {string} template e.g. /v1/companies/{companyId}
 * @param {string} path
 * @returns {Record<string, string> | null}
 */
export function matchTemplate(template, path) {
  const t = template.split("/");
  const p = path.split("/");
  if (t.length !== p.length) return null;
  /** @type {Record<string, string>} */
  const params = {};
  for (let i = 0; i < t.length; i++) {
    const segment = p[i] ?? "";
    const name = /^\{(.+)\}$/.exec(t[i] ?? "");
    if (name?.[1]) {
      if (segment === "") return null;
      params[name[1]] = decodeURIComponent(segment);
    } else if (t[i] !== p[i]) {
      return null;
    }
  }
  return params;
}

/**
 * API Gateway's route selection: an exact method and path route, else `$default`.
 * @param {RouteTable} table
 * @param {string} method
 * @param {string} path
 * @returns {{ routeKey: string, function: string, pathParameters?: Record<string, string> }}
 */
export function selectRoute(table, method, path) {
  for (const route of table.routes) {
    if (route.method !== method) continue;
    const params = matchTemplate(route.path, path);
    if (params) {
      return {
        routeKey: `${route.method} ${route.path}`,
        function: route.function,
        pathParameters: Object.keys(params).length ? params : undefined,
      };
    }
  }
  return { routeKey: "$default", function: table.defaultFunction };
}

/**
 * @typedef {{ allowOrigins: string[], allowMethods: string[], allowHeaders: string[],
 *   exposeHeaders: string[], maxAge: number }} CorsConfig
 */

/**
 * The HttpApi's CorsConfiguration from infra/template.yaml. AllowOrigins there is the
 * CorsAllowedOrigin parameter, so the origins come from the caller.
 * @param {string} templateYaml
 * @param {string[]} allowOrigins
 * @returns {CorsConfig}
 */
export function parseCorsConfiguration(templateYaml, allowOrigins) {
  const found = /CorsConfiguration:\n((?:\s{8,}.*\n)+)/.exec(templateYaml);
  const block = found?.[1];
  if (!block) throw new Error("no CorsConfiguration in the template");
  /** @param {string} key */
  const list = (key) => {
    const m = new RegExp(`${key}:\\s*\\[([^\\]]*)\\]`).exec(block);
    if (!m) throw new Error(`CorsConfiguration has no ${key} list`);
    return (m[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  };
  const maxAge = /MaxAge:\s*(\d+)/.exec(block);
  return {
    allowOrigins,
    allowMethods: list("AllowMethods"),
    allowHeaders: list("AllowHeaders"),
    exposeHeaders: list("ExposeHeaders"),
    maxAge: maxAge ? Number(maxAge[1]) : 0,
  };
}

/**
 * The answer to a CORS preflight, as API Gateway gives it for a configured HTTP API: 204, with
 * the CORS headers only when origin, method and every requested header are allowed.
 * @param {CorsConfig} cors
 * @param {Record<string, string | string[] | undefined>} headers request headers, lower-case
 * @returns {{ status: number, headers: Record<string, string> }}
 */
export function preflight(cors, headers) {
  const origin = String(headers["origin"] ?? "");
  const method = String(headers["access-control-request-method"] ?? "").toUpperCase();
  const requested = String(headers["access-control-request-headers"] ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const allowedHeaders = cors.allowHeaders.map((h) => h.toLowerCase());
  const ok =
    cors.allowOrigins.includes(origin) &&
    cors.allowMethods.map((m) => m.toUpperCase()).includes(method) &&
    requested.every((h) => allowedHeaders.includes(h));
  if (!ok) return { status: 204, headers: {} };
  return {
    status: 204,
    headers: {
      "access-control-allow-origin": origin,
      "access-control-allow-methods": cors.allowMethods.join(","),
      "access-control-allow-headers": cors.allowHeaders.join(",").toLowerCase(),
      "access-control-max-age": String(cors.maxAge),
      vary: "Origin",
    },
  };
}

/**
 * Headers API Gateway adds to an integration's answer for a CORS request; CORS headers the
 * integration set itself are ignored.
 * @param {CorsConfig} cors
 * @param {string | undefined} origin
 * @returns {Record<string, string>}
 */
export function corsResponseHeaders(cors, origin) {
  if (!origin || !cors.allowOrigins.includes(origin)) return {};
  return {
    "access-control-allow-origin": origin,
    "access-control-expose-headers": cors.exposeHeaders.join(",").toLowerCase(),
    vary: "Origin",
  };
}

export class Unauthorized extends Error {
  /** @param {string | null} description the www-authenticate error_description, if any */
  constructor(description) {
    super(description ?? "no token");
    this.description = description;
  }
}

/**
 * API Gateway's 401: `{"message":"Unauthorized"}`, and for a token it refused, the reason in
 * `www-authenticate`.
 * @param {Unauthorized} err
 */
export function unauthorizedResponse(err) {
  /** @type {Record<string, string>} */
  const headers = { "content-type": "application/json" };
  if (err.description) {
    headers["www-authenticate"] =
      `Bearer scope="" error="invalid_token" error_description="${err.description}"`;
  }
  return { status: 401, headers, body: JSON.stringify({ message: "Unauthorized" }) };
}

/**
 * A verifier that checks a bearer token the way the HTTP API's JWT authorizer does: RS256
 * signature against the issuer's JWKS (found through its discovery document), `iss`, `exp`,
 * `nbf`, and `aud` (or `client_id` when the token has no `aud`) against the audiences.
 * @param {{ issuer: string, audiences: string[], fetchImpl?: typeof fetch }} options
 */
export function jwtAuthorizer({ issuer, audiences, fetchImpl = fetch }) {
  /** @type {ReturnType<typeof createRemoteJWKSet> | null} */
  let jwks = null;
  async function keys() {
    if (!jwks) {
      const res = await fetchImpl(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
      if (!res.ok) throw new Error(`issuer discovery answered ${res.status}`);
      const doc = /** @type {{ jwks_uri: string }} */ (await res.json());
      jwks = createRemoteJWKSet(new URL(doc.jwks_uri));
    }
    return jwks;
  }
  /**
   * @param {string | undefined} authorization the Authorization header
   * @returns {Promise<Record<string, unknown>>} the verified claims
   */
  return async function verify(authorization) {
    if (!authorization || !authorization.trim()) throw new Unauthorized(null);
    const token = authorization.replace(/^Bearer\s+/i, "").trim();
    let payload;
    try {
      ({ payload } = await jwtVerify(token, await keys(), {
        issuer,
        algorithms: ["RS256"],
        clockTolerance: 0,
      }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw new Unauthorized("the token has expired");
      if (e instanceof joseErrors.JWTClaimValidationFailed) {
        if (e.claim === "iss") throw new Unauthorized("the token does not have a valid issuer");
        if (e.claim === "nbf") throw new Unauthorized("the token is not valid yet");
        throw new Unauthorized(`the token has an invalid ${e.claim} claim`);
      }
      if (e instanceof joseErrors.JWSSignatureVerificationFailed) {
        throw new Unauthorized("signature verification failed");
      }
      if (e instanceof joseErrors.JWKSNoMatchingKey) {
        throw new Unauthorized("signing key not found");
      }
      throw new Unauthorized("invalid token");
    }
    // API Gateway evaluates `aud` when present and `client_id` only when it is not.
    const aud = payload.aud;
    const ok =
      aud !== undefined
        ? (Array.isArray(aud) ? aud : [aud]).some((a) => audiences.includes(a))
        : typeof payload["client_id"] === "string" && audiences.includes(payload["client_id"]);
    if (!ok) throw new Unauthorized("the token does not have a valid audience");
    return payload;
  };
}

/**
 * Claims as the JWT authorizer hands them to a function: every value a string, arrays
 * flattened as `[a b]`.
 * @param {Record<string, unknown>} claims
 * @returns {Record<string, string>}
 */
export function flattenClaims(claims) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) out[name] = `[${value.map(String).join(" ")}]`;
    else if (typeof value === "object") out[name] = JSON.stringify(value);
    else out[name] = String(value);
  }
  return out;
}

const TEXT_TYPES = [/^text\//, /json/, /xml/, /javascript/, /^application\/x-www-form-urlencoded/];

/**
 * Whether API Gateway hands the body to the function as text or base64.
 * @param {Buffer} body
 * @param {string | undefined} contentType
 */
export function bodyIsText(body, contentType) {
  const essence = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (essence && !TEXT_TYPES.some((re) => re.test(essence))) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {number} epochMs
 */
function requestTime(epochMs) {
  const d = new Date(epochMs);
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/**
 * The HTTP API payload 2.0 event for one request.
 * @param {{ method: string, url: string, headers: [string, string][], body: Buffer,
 *   sourceIp: string, host: string, route: ReturnType<typeof selectRoute>,
 *   claims: Record<string, unknown> | null, now?: number }} req
 */
export function buildEvent(req) {
  const url = new URL(req.url, "http://front-door");
  /** @type {Record<string, string>} */
  const headers = {};
  /** @type {string[]} */
  let cookies = [];
  for (const [rawName, value] of req.headers) {
    const name = rawName.toLowerCase();
    // Development identity headers never reach a function through the front door: the caller
    // is the verified token, as behind API Gateway.
    if (name.startsWith("x-dev-")) continue;
    if (name === "cookie") {
      cookies = cookies.concat(value.split(/;\s*/).filter(Boolean));
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  headers["x-forwarded-for"] = req.sourceIp;
  headers["x-forwarded-proto"] = "http";
  /** @type {Record<string, string>} */
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const now = req.now ?? Date.now();
  const text = req.body.length === 0 || bodyIsText(req.body, headers["content-type"]);
  const requestId = randomUUID();
  const claims = req.claims ? flattenClaims(req.claims) : null;
  const scope = req.claims && typeof req.claims["scope"] === "string" ? req.claims["scope"] : null;
  return {
    version: "2.0",
    routeKey: req.route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ""),
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(req.route.pathParameters ? { pathParameters: req.route.pathParameters } : {}),
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      ...(claims
        ? { authorizer: { jwt: { claims, scopes: scope ? scope.split(" ") : null } } }
        : {}),
      domainName: req.host,
      domainPrefix: req.host.split(".")[0] ?? "",
      http: {
        method: req.method,
        path: url.pathname,
        protocol: "HTTP/1.1",
        sourceIp: req.sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: req.route.routeKey,
      stage: "$default",
      time: requestTime(now),
      timeEpoch: now,
    },
    ...(req.body.length
      ? { body: text ? req.body.toString("utf8") : req.body.toString("base64") }
      : {}),
    isBase64Encoded: !text,
  };
}

/**
 * A function's payload 2.0 answer as an HTTP response. An object without `statusCode` is, as
 * API Gateway reads it, a 200 JSON body.
 * @param {unknown} result
 * @returns {{ status: number, headers: [string, string][], body: Buffer }}
 */
export function responseFromResult(result) {
  if (!result || typeof result !== "object" || !("statusCode" in result)) {
    return {
      status: 200,
      headers: [["content-type", "application/json"]],
      body: Buffer.from(JSON.stringify(result)),
    };
  }
  const r = /** @type {{ statusCode: number, headers?: Record<string, string>,
   *   multiValueHeaders?: Record<string, string[]>, cookies?: string[], body?: string,
   *   isBase64Encoded?: boolean }} */ (result);
  /** @type {[string, string][]} */
  const headers = [];
  const seen = new Set();
  for (const [k, vs] of Object.entries(r.multiValueHeaders ?? {})) {
    for (const v of vs) headers.push([k.toLowerCase(), v]);
    seen.add(k.toLowerCase());
  }
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    if (!seen.has(k.toLowerCase())) headers.push([k.toLowerCase(), v]);
  }
  for (const c of r.cookies ?? []) headers.push(["set-cookie", c]);
  const body = r.body ? Buffer.from(r.body, r.isBase64Encoded ? "base64" : "utf8") : Buffer.alloc(0);
  return {
    status: r.statusCode,
    headers: headers.filter(([k]) => !k.startsWith("access-control-")),
    body,
  };
}

/**
 * @param {string} root repository root
 */
export function loadRepositoryConfig(root) {
  return {
    routes: parseRouteTable(
      readFileSync(`${root}/shared/src/routes.rs`, "utf8"),
      readFileSync(`${root}/Cargo.toml`, "utf8"),
    ),
    template: readFileSync(`${root}/infra/template.yaml`, "utf8"),
  };
}
