"""Writing and sending: the compose page (new, reply, reply to all, forward, a draft
reopened), drafts saved as the person types, sending, and address completion.

Every version of a draft replaces the previous one in the Drafts folder. Sending saves
the draft first (so that attachments just uploaded survive a refused send), hands the
message to the outbound service, then files a copy in Sent, marks the message answered
and drops the draft. The outbound service writes in its own transactions, so no session
of ours is open while it runs (SQLite has one writer at a time).
"""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hexagone.core.config import get_settings
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Invalid, NotFound, ServiceError
from hexagone.core.formatting import human_size
from hexagone.core.forms import field
from hexagone.core.i18n import gettext as _
from hexagone.core.modules import AddressSuggestion
from hexagone.core.pages import done, render
from hexagone.core.shell import suggest_addresses
from hexagone.core.web import allow_large_bodies, login_required, principal_of
from hexagone.drive.service import has_own_drive
from hexagone.identity.service import people_matching
from hexagone.mail import mime
from hexagone.mail.models import Message, SpecialUse
from hexagone.mail.service import addresses, mailboxes, outbound, store, threads
from hexagone.mail.web import drafting, to_drive
from hexagone.mail.web.access import Caller, abilities, caller, message_for, parse_uuid, special_folder
from hexagone.mail.web.body import TOKEN, Attachment, attachments, body_leaves
from hexagone.mail.web.common import navigation
from hexagone.mail.web.drafting import Draft, File

COMPOSE_PATH = "/mail/compose"
MAX_FILENAME = 200
allow_large_bodies(COMPOSE_PATH, get_settings().mail_max_message_bytes)


@dataclass
class Source:
    """The message whose attachments the form lists: the draft being edited, or the
    message being forwarded."""

    message: Message
    raw: bytes
    attachments: list[Attachment]

    @classmethod
    def of(cls, message: Message, raw: bytes) -> Source:
        """Every part but the body, inline images included: what a forward carries on."""
        return cls(message, raw, attachments(message.structure, body_leaves(message.structure), set()))

    def files(self, keep: set[int] | None = None) -> list[File]:
        leaves = mime.leaves(self.message.structure)
        return [
            drafting.file_of(self.raw, leaves[a.index], a.filename)
            for number, a in enumerate(self.attachments)
            if keep is None or number in keep
        ]


async def load_source(c: Caller, message_id: uuid.UUID | None, *, is_draft: bool) -> Source | None:
    if message_id is None:
        return None
    message, _folder, _access = await message_for(c, message_id, write=is_draft)
    if is_draft and not message.draft:
        raise NotFound(_("This draft does not exist any more."))
    return Source.of(message, await store.read(message))


async def display_name(c: Caller, sender: str) -> str:
    for access in await mailboxes.accessible(c.db, c.user):
        if access.mailbox.address == sender and not access.own:
            return access.mailbox.display_name
    return c.user.display_name


async def page(
    request: Request,
    c: Caller,
    draft: Draft,
    *,
    title: str,
    source: Source | None = None,
    draft_id: uuid.UUID | None = None,
    forward_of: uuid.UUID | None = None,
    keep: set[int] | None = None,
    error: ServiceError | None = None,
) -> Response:
    senders = await addresses.sendable_addresses(c.db, c.user, c.principal)
    draft = _complete(draft, senders)
    return render(
        request,
        "mail/compose.html",
        {
            "title": title,
            "draft": draft,
            "senders": senders,
            "draft_id": draft_id,
            "forward_of": forward_of,
            "source": source,
            "keep": keep,
            "drive_links": has_own_drive(c.principal),
            "link_days": to_drive.LINK_DAYS,
            "link_over": to_drive.link_threshold(c.principal),
            "drive_files": await to_drive.linkable_files(c),
            "mailboxes": await navigation(c),
        },
        error,
    )


def _complete(draft: Draft, senders: list[str]) -> Draft:
    """A sender one may use (the first one by default), and a Message-ID."""
    if draft.sender not in senders:
        draft = replace(draft, sender=senders[0])
    if not draft.message_id:
        draft = replace(draft, message_id=drafting.new_message_id(draft.sender))
    return draft


async def signature(c: Caller) -> str:
    return (await c.own_mailbox()).signature


@login_required
async def compose(request: Request) -> Response:
    draft_id = parse_uuid(request.query_params.get("draft"))
    async with caller(request) as c:
        source = await load_source(c, draft_id, is_draft=True)
        if source is not None:
            draft = drafting.reopen(source.message, source.raw)
            return await page(request, c, draft, title=_("Draft"), source=source, draft_id=draft_id)
        draft = Draft(
            to=drafting.one_line(request.query_params.get("to", ""))[:1000],
            body=drafting.with_signature("", await signature(c)),
        )
        return await page(request, c, draft, title=_("New message"))


async def _answer(request: Request, mode: str) -> Response:
    async with caller(request) as c:
        original, _folder, _access = await message_for(c, request.path_params["message_id"])
        raw = await store.read(original)
        if mode == "forward":
            draft = drafting.forward(original, raw, signature=await signature(c))
            return await page(
                request, c, draft, title=_("Forward"), forward_of=original.id, source=Source.of(original, raw)
            )
        mine = await addresses.sendable_addresses(c.db, c.user, c.principal)
        draft = drafting.reply(original, raw, to_all=mode == "all", mine=mine, signature=await signature(c))
        return await page(request, c, draft, title=_("Reply to all") if mode == "all" else _("Reply"))


@login_required
async def reply(request: Request) -> Response:
    return await _answer(request, "one")


@login_required
async def reply_all(request: Request) -> Response:
    return await _answer(request, "all")


@login_required
async def forward(request: Request) -> Response:
    return await _answer(request, "forward")


def _values(form: FormData) -> dict[str, str]:
    limits = {
        "sender": 320,
        "to": 10_000,
        "cc": 10_000,
        "bcc": 10_000,
        "subject": 1000,
        "body": 1_000_000,
        "in_reply_to": 1000,
        "references": 20_000,
        "message_id": 1000,
    }
    return {name: field(form, name, limit) for name, limit in limits.items()}


def _drive_files(form: FormData) -> list[uuid.UUID]:
    """The drive's files chosen to go as links (ids that are not ids name nothing)."""
    return [found for value in form.getlist("drive_file") if (found := parse_uuid(value)) is not None]


def _keep(form: FormData) -> set[int]:
    return {int(v) for v in form.getlist("keep") if isinstance(v, str) and v.isdigit()}


async def _uploads(form: FormData) -> list[File]:
    files = []
    for value in form.getlist("attachments"):
        if not isinstance(value, UploadFile) or not value.filename:
            continue
        name = PurePosixPath(value.filename.replace("\\", "/")).name
        name = "".join(ch for ch in name if ch.isprintable())[:MAX_FILENAME] or "attachment"
        content_type = (value.content_type or "").split(";")[0].strip().lower()
        maintype, _slash, subtype = content_type.partition("/")
        if not (TOKEN.match(maintype) and TOKEN.match(subtype)) or maintype in ("multipart", "message"):
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        files.append(File(name, content_type, await value.read()))
    return files


async def save_draft(c: Caller, draft: Draft, files: list[File], previous: Message | None) -> Message:
    """Store ``draft`` in the caller's Drafts folder in place of ``previous``."""
    raw = drafting.build(
        draft, files, display_name=await display_name(c, draft.sender), date=utcnow(), bcc=True, strict=False
    )
    limit = get_settings().mail_max_message_bytes
    if len(raw) > limit:
        raise Invalid(_("The message is too large: at most %(size)s with its attachments.", size=human_size(limit)))
    drafts = await special_folder(c.db, await c.own_mailbox(), SpecialUse.DRAFTS, "Drafts")
    saved = await store.append(c.db, drafts, raw, flags=["\\Draft", "\\Seen"])
    if previous is not None:
        await store.expunge(c.db, await threads.folder_of(c.db, previous), [previous.uid])
    return saved


async def _form_draft(c: Caller, form: FormData) -> tuple[Draft, Source | None, Source | None]:
    """The posted draft, with the previous version of it and the forwarded message."""
    draft = _complete(drafting.from_form(_values(form)), await addresses.sendable_addresses(c.db, c.user, c.principal))
    previous = await load_source(c, parse_uuid(field(form, "draft", 64)), is_draft=True)
    forwarded = None if previous else await load_source(c, parse_uuid(field(form, "forward_of", 64)), is_draft=False)
    return draft, previous, forwarded


@login_required
async def submit(request: Request) -> Response:
    form = await request.form()
    action = field(form, "action", 10)
    if action not in ("send", "save"):
        raise Invalid(_("Unknown action."))
    principal = principal_of(request)
    assert principal is not None, "the route is behind login_required"
    try:
        uploads, diverted = await to_drive.divert_large(principal, await _uploads(form))
        shared = await to_drive.links_text(principal, _drive_files(form) + diverted)
        async with caller(request, write=True) as c:
            posted_sender = field(form, "sender", 320).strip().lower()
            draft, previous, forwarded = await _form_draft(c, form)
            draft = replace(draft, body=draft.body + shared)
            source = previous or forwarded
            files = (source.files(_keep(form)) if source else []) + uploads
            saved = await save_draft(c, draft, files, previous.message if previous else None)
            await c.db.commit()
            saved_id = saved.id
            user, principal = c.user, c.principal
            may_send = posted_sender == draft.sender
            name = await display_name(c, draft.sender)
    except NotFound:
        raise
    except ServiceError as exc:  # too large, the mailbox full: the form again, as typed
        async with caller(request) as c:
            draft, previous, forwarded = await _form_draft(c, form)
            return await page(
                request,
                c,
                draft,
                title=_("New message"),
                source=previous or forwarded,
                draft_id=previous.message.id if previous else None,
                forward_of=forwarded.message.id if forwarded else None,
                keep=_keep(form),
                error=exc,
            )
    if action == "save":
        return done(f"{COMPOSE_PATH}?draft={saved_id}", "draft")
    moment = utcnow()
    try:
        if not may_send:
            raise Invalid(_("You may not send from this address."))
        outgoing = drafting.build(draft, files, display_name=name, date=moment, bcc=False)
        await outbound.submit(principal, user, outgoing, mail_from=draft.sender, recipients=drafting.recipients(draft))
    except ServiceError as exc:
        async with caller(request) as c:
            source = await load_source(c, saved_id, is_draft=True)
            return await page(
                request,
                c,
                draft,
                title=_("New message"),
                source=source,
                draft_id=saved_id,
                keep=set(range(len(files))),
                error=exc,
            )
    copy = drafting.build(draft, files, display_name=name, date=moment, bcc=True)
    return await _file_sent(request, draft, copy, saved_id)


async def _file_sent(request: Request, draft: Draft, copy: bytes, draft_id: uuid.UUID) -> Response:
    """After sending: the copy in Sent, the draft gone, the original marked answered."""
    notice = "sent"
    async with caller(request, write=True) as c:
        accesses = await mailboxes.accessible(c.db, c.user)
        writable = {a.mailbox.id: a for a in accesses if abilities(c, a).get("write")}
        own = await c.own_mailbox()
        home = next((a.mailbox for a in writable.values() if a.mailbox.address == draft.sender), own)
        sent = await special_folder(c.db, home, SpecialUse.SENT, "Sent")
        try:
            await store.append(c.db, sent, copy, flags=["\\Seen"])
        except store.QuotaExceeded:  # raised before the row is added: the rest still commits
            notice = "sent_no_copy"
        saved = await threads.stored(c.db, draft_id)
        if saved is not None:
            await store.expunge(c.db, await threads.folder_of(c.db, saved), [saved.uid])
        if draft.in_reply_to:
            await _mark_answered(c, list(writable), draft.in_reply_to)
        await c.db.commit()
        inbox = await mailboxes.folder_by_name(c.db, own.id, mailboxes.INBOX)
    return done(f"/mail/folders/{inbox.id}" if inbox else "/mail/", notice)


async def _mark_answered(c: Caller, mailbox_ids: list[uuid.UUID], message_id: str) -> None:
    by_folder: dict[uuid.UUID, list[Message]] = {}
    for message in await threads.by_message_id(c.db, mailbox_ids, message_id):
        by_folder.setdefault(message.folder_id, []).append(message)
    for messages in by_folder.values():
        await store.store_flags(c.db, await threads.folder_of(c.db, messages[0]), messages, ["\\Answered"], "add")


@login_required
async def autosave(request: Request) -> Response:
    """A draft saved while the person types (htmx, a few seconds after the last key):
    answers the fields the page updates, the draft's new id and the time."""
    form = await request.form()
    async with caller(request, write=True) as c:
        try:
            draft, previous, forwarded = await _form_draft(c, form)
        except NotFound:
            return Response(status_code=204)  # sent or discarded meanwhile: nothing to save
        if previous is None and draft.is_empty():
            return Response(status_code=204)
        source = previous or forwarded
        saved = await save_draft(c, draft, source.files() if source else [], previous.message if previous else None)
        await c.db.commit()
        saved_id, saved_at = saved.id, saved.internal_date
    return render(request, "mail/_autosaved.html", {"draft_id": saved_id, "saved_at": saved_at})


@login_required
async def discard(request: Request) -> Response:
    form = await request.form()
    async with caller(request, write=True) as c:
        draft_id = parse_uuid(field(form, "draft", 64))
        if draft_id is not None:
            message, folder, _access = await message_for(c, draft_id, write=True)
            if message.draft:
                await store.expunge(c.db, folder, [message.uid])
                await c.db.commit()
    return done("/mail/", "discarded")


PEOPLE_SUGGESTED = 8


@login_required
async def people(request: Request) -> Response:
    """Address completion: the organisation's people, then what other modules suggest
    through the kit's hook (the calendar module's address books and collected
    addresses), one entry per address: ``[{"name", "address"}]``."""
    query = request.query_params.get("q", "").strip()[:100]
    if not query:
        return JSONResponse([])
    async with caller(request) as c:
        found = await people_matching(c.db, c.principal.org_id, query, limit=PEOPLE_SUGGESTED)
        principal = c.principal
    own = [AddressSuggestion(p.display_name, p.email) for p in found]
    offered = await suggest_addresses(principal, query, PEOPLE_SUGGESTED, first=own)
    return JSONResponse([{"name": s.name, "address": s.address} for s in offered])


ROUTES = [
    Route("/compose", compose, methods=["GET"]),
    Route("/compose", submit, methods=["POST"]),
    Route("/compose/autosave", autosave, methods=["POST"]),
    Route("/compose/discard", discard, methods=["POST"]),
    Route("/people", people),
    Route("/messages/{message_id:uuid}/reply", reply),
    Route("/messages/{message_id:uuid}/reply-all", reply_all),
    Route("/messages/{message_id:uuid}/forward", forward),
]
