"""The live properties of a file or folder (RFC 4918 15, RFC 4331 quotas) and how a
node is described in a multistatus: live properties computed from the node, dead ones
as the client stored them (their elements kept whole, namespaces and all)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

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


def http_date(moment: datetime) -> str:
    return format_datetime(_utc(moment), usegmt=True)


def etag_header(node: NodeInfo) -> str:
    return f'"{node.etag}"'


def _file_only(value: Callable[[NodeInfo], str]) -> Callable[[NodeInfo], str | None]:
    return lambda node: None if node.is_folder else value(node)


# Computed for one node from what a listing reads (None: the node has no such property).
SIMPLE: dict[str, Callable[[NodeInfo], str | None]] = {
    RESOURCETYPE: lambda node: "<D:collection/>" if node.is_folder else "",
    tag(DAV, "displayname"): lambda node: xml.text(node.name),
    tag(DAV, "getcontentlength"): _file_only(lambda node: str(node.size)),
    tag(DAV, "getcontenttype"): _file_only(lambda node: xml.text(node.content_type)),
    tag(DAV, "getetag"): lambda node: xml.text(etag_header(node)),
    tag(DAV, "getlastmodified"): lambda node: http_date(node.modified_at),
    tag(DAV, "creationdate"): lambda node: _utc(node.created_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
    SUPPORTEDLOCK: lambda node: SUPPORTED_LOCKS,
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


def describe(
    href: str,
    node: NodeInfo,
    want: Wanted,
    *,
    dead: dict[tuple[str, str], str],
    locks: str = "",
    drive: DriveInfo | None = None,
) -> str:
    """The DAV:response of ``node``: ``dead`` its dead properties, ``locks`` its
    lockdiscovery's content, ``drive`` its drive (for the quota properties of a folder)."""
    live: dict[str, str] = {}
    for name, value in SIMPLE.items():
        computed = value(node)
        if computed is not None:
            live[name] = computed
    live[LOCKDISCOVERY] = locks
    if node.is_folder and drive is not None:
        live[QUOTA_USED] = str(drive.used_bytes)
        if drive.available_bytes is not None:
            live[QUOTA_AVAILABLE] = str(drive.available_bytes)
    stored = {("{" + ns + "}" + name if ns else name): value for (ns, name), value in dead.items()}
    if want.propname:
        found = [xml.element(name) for name in (*live, *stored)]
        return xml.response(href, xml.propstat_elements(found, {}))
    if want.allprop:
        names = [n for n in live if n not in NOT_IN_ALLPROP] + list(stored)
        names += [n for n in want.names if n not in names]
    else:
        names = list(want.names)
    found, missing = [], []
    for name in names:
        if name in live:
            found.append(xml.element(name, live[name]))
        elif name in stored:
            found.append(stored[name])
        else:
            missing.append(name)
    return xml.response(href, xml.propstat_elements(found, {404: missing} if missing else {}))


def wants_dead(want: Wanted) -> bool:
    """Whether describing a node needs its dead properties."""
    return want.allprop or want.propname or any(name not in LIVE for name in want.names)


def wants(want: Wanted, name: str) -> bool:
    return want.propname or name in want.names or (want.allprop and name not in NOT_IN_ALLPROP)
