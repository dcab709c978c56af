"""Sieve (RFC 5228) for mail rules: :mod:`.grammar` parses a script (with ``sievelib``)
and refuses what we cannot run, :mod:`.interpreter` runs it over one message and says
what to do, :mod:`.generate` writes the scripts of the webmail's rules page. Pure code:
no storage, no network."""

from hexagone.mail.sieve.grammar import ADVERTISED, EXTENSIONS, Node, SieveError, parse
from hexagone.mail.sieve.interpreter import INBOX, Envelope, SieveRuntimeError, Vacation, Verdict, run

__all__ = [
    "ADVERTISED",
    "EXTENSIONS",
    "INBOX",
    "Envelope",
    "Node",
    "SieveError",
    "SieveRuntimeError",
    "Vacation",
    "Verdict",
    "parse",
    "run",
]
