"""The mail module's ability rules, registered with the core policy.

What a user may do with a mailbox is judged on their :class:`~hexagone.mail.service.mailboxes.Access`
(the mailbox and the grant, loaded once per request or IMAP command): their own mailbox
gives everything; a shared or delegated one what the grant gives (read, and write — flags,
moves, folders — and send-as when granted); only the owner manages it. The access is a
user's own: it gives nothing to another principal, an org admin included (an admin does
not read others' mail), nor to a guest, and the core refuses everything across
organisations.

Every decision of mail about a mailbox is this rule's answer, for the principal at hand:
the webmail and the API (through :mod:`~hexagone.mail.service.reading`), IMAP sessions and
SMTP submission (for the principal loaded when they signed in), the addresses one may send
as (:func:`~hexagone.mail.service.addresses.sendable_addresses`) and unified search. It is
registered as soon as any part of mail is imported (``hexagone/mail/__init__.py``).
"""

from __future__ import annotations

from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.mail.service.mailboxes import Access


@policy.rule(Access)
def mailbox_abilities(principal: Principal, access: Access) -> dict[str, bool]:
    mine = principal.user_id == access.user_id and not principal.is_guest
    return {
        "view": mine,
        "write": mine and access.can_write,
        "send_as": mine and access.can_send_as,
        "manage": mine and access.own,
    }
