"""core.dav.xml's answers: a streamed multistatus is the same document as a whole one,
sent in batches."""

from __future__ import annotations

from xml.etree import ElementTree

from hexagone.core.dav import xml


async def _sent(parts: list[str]) -> list[bytes]:
    response = xml.multistatus_stream(iter(parts))
    assert response.status_code == 207 and response.media_type == xml.XML_TYPE
    return [chunk async for chunk in response.body_iterator]  # type: ignore[misc]


async def test_multistatus_stream_sends_in_batches_the_document_a_whole_answer_is() -> None:
    parts = [
        xml.response(f"/dav/files/a/f{n}.txt", xml.propstat_elements([], {404: ["{DAV:}getetag"]})) for n in range(1201)
    ]
    chunks = await _sent(parts)
    assert len(chunks) == 1 + 3  # the opening, two full batches, the rest with the closing
    assert b"".join(chunks) == xml.multistatus(parts).body
    hrefs = ElementTree.fromstring(b"".join(chunks)).findall("{DAV:}response/{DAV:}href")
    assert [h.text for h in hrefs] == [f"/dav/files/a/f{n}.txt" for n in range(1201)]


async def test_multistatus_stream_of_nothing_is_an_empty_multistatus() -> None:
    document = b"".join(await _sent([]))
    assert ElementTree.fromstring(document).tag == "{DAV:}multistatus" and document == xml.multistatus([]).body
