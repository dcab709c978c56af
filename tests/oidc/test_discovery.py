"""What an application reads before anything else: the discovery document and the JWKS."""

from __future__ import annotations

import json
import stat

import httpx
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet

from hexagone.core.config import get_settings
from hexagone.identity.oidc.keys import key_folder
from tests.commands import hexagone
from tests.factories import login, make_org, make_user
from tests.oidc.factories_oidc import make_app, relying_party, sign_in


async def test_discovery_document_is_valid_openid_provider_metadata(client: httpx.AsyncClient, base_url: str) -> None:
    response = await client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    metadata = response.json()
    OpenIDProviderMetadata(metadata).validate()
    assert metadata["issuer"] == base_url
    assert metadata["authorization_endpoint"] == base_url + "/oidc/authorize"
    assert metadata["jwks_uri"] == base_url + "/oidc/jwks"
    assert metadata["end_session_endpoint"] == base_url + "/oidc/logout"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["response_types_supported"] == ["code"]
    assert set(metadata["scopes_supported"]) == {"openid", "profile", "email", "offline_access", "api"}
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }


async def test_jwks_publishes_public_rsa_keys_only(client: httpx.AsyncClient) -> None:
    response = await client.get("/oidc/jwks")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


async def test_signing_keys_are_private_files_of_the_data_dir(client: httpx.AsyncClient) -> None:
    await client.get("/oidc/jwks")
    folder = key_folder(get_settings())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.glob("*.pem"))
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


async def test_key_rotation_publishes_both_keys_and_signs_with_the_new_one(
    client: httpx.AsyncClient, base_url: str
) -> None:
    before = {k["kid"] for k in (await client.get("/oidc/jwks")).json()["keys"]}
    done = hexagone("oidc-key", "rotate", "--json")
    assert done.returncode == 0, done.stderr
    new_kid = json.loads(done.stdout)["kid"]
    jwks = (await client.get("/oidc/jwks")).json()
    assert {k["kid"] for k in jwks["keys"]} == before | {new_kid}  # no restart needed
    org = await make_org()
    user = await make_user(org)
    app = await make_app(org)
    await login(client, user)
    _request, tokens = await sign_in(client, relying_party(base_url, app), app)
    assert jwt.decode(tokens["id_token"], KeySet.import_key_set(jwks)).header["kid"] == new_kid
