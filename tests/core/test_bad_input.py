"""Bad input gets a clear 4xx with a message: never a 500, never a stack trace."""

from __future__ import annotations

import asyncio
import select
import socket
from urllib.parse import urlsplit

import httpx
import pytest

from tests.factories import csrf_token, login, make_org, make_user


async def test_oversize_body_is_refused_with_413(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        content=b"a=" + b"x" * 2_000_000,
        headers={"content-type": "application/x-www-form-urlencoded", "x-csrf-token": token},
    )
    assert response.status_code == 413
    assert "too large" in response.text


async def raw_request(base_url: str, request: bytes) -> bytes:
    """Bytes that no well-behaved client library would send."""
    import asyncio
    from urllib.parse import urlsplit

    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(65536), timeout=10)
    writer.close()
    return answer


async def test_oversize_chunked_body_is_refused_before_it_is_all_sent(base_url: str) -> None:
    """A chunked body announces no size: the 413 must come once the limit (1 MiB) is
    passed, not after whatever the client chooses to send (up to 64 MiB here)."""
    status, sent = await asyncio.to_thread(_send_chunked_until_answered, base_url, 64 * 2**20)
    assert status.startswith(b"HTTP/1.1 413"), status[:100]
    assert sent < 16 * 2**20, f"{sent} bytes sent before the refusal"


def _send_chunked_until_answered(base_url: str, most: int) -> tuple[bytes, int]:
    """Send a chunked body until the server answers (or ``most`` bytes); a plain socket,
    so that an answer followed by a reset is still read."""
    url = urlsplit(base_url)
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    sent = 0
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        )
        try:
            while sent < most and not select.select([sock], [], [], 0)[0]:
                sock.sendall(chunk)
                sent += 0x10000
        except OSError:
            pass  # the server closed the connection: the rest of the body is not wanted
        return sock.recv(65536), sent


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GARBAGE\r\n\r\n",
    ],
)
async def test_malformed_http_gets_4xx_or_a_clean_close(base_url: str, request_bytes: bytes) -> None:
    answer = await raw_request(base_url, request_bytes)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:100]


async def test_malformed_cookie_header_is_ignored(client: httpx.AsyncClient) -> None:
    response = await client.get("/login", headers={"cookie": 'hx_session="unterminated; ;;=; =x; a="b'})
    assert response.status_code == 200


async def test_forged_session_cookie_is_treated_as_anonymous(client: httpx.AsyncClient) -> None:
    client.cookies.set("hx_session", "forged")
    response = await client.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize("body", [b"\xff\xfe\xfa", b"email=%ff%fe&password=x", b"email[]=a&email[]=b", b"=&&=="])
async def test_garbage_login_forms_get_4xx(client: httpx.AsyncClient, body: bytes) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/login", content=body, headers={"content-type": "application/x-www-form-urlencoded", "x-csrf-token": token}
    )
    assert 400 <= response.status_code < 500
    assert "Traceback" not in response.text


async def test_long_field_values_get_4xx(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    response = await client.post("/login", data={"email": "a" * 5000, "password": "x", "csrf_token": token})
    assert response.status_code == 400


async def test_unknown_path_gets_a_404_page_in_french(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere", headers={"accept-language": "fr"})
    assert response.status_code == 404
    assert "existe pas" in response.text


async def test_wrong_method_gets_405(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    response = await client.put("/login", headers={"x-csrf-token": token})
    assert response.status_code == 405


async def test_api_errors_are_json_with_a_message(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == {"error": "authentication required", "status": 401}
    garbage = await client.get("/api/v1/me", headers={"authorization": "Bearer garbage"})
    assert garbage.status_code == 401 and garbage.json()["error"]


async def test_unsafe_api_call_with_session_but_without_csrf_header_is_forbidden(client: httpx.AsyncClient) -> None:
    await login(client, await make_user(await make_org()))
    response = await client.post("/api/v1/me", json={})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "target", ["/search?q=a%00b", "/calendar/contacts/?q=%00", "/admin/users?q=x%00", "/api/v1/me?x=%00", "/a%00b"]
)
async def test_a_nul_in_the_address_is_refused_with_400_for_anyone(client: httpx.AsyncClient, target: str) -> None:
    anonymous = await client.get(target)
    user = await make_user(await make_org())
    await login(client, user)
    signed_in = await client.get(target)

    for response in (anonymous, signed_in):
        assert response.status_code == 400, response.text
        assert "NUL" in response.text


async def test_a_streamed_body_reaches_the_page_whole_beyond_the_buffered_limit(client: httpx.AsyncClient) -> None:
    """``allow_streamed_bodies``: the sample module's /sample/upload reads its body as it
    arrives, up to 8 MiB, more than the 1 MiB every other page buffers; its CSRF token
    comes in the header, or as the first field of a multipart form."""
    user = await make_user(await make_org(modules=("sample",)))
    await login(client, user)
    token = await csrf_token(client, "/sample/")
    data = b"x" * (5 * 2**20)
    answer = await client.post("/sample/upload", content=data, headers={"x-csrf-token": token})
    assert answer.status_code == 200 and answer.json() == {"bytes": len(data)}
    form = await client.post("/sample/upload", data={"csrf_token": token}, files={"file": ("a.bin", data)})
    assert form.status_code == 200 and form.json()["bytes"] > len(data)
    assert (await client.post("/sample/upload", files={"file": ("a.bin", data)})).status_code == 403
    too_large = await client.post("/sample/upload", content=b"x" * (9 * 2**20), headers={"x-csrf-token": token})
    assert too_large.status_code == 413
