"""Every response carries the security headers; the policy allows our own origin only,
and the live sockets' server on our host (core/live.py: a port of its own)."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import login, make_org, make_user
from tests.ports import LIVE_PORTS


@pytest.mark.parametrize(
    "path", ["/login", "/healthz", "/does-not-exist", "/api/v1/openapi.json", "/static/dist/app.css"]
)
async def test_security_headers_are_on_every_response(client: httpx.AsyncClient, base_url: str, path: str) -> None:
    response = await client.get(path)
    csp = response.headers["content-security-policy"]
    assert f"connect-src 'self' ws://127.0.0.1:{LIVE_PORTS[base_url]};" in csp
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_pages_reference_no_third_party_host(client: httpx.AsyncClient) -> None:
    await login(client, await make_user(await make_org()))
    for path in ("/", "/account", "/login"):
        html = (await client.get(path)).text
        for attr in ('src="http', "src='http", 'href="http', "href='//", 'src="//'):
            assert attr not in html, (path, attr)


async def test_session_cookie_is_httponly_and_samesite_lax(client: httpx.AsyncClient) -> None:
    response = await login(client, await make_user(await make_org()))
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
