"""``hexagone oidc-client create``: the console script, as an operator runs it."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.commands import hexagone
from tests.factories import login, make_org, make_user
from tests.oidc.factories_oidc import REDIRECT_URI, OidcApp, relying_party, sign_in

# Each test creates its organisation in this process: the schema must be there even when
# no earlier test of this worker asked for the server (the tests run in any order).
pytestmark = pytest.mark.usefixtures("migrated")


async def test_cli_creates_a_client_that_signs_users_in(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_org()
    user = await make_user(org)
    done = hexagone(
        "oidc-client",
        "create",
        "--org",
        org.domain,
        "--name",
        "Wiki",
        "--redirect-uri",
        REDIRECT_URI,
        "--redirect-uri",
        "http://127.0.0.1:8765/cb",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["client_id"] and payload["client_secret"] and payload["public"] is False
    assert payload["redirect_uris"] == [REDIRECT_URI, "http://127.0.0.1:8765/cb"]
    assert payload["org_id"] == str(org.id)
    assert payload["discovery_url"].endswith("/.well-known/openid-configuration")
    app = OidcApp(id=payload["id"], org_id=org.id, client_id=payload["client_id"], secret=payload["client_secret"])
    await login(client, user)
    _request, tokens = await sign_in(client, relying_party(base_url, app), app)
    assert tokens["id_token"]


async def test_cli_creates_a_public_client_without_secret() -> None:
    org = await make_org()
    done = hexagone(
        "oidc-client",
        "create",
        "--org",
        org.domain,
        "--name",
        "Mobile",
        "--redirect-uri",
        "com.example.mobile:/callback",
        "--public",
        "--scope",
        "openid",
        "--scope",
        "api",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["client_secret"] is None and payload["public"] is True and payload["scopes"] == ["openid", "api"]


async def test_cli_prints_lines_for_people_without_json() -> None:
    org = await make_org()
    done = hexagone("oidc-client", "create", "--org", org.domain, "--name", "Intranet", "--redirect-uri", REDIRECT_URI)
    assert done.returncode == 0, done.stderr
    assert "client_id: " in done.stdout and "client_secret: " in done.stdout


async def test_cli_refuses_bad_input_with_a_message() -> None:
    org = await make_org()
    cases = [
        ("--org", "nowhere.test", "--name", "X", "--redirect-uri", REDIRECT_URI),
        ("--org", org.domain, "--name", "X", "--redirect-uri", "http://app.example.test/cb"),
        ("--org", org.domain, "--name", "X", "--redirect-uri", REDIRECT_URI + "#frag"),
        ("--org", org.domain, "--name", "X", "--redirect-uri", REDIRECT_URI, "--scope", "admin"),
        ("--org", org.domain, "--name", " ", "--redirect-uri", REDIRECT_URI),
    ]
    for args in cases:
        done = hexagone("oidc-client", "create", *args, "--json")
        assert done.returncode == 2, args
        assert done.stderr.startswith("error: ") and done.stdout == "", args
