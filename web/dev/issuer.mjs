#!/usr/bin/env node
// @ts-check
// The local OpenID Connect issuer: oauth2-mock-server's discovery, JWKS and token endpoints
// (RS256, authorization code with PKCE S256, refresh tokens), with a sign-in page in front of
// its authorize endpoint where a developer (or a browser test) picks a demo user. Tokens are
// shaped like Cognito's: the access token carries `client_id` (no `aud`), `token_use`,
// `cognito:groups`, and `email`/`email_verified`/`name` as a pre-token-generation trigger adds
// them; the ID token carries `aud`.
//
//   node dev/issuer.mjs --port 8790 --client-id bookinglink-admin --redirect-origin http://127.0.0.1:8700
//
// Prints "issuer listening on URL" once it answers.

import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";
import { CLIENT_ID, DEMO_USERS } from "./demo-users.mjs";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "8790" },
    host: { type: "string", default: "127.0.0.1" },
    "client-id": { type: "string", default: CLIENT_ID },
    "redirect-origin": { type: "string", multiple: true, default: [] },
  },
});
const clientId = args["client-id"];
const redirectOrigins = args["redirect-origin"];
const DEFAULT_TTL = 3600;

/**
 * @typedef {{ sub: string, email: string, name: string, groups: string[], ttl: number,
 *   renewable: boolean, authTime: number, scope: string }} Session
 */
/** @type {Map<string, Session>} authorization code → session */
const byCode = new Map();
/** @type {Map<string, Session>} refresh token → session */
const byRefresh = new Map();

const issuer = new OAuth2Issuer();
await issuer.keys.generate("RS256");
const service = new OAuth2Service(issuer);

/** @param {Record<string, unknown> | undefined} body */
function sessionOf(body) {
  if (!body) return undefined;
  if (body["grant_type"] === "authorization_code") return byCode.get(String(body["code"]));
  if (body["grant_type"] === "refresh_token") return byRefresh.get(String(body["refresh_token"]));
  return undefined;
}

service.on("beforeAuthorizeRedirect", (/** @type {{ url: URL }} */ redirect, req) => {
  const code = redirect.url.searchParams.get("code");
  const session = /** @type {Session | undefined} */ (req.session);
  if (code && session) byCode.set(code, session);
});

service.on("beforeTokenSigning", (token, req) => {
  const session = sessionOf(req.body);
  if (!session) return;
  const p = token.payload;
  const isIdToken = p.aud !== undefined;
  Object.assign(p, {
    sub: session.sub,
    email: session.email,
    email_verified: true,
    name: session.name,
    auth_time: session.authTime,
    exp: p.iat + session.ttl,
  });
  if (session.groups.length) p["cognito:groups"] = session.groups;
  if (isIdToken) {
    p.token_use = "id";
  } else {
    p.token_use = "access";
    p.scope = session.scope;
    p.client_id = clientId;
    p.username = session.sub;
    delete p.amr;
  }
});

service.on("beforeResponse", (response, req) => {
  const body = req.body ?? {};
  const refuse = (/** @type {string} */ error, /** @type {string} */ description) => {
    response.statusCode = 400;
    response.body = { error, error_description: description };
  };
  if (body.client_id !== clientId) return refuse("invalid_client", "unknown client_id");
  const session = sessionOf(body);
  if (body.grant_type === "authorization_code") {
    if (!body.code_verifier) return refuse("invalid_request", "PKCE code_verifier required");
    if (!session) return refuse("invalid_grant", "unknown or used authorization code");
    byCode.delete(body.code);
  } else if (body.grant_type === "refresh_token") {
    if (!session) return refuse("invalid_grant", "unknown, used or revoked refresh token");
    byRefresh.delete(body.refresh_token);
  } else {
    return refuse("unsupported_grant_type", "only authorization_code and refresh_token");
  }
  response.body.expires_in = session.ttl;
  response.body.scope = session.scope;
  if (session.renewable) byRefresh.set(response.body.refresh_token, session);
  else delete response.body.refresh_token;
});

/** @param {string} s */
const esc = (s) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

/**
 * @param {URLSearchParams} query the authorize request's parameters, carried through the form
 */
function signInPage(query) {
  const hidden = [...query]
    .filter(([k]) => !["demo_user", "sub", "email", "name", "groups", "ttl", "renew"].includes(k))
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join("");
  const users = DEMO_USERS.map(
    (u) =>
      `<li><button type="submit" name="demo_user" value="${esc(u.sub)}">${esc(u.name)}</button>
       <span>${esc(u.email)} · ${esc(u.role)}</span></li>`,
  ).join("");
  return `<!doctype html><html lang="nb"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Logg inn (lokal utsteder)</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
button{font:inherit;padding:.4rem .9rem;margin-right:.5rem;cursor:pointer}li{margin:.5rem 0}
label{display:block;margin-top:.5rem}input,select{font:inherit}fieldset{margin-top:1rem}</style></head>
<body><main><h1>Logg inn</h1>
<p>Lokal OpenID Connect-utsteder for utvikling. Velg hvem du vil være.</p>
<form method="get" action="/authorize">${hidden}
<label for="ttl">Innloggingen varer</label>
<select id="ttl" name="ttl"><option value="${DEFAULT_TTL}">1 time</option>
<option value="65">65 sekunder (fornyes etter 5 sekunder)</option>
<option value="5">5 sekunder</option></select>
<label><input type="checkbox" name="renew" value="no"> Uten fornyelse (ingen refresh token)</label>
<h2>Demobrukere</h2><ul>${users}</ul>
<fieldset><legend>Annen bruker</legend>
<label for="sub">Subjekt (sub)</label><input id="sub" name="sub">
<label for="email">E-post</label><input id="email" name="email" type="email">
<label for="name">Navn</label><input id="name" name="name">
<label for="groups">Grupper (kommaseparert)</label><input id="groups" name="groups">
<p><button type="submit" name="demo_user" value="custom">Logg inn som denne brukeren</button></p>
</fieldset></form></main></body></html>`;
}

/**
 * @param {import("node:http").ServerResponse} res
 * @param {number} status
 * @param {string} text
 */
function plain(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(text);
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
  if (req.method === "GET" && url.pathname === "/authorize") {
    const q = url.searchParams;
    if (q.get("client_id") !== clientId) return plain(res, 400, "unknown client_id");
    const redirectUri = q.get("redirect_uri") ?? "";
    let redirectOrigin = "";
    try {
      redirectOrigin = new URL(redirectUri).origin;
    } catch {
      return plain(res, 400, "invalid redirect_uri");
    }
    if (redirectOrigins.length && !redirectOrigins.includes(redirectOrigin)) {
      return plain(res, 400, `redirect_uri not registered for ${clientId}`);
    }
    if (q.get("code_challenge_method") !== "S256") {
      return plain(res, 400, "PKCE with code_challenge_method=S256 is required");
    }
    if (q.get("prompt") === "none") {
      const back = new URL(redirectUri);
      back.searchParams.set("error", "login_required");
      if (q.get("state")) back.searchParams.set("state", q.get("state") ?? "");
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    const chosen = q.get("demo_user");
    if (!chosen) {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "content-security-policy": `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${redirectOrigins.join(" ")}; frame-ancestors 'none'`,
      });
      return res.end(signInPage(q));
    }
    const demo = DEMO_USERS.find((u) => u.sub === chosen);
    const person = demo ?? {
      sub: (q.get("sub") ?? "").trim(),
      email: (q.get("email") ?? "").trim(),
      name: (q.get("name") ?? "").trim(),
      groups: (q.get("groups") ?? "").split(",").map((g) => g.trim()).filter(Boolean),
    };
    if (!person.sub) return plain(res, 400, "sub is required");
    const ttl = Math.max(1, Math.min(86400, Number(q.get("ttl") ?? DEFAULT_TTL) || DEFAULT_TTL));
    /** @type {Session} */
    const session = {
      sub: person.sub,
      email: person.email,
      name: person.name,
      groups: person.groups,
      ttl,
      renewable: q.get("renew") !== "no",
      authTime: Math.floor(Date.now() / 1000),
      scope: q.get("scope") ?? "openid",
    };
    Object.assign(req, { session });
  }
  if (req.method === "POST" && url.pathname === "/revoke") {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
    byRefresh.delete(form.get("token") ?? "");
    res.writeHead(200, { "access-control-allow-origin": "*" });
    return res.end();
  }
  if (req.method === "OPTIONS" && url.pathname === "/revoke") {
    res.writeHead(204, {
      "access-control-allow-origin": "*",
      "access-control-allow-methods": "POST",
      "access-control-allow-headers": "content-type",
    });
    return res.end();
  }
  service.requestHandler(req, res);
});

server.listen(Number(args.port), args.host, () => {
  issuer.url = `http://${args.host}:${args.port}`;
  console.log(`issuer listening on ${issuer.url} (client ${clientId})`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
