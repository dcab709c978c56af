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
"""

from __future__ import annotations

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
DROPPED_WITH_CONTENT = {"script", "style", "title", "head", "noscript", "template", "object", "embed", "applet",
                        "iframe", "frame", "frameset", "textarea", "select", "option", "button", "svg", "math"}
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
    "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight", "font-variant",
    "line-height", "letter-spacing", "word-spacing", "text-align", "text-decoration", "text-indent",
    "text-transform", "white-space", "vertical-align", "direction", "list-style-type",
    "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "border", "border-top", "border-right", "border-bottom", "border-left", "border-color", "border-style",
    "border-width", "border-collapse", "border-spacing", "border-radius",
    "width", "max-width", "min-width", "height", "max-height", "min-height", "display",
}
# Tokens that have no business in an e-mail's CSS and have served attacks: old IE
# expressions and behaviours, url() fetches, escapes that hide any of these.
STYLE_FORBIDDEN = re.compile(r"expression|url\s*\(|javascript|vbscript|behaviou?r|-moz-binding|@import|\\|&#|/\*",
                             re.IGNORECASE)
URL_SCHEMES = {"http", "https", "mailto", "cid", "data"}
DATA_IMAGE = re.compile(r"data:image/(png|gif|jpe?g|webp);base64,", re.IGNORECASE)
REMOTE = re.compile(r"https?:", re.IGNORECASE)
LINK = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
TRAILING_PUNCTUATION = ".,;:!?)]}'\""
TOKEN = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*$")
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
    if node.get("type", "").lower() == "text" and node.get("subtype", "").lower() in ("plain", "html") \
            and not mime.is_attachment(node):
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
        html, tags=TAGS, clean_content_tags=DROPPED_WITH_CONTENT, attributes=ATTRIBUTES,
        attribute_filter=attribute_filter, url_schemes=URL_SCHEMES, filter_style_properties=STYLE_PROPERTIES,
        set_tag_attribute_values={"a": {"target": "_blank"}}, link_rel="noopener noreferrer", strip_comments=True,
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
        pieces.append(str(escape(text[position:match.start()])))
        pieces.append(f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{escape(url)}</a>')
        position = match.start() + len(url)
    pieces.append(str(escape(text[position:])))
    return Markup("".join(pieces))


def render(raw: bytes, structure: dict[str, Any], *, cid_url: str, allow_remote: bool) -> Body:
    """The body and attachments of a stored message (``raw`` its bytes, ``structure`` its
    MIME structure as :func:`hexagone.mail.mime.parse` recorded it)."""
    leaves = body_leaves(structure)
    result = Body()
    if any(leaf["subtype"].lower() == "html" for leaf in leaves):
        pieces = []
        for leaf in leaves:
            content = mime.part_text(raw, leaf)
            if leaf["subtype"].lower() == "html":
                cleaned, remote, inline = sanitise_html(content, cid_url=cid_url, allow_remote=allow_remote)
                result.remote_images |= remote
                result.inline_ids |= inline
                pieces.append(cleaned)
            else:
                pieces.append(f'<div class="text">{text_to_html(content)}</div>')
        result.html = Markup("\n<hr>\n".join(pieces))
    else:
        result.text = text_to_html("\n\n".join(mime.part_text(raw, leaf) for leaf in leaves))
    result.attachments = attachments(structure, leaves, result.inline_ids)
    return result


def part_by_content_id(structure: dict[str, Any], wanted: str) -> dict[str, Any] | None:
    for leaf in mime.leaves(structure):
        if content_id(leaf) and content_id(leaf) == wanted:
            return leaf
    return None
