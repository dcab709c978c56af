"""A mailbox's Sieve scripts, for every way in: the webmail's rules page and settings, and
ManageSieve (RFC 5804, :mod:`hexagone.mail.managesieve`, which stores nothing itself).
Every function takes the caller's session and a mailbox the caller already may change
(its own: :func:`hexagone.mail.service.mailboxes.user_mailbox`); none commits.

- :func:`scripts`, :func:`get`, :func:`existing`, :func:`put`, :func:`activate`, :func:`delete`,
  :func:`rename`, :func:`have_space`, :func:`check`: the script store. ``put`` refuses
  a script that does not parse or requires an extension we do not interpret (the
  parser's message: :mod:`hexagone.mail.sieve.grammar`, the same parse delivery runs),
  and holds the quotas ``HEXAGONE_MAIL_SIEVE_MAX_SCRIPTS`` and
  ``HEXAGONE_MAIL_SIEVE_MAX_SCRIPT_BYTES``; at most one script is active, and delivery
  runs it (:mod:`.filtering`). A change locks the mailbox row first (on PostgreSQL;
  SQLite's write lock already serialises), so that the quota, the single active script
  and a rename hold under concurrent sessions.
- :func:`webmail`, :func:`save_rules`, :func:`vacation_changed`: the script named
  :data:`WEBMAIL` that the pages write from rules and the vacation settings
  (:mod:`hexagone.mail.sieve.generate`). The vacation settings stay the mailbox's
  columns, the script is made from them; a script edited by hand is never rewritten
  by a settings change (the pages say so).

A refusal is a service error whose message is translated (ManageSieve asks for English)
and, for those RFC 5804 1.3 names, carries its response code in ``code``.
"""

from __future__ import annotations

import asyncio
import unicodedata
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.config import get_settings
from hexagone.core.exceptions import Conflict, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.mail.models import Mailbox, SieveScript
from hexagone.mail.service import mailboxes
from hexagone.mail.sieve import ADVERTISED as ADVERTISED  # ManageSieve's SIEVE capability: the parser's
from hexagone.mail.sieve import SieveError, generate, parse

WEBMAIL = "webmail"  # the script the rules page and the vacation settings write
MAX_NAME = 200  # the column's size
MAX_RULES = 100
MAX_CONDITIONS = 10
MAX_VALUE = 500
# RFC 5804 1.6: no control character, no line or paragraph separator in a name.
_FORBIDDEN_IN_NAME = {*map(chr, range(0x20)), *map(chr, range(0x7F, 0xA0)), "\u2028", "\u2029"}


class TooLarge(Invalid):
    code = "QUOTA/MAXSIZE"


class TooMany(Invalid):
    code = "QUOTA/MAXSCRIPTS"


class Missing(NotFound):
    code = "NONEXISTENT"


class Taken(Conflict):
    code = "ALREADYEXISTS"


class StillActive(Conflict):
    code = "ACTIVE"


# --- the script store ------------------------------------------------------------------


def _check_size(size: int) -> None:
    limit = get_settings().mail_sieve_max_script_bytes
    if size > limit:
        raise TooLarge(_("The script is larger than %(size)s bytes.", size=limit))


async def check(content: str) -> None:
    """Invalid (the parser's message) unless ``content`` is a script delivery can run.
    Parsed in a thread: a large script is CPU work (then cached, see :func:`parse`)."""
    _check_size(len(content.encode("utf-8")))
    if "\0" in content:  # RFC 5228 scripts are text; PostgreSQL could not store it either
        raise Invalid(_("A script cannot contain a NUL character."))
    try:
        await asyncio.to_thread(parse, content)
    except SieveError as error:
        raise Invalid(str(error)) from None


def check_name(name: str) -> str:
    """RFC 5804 1.6: a name of at most :data:`MAX_NAME` characters in NFC, no control
    character."""
    if (
        not name
        or len(name) > MAX_NAME
        or _FORBIDDEN_IN_NAME.intersection(name)
        or unicodedata.normalize("NFC", name) != name
    ):
        raise Invalid(
            _("Give the script a name of at most %(count)s characters, without control characters.", count=MAX_NAME)
        )
    return name


async def mailbox(db: AsyncSession, mailbox_id: uuid.UUID) -> Mailbox:
    """The mailbox a ManageSieve session signed in to, found again for each command: it
    may have been deleted since, its scripts with it."""
    found = (await db.execute(select(Mailbox).where(Mailbox.id == mailbox_id))).scalar_one_or_none()
    if found is None:
        raise Missing(_("The mailbox no longer exists."))
    return found


async def _lock(db: AsyncSession, mailbox: Mailbox) -> None:
    await db.execute(select(Mailbox.id).where(Mailbox.id == mailbox.id).with_for_update())


async def scripts(db: AsyncSession, mailbox: Mailbox) -> list[SieveScript]:
    query = select(SieveScript).where(SieveScript.mailbox_id == mailbox.id).order_by(SieveScript.name)
    return list((await db.execute(query)).scalars())


async def get(db: AsyncSession, mailbox: Mailbox, name: str) -> SieveScript | None:
    query = select(SieveScript).where(SieveScript.mailbox_id == mailbox.id, SieveScript.name == name)
    return (await db.execute(query)).scalar_one_or_none()


async def existing(db: AsyncSession, mailbox: Mailbox, name: str) -> SieveScript:
    """The script ``name``, or :class:`Missing`."""
    row = await get(db, mailbox, name)
    if row is None:
        raise Missing(_("This script does not exist."))
    return row


async def _check_count(db: AsyncSession, mailbox: Mailbox, name: str) -> None:
    """Room for ``name``: replacing a script takes none."""
    names = [row.name for row in await scripts(db, mailbox)]
    limit = get_settings().mail_sieve_max_scripts
    if name not in names and len(names) >= limit:
        raise TooMany(_("A mailbox keeps at most %(count)s scripts.", count=limit))


async def have_space(db: AsyncSession, mailbox: Mailbox, name: str, size: int) -> None:
    """RFC 5804 2.3: whether :func:`put` would take a script of ``size`` bytes as ``name``."""
    check_name(name)
    _check_size(size)
    await _check_count(db, mailbox, name)


async def put(db: AsyncSession, mailbox: Mailbox, name: str, content: str) -> SieveScript:
    """Create or replace the script ``name`` (checked first; an active one stays active)."""
    check_name(name)
    await check(content)
    await _lock(db, mailbox)
    await _check_count(db, mailbox, name)
    row = await get(db, mailbox, name)
    if row is None:
        row = SieveScript(org_id=mailbox.org_id, mailbox_id=mailbox.id, name=name, content=content, active=False)
        db.add(row)
    else:
        row.content = content
    await db.flush()
    return row


async def activate(db: AsyncSession, mailbox: Mailbox, name: str | None) -> None:
    """Make ``name`` the one active script (None: none is, delivery files nothing)."""
    await _lock(db, mailbox)
    if name is not None:
        await existing(db, mailbox, name)
    await db.execute(
        update(SieveScript)
        .where(SieveScript.mailbox_id == mailbox.id)
        .values(active=SieveScript.name == name if name is not None else False)
        .execution_options(synchronize_session="fetch")
    )


async def active(db: AsyncSession, mailbox: Mailbox) -> SieveScript | None:
    query = select(SieveScript).where(SieveScript.mailbox_id == mailbox.id, SieveScript.active)
    return (await db.execute(query)).scalar_one_or_none()


async def delete(db: AsyncSession, mailbox: Mailbox, name: str) -> None:
    """RFC 5804 2.10: the active script cannot be deleted (deactivate it first)."""
    await _lock(db, mailbox)
    row = await existing(db, mailbox, name)
    if row.active:
        raise StillActive(_("The active script cannot be deleted."))
    await db.delete(row)
    await db.flush()


async def rename(db: AsyncSession, mailbox: Mailbox, old: str, new: str) -> None:
    """RFC 5804 2.11.1: the script keeps its content and whether it is active."""
    check_name(new)
    await _lock(db, mailbox)
    row = await existing(db, mailbox, old)
    if old != new:
        if await get(db, mailbox, new) is not None:
            raise Taken(_("A script by that name already exists."))
        row.name = new
        await db.flush()


# --- the webmail's script --------------------------------------------------------------


@dataclass(frozen=True)
class Webmail:
    """What the rules page shows: the rules (None when the webmail's script was edited
    by hand), the script as delivery would read it, and which script is active."""

    rules: list[generate.Rule] | None
    script: str
    active: str | None  # the active script's name (WEBMAIL, another, or none)


def vacation_of(mailbox: Mailbox) -> generate.VacationSettings | None:
    """The settings page's automatic reply while it is on (its last day, past or not, is
    the script's to check: the script does not change when the day passes)."""
    if not mailbox.vacation_enabled:
        return None
    until = mailbox.vacation_until.date() if mailbox.vacation_until is not None else None
    return generate.VacationSettings(mailbox.vacation_body, mailbox.vacation_subject, until)


async def webmail(db: AsyncSession, mailbox: Mailbox) -> Webmail:
    row = await get(db, mailbox, WEBMAIL)
    running = await active(db, mailbox)
    vacation = vacation_of(mailbox)
    if row is None:
        return Webmail([], generate.script([], vacation), running.name if running else None)
    return Webmail(generate.rules_of(row.content, vacation), row.content, running.name if running else None)


async def _write(db: AsyncSession, mailbox: Mailbox, rules: list[generate.Rule]) -> None:
    """Write the webmail's script; it becomes active unless another one is."""
    await put(db, mailbox, WEBMAIL, generate.script(rules, vacation_of(mailbox)))
    if await active(db, mailbox) is None:
        await activate(db, mailbox, WEBMAIL)


async def save_rules(db: AsyncSession, mailbox: Mailbox, rules: list[generate.Rule]) -> None:
    """Replace the webmail's rules (checked: :func:`check_rule`), keeping the vacation."""
    if len(rules) > MAX_RULES:
        raise Invalid(_("A mailbox keeps at most %(count)s rules.", count=MAX_RULES))
    for rule in rules:
        await check_rule(db, mailbox, rule)
    await _write(db, mailbox, rules)


async def vacation_changed(db: AsyncSession, mailbox: Mailbox, before: generate.VacationSettings | None) -> bool:
    """Write the mailbox's vacation settings (changed from ``before``: :func:`vacation_of`
    read before the change) into the webmail's script, with its rules. False when that
    script was edited by hand: it is left as it is, and the page says so."""
    row = await get(db, mailbox, WEBMAIL)
    if row is None:
        if vacation_of(mailbox) is not None:
            await _write(db, mailbox, [])
        return True
    rules = generate.rules_of(row.content, before)
    if rules is None:
        return False
    await _write(db, mailbox, rules)
    return True


async def check_rule(db: AsyncSession, mailbox: Mailbox, rule: generate.Rule) -> None:
    """Invalid (translated, for the page) unless every part of ``rule`` makes sense."""
    if not rule.name.strip() or len(rule.name) > 100 or not rule.name.isprintable():
        raise Invalid(_("Give the rule a name of at most 100 characters."))
    if not rule.conditions or len(rule.conditions) > MAX_CONDITIONS:
        raise Invalid(_("A rule needs between 1 and %(count)s conditions.", count=MAX_CONDITIONS))
    for condition in rule.conditions:
        _check_condition(condition)
    if not rule.actions:
        raise Invalid(_("Choose what the rule does."))
    kinds = [a.kind for a in rule.actions]
    if "discard" in kinds and any(k in kinds for k in ("fileinto", "copyinto")):
        raise Invalid(_("A rule cannot both delete a message and file it."))
    for action in rule.actions:
        if action.kind not in generate.ACTIONS:
            raise Invalid(_("Unknown action."))
        if (
            action.kind in ("fileinto", "copyinto")
            and await mailboxes.folder_by_name(db, mailbox.id, action.value) is None
        ):
            raise Invalid(_("Choose one of your folders."))
        if action.kind in ("redirect", "redirect_copy"):
            local, at, domain = action.value.rpartition("@")
            if (
                not at
                or not local
                or "." not in domain
                or len(action.value) > 320
                or any(c.isspace() or c in '<>",;' for c in action.value)
            ):
                raise Invalid(_("Give a valid address to send the messages to."))


def _check_condition(condition: generate.Condition) -> None:
    if condition.field not in generate.FIELDS:
        raise Invalid(_("Unknown condition."))
    if condition.field == "size":
        if (
            condition.operator not in generate.SIZE_OPERATORS
            or not condition.value.isdigit()
            or len(condition.value) > 9
        ):
            raise Invalid(_("Give the size as a whole number of kilobytes."))
        return
    if condition.operator not in generate.TEXT_OPERATORS:
        raise Invalid(_("Unknown condition."))
    if not condition.value or len(condition.value) > MAX_VALUE or not condition.value.isprintable():
        raise Invalid(_("Give each condition a text of at most %(count)s characters.", count=MAX_VALUE))
