// A second relying party for the provider's tests: panva's openid-client (OpenID
// certified), driven through a whole sign-in by tests/oidc/test_openid_client.py.
// Input (JSON on stdin): issuer, client_id, client_secret, redirect_uri,
// post_logout_redirect_uri, cookie (the browser's session cookie, signed in by the test).
// Output (JSON on stdout): what the library accepted at each step.
import * as client from "openid-client";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (chunk) => { data += chunk; });
  process.stdin.on("end", () => resolve(data));
}));

// Plain http is only for the test server on 127.0.0.1.
const config = await client.discovery(new URL(input.issuer), input.client_id, input.client_secret, undefined,
  { execute: [client.allowInsecureRequests] });
client.enableNonRepudiationChecks(config); // verify the ID token's signature against the JWKS as well

const codeVerifier = client.randomPKCECodeVerifier();
const nonce = client.randomNonce();
const state = client.randomState();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: input.redirect_uri,
  scope: "openid profile email offline_access",
  code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: "S256",
  nonce,
  state,
});

// The signed-in browser follows the authorization URL and is sent back to the application.
const answer = await fetch(authorizationUrl, { headers: { cookie: input.cookie }, redirect: "manual" });
const callback = new URL(answer.headers.get("location"));

const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: codeVerifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: "refresh_token" });
const logoutUrl = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token, post_logout_redirect_uri: input.post_logout_redirect_uri, state: "bye",
});

process.stdout.write(JSON.stringify({
  sub: claims.sub,
  nonce: claims.nonce,
  email: userinfo.email,
  refreshed_access_token: refreshed.access_token,
  rotated: refreshed.refresh_token !== tokens.refresh_token,
  logout_url: logoutUrl.href,
}));
