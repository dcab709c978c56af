"""The DNS the mail module asks: MX records for delivery, TXT records for SPF, DKIM and
DMARC.

By default the system's resolvers answer. Answers are cached for their TTL in the
process. ``HEXAGONE_MAIL_DNS_SERVERS`` names others
(``ip[:port]``, comma separated): a site's own validating resolver, or in the tests a
small DNS server on loopback that serves the records of made-up domains. pyspf asks
dnspython's default resolver, so :func:`install` makes the configured one the default
of the process: every DNS question of the mail path then goes to the same place.
"""

from __future__ import annotations

from typing import TypeVar

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver

from hexagone.core.config import Settings, get_settings

_R = TypeVar("_R", bound=dns.resolver.BaseResolver)  # the sync or the asyncio resolver

LIFETIME = 8.0  # seconds for one question, retries included
CACHE_SIZE = 10_000  # answers kept, each for its TTL


class DnsTemporaryError(Exception):
    """No answer could be had (timeout, no server): ask again later."""


def _nameservers(spec: str) -> list[dns.nameserver.Nameserver]:
    servers: list[dns.nameserver.Nameserver] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        host, port = item, 53
        if item.count(":") == 1:  # ip:port; a bare IPv6 address has several colons
            host, _, port_text = item.partition(":")
            port = int(port_text)
        elif item.startswith("[") and "]:" in item:
            host, _, port_text = item[1:].partition("]:")
            port = int(port_text)
        servers.append(dns.nameserver.Do53Nameserver(host, port))
    return servers


def _configure(resolver: dns.resolver.BaseResolver, settings: Settings) -> None:
    if settings.mail_dns_servers:
        resolver.nameservers = _nameservers(settings.mail_dns_servers)
    resolver.lifetime = LIFETIME
    resolver.timeout = LIFETIME / 2
    # Answers (NXDOMAIN included) kept for their TTL: a burst of mail from one sender
    # asks the same SPF and DMARC questions once, not once a message.
    resolver.cache = dns.resolver.LRUCache(CACHE_SIZE)


def _configured_from_settings(cls: type[_R], settings: Settings) -> _R:
    resolver = cls(configure=not settings.mail_dns_servers)
    _configure(resolver, settings)
    return resolver


_sync: dns.resolver.Resolver | None = None
_async: dns.asyncresolver.Resolver | None = None


def resolver() -> dns.resolver.Resolver:
    global _sync
    if _sync is None:
        _sync = _configured_from_settings(dns.resolver.Resolver, get_settings())
    return _sync


def async_resolver() -> dns.asyncresolver.Resolver:
    global _async
    if _async is None:
        _async = _configured_from_settings(dns.asyncresolver.Resolver, get_settings())
    assert _async is not None
    return _async


def install() -> None:
    """Make the configured resolver, with its cache, dnspython's default (pyspf uses the
    default)."""
    dns.resolver.default_resolver = resolver()


def txt(name: str) -> list[bytes] | None:
    """The TXT records at ``name`` (each one's strings joined), None if there are none.
    Blocking: for the checks that run in a thread (dkimpy, DMARC)."""
    try:
        answer = resolver().resolve(name, "TXT", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        raise DnsTemporaryError(str(exc)) from exc
    return [b"".join(record.strings) for record in answer]
