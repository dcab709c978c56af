"""Text extraction and previews: the job planned with each stored version reads real
documents of every supported kind in its sandbox, gives search their words only for who
reaches the file, survives corrupt and hostile files, and makes previews served to who
may read the file."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from hexagone.core import blobs
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import NotFound
from hexagone.core.jobs import Claimed, Job
from hexagone.drive import search, service
from hexagone.drive.extraction import jobs as extraction
from hexagone.drive.extraction.formats import PREVIEW_SIZE
from hexagone.drive.models import ExtractedText, Version
from tests.drive.extraction import documents
from tests.drive.factories import make_drive_org, make_member, own_drive, put
from tests.drive.links.helpers import answer_to_pending_second_factor
from tests.factories import login, make_user, principal
from tests.mail.api.helpers import bearer, token_for

pytestmark = pytest.mark.usefixtures("migrated")

LATIN_1 = "Le château de la forêt: un été très ensoleillé, où l'on mange des crêpes.".encode("latin-1")


async def _extract(who: Principal, node: service.NodeInfo) -> uuid.UUID:
    """Run the job for the file's current version, as the worker would; its version id."""
    assert node.version_id is not None
    payload = {"version_id": str(node.version_id)}
    await extraction.extract(Claimed(uuid.uuid4(), extraction.EXTRACT_JOB, who.org_id, payload, 1, 5))
    return node.version_id


async def _text(org_id: uuid.UUID, version_id: uuid.UUID) -> ExtractedText | None:
    async with org_session(org_id) as db:
        return await db.get(ExtractedText, version_id)


@pytest.mark.parametrize(
    ("name", "data", "word", "library"),
    [
        ("rapport.pdf", documents.pdf("Quarterly zephyrine figures"), "zephyrine", "pypdfium2"),
        ("note.docx", documents.docx("Le projet xylophage avance."), "xylophage", "python-docx"),
        ("deck.pptx", documents.pptx("Objectif quinconce atteint"), "quinconce", "python-pptx"),
        ("budget.xlsx", documents.xlsx("ligne ornithorynque"), "ornithorynque", "openpyxl"),
        ("lettre.odt", documents.odt("Cher palindrome,"), "palindrome", "defusedxml"),
        ("vieux.txt", LATIN_1, "château", "charset-normalizer"),
        ("lisez-moi.md", b"# Titre\n\nUn *hippocampe* en markdown.", "hippocampe", "charset-normalizer"),
        ("table.csv", b"nom;ville\nalice;tombouctou\n", "tombouctou", "charset-normalizer"),
    ],
    ids=["pdf", "docx", "pptx", "xlsx", "odt", "latin-1-text", "markdown", "csv"],
)
async def test_extraction_reads_the_text_of_each_kind_of_document(
    name: str, data: bytes, word: str, library: str
) -> None:
    _user, me = await make_member()
    stored = await put(me, (await own_drive(me)).root_id, name, data)
    async with org_session(me.org_id) as db:
        planned = (
            (await db.execute(select(Job).where(Job.kind == extraction.EXTRACT_JOB, Job.org_id == me.org_id)))
            .scalars()
            .all()
        )
        stored = await service.node(db, me, stored.id)
    assert any(job.payload["version_id"] == str(stored.version_id) for job in planned)
    row = await _text(me.org_id, await _extract(me, stored))
    assert row is not None and word in row.text and row.extractor.startswith(library)
    await _extract(me, stored)  # again: the text is kept, not read twice
    again = await _text(me.org_id, row.version_id)
    assert again is not None and again.extracted_at == row.extracted_at


async def _planned(org_id: uuid.UUID) -> list[str]:
    async with org_session(org_id) as db:
        query = select(Job.payload).where(Job.kind == extraction.EXTRACT_JOB, Job.org_id == org_id)
        return [payload["version_id"] for payload in (await db.execute(query)).scalars()]


async def test_extraction_is_not_planned_for_a_file_of_no_kind_it_reads() -> None:
    """A sync client's thousands of small binary files cost the job worker nothing."""
    _user, me = await make_member()
    root = (await own_drive(me)).root_id
    await put(me, root, "blob.bin", b"\x00\x01binary")
    await put(me, root, "archive.tar", b"not read")
    assert await _planned(me.org_id) == []
    readable = await put(me, root, "notes.txt", b"read")
    async with org_session(me.org_id) as db:
        version_id = (await service.node(db, me, readable.id)).version_id
    assert await _planned(me.org_id) == [str(version_id)]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("casse.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40),
        ("bombe.docx", documents.zip_of_many_entries(10_001)),
        ("entites.odt", documents.odt_with_entity_bomb()),
        ("faux.xlsx", b"PK\x03\x04 not really a zip"),
    ],
    ids=["corrupt-pdf", "zip-of-too-many-entries", "xml-entities", "truncated-zip"],
)
async def test_extraction_of_a_corrupt_or_hostile_file_gives_no_text_and_no_crash(name: str, data: bytes) -> None:
    _user, me = await make_member()
    stored = await put(me, (await own_drive(me)).root_id, name, data)
    async with org_session(me.org_id) as db:
        stored = await service.node(db, me, stored.id)
    row = await _text(me.org_id, await _extract(me, stored))
    assert row is not None and row.text == ""  # tried once, not again
    with pytest.raises(NotFound):
        async with org_session(me.org_id) as db:
            await service.preview(db, me, stored.id)


async def test_search_finds_an_extracted_word_only_for_who_reaches_the_file() -> None:
    org = await make_drive_org()
    _owner_user, owner = await make_member(org)
    colleague = await principal(await make_user(org))
    admin = await principal(await make_user(org, role="admin"))
    stranger = await principal(await make_user(await make_drive_org()))
    stored = await put(owner, (await own_drive(owner)).root_id, "compte-rendu.docx", documents.docx("mot quetzalcoatl"))
    async with org_session(org.id) as db:
        stored = await service.node(db, owner, stored.id)
    await _extract(owner, stored)
    assert [hit.title for hit in await search.files(owner, "quetzalcoatl", 10)] == ["compte-rendu.docx"]
    for who in (colleague, admin, stranger):
        assert await search.files(who, "quetzalcoatl", 10) == []
    async with org_session(org.id, write=True) as db:
        await service.share(db, owner, stored.id, "reader", user_id=colleague.user_id)
        await db.commit()
    assert [hit.title for hit in await search.files(colleague, "quetzalcoatl", 10)] == ["compte-rendu.docx"]
    async with org_session(org.id, write=True) as db:
        await service.trash(db, owner, stored.id)
        await db.commit()
    assert await search.files(owner, "quetzalcoatl", 10) == []


async def _preview_size(who: Principal, node_id: uuid.UUID) -> tuple[int, int]:
    async with org_session(who.org_id) as db:
        _info, image = await service.preview(db, who, node_id)
    with Image.open(io.BytesIO(image)) as shown:
        assert shown.format == "PNG"
        return shown.size


async def test_previews_of_an_image_and_a_pdf_for_who_may_read_them() -> None:
    org = await make_drive_org()
    _user, me = await make_member(org)
    colleague = await principal(await make_user(org))
    root = (await own_drive(me)).root_id
    photo = await put(me, root, "photo.jpg", documents.jpeg(1200, 800))
    paper = await put(me, root, "article.pdf", documents.pdf("Preview me"))
    async with org_session(org.id) as db:
        photo = await service.node(db, me, photo.id)
        paper = await service.node(db, me, paper.id)
    await _extract(me, photo)
    await _extract(me, paper)
    assert await _preview_size(me, photo.id) == (PREVIEW_SIZE, PREVIEW_SIZE * 2 // 3)
    width, height = await _preview_size(me, paper.id)
    assert height == PREVIEW_SIZE and 0 < width < height
    async with org_session(org.id) as db:
        for node_id in (photo.id, root):
            with pytest.raises(NotFound):
                await service.preview(db, colleague, node_id)
        with pytest.raises(NotFound):  # a folder has none
            await service.preview(db, me, root)
    # a new version gets its own preview
    newer = await put(me, root, "photo.jpg", documents.jpeg(300, 600))
    async with org_session(org.id) as db:
        newer = await service.node(db, me, newer.id)
    await _extract(me, newer)
    assert await _preview_size(me, newer.id) == (256, PREVIEW_SIZE)


async def test_a_decompression_bomb_gets_no_preview() -> None:
    _user, me = await make_member()
    bomb = await put(me, (await own_drive(me)).root_id, "bombe.png", documents.png_claiming(30_000, 30_000))
    async with org_session(me.org_id) as db:
        bomb = await service.node(db, me, bomb.id)
    await _extract(me, bomb)
    async with org_session(me.org_id) as db:
        with pytest.raises(NotFound):
            await service.preview(db, me, bomb.id)
        version = await db.get(Version, bomb.version_id)
    assert version is not None
    assert not await blobs.get_store().exists(extraction.preview_key(version.blob_key))


@pytest.mark.skipif(extraction.office_converter() is None, reason="LibreOffice is not installed")
async def test_an_office_document_is_previewed_through_libreoffice() -> None:
    _user, me = await make_member()
    stored = await put(me, (await own_drive(me)).root_id, "note.docx", documents.docx("Aperçu"))
    async with org_session(me.org_id) as db:
        stored = await service.node(db, me, stored.id)
    await _extract(me, stored)
    assert max(await _preview_size(me, stored.id)) == PREVIEW_SIZE


async def test_preview_route_serves_cached_png_and_refuses_others(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_drive_org()
    user, me = await make_member(org)
    photo = await put(me, (await own_drive(me)).root_id, "photo.jpg", documents.jpeg(64, 64))
    text = await put(me, (await own_drive(me)).root_id, "a.txt", b"no preview")
    async with org_session(org.id) as db:
        photo = await service.node(db, me, photo.id)
    await _extract(me, photo)
    path = f"/drive/previews/{photo.id}"
    assert (await client.get(path)).status_code == 404  # anonymous
    await login(client, user)
    shown = await client.get(path)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    assert shown.headers["etag"] == f'"{photo.version_id}"' and shown.headers["cache-control"] == "private, no-cache"
    assert shown.content.startswith(b"\x89PNG")
    again = await client.get(path, headers={"if-none-match": shown.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    pinned = await client.get(f"{path}?v={photo.version_id}")
    assert "immutable" in pinned.headers["cache-control"]
    assert (await client.get(f"/drive/previews/{text.id}")).status_code == 404
    assert (await client.get("/drive/previews/not-an-id")).status_code == 400
    for role, other_org in (("user", org), ("admin", org), ("guest", org), ("user", None)):
        other = await make_user(other_org or await make_drive_org(), role=role)
        async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
            await login(browser, other)
            assert (await browser.get(path)).status_code == 404, role
    token = await token_for(base_url, user)
    assert (await client.get(path, headers=bearer(token))).status_code == 401
    assert (await answer_to_pending_second_factor(base_url, org, path)).status_code == 303


async def test_a_copy_is_found_by_its_text_and_shares_its_preview() -> None:
    _user, me = await make_member()
    root = (await own_drive(me)).root_id
    photo = await put(me, root, "photo.jpg", documents.jpeg(64, 32))
    note = await put(me, root, "note.txt", b"le mot albatros")
    async with org_session(me.org_id) as db:
        photo = await service.node(db, me, photo.id)
        note = await service.node(db, me, note.id)
    await _extract(me, photo)
    await _extract(me, note)
    async with org_session(me.org_id, write=True) as db:
        photo_copy = await service.copy(db, me, photo.id, root, name="copie.jpg")
        note_copy = await service.copy(db, me, note.id, root, name="copie.txt")
        await db.commit()
    assert await _preview_size(me, photo_copy.id) == (64, 32)  # the same blob, the same preview
    await _extract(me, note_copy)
    assert sorted(hit.title for hit in await search.files(me, "albatros", 10)) == ["copie.txt", "note.txt"]


async def _listed(who: Principal, folder_id: uuid.UUID) -> dict[str, bool]:
    async with org_session(who.org_id) as db:
        return {e.name: e.has_preview for e in (await service.list_folder(db, who, folder_id)).entries}


async def test_listing_shows_a_thumbnail_once_the_preview_is_made_and_not_for_a_new_version_yet(
    client: httpx.AsyncClient,
) -> None:
    org = await make_drive_org()
    user, me = await make_member(org)
    root = (await own_drive(me)).root_id
    photo = await put(me, root, "photo.jpg", documents.jpeg(64, 32))
    await put(me, root, "note.txt", b"pas d'aper\xc3\xa7u")
    assert await _listed(me, root) == {"note.txt": False, "photo.jpg": False}
    async with org_session(org.id) as db:
        photo = await service.node(db, me, photo.id)
    await _extract(me, photo)
    assert await _listed(me, root) == {"note.txt": False, "photo.jpg": True}
    await login(client, user)
    page = (await client.get(f"/drive/folders/{root}")).text
    assert page.count('class="drive-thumb"') == 1 and f'src="/drive/previews/{photo.id}"' in page

    await put(me, root, "photo.jpg", documents.jpeg(32, 64))  # a new version: not read yet
    assert await _listed(me, root) == {"note.txt": False, "photo.jpg": False}
    async with org_session(org.id, write=True) as db:
        copy = await service.copy(db, me, photo.id, root, name="copie.jpg")
        await db.commit()
    async with org_session(org.id) as db:
        copy = await service.node(db, me, copy.id)
    await _extract(me, copy)  # the blob's preview is there already: the copy shows it
    assert (await _listed(me, root))["copie.jpg"] is True
