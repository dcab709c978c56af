"""The live properties of a file or folder (RFC 4918 15, RFC 4331 quotas) and how a
node is described in a multistatus: live properties computed from the node, dead ones
as the client stored them (their elements kept whole, namespaces and all)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from hexagone.core.dav import xml
from hexagone.core.dav.bodies import Wanted
from hexagone.core.dav.xml import DAV, tag
from hexagone.drive.service import DriveInfo, LockInfo, NodeInfo

RESOURCETYPE = tag(DAV, "resourcetype")
LOCKDISCOVERY = tag(DAV, "lockdiscovery")
SUPPORTEDLOCK = tag(DAV, "supportedlock")
QUOTA_AVAILABLE = tag(DAV, "quota-available-bytes")
QUOTA_USED = tag(DAV, "quota-used-bytes")

SUPPORTED_LOCKS = "".join(
    f"<D:lockentry><D:lockscope><D:{scope}/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>"
    for scope in ("exclusive", "shared")
)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(moment: datetime) -> str:
    """RFC 9110's IMF-fixdate, written out by hand: ``email.utils.format_datetime`` was a
    tenth of a 10,000-entry listing's time. Our times are UTC (naive ones too)."""
    m = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    day = f"{DAYS[m.weekday()]}, {m.day:02d} {MONTHS[m.month - 1]} {m.year}"
    return f"{day} {m.hour:02d}:{m.minute:02d}:{m.second:02d} GMT"


def iso_date(moment: datetime) -> str:
    m = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def etag_header(node: NodeInfo) -> str:
    return f'"{node.etag}"'


COLLECTION = "<D:resourcetype><D:collection/></D:resourcetype>"
# The live properties computed from what a listing reads, each as its whole element (None:
# the node has no such property: a folder's length or type). Written as f-strings: a
# listing of 10,000 entries builds 80,000 of them.
SIMPLE: dict[str, Callable[[NodeInfo], str | None]] = {
    RESOURCETYPE: lambda n: (
        "<D:resourcetype><D:collection/></D:resourcetype>" if n.kind == "folder" else "<D:resourcetype/>"
    ),
    tag(DAV, "displayname"): lambda n: f"<D:displayname>{xml.text(n.name)}</D:displayname>",
    tag(DAV, "getcontentlength"): lambda n: (
        None if n.kind == "folder" else f"<D:getcontentlength>{n.size}</D:getcontentlength>"
    ),
    tag(DAV, "getcontenttype"): lambda n: (
        None if n.kind == "folder" else f"<D:getcontenttype>{xml.text(n.content_type)}</D:getcontenttype>"
    ),
    tag(DAV, "getetag"): lambda n: f'<D:getetag>"{xml.text(n.etag)}"</D:getetag>',
    tag(DAV, "getlastmodified"): lambda n: f"<D:getlastmodified>{http_date(n.modified_at)}</D:getlastmodified>",
    tag(DAV, "creationdate"): lambda n: f"<D:creationdate>{iso_date(n.created_at)}</D:creationdate>",
    SUPPORTEDLOCK: lambda n: f"<D:supportedlock>{SUPPORTED_LOCKS}</D:supportedlock>",
}
# Live properties nobody may set or remove with PROPPATCH.
LIVE = frozenset({*SIMPLE, LOCKDISCOVERY, QUOTA_AVAILABLE, QUOTA_USED})
# RFC 4331 3: the quota properties are not part of allprop.
NOT_IN_ALLPROP = frozenset({QUOTA_AVAILABLE, QUOTA_USED})


def timeout(lock: LockInfo) -> str:
    if lock.expires_at is None:
        return "Infinite"
    left = int((_utc(lock.expires_at) - datetime.now(UTC)).total_seconds())
    return f"Second-{max(0, left)}"


def active_lock(lock: LockInfo, root_href: str) -> str:
    token = f"<D:locktoken>{xml.href(lock.token)}</D:locktoken>" if lock.token else ""
    return (
        f"<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:{lock.scope}/></D:lockscope>"
        f"<D:depth>{lock.depth}</D:depth>{lock.owner_xml}<D:timeout>{timeout(lock)}</D:timeout>"
        f"{token}<D:lockroot>{xml.href(root_href)}</D:lockroot></D:activelock>"
    )


def dead_name(clark: str) -> tuple[str, str]:
    return xml.split(clark)


class Describer:
    """How the nodes of one PROPFIND are described (its DAV:response for each): the
    properties asked for are worked out once, not again for each of a listing's 10,000
    entries; a node with dead properties of its own has them added to its list for allprop."""

    def __init__(self, want: Wanted, drive: DriveInfo | None = None):
        self.want, self.drive = want, drive
        names = list(ALLPROP_LIVE) if want.allprop else []
        names += [n for n in want.names if n not in names]
        self.live = [(name, SIMPLE.get(name)) for name in names]

    def __call__(self, href: str, node: NodeInfo, *, dead: dict[tuple[str, str], str], locks: str = "") -> str:
        """``dead`` the node's dead properties, ``locks`` its lockdiscovery's content."""
        want = self.want
        stored = {("{" + ns + "}" + name if ns else name): value for (ns, name), value in dead.items()} if dead else {}
        if want.propname:
            names = [*LIVE, *stored]
            return xml.response(href, xml.propstat_elements([xml.element(name) for name in names], {}))
        asked = self.live
        if stored and want.allprop:
            listed = {name for name, _simple in asked}
            asked = [*asked, *((name, None) for name in stored if name not in listed)]
        found, missing = [], []
        for name, simple in asked:
            value = simple(node) if simple is not None else _other(name, node, stored, locks, self.drive)
            if value is not None:
                found.append(value)
            elif not want.allprop or name in want.names:
                missing.append(name)
        return f"<D:response>{xml.href(href)}{xml.propstat_elements(found, {404: missing})}</D:response>"


ALLPROP_LIVE = (*SIMPLE, LOCKDISCOVERY)


def _other(name: str, node: NodeInfo, stored: dict[str, str], locks: str, drive: DriveInfo | None) -> str | None:
    """A property that is not :data:`SIMPLE`: the locks, the quota, or a dead one."""
    if name == LOCKDISCOVERY:
        return f"<D:lockdiscovery>{locks}</D:lockdiscovery>"
    if name in (QUOTA_USED, QUOTA_AVAILABLE):
        if node.kind != "folder" or drive is None:
            return None
        value = drive.used_bytes if name == QUOTA_USED else drive.available_bytes
        return None if value is None else xml.element(name, str(value))
    return stored.get(name)


def wants_dead(want: Wanted) -> bool:
    """Whether describing a node needs its dead properties."""
    return want.allprop or want.propname or any(name not in LIVE for name in want.names)


def wants(want: Wanted, name: str) -> bool:
    return want.propname or name in want.names or (want.allprop and name not in NOT_IN_ALLPROP)
