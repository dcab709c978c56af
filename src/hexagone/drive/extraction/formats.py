"""Reading what a file holds, one function per kind of document: its text (for search)
and a small image of it (its preview). They run inside the sandbox
(:mod:`.sandbox`), a process of its own with its memory and CPU time bounded, so a
corrupt or hostile file costs at most that process; plain text alone, which is only
decoded, is read in the job's process.

Each reader stops early: at :data:`MAX_TEXT` characters, :data:`MAX_PAGES` pages or
slides, :data:`MAX_CELLS` cells. An OOXML or ODF file is a zip: its entries are counted
and their announced sizes summed before anything is unpacked (:func:`check_zip`), so a
zip bomb is refused unopened.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

MAX_TEXT = 1_000_000  # characters kept of a document's text
MAX_PAGES = 500
MAX_CELLS = 200_000
MAX_TEXT_FILE = 2 << 20  # bytes of a plain text file read
MAX_UNZIPPED = 256 << 20  # what the entries of an office document may add up to
MAX_ENTRIES = 10_000
PREVIEW_SIZE = 512  # pixels, the longer side
MAX_PIXELS = 40_000_000  # an image larger than this is not opened (decompression bomb)
ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"

# Kinds of document by extension; the content type decides when there is none.
KINDS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".odt": "odf",
    ".ods": "odf",
    ".odp": "odf",
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".csv": "text",
    ".tsv": "text",
    ".log": "text",
    ".jpg": "image",
    ".jpeg": "image",
    ".png": "image",
    ".gif": "image",
    ".webp": "image",
    ".bmp": "image",
    ".tif": "image",
    ".tiff": "image",
    ".doc": "office",
    ".ppt": "office",
    ".xls": "office",
    ".rtf": "office",
}
TEXT_KINDS = frozenset({"pdf", "docx", "pptx", "xlsx", "odf", "text"})
PREVIEW_KINDS = frozenset({"pdf", "image"})  # and, through LibreOffice, every office document
OFFICE_KINDS = frozenset({"docx", "pptx", "xlsx", "odf", "office"})
ZIPPED_KINDS = frozenset({"docx", "pptx", "xlsx", "odf"})


def kind_of(name: str, content_type: str) -> str | None:
    """What kind of document a file is, by its name's extension, else its content type."""
    suffix = Path(name).suffix.lower()
    if suffix in KINDS:
        return KINDS[suffix]
    if content_type == "application/pdf":
        return "pdf"
    if content_type.startswith("image/") and content_type != "image/svg+xml":
        return "image"
    if content_type.startswith("text/"):
        return "text"
    return None


class Unreadable(Exception):
    """The file is not what its kind says, or is larger than it may be once unpacked."""


def check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise Unreadable(str(error)) from None
    if len(entries) > MAX_ENTRIES or sum(e.file_size for e in entries) > MAX_UNZIPPED:
        raise Unreadable("the archive unpacks to too much")


def _capped(pieces: Iterable[str]) -> str:
    """The pieces joined by newlines, up to :data:`MAX_TEXT` characters."""
    kept: list[str] = []
    size = 0
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        kept.append(piece)
        size += len(piece) + 1
        if size >= MAX_TEXT:
            break
    return "\n".join(kept)[:MAX_TEXT]


def pdf_text(path: Path) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:

        def pages() -> Iterator[str]:
            for index in range(min(len(document), MAX_PAGES)):
                page = document[index]
                textpage = page.get_textpage()
                yield textpage.get_text_range()
                textpage.close()
                page.close()

        return _capped(pages())
    finally:
        document.close()


def docx_text(path: Path) -> str:
    import docx

    check_zip(path)
    document = docx.Document(str(path))

    def pieces() -> Iterator[str]:
        for paragraph in document.paragraphs:
            yield paragraph.text
        for table in document.tables:
            for row in table.rows:
                yield "\t".join(cell.text for cell in row.cells)

    return _capped(pieces())


def pptx_text(path: Path) -> str:
    import pptx

    check_zip(path)
    presentation = pptx.Presentation(str(path))

    def pieces() -> Iterator[str]:
        for number, slide in enumerate(presentation.slides):
            if number >= MAX_PAGES:
                return
            for shape in slide.shapes:
                if shape.has_text_frame:
                    yield shape.text_frame.text

    return _capped(pieces())


def xlsx_text(path: Path) -> str:
    import openpyxl

    check_zip(path)
    book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)

    def pieces() -> Iterator[str]:
        cells = 0
        for sheet in book.worksheets:
            yield sheet.title
            for row in sheet.iter_rows(values_only=True):
                values = [str(v) for v in row if v is not None]
                cells += len(row)
                yield "\t".join(values)
                if cells >= MAX_CELLS:
                    return

    try:
        return _capped(pieces())
    finally:
        book.close()


def odf_text(path: Path) -> str:
    """An OpenDocument's text: the paragraphs and headings of its ``content.xml``, read
    with defusedxml (no entities, no external references)."""
    from defusedxml import ElementTree

    check_zip(path)
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as xml:
        root = ElementTree.parse(xml).getroot()
    blocks = (el for el in root.iter() if el.tag in (ODF_TEXT + "p", ODF_TEXT + "h"))
    return _capped("".join(el.itertext()) for el in blocks)


def plain_text(path: Path) -> str:
    with path.open("rb") as handle:
        return decode_text(handle.read(MAX_TEXT_FILE))


def decode_text(data: bytes) -> str:
    """The text of a file's first bytes in whatever encoding they are (charset_normalizer
    guesses; UTF-8 with replacement characters when it cannot)."""
    from charset_normalizer import from_bytes

    data = data[:MAX_TEXT_FILE]
    best = from_bytes(data).best()
    text = str(best) if best is not None else data.decode("utf-8", "replace")
    return text.replace("\x00", "")[:MAX_TEXT]


TEXT_READERS: dict[str, Callable[[Path], str]] = {
    "pdf": pdf_text,
    "docx": docx_text,
    "pptx": pptx_text,
    "xlsx": xlsx_text,
    "odf": odf_text,
    "text": plain_text,
}


def _png(image: object) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)
    image.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def image_preview(path: Path) -> bytes:
    """A PNG of at most :data:`PREVIEW_SIZE` pixels a side; an image of more than
    :data:`MAX_PIXELS` pixels (a decompression bomb, or just too large) is refused."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                image.draft("RGB", (PREVIEW_SIZE, PREVIEW_SIZE))  # JPEG: decode at a fraction of the size
                image.seek(0)
                oriented = ImageOps.exif_transpose(image)
                return _png(oriented)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise Unreadable(str(error)) from None


def pdf_preview(path: Path) -> bytes:
    """The first page of a PDF, rendered to fit :data:`PREVIEW_SIZE` pixels."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        if len(document) == 0:
            raise Unreadable("no page")
        page = document[0]
        width, height = page.get_size()
        if not (0 < width < 20_000 and 0 < height < 20_000):
            raise Unreadable("a page of an impossible size")
        bitmap = page.render(scale=PREVIEW_SIZE / max(width, height))
        return _png(bitmap.to_pil())
    finally:
        document.close()


PREVIEWERS: dict[str, Callable[[Path], bytes]] = {"pdf": pdf_preview, "image": image_preview}
