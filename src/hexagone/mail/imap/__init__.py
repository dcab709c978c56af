"""The IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051, after ``ENABLE IMAP4rev2``) server,
with the extensions mail clients use: IDLE, MOVE, UIDPLUS, CONDSTORE, LIST-EXTENDED,
SPECIAL-USE, NAMESPACE, QUOTA, ESEARCH.

Three layers, as for every protocol here: :mod:`.parser` (bytes → commands, pure),
the session (:mod:`.session` and its ``commands_*`` mixins: commands → replies), and the
storage boundary (:mod:`.account` and :mod:`.messages`, over the mail service).
"""

from hexagone.core.modules import Server
from hexagone.mail.imap.server import serve

SERVERS: list[Server] = [serve]
