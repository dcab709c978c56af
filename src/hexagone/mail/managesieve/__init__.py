"""The ManageSieve server (RFC 5804): mail clients and webmails list, upload, check,
activate, rename and delete the user's Sieve scripts on their own port, with STARTTLS
and IMAP's sign-in.

Two layers, as for IMAP: :mod:`.wire` (bytes → commands, with their bounds, over
IMAP's connection) and :mod:`.session` (commands → responses). The scripts, their
checks and quotas are the service face :mod:`hexagone.mail.service.sieve`'s, shared with
the rules page and delivery: this package stores and parses nothing itself.
"""

from hexagone.core.modules import Server
from hexagone.mail.managesieve.server import serve

SERVERS: list[Server] = [serve]
