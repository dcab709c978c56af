"""What the reading view shows of a message: which MIME parts make its body, that body
made safe, and the list of its attachments.

A message is hostile until proven otherwise. HTML goes through nh3 (the ammonia
sanitiser) with a short list of tags, attributes and CSS properties; what survives is
shown in a sandboxed frame with its own Content-Security-Policy (no script at all, images
from here only unless the reader allowed remote ones), so a sanitiser bug alone does not
run anything. Remote images are removed here rather than left to the policy: a blocked
request still tells nothing to the sender, and the reader sees no broken-image noise.
Plain text is escaped, its web addresses turned into links.

Nothing here raises on a broken message: a part that cannot be decoded shows as what
:mod:`hexagone.mail.mime` makes of it.

Only the first :data:`SHOWN_LIMIT` bytes of the body are shown (the rest is a download),
so a page costs the same to read, decode, sanitise and send whatever the message weighs;
:func:`needed_bytes` says how much of the stored message that takes.
"""

from __future__ import annotations

import codecs
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import nh3
from markupsafe import Markup, escape

from hexagone.mail import mime

TAGS = (nh3.ALLOWED_TAGS | {"font", "tfoot"}) - {"map", "area"}
# Tags dropped with everything inside them (not only the tags): what would otherwise
# leave its text or code behind as visible words.
DROPPED_WITH_CONTENT = {
    "script",
    "style",
    "title",
    "head",
    "noscript",
    "template",
    "object",
    "embed",
    "applet",
    "iframe",
    "frame",
    "frameset",
    "textarea",
    "select",
    "option",
    "button",
    "svg",
    "math",
}
LAYOUT = {"align", "valign", "width", "height", "bgcolor", "border", "cellpadding", "cellspacing"}
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"style", "dir", "lang", "title"} | LAYOUT,
    "a": {"href", "hreflang"},
    "img": {"src", "alt"},
    "font": {"color", "face", "size"},
    "td": {"colspan", "rowspan", "headers", "scope", "nowrap"},
    "th": {"colspan", "rowspan", "headers", "scope", "nowrap"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "col": {"span"},
    "colgroup": {"span"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "time": {"datetime"},
    "data": {"value"},
    "del": {"datetime", "cite"},
    "ins": {"datetime", "cite"},
    "bdo": {"dir"},
}
# What a message may say about its look. No position (an overlay could pass for this
# page), no background images or other url(): only colours, type, spacing and borders.
STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "font-variant",
    "line-height",
    "letter-spacing",
    "word-spacing",
    "text-align",
    "text-decoration",
    "text-indent",
    "text-transform",
    "white-space",
    "vertical-align",
    "direction",
    "list-style-type",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-collapse",
    "border-spacing",
    "border-radius",
    "width",
    "max-width",
    "min-width",
    "height",
    "max-height",
    "min-height",
    "display",
}
# Tokens that have no business in an e-mail's CSS and have served attacks: old IE
# expressions and behaviours, url() fetches, escapes that hide any of these.
STYLE_FORBIDDEN = re.compile(
    r"expression|url\s*\(|javascript|vbscript|behaviou?r|-moz-binding|@import|\\|&#|/\*", re.IGNORECASE
)
URL_SCHEMES = {"http", "https", "mailto", "cid", "data"}
DATA_IMAGE = re.compile(r"data:image/(png|gif|jpe?g|webp);base64,", re.IGNORECASE)
REMOTE = re.compile(r"https?:", re.IGNORECASE)
LINK = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
TRAILING_PUNCTUATION = ".,;:!?)]}'\""
TOKEN = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*$")
# Encoded bytes of body text shown, all the body's parts together. Gmail clips a message
# at 102 KB; this shows an ordinary letter or newsletter whole, while a 50 MB one costs
# a page of a few hundred KB and a few milliseconds of sanitising instead of seconds (the
# whole message stays one click away, as a download).
SHOWN_LIMIT = 256 << 10
# Served inline to <img> from a message's own parts; SVG is left out, since a document
# that can hold script has no place on this origin.
INLINE_IMAGE_TYPES = {"image/png", "image/gif", "image/jpeg", "image/webp", "image/bmp"}


@dataclass(frozen=True)
class Attachment:
    index: int  # the leaf's position in mime.leaves(structure): the download URL's part number
    filename: str
    content_type: str
    size: int  # decoded bytes, estimated from the encoded size


@dataclass
class Body:
    """A message as the reading view shows it. ``html`` is set when any of its body parts
    is HTML (the frame shows it); otherwise ``text`` holds the escaped text with links."""

    html: Markup | None = None
    text: Markup | None = None
    remote_images: bool = False
    inline_ids: set[str] = field(default_factory=set)
    attachments: list[Attachment] = field(default_factory=list)
    clipped_part: int | None = None  # the first body part cut at SHOWN_LIMIT (its download's number)


def content_type_of(node: dict[str, Any]) -> str:
    """``type/subtype`` when both are plain tokens, else ``application/octet-stream``."""
    maintype, subtype = str(node.get("type", "")).lower(), str(node.get("subtype", "")).lower()
    if TOKEN.match(maintype) and TOKEN.match(subtype):
        return f"{maintype}/{subtype}"
    return "application/octet-stream"


def body_leaves(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The text parts a reader expects to see as the message: HTML over plain text in a
    multipart/alternative, the root of a multipart/related, every part of a mixed one."""
    parts = node.get("parts")
    if parts is not None:
        subtype = node.get("subtype", "").lower()
        if subtype == "alternative":
            choices = [chosen for chosen in (body_leaves(p) for p in parts) if chosen]
            with_html = [c for c in choices if any(leaf["subtype"].lower() == "html" for leaf in c)]
            return (with_html or choices or [[]])[-1]
        if subtype == "related":
            return body_leaves(parts[0]) if parts else []
        return [leaf for part in parts for leaf in body_leaves(part)]
    if (
        node.get("type", "").lower() == "text"
        and node.get("subtype", "").lower() in ("plain", "html")
        and not mime.is_attachment(node)
    ):
        return [node]
    return []


def content_id(node: dict[str, Any]) -> str:
    return str(node.get("id") or "").strip().strip("<>")


def _decoded_size(node: dict[str, Any]) -> int:
    size = int(node.get("size") or 0)
    return size * 3 // 4 if str(node.get("encoding", "")).upper() == "BASE64" else size


def attachment_filename(node: dict[str, Any], index: int) -> str:
    name = mime.filename_of(node)
    if name:
        return name.replace("/", "_").replace("\\", "_").strip() or f"part-{index + 1}"
    content_type = content_type_of(node)
    extension = ".eml" if content_type == "message/rfc822" else (mimetypes.guess_extension(content_type) or ".bin")
    return f"part-{index + 1}{extension}"


def attachments(structure: dict[str, Any], shown: Iterable[dict[str, Any]], inline_ids: set[str]) -> list[Attachment]:
    """The parts a reader may download: everything that is not the body itself, except
    the images the HTML body shows in place (``cid:``)."""
    shown_ids = {id(leaf) for leaf in shown}
    found = []
    for index, leaf in enumerate(mime.leaves(structure)):
        if id(leaf) in shown_ids or leaf.get("type", "").lower() == "multipart":
            continue
        text_body = leaf.get("type", "").lower() == "text" and leaf.get("subtype", "").lower() in ("plain", "html")
        if text_body and not mime.is_attachment(leaf):
            continue  # the plain alternative of an HTML body
        if content_id(leaf) and content_id(leaf) in inline_ids:
            continue
        if leaf.get("size", 0) == 0 and not mime.filename_of(leaf):
            continue  # an empty part left by a broken multipart
        found.append(Attachment(index, attachment_filename(leaf, index), content_type_of(leaf), _decoded_size(leaf)))
    return found


def _clean_style(value: str) -> str | None:
    kept = [d for d in value.split(";") if d.strip() and not STYLE_FORBIDDEN.search(d)]
    return ";".join(kept) or None


def sanitise_html(html: str, *, cid_url: str, allow_remote: bool) -> tuple[str, bool, set[str]]:
    """``html`` made safe to show; also whether it had remote images, and the content
    ids it shows inline. ``cid_url`` is the path prefix that serves a part by content id."""
    remote = False
    inline: set[str] = set()

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        nonlocal remote
        if attribute == "style":
            return _clean_style(value)
        if tag == "img" and attribute == "src":
            if value[:4].lower() == "cid:":
                inline.add(value[4:].strip().strip("<>"))
                return cid_url + quote(value[4:].strip().strip("<>"), safe="@.-_")
            if REMOTE.match(value):
                remote = True
                return value if allow_remote else None
            return value if DATA_IMAGE.match(value) else None
        if tag == "a" and attribute == "href":
            return None if value[:5].lower() in ("data:", "cid:") else value
        return value

    cleaned = nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ATTRIBUTES,
        attribute_filter=attribute_filter,
        url_schemes=URL_SCHEMES,
        filter_style_properties=STYLE_PROPERTIES,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        link_rel="noopener noreferrer",
        strip_comments=True,
        # A relative address would point into this site: only the inline images' own.
        url_relative=lambda url: url if url.startswith(cid_url) else None,
    )
    return cleaned, remote, inline


def text_to_html(text: str) -> Markup:
    """Plain text, escaped, with its web addresses as links that open elsewhere."""
    pieces: list[str] = []
    position = 0
    for match in LINK.finditer(text):
        url = match.group(0).rstrip(TRAILING_PUNCTUATION)
        pieces.append(str(escape(text[position : match.start()])))
        pieces.append(f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{escape(url)}</a>')
        position = match.start() + len(url)
    pieces.append(str(escape(text[position:])))
    return Markup("".join(pieces))


def needed_bytes(structure: dict[str, Any]) -> int:
    """How many bytes from the start of the message :func:`render` reads: up to the
    shown beginning of its last body part (attachments after it are never read)."""
    return max((min(leaf["end"], leaf["body_start"] + SHOWN_LIMIT) for leaf in body_leaves(structure)), default=0)


def _whole_characters(data: bytes, charset: str) -> bytes:
    """``data`` without the character a cut left incomplete at its end (a 2-byte "é"
    of UTF-8 split by a base64 line), which would otherwise fail the strict decoding and
    show the whole text in the Latin-1 fallback. Data that is not valid anyway is left."""
    try:
        decoder = codecs.getincrementaldecoder(charset)()
        decoder.decode(data, final=False)
        pending = decoder.getstate()[0]
    except (LookupError, UnicodeDecodeError):
        return data
    return data[: len(data) - len(pending)]


def _leaf_text(raw: bytes, leaf: dict[str, Any], budget: int) -> tuple[str, bool]:
    """A body part as text, its encoded body cut to ``budget`` bytes at a line end (so
    that no base64 or quoted-printable line is split); and whether it was cut."""
    start, body_start, end = leaf["header_start"], leaf["body_start"], leaf["end"]
    if end - body_start <= budget and body_start - start <= mime.HEADER_LIMIT:
        return mime.part_text(raw, leaf), False
    header_end = raw.rfind(b"\n", start, min(body_start, start + mime.HEADER_LIMIT)) + 1 or body_start
    header = raw[start:header_end] + (b"\r\n" if header_end < body_start else b"")
    cut = min(end, body_start + budget)
    cut = raw.rfind(b"\n", body_start, cut) + 1 or cut
    excerpt = header + raw[body_start:cut]
    node = {**leaf, "header_start": 0, "body_start": len(header) if start < body_start else 0, "end": len(excerpt)}
    charset = {k.lower(): v for k, v in leaf.get("params") or ()}.get("charset", "utf-8")
    data = _whole_characters(mime.decode_part(excerpt, node), charset)
    return mime.part_text(
        data, {"params": leaf.get("params"), "header_start": 0, "body_start": 0, "end": len(data)}
    ), cut < end


def shown_texts(raw: bytes, structure: dict[str, Any], leaves: list[dict[str, Any]]) -> tuple[list[str], int | None]:
    """The text of each of the body parts ``leaves``, together at most :data:`SHOWN_LIMIT`
    bytes of them; and the number of the first part cut (for its download), if any."""
    numbers = {id(leaf): number for number, leaf in enumerate(mime.leaves(structure))}
    texts: list[str] = []
    clipped: int | None = None
    budget = SHOWN_LIMIT
    for leaf in leaves:
        content, cut = _leaf_text(raw, leaf, budget) if budget > 0 else ("", True)
        if cut and clipped is None:
            clipped = numbers[id(leaf)]
        budget -= leaf["end"] - leaf["body_start"]
        texts.append(content)
    return texts, clipped


def render(raw: bytes, structure: dict[str, Any], *, cid_url: str, allow_remote: bool) -> Body:
    """The body and attachments of a stored message (``raw`` its bytes, or at least its
    first :func:`needed_bytes`; ``structure`` its MIME structure as
    :func:`hexagone.mail.mime.parse` recorded it), the body cut at :data:`SHOWN_LIMIT`."""
    leaves = body_leaves(structure)
    result = Body()
    texts, result.clipped_part = shown_texts(raw, structure, leaves)
    if any(leaf["subtype"].lower() == "html" for leaf in leaves):
        pieces = []
        for leaf, content in zip(leaves, texts, strict=True):
            if leaf["subtype"].lower() == "html":
                cleaned, remote, inline = sanitise_html(content, cid_url=cid_url, allow_remote=allow_remote)
                result.remote_images |= remote
                result.inline_ids |= inline
                pieces.append(cleaned)
            else:
                pieces.append(f'<div class="text">{text_to_html(content)}</div>')
        result.html = Markup("\n<hr>\n".join(pieces))
    else:
        result.text = text_to_html("\n\n".join(texts))
    result.attachments = attachments(structure, leaves, result.inline_ids)
    return result


def part_by_content_id(structure: dict[str, Any], wanted: str) -> dict[str, Any] | None:
    for leaf in mime.leaves(structure):
        if content_id(leaf) and content_id(leaf) == wanted:
            return leaf
    return None
