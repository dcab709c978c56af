"""Reading a message: the page, its HTML body in a sandboxed frame, its attachments and
inline images, its source, and remote images allowed once or always for a sender.

The frame's document has its own Content-Security-Policy: no script of any kind, no
request anywhere but here, inline styles (an e-mail's look) and, only when the reader
allowed them, images from the web. ``sandbox`` without ``allow-scripts`` keeps scripts
off even if the policy were lost; ``allow-same-origin`` lets the page fit the frame to
its content and its ``cid:`` images load with the reader's session.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from urllib.parse import quote

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from hexagone.core import blobs, templating
from hexagone.core.exceptions import NotFound
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import done, render
from hexagone.core.web import login_required
from hexagone.drive.service import has_own_drive
from hexagone.mail import mime
from hexagone.mail.models import Mailbox, Message, SpecialUse
from hexagone.mail.service import mailboxes, reading, store, threads
from hexagone.mail.web import body
from hexagone.mail.web.access import abilities, attachment_for, caller, message_for
from hexagone.mail.web.common import folder_label, full_label, navigation

MAX_ALLOWED_SENDERS = 2000
FRAME_POLICY = (
    "default-src 'none'; img-src 'self' data:{remote}; style-src 'unsafe-inline'; font-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
PART_POLICY = "default-src 'none'; sandbox"
# Renderings kept for the frame's request that follows the page's (each at most a few
# hundred KB: bodies are cut at body.SHOWN_LIMIT).
RECENT_RENDERINGS = 16
_recent: OrderedDict[tuple[uuid.UUID, str, bool], body.Body] = OrderedDict()


def sender_address(message: Message) -> str:
    """The From address (``mailbox@host``) as the envelope recorded it, lower case."""
    people = (message.envelope or {}).get("from") or []
    if people and people[0][2] and people[0][3]:
        return f"{people[0][2]}@{people[0][3]}".lower()
    return ""


def _cid_url(message: Message) -> str:
    return f"/mail/messages/{message.id}/cid/"


def _images_allowed(request: Request, message: Message, allowed: list[str]) -> bool:
    return request.query_params.get("images") == "1" or sender_address(message) in (allowed or [])


async def _rendered(request: Request, message: Message, mailbox: Mailbox) -> tuple[body.Body, bool]:
    """The message's body as the reading view shows it, and whether remote images are
    shown. Rendered once for the page and its frame, in a worker thread: decoding and
    sanitising, bounded as they are, never hold up the other requests."""
    shown = _images_allowed(request, message, mailbox.remote_images_allowed)
    key = (message.id, message.blob_key, shown)
    if key in _recent:
        _recent.move_to_end(key)
        return _recent[key], shown
    raw = await reading.beginning(message, body.needed_bytes(message.structure))
    rendered = await run_in_threadpool(
        body.render, raw, message.structure, cid_url=_cid_url(message), allow_remote=shown
    )
    _recent[key] = rendered
    while len(_recent) > RECENT_RENDERINGS:
        _recent.popitem(last=False)
    return rendered, shown


@login_required
async def message_page(request: Request) -> Response:
    async with caller(request, write=True) as c:
        message, folder, access = await message_for(c, request.path_params["message_id"])
        can = abilities(c, access)
        if message.draft and folder.special_use == SpecialUse.DRAFTS and can["write"]:
            return RedirectResponse(f"/mail/compose?draft={message.id}", status_code=303)
        rendered, shown = await _rendered(request, message, access.mailbox)
        if not message.seen and can["write"]:
            await store.store_flags(c.db, folder, [message], ["\\Seen"], "add")
            await c.db.commit()
        context = {
            "message": message,
            "folder": folder,
            "folder_name": folder_label(folder),
            "access": access,
            "can": can,
            "body": rendered,
            "images_shown": shown,
            "to_drive": has_own_drive(c.principal),
            "sender": sender_address(message),
            "conversation": await threads.thread_messages(c.db, message),
            "newer_older": await threads.neighbours(c.db, folder, message),
            "targets": [f for f in await mailboxes.folders(c.db, folder.mailbox_id) if f.id != folder.id],
            "full_label": full_label,
            "is_trash": folder.special_use == SpecialUse.TRASH,
            "mailboxes": await navigation(c),
            "current_folder": folder.id,
        }
    return render(request, "mail/message.html", context)


@login_required
async def frame(request: Request) -> Response:
    """The HTML body alone, as the document of the reading page's frame."""
    async with caller(request) as c:
        message, _folder, access = await message_for(c, request.path_params["message_id"])
        rendered, shown = await _rendered(request, message, access.mailbox)
    content = rendered.html if rendered.html is not None else Markup('<div class="text">%s</div>') % rendered.text
    response = templating.render(request, "mail/frame.html", {"content": content})
    response.headers["content-security-policy"] = FRAME_POLICY.format(remote=" http: https:" if shown else "")
    response.headers["x-frame-options"] = "SAMEORIGIN"
    response.headers["referrer-policy"] = "no-referrer"
    response.headers["cache-control"] = "private, no-store"
    return response


def _download(
    data: bytes | AsyncIterator[bytes], content_type: str, filename: str, *, inline: bool = False
) -> Response:
    """A part or a message as a file; ``data`` as chunks is streamed, never held whole."""
    printable = "".join(ch for ch in filename if ch.isprintable()) or "attachment"
    fallback = printable.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "") or "attachment"
    disposition = "inline" if inline else "attachment"
    headers = {
        "content-disposition": f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(printable)}",
        "content-security-policy": PART_POLICY,
        "cache-control": "private, max-age=300",
    }
    if isinstance(data, bytes):
        return Response(data, media_type=content_type, headers=headers)
    return StreamingResponse(data, media_type=content_type, headers=headers)


@login_required
async def part(request: Request) -> Response:
    """One part of a message, transfer-decoded, always as a download."""
    index: int = request.path_params["index"]
    async with caller(request) as c:
        _message, leaf, raw = await attachment_for(c, request.path_params["message_id"], index)
    return _download(mime.decode_part(raw, leaf), body.content_type_of(leaf), body.attachment_filename(leaf, index))


@login_required
async def inline_image(request: Request) -> Response:
    """An image the HTML body shows by ``cid:``; only bitmap types, never a document."""
    async with caller(request) as c:
        message, _folder, _access = await message_for(c, request.path_params["message_id"])
        leaf = body.part_by_content_id(message.structure, request.path_params["content_id"])
        if leaf is None or body.content_type_of(leaf) not in body.INLINE_IMAGE_TYPES:
            raise NotFound(_("This image does not exist."))
        raw = await store.read(message)
    return _download(mime.decode_part(raw, leaf), body.content_type_of(leaf), "image", inline=True)


@login_required
async def source(request: Request) -> Response:
    """The message exactly as stored (an .eml file), streamed from the blob store: the
    way to read a message too large to show in full."""
    async with caller(request) as c:
        message, _folder, _access = await message_for(c, request.path_params["message_id"])
        chunks = await blobs.get_store().get(message.blob_key)
    name = "".join(ch for ch in message.subject if ch.isalnum() or ch in " -_")[:80].strip() or "message"
    return _download(chunks, "message/rfc822", f"{name}.eml")


@login_required
async def always_show_images(request: Request) -> Response:
    """Remote images from this message's sender are shown from now on, in this mailbox."""
    form = await request.form()
    async with caller(request, write=True) as c:
        message, _folder, access = await message_for(c, request.path_params["message_id"], write=True)
        sender = sender_address(message)
        allowed = list(access.mailbox.remote_images_allowed or [])
        if sender and sender not in allowed:
            access.mailbox.remote_images_allowed = ([*allowed, sender])[-MAX_ALLOWED_SENDERS:]
            await c.db.commit()
        message_id: uuid.UUID = message.id
    return done(f"/mail/messages/{message_id}", "images", form)


ROUTES = [
    Route("/messages/{message_id:uuid}", message_page),
    Route("/messages/{message_id:uuid}/frame", frame),
    Route("/messages/{message_id:uuid}/parts/{index:int}", part),
    Route("/messages/{message_id:uuid}/cid/{content_id:path}", inline_image),
    Route("/messages/{message_id:uuid}/source", source),
    Route("/messages/{message_id:uuid}/images", always_show_images, methods=["POST"]),
]
