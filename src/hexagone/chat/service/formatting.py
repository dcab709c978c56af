"""A message's Markdown, rendered once when it is written: markdown-it-py (CommonMark,
with strikethrough, links recognised in the text and line breaks kept as typed), raw
HTML never passed through (the parser escapes it), then nh3 keeps only the tags a
message may hold. Mentions (``@alice``, ``@alice@example.org``, ``@channel``, ``@here``)
become a highlighted name when they name someone.

Rendering is pure: the caller resolves the handles first (:func:`handles`) and passes
what they name, because the renderer cannot query the directory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

BROADCASTS = ("channel", "here")
# After a space, a bracket or the start; the address-like part may not end with a dot.
_HANDLE = r"[A-Za-z0-9][A-Za-z0-9._+-]*(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?"
_MENTION_RE = re.compile(rf"(?<![\w@/]){'@'}({_HANDLE})")

_TAGS = {"p", "br", "strong", "em", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span", "hr"}
_ATTRIBUTES = {"a": {"href"}, "span": {"class", "data-user"}, "ol": {"start"}}


@dataclass(frozen=True)
class Named:
    """Whom a handle names: a person (``user_id``, ``name``) or everyone (``broadcast``)."""

    user_id: str = ""
    name: str = ""
    broadcast: str = ""


def handles(text: str) -> set[str]:
    """The handles written in ``text``, lower-cased, trailing dots dropped."""
    return {match.group(1).rstrip(".").lower() for match in _MENTION_RE.finditer(text)}


def _mention_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "@":
        return False
    if state.pos > 0 and (state.src[state.pos - 1].isalnum() or state.src[state.pos - 1] in "@/_"):
        return False
    match = re.match(_HANDLE, state.src[state.pos + 1 :])
    if match is None:
        return False
    handle = match.group(0).rstrip(".")
    named: Mapping[str, Named] = state.env.get("named", {})
    found = named.get(handle.lower())
    if found is None:
        return False
    if not silent:
        token = state.push("mention", "", 0)
        token.meta = {"named": found, "written": handle}
    state.pos += 1 + len(handle)
    return True


def _render_mention(self: Any, tokens: list[Any], idx: int, _options: Any, env: Any) -> str:
    named: Named = tokens[idx].meta["named"]
    env["mentioned"].add(named)
    if named.broadcast:
        return f'<span class="mention mention-all">@{escape(named.broadcast)}</span>'
    return f'<span class="mention" data-user="{escape(named.user_id)}">@{escape(named.name)}</span>'


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True})
    parser.enable(["linkify", "strikethrough"])
    parser.disable(["heading", "lheading", "image", "html_block", "html_inline", "table"], ignoreInvalid=True)
    parser.inline.ruler.before("emphasis", "mention", _mention_rule)
    parser.add_render_rule("mention", _render_mention)
    return parser


_PARSER = _parser()


@dataclass(frozen=True)
class Rendered:
    html: str
    mentioned: frozenset[Named]  # those named outside code

    @property
    def mention_keys(self) -> list[str]:
        """What a message row keeps of its mentions: user ids, "channel", "here"."""
        return sorted(n.user_id or n.broadcast for n in self.mentioned)


def render(text: str, named: Mapping[str, Named]) -> Rendered:
    """The message's HTML, safe to put in a page as it is, and whom it mentions."""
    env: dict[str, Any] = {"named": named, "mentioned": set()}
    html = _PARSER.render(text, env)
    return Rendered(_clean(html), frozenset(env["mentioned"]))


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
