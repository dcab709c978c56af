"""The IMAP4rev1 server (RFC 3501) with the IMAP4rev2 (RFC 9051) extensions mail clients
use: IDLE, MOVE, UIDPLUS, CONDSTORE, LIST-EXTENDED, SPECIAL-USE, NAMESPACE, QUOTA, ESEARCH.

Three layers, as for every protocol here: :mod:`.parser` (bytes → commands, pure),
the session (:mod:`.session` and its ``commands_*`` mixins: commands → replies), and the
storage boundary (:mod:`.account` and :mod:`.messages`, over the mail service).
"""

from hexagone.core.modules import Server
from hexagone.mail.imap.server import serve

SERVERS: list[Server] = [serve]
