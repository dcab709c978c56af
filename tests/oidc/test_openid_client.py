"""A second, independent relying party: the OpenID-certified ``openid-client`` (Node.js),
through discovery, PKCE, the code grant with the ID token's signature checked, userinfo,
refresh, revocation and the end-session URL. Its pinned package lives in
``tests/oidc/node`` and is installed there from the lock file on first use."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from hexagone.core.auth import SESSION_COOKIE
from tests.oidc.factories_oidc import LOGOUT_URI, bearer, signed_in

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="module")
def node_client() -> Path:
    node = shutil.which("node")
    assert node, "Node.js (20 or later) is needed, as for the front-end build"
    if not (NODE_DIR / "node_modules" / "openid-client").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, capture_output=True)
    return Path(node)


async def test_openid_client_signs_in_refreshes_revokes_and_signs_out(
    client: httpx.AsyncClient, base_url: str, node_client: Path
) -> None:
    it = await signed_in(client, base_url)
    run = subprocess.run(
        [str(node_client), str(NODE_DIR / "relying_party.mjs")],
        capture_output=True,
        text=True,
        timeout=60,
        input=json.dumps(
            {
                "issuer": base_url,
                "client_id": it.app.client_id,
                "client_secret": it.app.secret,
                "redirect_uri": it.app.redirect_uri,
                "post_logout_redirect_uri": LOGOUT_URI,
                "cookie": f"{SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}",
            }
        ),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["sub"] == str(it.user.id) and result["email"] == it.user.email
    assert result["rotated"] is True
    # The library revoked the refresh token it had just received: that revokes the pair.
    revoked = await client.get("/oidc/userinfo", headers=bearer(result["refreshed_access_token"]))
    assert revoked.status_code == 401
    signed_out = await client.get(result["logout_url"])
    assert signed_out.status_code == 302 and signed_out.headers["location"] == f"{LOGOUT_URI}?state=bye"
    assert (await client.get("/")).status_code == 303
