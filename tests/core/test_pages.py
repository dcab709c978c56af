"""The page kit every module's pages share (:mod:`hexagone.core.pages`): registered
notices, one error convention, bounded page numbers, and same-site ``next`` only."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from starlette.datastructures import FormData
from starlette.requests import Request

from hexagone.core import pages
from hexagone.core.exceptions import Invalid
from tests.admin.factories_admin import post
from tests.factories import login, make_org, make_user, unique


def _request(path: str = "/list", **query: str) -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": path, "query_string": urlencode(query).encode(), "headers": []}
    )


def test_registered_notice_is_shown_for_its_key() -> None:
    key = unique("test_notice_")
    pages.notices({key: "Test notice."})
    assert pages.notice_for(_request(done=key)) == "Test notice."
    assert pages.notice_for(_request(done="no_such_notice")) is None


def test_notice_registered_again_with_another_text_is_refused() -> None:
    key = unique("test_notice_")
    pages.notices({key: "First."})
    pages.notices({key: "First."})  # the same text again is harmless
    with pytest.raises(ValueError):
        pages.notices({key: "Second."})


@pytest.mark.parametrize("value", ["0", "-1", "x", "10001", "1.5"])
def test_page_number_outside_bounds_is_refused(value: str) -> None:
    with pytest.raises(Invalid):
        pages.page_number(_request(page=value))


def test_page_number_defaults_to_first_and_reads_valid_pages() -> None:
    assert pages.page_number(_request()) == 1
    assert pages.page_number(_request(page="10000")) == 10_000


def test_pager_links_keep_filters_and_drop_notice() -> None:
    pager = pages.pager(_request(q="invoice", page="2", done="saved"), 2, has_next=True)
    assert pager.previous == "/list?q=invoice&page=1"
    assert pager.next == "/list?q=invoice&page=3"
    assert pages.pager(_request(), 1, has_next=False) == pages.Pager(1, "", "")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil", "mail"])
def test_done_ignores_a_next_that_leaves_the_site(target: str) -> None:
    response = pages.done("/spaces", "saved", FormData({"next": target}))
    assert response.status_code == 303 and response.headers["location"] == "/spaces?done=saved"


def test_done_follows_a_same_site_next() -> None:
    response = pages.done("/spaces", "saved", FormData({"next": "/mail/folders/1?page=2"}))
    assert response.headers["location"] == "/mail/folders/1?page=2&done=saved"


def test_done_puts_the_notice_before_a_fragment_of_next() -> None:
    response = pages.done("/chat/", "saved", FormData({"next": "/chat/1#m-2"}))
    assert response.headers["location"] == "/chat/1?done=saved#m-2"


async def test_failed_form_shows_the_service_message_with_its_status(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org())
    await login(client, user)
    response = await post(client, "/spaces", {"name": ""})
    assert response.status_code == 400 and 'role="alert"' in response.text
