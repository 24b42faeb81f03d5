// @ts-check
// The local issuer as a client sees it: discovery, PKCE required, codes used once, Cognito-shaped
// claims, refresh tokens rotated and refused after use or when the session has no renewal,
// unregistered redirect URIs refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:net";

const APP = "http://127.0.0.1:18700";

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

/** @param {string} token */
const claims = (token) => JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());

test("the local issuer", async (t) => {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [new URL("../issuer.mjs", import.meta.url).pathname, "--port", String(port), "--redirect-origin", APP]);
  t.after(() => child.kill());
  await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => String(d).includes("issuer listening") && resolve(null));
    child.on("exit", reject);
  });

  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  assert.equal(discovery.issuer, issuer);
  assert.deepEqual(discovery.code_challenge_methods_supported.includes("S256"), true);

  /** @param {Record<string, string>} extra */
  async function authorize(extra) {
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const q = new URLSearchParams({
      client_id: "bookinglink-admin",
      redirect_uri: `${APP}/`,
      response_type: "code",
      scope: "openid profile email",
      state: "s1",
      code_challenge: challenge,
      code_challenge_method: "S256",
      ...extra,
    });
    const res = await fetch(`${issuer}/authorize?${q}`, { redirect: "manual" });
    return { res, verifier };
  }
  /** @param {Record<string, string>} form */
  const token = async (form) => {
    const res = await fetch(`${issuer}/token`, { method: "POST", body: new URLSearchParams({ client_id: "bookinglink-admin", ...form }) });
    return { status: res.status, body: await res.json() };
  };

  // Without a chosen user: the sign-in page.
  const page = await authorize({});
  assert.equal(page.res.status, 200);
  assert.match(await page.res.text(), /Demo Administrator/);

  // An unregistered redirect URI and a missing PKCE challenge are refused.
  assert.equal((await authorize({ redirect_uri: "http://evil.local/", demo_user: "demo-admin" })).res.status, 400);
  assert.equal((await authorize({ code_challenge_method: "plain", demo_user: "demo-admin" })).res.status, 400);

  const { res } = await authorize({ demo_user: "demo-operator", ttl: "65" });
  assert.equal(res.status, 302);
  const code = new URL(res.headers.get("location") ?? "").searchParams.get("code") ?? "";
  assert.ok(code);
  assert.equal((await token({ grant_type: "authorization_code", code, code_verifier: "x".repeat(43) })).status, 400, "wrong verifier");

  const { res: res2, verifier: verifier2 } = await authorize({ demo_user: "demo-operator", ttl: "65" });
  const code2 = new URL(res2.headers.get("location") ?? "").searchParams.get("code") ?? "";
  const first = await token({ grant_type: "authorization_code", code: code2, code_verifier: verifier2 });
  assert.equal(first.status, 200);
  assert.equal(first.body.expires_in, 65);
  const access = claims(first.body.access_token);
  assert.equal(access.sub, "demo-operator");
  assert.equal(access.client_id, "bookinglink-admin");
  assert.equal(access.aud, undefined);
  assert.equal(access.token_use, "access");
  assert.deepEqual(access["cognito:groups"], ["bookinglink-operators"]);
  assert.equal(access.email_verified, true);
  assert.equal(access.exp - access.iat, 65);
  assert.equal(claims(first.body.id_token).aud, "bookinglink-admin");
  assert.equal((await token({ grant_type: "authorization_code", code: code2, code_verifier: verifier2 })).status, 400, "a code works once");

  // Refresh tokens rotate; a used one is refused.
  const renewed = await token({ grant_type: "refresh_token", refresh_token: first.body.refresh_token });
  assert.equal(renewed.status, 200);
  assert.equal(claims(renewed.body.access_token).sub, "demo-operator");
  assert.notEqual(renewed.body.refresh_token, first.body.refresh_token);
  assert.equal((await token({ grant_type: "refresh_token", refresh_token: first.body.refresh_token })).status, 400);

  // A session signed in "without renewal" gets no refresh token.
  const once = await authorize({ demo_user: "custom", sub: "someone", email: "someone@example.no", name: "Someone", renew: "no" });
  const onceCode = new URL(once.res.headers.get("location") ?? "").searchParams.get("code") ?? "";
  const onceTokens = await token({ grant_type: "authorization_code", code: onceCode, code_verifier: once.verifier });
  assert.equal(onceTokens.status, 200);
  assert.equal(onceTokens.body.refresh_token, undefined);
  assert.equal(claims(onceTokens.body.access_token).sub, "someone");

  // Revoking a refresh token ends it.
  await fetch(`${issuer}/revoke`, { method: "POST", body: new URLSearchParams({ token: renewed.body.refresh_token }) });
  assert.equal((await token({ grant_type: "refresh_token", refresh_token: renewed.body.refresh_token })).status, 400);
});
