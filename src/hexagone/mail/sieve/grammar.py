"""Sieve text to a tree of :class:`Node`: the parsing is PyPI ``sievelib``'s, taught the
extensions it lacks (``subaddress``'s ``:user``/``:detail``, the ``i;ascii-numeric``
comparator, ``date``'s right extension name); this file then checks what sievelib does
not (every ``require`` names an extension we interpret) and turns its command objects
into plain nodes, so that the interpreter never reads sievelib's internals.

It must never run a script: parsing only, pure and safe on any input."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from sievelib import commands
from sievelib.parser import Parser

# What `require` may name: the interpreter handles each (docs/mail-rules.md).
EXTENSIONS = (
    "fileinto",
    "envelope",
    "body",
    "copy",
    "imap4flags",
    "vacation",
    "relational",
    "subaddress",
    "date",
    "comparator-i;ascii-numeric",
    "comparator-i;octet",
    "comparator-i;ascii-casemap",
)
# What ManageSieve's SIEVE capability lists: all but the two comparators every
# implementation has (RFC 5228 2.7.3), which a script may still require.
ADVERTISED = tuple(e for e in EXTENSIONS if e not in ("comparator-i;octet", "comparator-i;ascii-casemap"))
COMPARATORS = ("i;octet", "i;ascii-casemap", "i;ascii-numeric")
MAX_NESTING = 32
MISPLACED_REQUIRE = "require must come before any other command"  # RFC 5228 3.2


class SieveError(ValueError):
    """A script that cannot be accepted; the message says where and why (English: it is
    sent to ManageSieve clients and shown under the advanced editor)."""


@dataclass
class Node:
    """One command or test: its tagged arguments (``":is": None``, ``":flags": [...]``),
    its positional arguments (strings, string lists, numbers), its tests and its block."""

    name: str
    tags: dict[str, object] = field(default_factory=dict)
    args: list[object] = field(default_factory=list)
    tests: list[Node] = field(default_factory=list)
    block: list[Node] = field(default_factory=list)


def _teach_sievelib() -> None:
    """The definitions sievelib lacks, registered once under the names its parser looks up."""
    address_part = {
        **commands.address_part,
        "extension_values": {":user": "subaddress", ":detail": "subaddress"},
    }
    comparator = {
        **commands.comparator,
        "extra_arg": {"type": "string", "values": [f'"{c}"' for c in COMPARATORS]},
    }

    def replaced(definitions: list[commands.CommandArg]) -> list[commands.CommandArg]:
        out = []
        for arg in definitions:
            if arg["name"] == "address-part":
                out.append(address_part)
            elif arg["name"] == "comparator" and arg.get("values") == [":comparator"]:
                out.append(comparator)
            else:
                out.append(arg)
        return out

    made = []
    for base in (
        commands.AddressCommand,
        commands.EnvelopeCommand,
        commands.HeaderCommand,
        commands.BodyCommand,
        commands.HasflagCommand,
        commands.CurrentdateCommand,
    ):
        made.append(type(base.__name__, (base,), {"args_definition": replaced(base.args_definition)}))
    commands.add_commands(made)


_teach_sievelib()

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NUMBER = re.compile(r"(\d+)([KMG]?)", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _value(raw: object) -> object:
    """A sievelib argument as Python: str, list of str, int, or a Node."""
    if isinstance(raw, commands.Command):
        return _node(raw)
    if isinstance(raw, list):
        return [_value(item) for item in raw]
    text = str(raw)
    if _STRING.fullmatch(text):
        return re.sub(r"\\(.)", r"\1", text[1:-1], flags=re.DOTALL)
    if text.startswith("text:"):
        lines = text.split("\n")[1:-1]  # after "text:" and its line end, before the final "."
        return "\n".join(line[1:] if line.startswith("..") else line for line in lines).replace("\r", "") + "\n"
    number = _NUMBER.fullmatch(text)
    if number:
        return int(number[1]) * _UNITS[number[2].upper()]
    return text


def _node(command: commands.Command) -> Node:
    node = Node(command.name.lower())
    for definition in command.args_definition:
        name = definition["name"]
        if name not in command.arguments:
            continue
        raw = command.arguments[name]
        if "tag" in definition["type"]:
            tag = str(raw).lower()
            extra = command.extra_arguments.get(name)
            node.tags[tag] = _value(extra) if extra is not None else None
        elif definition["type"] in (["testlist"], ["test"]):
            node.tests += [_node(t) for t in (raw if isinstance(raw, list) else [raw])]
        else:
            node.args.append(_value(raw))
    node.block = [_node(child) for child in command.children]
    return node


def _too_deep(top: list[commands.Command]) -> bool:
    """Whether blocks or tests nest deeper than :data:`MAX_NESTING`; without recursion,
    before anything recursive reads the commands (a script may nest thousands of blocks)."""
    pending = [(command, 1) for command in top]
    while pending:
        command, level = pending.pop()
        if level > MAX_NESTING:
            return True
        inner = [*command.children]
        for value in command.arguments.values():
            inner += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, commands.Command)]
        pending += [(child, level + 1) for child in inner]
    return False


@functools.lru_cache(maxsize=512)
def parse(text: str) -> tuple[Node, ...]:
    """The script's commands, or :class:`SieveError` (syntax, an unknown command or
    argument, an extension required that we do not interpret or used without ``require``).
    Cached by text: delivery parses each mailbox's active script once per process."""
    parser = Parser()
    try:
        ok = parser.parse(text.encode("utf-8"))
    except Exception as error:  # a failure inside sievelib: the script is refused, never run
        raise SieveError(f"script error: {error}") from None
    if not ok:
        raise SieveError(str(parser.error or "syntax error"))
    if _too_deep(parser.result):
        raise SieveError(f"blocks nested deeper than {MAX_NESTING}")
    nodes = tuple(_node(command) for command in parser.result)
    required = _required(nodes)
    if "comparator-i;ascii-numeric" not in required and _uses_numeric(nodes):
        raise SieveError('comparator "i;ascii-numeric" used without require "comparator-i;ascii-numeric"')
    return nodes


def _required(nodes: tuple[Node, ...]) -> set[str]:
    """The extensions the script requires, checked: RFC 5228 3.2 puts every ``require``
    before any other command, and each must name an extension we interpret."""
    required: set[str] = set()
    others = False
    for node in nodes:
        if node.name != "require":
            others = True
            if any(n.name == "require" for n in _walk(node.block)):
                raise SieveError(MISPLACED_REQUIRE)
            continue
        if others:
            raise SieveError(MISPLACED_REQUIRE)
        for name in node.args[0] if isinstance(node.args[0], list) else [node.args[0]]:
            if str(name).lower() not in EXTENSIONS:
                raise SieveError(f'unsupported extension "{name}"')
            required.add(str(name).lower())
    return required


def _walk(nodes: list[Node]) -> list[Node]:
    """Every node under ``nodes``, tests and blocks included."""
    return [n for node in nodes for n in (node, *_walk(node.tests), *_walk(node.block))]


def _uses_numeric(nodes: tuple[Node, ...]) -> bool:
    return any(str(n.tags.get(":comparator", "")).lower() == "i;ascii-numeric" for n in _walk(list(nodes)))
