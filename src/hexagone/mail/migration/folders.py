"""Which folder of the Hexagone mailbox a source folder goes to.

The other server's special folders land in ours, whatever their names: \\Sent ("Sent
Items" on Exchange, "Éléments envoyés" in French) into our Sent, \\Trash into Trash, and
so on. A server that does not mark them (RFC 6154 SPECIAL-USE) is recognised by the
usual names. Virtual folders (Gmail's "All Mail", "Starred", "Important") only show
messages that live elsewhere too, and are skipped so nothing is imported twice.
Everything else keeps its name and hierarchy, with ``/`` as our delimiter.
"""

from __future__ import annotations

from hexagone.mail.models import SpecialUse
from hexagone.mail.service.mailboxes import INBOX

VIRTUAL = {"\\all", "\\flagged", "\\important"}
KNOWN_NAMES: dict[str, SpecialUse] = {
    name: special
    for special, names in {
        SpecialUse.SENT: [
            "sent",
            "sent items",
            "sent messages",
            "sent mail",
            "envoyés",
            "éléments envoyés",
            "messages envoyés",
        ],
        SpecialUse.TRASH: ["trash", "deleted items", "deleted messages", "corbeille", "éléments supprimés"],
        SpecialUse.DRAFTS: ["drafts", "brouillons"],
        SpecialUse.JUNK: ["junk", "junk e-mail", "junk email", "spam", "courrier indésirable", "pourriel"],
        SpecialUse.ARCHIVE: ["archive", "archives"],
    }.items()
    for name in names
}


def is_virtual(special_use: str | None) -> bool:
    return (special_use or "").lower() in VIRTUAL


def special_use_of(parts: tuple[str, ...], special_use: str | None) -> str | None:
    """The special use a source folder has here: the one the server gives, else the one
    its name says (a top-level folder, or a child of INBOX as on Courier-style servers)."""
    if special_use:
        return next((s.value for s in SpecialUse if s.value.lower() == special_use.lower()), None)
    if len(parts) == 1 or (len(parts) == 2 and parts[0].upper() == INBOX):
        found = KNOWN_NAMES.get(parts[-1].strip().lower())
        return found.value if found else None
    return None


def target_name(parts: tuple[str, ...]) -> str:
    """Our name for a folder: its levels joined with ``/``. What our names may not hold
    (a ``/`` inside a level where the source's delimiter was another character, the
    wildcards ``*`` and ``%``, control characters) becomes ``-``."""
    cleaned = ["".join("-" if ch in "/*%" or ord(ch) < 32 else ch for ch in part).strip() or "-" for part in parts]
    if cleaned[0].upper() == INBOX:
        cleaned[0] = INBOX
    return "/".join(cleaned)
