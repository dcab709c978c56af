"""SMTP: the inbound listener, the submission listener, and what the outbound queue needs
to reach other servers.

``inbound`` and ``submission`` are aiosmtpd handlers over the shared session of
``protocol`` (enhanced status codes, limits, TLS rules); ``client`` delivers to other
servers, ``dsn`` writes bounces, ``dns`` is the resolver every mail lookup uses,
``headers`` edits raw header blocks, ``outbox`` drains the platform's e-mail. The
decisions (who may send, where a message goes, retries) live in
:mod:`hexagone.mail.service.outbound`.
"""

from hexagone.core.modules import Server
from hexagone.mail.smtp import inbound, outbox, submission

SERVERS: list[Server] = [inbound.serve, submission.serve, outbox.drain]
