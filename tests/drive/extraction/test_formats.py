"""The readers themselves, in this process: the guards that refuse a hostile file before
it is unpacked or decoded (what the sandbox runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hexagone.drive.extraction import formats
from tests.drive.extraction import documents


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_image_preview_refuses_a_decompression_bomb_before_decoding_it(tmp_path: Path) -> None:
    with pytest.raises(formats.Unreadable, match="decompression bomb"):
        formats.image_preview(_file(tmp_path, "bomb.png", documents.png_claiming(30_000, 30_000)))
    with pytest.raises(
        formats.Unreadable, match="decompression bomb"
    ):  # between the limit and twice it: a warning made an error
        formats.image_preview(_file(tmp_path, "large.png", documents.png_claiming(7_000, 7_000)))


def test_office_zip_of_too_many_entries_is_refused_unopened(tmp_path: Path) -> None:
    with pytest.raises(formats.Unreadable, match="too much"):
        formats.docx_text(_file(tmp_path, "many.docx", documents.zip_of_many_entries(formats.MAX_ENTRIES + 1)))


def test_odf_text_refuses_xml_entities(tmp_path: Path) -> None:
    from defusedxml import EntitiesForbidden

    with pytest.raises(EntitiesForbidden):
        formats.odf_text(_file(tmp_path, "bomb.odt", documents.odt_with_entity_bomb()))


@pytest.mark.parametrize(
    ("name", "content_type", "kind"),
    [
        ("Rapport.PDF", "", "pdf"),
        ("scan", "application/pdf", "pdf"),
        ("photo", "image/webp", "image"),
        ("logo.svg", "image/svg+xml", None),
        ("notes", "text/plain", "text"),
        ("archive.zip", "application/zip", None),
        ("ancien.doc", "application/msword", "office"),
    ],
    ids=["extension-any-case", "pdf-by-type", "image-by-type", "svg-never", "text-by-type", "zip", "legacy-office"],
)
def test_kind_of_a_file_by_its_extension_then_its_type(name: str, content_type: str, kind: str | None) -> None:
    assert formats.kind_of(name, content_type) == kind
