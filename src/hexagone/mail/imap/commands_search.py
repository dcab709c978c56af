"""SEARCH and UID SEARCH (RFC 3501 6.4.4), with ESEARCH's RETURN options (RFC 4731),
SEARCHRES's ``SAVE`` and ``$`` (RFC 5182), CONDSTORE's MODSEQ (RFC 7162) and the live
searches of RFC 5267 (``RETURN (UPDATE)``, CANCELUPDATE; :mod:`.contexts`): answered
from the session's flag bits when the criteria are only flags, otherwise by one query
(:mod:`.query`).

The answer is shared with SORT (:mod:`.commands_sort`): a result is a list of
``(sequence number, UID)`` pairs in the order the client is to see them, rendered as a
``* SEARCH``/``* SORT`` line or, with RETURN options, as one ``* ESEARCH`` line whose MIN
and MAX are the first and last of that order (RFC 5267 3.1 for ESORT)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from hexagone.mail.imap import flagsearch, messages, sort
from hexagone.mail.imap.arguments import Args, format_uid_set
from hexagone.mail.imap.command_base import SELECTED, CommandTable, SessionBase
from hexagone.mail.imap.contexts import MAX_CONTEXTS, LiveSearch
from hexagone.mail.imap.parser import CommandError
from hexagone.mail.imap.query import Context, compile_search, merge
from hexagone.mail.imap.search import Node, Returns, parse_search
from hexagone.mail.imap.sort import SortKey

Found = list[tuple[int, int]]  # (sequence number, UID) of each message found, in answer order


class SearchCommands(SessionBase):
    COMMANDS: ClassVar[CommandTable] = {
        "SEARCH": ("cmd_search", SELECTED),
        "UID SEARCH": ("cmd_uid_search", SELECTED),
        "CANCELUPDATE": ("cmd_cancelupdate", SELECTED),
    }
    CAPABILITIES: ClassVar[tuple[str, ...]] = ("ESEARCH", "WITHIN", "SEARCHRES", "CONTEXT=SEARCH")

    async def cmd_search(self, tag: str, args: Args) -> str:
        return await self._search(tag, args, uid=False)

    async def cmd_uid_search(self, tag: str, args: Args) -> str:
        return await self._search(tag, args, uid=True)

    async def matching(
        self, criteria: Node, columns: Sequence[Any] = (), *, with_modseq: bool = False
    ) -> list[tuple[int, Any]]:
        """(sequence number, row) of the messages the criteria find among those this
        session knows, in UID order; the rows have ``columns`` besides the UID (and the
        modseq when asked)."""
        selected, account = self.selected, self.account
        assert selected is not None and account is not None
        context = Context(
            seq_ranges=lambda s: selected.uid_ranges(s, uid=False, strict=False),  # type: ignore[arg-type]
            uid_ranges=lambda s: selected.uid_ranges(s, uid=True),  # type: ignore[arg-type]
            recent=sorted(selected.recent),
        )
        compiled = compile_search(criteria, context)
        compiled.columns = list(dict.fromkeys([*compiled.columns, *columns]))
        found = await messages.search(account, selected.folder.id, compiled, selected.max_uid, with_modseq=with_modseq)
        return list(selected.numbered(found))

    async def ordered(
        self, criteria: Node, keys: Sequence[SortKey] | None, *, with_modseq: bool = False
    ) -> list[tuple[int, Any]]:
        """:meth:`matching`'s (sequence number, row) pairs, sorted by ``keys`` when given."""
        found = await self.matching(criteria, sort.columns_for(keys) if keys else (), with_modseq=with_modseq)
        if not keys:
            return found
        number = {row.uid: seq for seq, row in found}
        return [(number[row.uid], row) for row in sort.sort_rows([row for _, row in found], keys)]

    # --- contexts (RFC 5267 4) -----------------------------------------------------------

    def check_context(self, tag: str, returns: Returns | None) -> None:
        """Refuse a RETURN (UPDATE) before the search runs: a tag already live, or too many."""
        assert self.selected is not None
        if returns is None or "UPDATE" not in returns.options:
            return
        if tag in self.selected.contexts:
            raise CommandError("Duplicate search update tag")
        if len(self.selected.contexts) >= MAX_CONTEXTS:
            raise CommandError("Too many live searches", status="NO", code="LIMIT")

    def start_context(
        self,
        tag: str,
        criteria: Node,
        returns: Returns | None,
        keys: Sequence[SortKey] | None,
        found: Found,
        *,
        uid: bool,
    ) -> None:
        """Keep the search alive when RETURN (UPDATE) asked for it, with the result just sent."""
        if returns is not None and "UPDATE" in returns.options:
            assert self.selected is not None
            self.selected.contexts[tag] = LiveSearch(tag, uid, criteria, returns, keys, [u for _, u in found])

    async def refresh_contexts(self) -> None:
        selected = self.selected
        assert selected is not None
        for context in list(selected.contexts.values()):
            result = [row.uid for _, row in await self.ordered(context.criteria, context.keys)]
            for data in context.changes(result, selected.seq_of):
                self.send(context.response(data))

    async def cmd_cancelupdate(self, tag: str, args: Args) -> str:
        """``CANCELUPDATE "tag" ...``: those contexts end (RFC 5267 4.1)."""
        assert self.selected is not None
        tags = [args.text("tag")]
        while args.more():
            tags.append(args.text("tag"))
        if any(name not in self.selected.contexts for name in tags):
            return "NO Unknown tag"
        for name in tags:
            del self.selected.contexts[name]
        return "OK Updates cancelled"

    async def _search(self, tag: str, args: Args, *, uid: bool) -> str:
        selected, account = self.selected, self.account
        assert selected is not None and account is not None
        request = parse_search(args, recent=self.shows_recent)
        if request.returns is None and self.rev2:
            request.returns = Returns(["ALL"])  # RFC 9051 6.4.4: IMAP4rev2 answers ESEARCH only
        self.check_context(tag, request.returns)
        if request.uses_modseq:
            self.enabled.add("CONDSTORE")
        modseqs: dict[int, int] = {}
        if not request.uses_modseq and not selected.dirty and flagsearch.answerable(request.criteria):
            if selected.flags is None:
                selected.load_flags(await messages.flag_bits(account, selected.folder.id, selected.max_uid))
            uids, seqs = flagsearch.search(selected, request.criteria)
            found = list(zip(seqs, uids, strict=True))
        else:
            rows = await self.matching(request.criteria, with_modseq=request.uses_modseq)
            found = [(seq, row.uid) for seq, row in rows]
            modseqs = {row.uid: row.modseq for _, row in rows} if request.uses_modseq else {}
        self.answer(tag, "SEARCH", found, request.returns, uid=uid, modseqs=modseqs if request.uses_modseq else None)
        self.start_context(tag, request.criteria, request.returns, None, found, uid=uid)
        return "OK SEARCH completed"

    def answer(
        self, tag: str, name: str, found: Found, returns: Returns | None, *, uid: bool, modseqs: dict[int, int] | None
    ) -> None:
        """Send the result: ``* name n n n`` without RETURN options, else ESEARCH; keep the
        returned messages for ``$`` when SAVE is among them. ``modseqs`` (UID → modseq)
        when MODSEQ was a criterion: the highest of those returned is reported."""
        numbers = [u if uid else n for n, u in found]
        if returns is None:
            line = f"* {name}".encode() + b"".join(b" %d" % n for n in numbers)
            if modseqs:
                line += b" (MODSEQ %d)" % max(modseqs.values())
            self.send(line + b"\r\n")
            return
        returned = _returned(found, returns)
        if "SAVE" in returns.options:  # RFC 5182 2.1: the messages MIN, MAX or PARTIAL return, else all
            assert self.selected is not None
            kept = returned if set(returns.options) & {"MIN", "MAX", "PARTIAL"} else found
            self.selected.saved = merge((u, u) for _, u in kept)
            if returns.options == ["SAVE"]:
                return
        self.send(_esearch(tag, numbers, returns, uid=uid) + _modseq(returned, modseqs) + b"\r\n")


def _esearch(tag: str, numbers: list[int], returns: Returns, *, uid: bool) -> bytes:
    result = [b'* ESEARCH (TAG "%b")' % tag.encode()]
    if uid:
        result.append(b"UID")
    options = returns.options
    if numbers and "MIN" in options:
        result.append(b"MIN %d" % numbers[0])
    if numbers and "MAX" in options:
        result.append(b"MAX %d" % numbers[-1])
    if "COUNT" in options:
        result.append(b"COUNT %d" % len(numbers))
    if numbers and "ALL" in options:
        result.append(b"ALL " + format_uid_set(numbers).encode())
    if returns.partial is not None:
        first, last = returns.partial
        window = format_uid_set(_window(numbers, returns.partial)).encode() or b"NIL"
        result.append(b"PARTIAL (%d:%d %b)" % (first, last, window))
    return b" ".join(result)


def _modseq(returned: Found, modseqs: dict[int, int] | None) -> bytes:
    """RFC 7162 3.1.5: the highest mod-sequence of the messages returned."""
    if not modseqs or not returned:
        return b""
    return b" MODSEQ %d" % max(modseqs.get(u, 0) for _, u in returned)


def _window(items: list[Any], partial: tuple[int, int]) -> list[Any]:
    """The PARTIAL range of a result (RFC 9394): positions from 1, or from the end when negative."""
    low, high = sorted(map(abs, partial))
    if partial[0] > 0:
        return items[low - 1 : high]
    return items[max(len(items) - high, 0) : len(items) - low + 1]


def _returned(found: Found, returns: Returns) -> Found:
    """The messages a RETURN answer names: all for ALL or COUNT, else MIN, MAX and PARTIAL's."""
    options = returns.options
    if "ALL" in options or "COUNT" in options or not found:
        return found
    picked = [found[0]] if "MIN" in options else []
    picked += [found[-1]] if "MAX" in options else []
    picked += _window(found, returns.partial) if returns.partial is not None else []
    return picked or found
