// @ts-check
// The front door's API Gateway behaviour, without a running stack: the route table read from
// the Rust source, the JWT authorizer's checks against a real JWKS served on loopback, the
// payload 2.0 event, CORS as the template configures it, and the function's answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import * as gateway from "../gateway.mjs";

const root = new URL("../../../", import.meta.url).pathname;
const { routes, template } = gateway.loadRepositoryConfig(root);

test("the route table is read from shared/src/routes.rs", () => {
  assert.ok(routes.routes.length >= 11);
  assert.deepEqual(gateway.selectRoute(routes, "POST", "/v1/companies/c1/locations/l1/booking/test"), {
    routeKey: "POST /v1/companies/{companyId}/locations/{locationId}/booking/test",
    function: "test-connection",
    pathParameters: { companyId: "c1", locationId: "l1" },
  });
  assert.deepEqual(gateway.selectRoute(routes, "GET", "/v1/booking-systems"), {
    routeKey: "GET /v1/booking-systems",
    function: "locations",
    pathParameters: undefined,
  });
  // Unknown paths and methods go to `$default`, served by the function the watch router names.
  assert.deepEqual(gateway.selectRoute(routes, "PUT", "/v1/companies"), { routeKey: "$default", function: "locations" });
  assert.deepEqual(gateway.selectRoute(routes, "GET", "/nope"), { routeKey: "$default", function: "locations" });
});

test("CORS follows the template's CorsConfiguration", () => {
  const cors = gateway.parseCorsConfiguration(template, ["http://app.local"]);
  assert.ok(cors.allowMethods.includes("PATCH"));
  assert.ok(cors.allowHeaders.includes("Authorization"));
  assert.ok(cors.exposeHeaders.includes("ETag"));
  assert.equal(cors.maxAge, 600);
  const ok = gateway.preflight(cors, {
    origin: "http://app.local",
    "access-control-request-method": "PATCH",
    "access-control-request-headers": "authorization,content-type,if-match",
  });
  assert.equal(ok.status, 204);
  assert.equal(ok.headers["access-control-allow-origin"], "http://app.local");
  assert.match(ok.headers["access-control-allow-headers"] ?? "", /if-match/);
  // Another origin, a header not allowed: an answer without CORS headers, which the browser refuses.
  assert.deepEqual(gateway.preflight(cors, { origin: "http://evil.local", "access-control-request-method": "GET" }).headers, {});
  assert.deepEqual(
    gateway.preflight(cors, { origin: "http://app.local", "access-control-request-method": "GET", "access-control-request-headers": "x-dev-user" }).headers,
    {},
  );
  assert.equal(gateway.corsResponseHeaders(cors, "http://app.local")["access-control-expose-headers"], "etag,location,retry-after");
  assert.deepEqual(gateway.corsResponseHeaders(cors, "http://evil.local"), {});
});

test("claims are strings, arrays flattened as API Gateway does", () => {
  assert.deepEqual(
    gateway.flattenClaims({ sub: "u1", "cognito:groups": ["bookinglink-operators", "other"], email_verified: true, exp: 1700000000 }),
    { sub: "u1", "cognito:groups": "[bookinglink-operators other]", email_verified: "true", exp: "1700000000" },
  );
});

test("the event has API Gateway's v2 shape; bodies that are not text are base64", () => {
  const route = gateway.selectRoute(routes, "POST", "/v1/companies");
  const event = gateway.buildEvent({
    method: "POST",
    url: "/v1/companies?limit=5&q=a&q=b",
    headers: [
      ["Content-Type", "application/json"],
      ["X-Dev-User", "someone-else"],
      ["Cookie", "a=1; b=2"],
    ],
    body: Buffer.from([0xff, 0xfe, 0x00]),
    sourceIp: "127.0.0.1",
    host: "127.0.0.1:8780",
    route,
    claims: { sub: "u1", "cognito:groups": ["g1", "g2"] },
  });
  assert.equal(event.version, "2.0");
  assert.equal(event.routeKey, "POST /v1/companies");
  assert.equal(event.rawQueryString, "limit=5&q=a&q=b");
  assert.deepEqual(event.queryStringParameters, { limit: "5", q: "a,b" });
  assert.deepEqual(event.cookies, ["a=1", "b=2"]);
  assert.equal(event.headers["x-dev-user"], undefined);
  assert.equal(event.headers["content-type"], "application/json");
  assert.deepEqual(event.requestContext.authorizer?.jwt.claims, { sub: "u1", "cognito:groups": "[g1 g2]" });
  assert.equal(event.isBase64Encoded, true);
  assert.equal(event.body, Buffer.from([0xff, 0xfe, 0x00]).toString("base64"));
  assert.equal(gateway.bodyIsText(Buffer.from('{"a":1}'), "application/json; charset=utf-8"), true);
  assert.equal(gateway.bodyIsText(Buffer.from("abc"), "application/octet-stream"), false);
});

test("a function's answer becomes the HTTP response; its own CORS headers are dropped", () => {
  const r = gateway.responseFromResult({
    statusCode: 201,
    headers: { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" },
    multiValueHeaders: { ETag: ['"1"'] },
    body: Buffer.from("{}").toString("base64"),
    isBase64Encoded: true,
  });
  assert.equal(r.status, 201);
  assert.deepEqual(r.headers, [["etag", '"1"'], ["content-type", "application/json"]]);
  assert.equal(r.body.toString(), "{}");
  assert.equal(gateway.responseFromResult({ hello: "world" }).status, 200);
});

test("the JWT authorizer checks signature, iss, exp, nbf and aud or client_id", async (t) => {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const other = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  const server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    if (req.url === "/.well-known/openid-configuration") {
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else {
      res.end(JSON.stringify({ keys: [jwk] }));
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", () => r(null)));
  t.after(() => server.close());
  const address = server.address();
  const issuer = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const verify = gateway.jwtAuthorizer({ issuer, audiences: ["bookinglink-admin"] });
  const now = Math.floor(Date.now() / 1000);
  /** @param {Record<string, unknown>} claims @param {CryptoKey | import("jose").KeyObject} key */
  const sign = (claims, key = privateKey) =>
    new SignJWT({ iss: issuer, sub: "u1", iat: now, exp: now + 60, ...claims }).setProtectedHeader({ alg: "RS256", kid: "k1" }).sign(key);
  const refused = async (/** @type {string | undefined} */ header, /** @type {RegExp | null} */ reason) => {
    await assert.rejects(verify(header), (e) => {
      assert.ok(e instanceof gateway.Unauthorized);
      if (reason) assert.match(e.description ?? "", reason);
      else assert.equal(e.description, null);
      return true;
    });
  };

  assert.equal((await verify(`Bearer ${await sign({ client_id: "bookinglink-admin" })}`))["sub"], "u1");
  assert.equal((await verify(`Bearer ${await sign({ aud: "bookinglink-admin" })}`))["sub"], "u1");
  await refused(undefined, null);
  await refused(`Bearer ${await sign({ client_id: "bookinglink-admin", exp: now - 1 })}`, /expired/);
  await refused(`Bearer ${await sign({ client_id: "bookinglink-admin", nbf: now + 120 })}`, /not valid yet/);
  await refused(`Bearer ${await sign({ client_id: "bookinglink-admin", iss: "http://other" })}`, /issuer/);
  await refused(`Bearer ${await sign({ client_id: "someone-else" })}`, /audience/);
  // With `aud` present, API Gateway evaluates `aud` and ignores `client_id`.
  await refused(`Bearer ${await sign({ aud: "someone-else", client_id: "bookinglink-admin" })}`, /audience/);
  await refused(`Bearer ${await sign({ client_id: "bookinglink-admin" }, other.privateKey)}`, /signature/);
  await refused("Bearer not-a-jwt", /invalid token/);

  const answer = gateway.unauthorizedResponse(new gateway.Unauthorized("the token has expired"));
  assert.equal(answer.status, 401);
  assert.equal(answer.body, '{"message":"Unauthorized"}');
  assert.match(answer.headers["www-authenticate"] ?? "", /error="invalid_token" error_description="the token has expired"/);
});
