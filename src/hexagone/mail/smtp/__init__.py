"""SMTP: the protocol layer — the inbound listener, the submission listener and the
drain of the platform's e-mail.

``inbound`` and ``submission`` are aiosmtpd handlers over the shared session of
``protocol`` (enhanced status codes, limits, TLS rules, ``data`` and ``limits``);
``outbox`` drains the platform's e-mail. They call the service
(:mod:`hexagone.mail.service`), which decides who may send, where a message goes and
retries; the wire-level helpers both use (the SMTP client, DNS, bounces, headers) are in
:mod:`hexagone.mail.transport`, below the service.
"""

from hexagone.core.modules import Server
from hexagone.mail.smtp import inbound, outbox, submission

SERVERS: list[Server] = [inbound.serve, submission.serve, outbox.drain]
