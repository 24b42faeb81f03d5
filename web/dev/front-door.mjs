#!/usr/bin/env node
// @ts-check
// The local stand-in for API Gateway (HTTP API with the JWT authorizer), in front of
// `cargo lambda watch`: verifies the bearer token against the local issuer, builds the payload
// 2.0 event with the verified claims, invokes the function the route table names through
// watch's Lambda Invoke API, and answers CORS as the template's CorsConfiguration does.
// With --app-dir it also serves the built admin app on its own origin, with the response
// headers CloudFront adds in AWS (infra/template.yaml) and a config.json like the deployed one.
//
//   node dev/front-door.mjs --port 8780 --watch http://127.0.0.1:9000 \
//     --issuer http://127.0.0.1:8790 --audience bookinglink-admin \
//     --app-port 8700 --app-dir dist
//
// Prints "front door listening on URL" (and "admin app on URL") once it accepts requests.

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { extname, join, normalize, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildEvent,
  corsResponseHeaders,
  jwtAuthorizer,
  loadRepositoryConfig,
  parseCorsConfiguration,
  preflight,
  responseFromResult,
  selectRoute,
  Unauthorized,
  unauthorizedResponse,
} from "./gateway.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "8780" },
    host: { type: "string", default: "127.0.0.1" },
    watch: { type: "string", default: "http://127.0.0.1:9000" },
    issuer: { type: "string" },
    audience: { type: "string", default: "bookinglink-admin" },
    "app-port": { type: "string" },
    "app-dir": { type: "string" },
    "timeout-ms": { type: "string", default: "30000" },
    // What the app's config.json tells it to send: the access token, or the ID token.
    "bearer-token": { type: "string", default: "access" },
    root: { type: "string", default: resolve(here, "../..") },
  },
});
if (!args.issuer) {
  console.error("--issuer is required");
  process.exit(2);
}
const issuer = args.issuer;
const audiences = args.audience.split(",").map((a) => a.trim());
const { routes, template } = loadRepositoryConfig(args.root);
const appOrigin = args["app-port"] ? `http://${args.host}:${args["app-port"]}` : null;
const cors = parseCorsConfiguration(template, appOrigin ? [appOrigin] : []);
const verify = jwtAuthorizer({ issuer, audiences });
const timeoutMs = Number(args["timeout-ms"]);

/** @param {import("node:http").IncomingMessage} req */
async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * @param {import("node:http").IncomingMessage} req
 * @returns {Promise<{ status: number, headers: [string, string][], body: Buffer, fn?: string }>}
 */
async function handleApi(req) {
  const method = req.method ?? "GET";
  const url = new URL(req.url ?? "/", "http://front-door");
  if (method === "OPTIONS" && req.headers.origin && req.headers["access-control-request-method"]) {
    const answer = preflight(cors, req.headers);
    return { status: answer.status, headers: Object.entries(answer.headers), body: Buffer.alloc(0) };
  }
  const body = await readBody(req);
  // The template's `OPTIONS /{proxy+}` route has no authorizer; every other route has the JWT one.
  const unauthenticatedRoute = method === "OPTIONS";
  const route = unauthenticatedRoute
    ? { routeKey: "OPTIONS /{proxy+}", function: routes.defaultFunction, pathParameters: { proxy: url.pathname.slice(1) } }
    : selectRoute(routes, method, url.pathname);
  let claims = null;
  if (!unauthenticatedRoute) {
    try {
      claims = await verify(req.headers.authorization);
    } catch (e) {
      if (!(e instanceof Unauthorized)) throw e;
      const r = unauthorizedResponse(e);
      return { status: r.status, headers: Object.entries(r.headers), body: Buffer.from(r.body) };
    }
  }
  /** @type {[string, string][]} */
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i] ?? "", req.rawHeaders[i + 1] ?? ""]);
  const event = buildEvent({
    method,
    url: req.url ?? "/",
    headers,
    body,
    sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
    host: req.headers.host ?? "127.0.0.1",
    route,
    claims,
  });
  const invokeUrl = `${args.watch}/2015-03-31/functions/${route.function}/invocations`;
  let res;
  try {
    res = await fetch(invokeUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const timedOut = e instanceof Error && e.name === "TimeoutError";
    return {
      status: timedOut ? 503 : 500,
      headers: [["content-type", "application/json"]],
      body: Buffer.from(JSON.stringify({ message: timedOut ? "Service Unavailable" : "Internal Server Error" })),
      fn: route.function,
    };
  }
  const text = await res.text();
  if (!res.ok || res.headers.get("x-amz-function-error")) {
    return {
      status: 500,
      headers: [["content-type", "application/json"]],
      body: Buffer.from(JSON.stringify({ message: "Internal Server Error" })),
      fn: route.function,
    };
  }
  const out = responseFromResult(JSON.parse(text));
  out.headers.push(["apigw-requestid", event.requestContext.requestId]);
  return { ...out, fn: route.function };
}

const api = createServer(async (req, res) => {
  const started = Date.now();
  let answer;
  try {
    answer = await handleApi(req);
  } catch (e) {
    console.error("front door error:", e);
    answer = {
      status: 500,
      headers: /** @type {[string, string][]} */ ([["content-type", "application/json"]]),
      body: Buffer.from(JSON.stringify({ message: "Internal Server Error" })),
    };
  }
  const extra = req.method === "OPTIONS" && req.headers["access-control-request-method"]
    ? {}
    : corsResponseHeaders(cors, req.headers.origin);
  /** @type {Record<string, string | string[]>} */
  const headers = {};
  for (const [k, v] of [...answer.headers, ...Object.entries(extra)]) {
    const prev = headers[k];
    headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  res.writeHead(answer.status, headers);
  res.end(answer.body);
  // Never the token, the body or the claims: method, path, status, function, time.
  const path = (req.url ?? "").split("?")[0];
  console.log(`${req.method} ${path} ${answer.status} ${"fn" in answer ? answer.fn : "-"} ${Date.now() - started}ms`);
});

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".png": "image/png",
  ".woff2": "font/woff2",
};

/**
 * The response headers policy of the CloudFront distribution in infra/template.yaml.
 * @param {string} apiOrigin
 */
function securityHeaders(apiOrigin) {
  return {
    "content-security-policy": [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "font-src 'self'",
      `connect-src 'self' ${apiOrigin} ${new URL(issuer).origin}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "object-src 'none'",
    ].join("; "),
    "strict-transport-security": "max-age=63072000; includeSubDomains; preload",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
  };
}

function startApp() {
  if (!args["app-port"] || !args["app-dir"]) return;
  const dir = resolve(args["app-dir"]);
  const apiOrigin = `http://${args.host}:${args.port}`;
  const config = JSON.stringify({ apiUrl: apiOrigin, issuer, clientId: audiences[0], bearerToken: args["bearer-token"] });
  const app = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://app").pathname);
    const headers = securityHeaders(apiOrigin);
    if (path === "/config.json") {
      res.writeHead(200, { ...headers, "content-type": MIME[".json"], "cache-control": "no-store" });
      res.end(config);
      return;
    }
    const file = normalize(join(dir, path === "/" ? "index.html" : path));
    const inside = file.startsWith(dir);
    try {
      if (!inside) throw new Error("outside");
      const data = await readFile(file);
      const type = MIME[/** @type {keyof typeof MIME} */ (extname(file))] ?? "application/octet-stream";
      const cache = path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache";
      res.writeHead(200, { ...headers, "content-type": type, "cache-control": cache });
      res.end(data);
    } catch {
      res.writeHead(404, { ...headers, "content-type": "text/plain" });
      res.end("not found");
    }
  });
  app.listen(Number(args["app-port"]), args.host, () => {
    console.log(`admin app on http://${args.host}:${args["app-port"]}/`);
  });
}

api.listen(Number(args.port), args.host, () => {
  console.log(`front door listening on http://${args.host}:${args.port} (functions at ${args.watch})`);
  startApp();
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
