"""Who really sent an inbound message: SPF (pyspf), DKIM (dkimpy) and DMARC, written
into an ``Authentication-Results:`` header field (RFC 8601) for the reader and the
webmail to trust.

The verdict is recorded, never acted on here: a message failing DMARC is still
delivered (with its verdict), because refusing mail is a policy an administrator
chooses, and a false ``fail`` must not lose a message. Every DNS question goes through
:mod:`hexagone.mail.transport.dns`, so tests and sites choose the resolver.

DMARC (RFC 7489) needs the sender's *organisational domain*. Instead of a bundled
Public Suffix List that goes stale, it is found as DMARCbis does, by walking the DNS
tree: the policy is the first ``_dmarc`` record on the way from the ``From:`` domain
to the top, the organisational domain the shortest name holding one.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
from dataclasses import dataclass

import dkim
import spf

from hexagone.mail.transport import dns, headers

MAX_SIGNATURES = 5  # verify at most this many DKIM-Signature fields (each costs a lookup)
MAX_TREE_WALK = 8
SPF_QUERY_TIME = 15
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_BARE_LF = re.compile(rb"(?<!\r)\n")
_ATEXT = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+$")


@dataclass(frozen=True)
class DkimResult:
    result: str  # pass, fail, neutral, temperror, permerror
    domain: str
    selector: str
    b: str  # the first characters of the signature, to tell several apart (RFC 6008)


@dataclass(frozen=True)
class Verdict:
    spf: str
    spf_identity: str
    dkim: tuple[DkimResult, ...] = ()
    dmarc: str = "none"
    dmarc_policy: str = ""
    from_domain: str = ""

    def header(self, authserv_id: str) -> str:
        """The ``Authentication-Results:`` field, without its line end."""
        identity = self.spf_identity if _ATEXT.match(self.spf_identity) else self.spf_identity.rpartition("@")[2]
        parts = [authserv_id, f"spf={self.spf} smtp.mailfrom={identity}"]
        if not self.dkim:
            parts.append("dkim=none")
        for result in self.dkim:
            parts.append(
                f"dkim={result.result} header.d={result.domain or 'unknown'} header.s={result.selector or 'unknown'}"
                + (f" header.b={result.b}" if result.b else "")
            )
        if self.from_domain:
            policy = f" policy.dmarc={self.dmarc_policy}" if self.dmarc_policy else ""
            parts.append(f"dmarc={self.dmarc}{policy} header.from={self.from_domain}")
        else:
            parts.append("dmarc=none")
        return headers.fold("Authentication-Results", parts)


# --- SPF -------------------------------------------------------------------------------


def check_spf(ip: str, mail_from: str, helo: str) -> tuple[str, str]:
    """(result, identity checked): the MAIL FROM address, or ``postmaster@helo`` for a
    bounce (null sender), as RFC 7208 section 2.4 says."""
    identity = mail_from or f"postmaster@{helo}"
    try:
        result, _explanation = spf.check2(i=ip, s=identity, h=helo, querytime=SPF_QUERY_TIME)
    except Exception:  # pyspf raises on malformed input it did not expect
        result = "permerror"
    return str(result), identity


# --- DKIM ------------------------------------------------------------------------------


def check_dkim(raw: bytes) -> tuple[DkimResult, ...]:
    temporary: list[str] = []

    def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
        try:
            records = dns.txt(name.decode("ascii").rstrip("."))
        except UnicodeDecodeError:
            return None
        except dns.DnsTemporaryError as exc:
            temporary.append(str(exc))
            return None
        return records[0] if records else None

    message = headers.parse(raw)
    count = min(len(message.get_all("DKIM-Signature", [])), MAX_SIGNATURES)
    results = []
    head, body = _split_for_dkim(raw) if count else (raw, b"")
    for index in range(count):
        temporary.clear()
        verifier = dkim.DKIM(head, minkey=1024, timeout=int(dns.LIFETIME))
        verifier.body = body
        try:
            outcome = "pass" if verifier.verify(idx=index, dnsfunc=dnsfunc) else "fail"
        except dkim.ValidationError as exc:  # dkimpy reports a changed body this way
            outcome = "fail" if "body hash mismatch" in str(exc) else "permerror"
        except dkim.DKIMException:
            outcome = "permerror"
        if outcome == "fail" and temporary:
            outcome = "temperror"
        fields = verifier.signature_fields or {}
        b = fields.get(b"b", b"").replace(b" ", b"")[:8].decode("ascii", "replace") if fields else ""
        results.append(
            DkimResult(outcome, _text(getattr(verifier, "domain", None)), _text(getattr(verifier, "selector", None)), b)
        )
    return tuple(results)


def _split_for_dkim(raw: bytes) -> tuple[bytes, bytes]:
    """The header block and the CRLF body that dkimpy would make of ``raw``, without its
    own parse: that splits the whole message into a list of lines and joins them again
    (3.6 times a 45 MiB message). The body is shared by every signature's check."""
    end = _HEADER_END.search(raw)
    if end is None:
        return raw, b""
    body = raw[end.end() :]
    return raw[: end.end()], _BARE_LF.sub(b"\r\n", body) if _BARE_LF.search(body) else body


def _text(value: bytes | str | None) -> str:
    """A tag of a DKIM signature as text. dkimpy gives bytes, except its default selector
    (``"default"``, a str) when a signature fails before its ``s=`` is read."""
    if isinstance(value, str):
        return value.lower()
    return value.decode("ascii", "replace").lower() if value else ""


# --- DMARC -----------------------------------------------------------------------------


def _dmarc_record(domain: str) -> dict[str, str] | None:
    records = [r for r in dns.txt(f"_dmarc.{domain}") or [] if r[:8].lower() == b"v=dmarc1"]
    if len(records) != 1:  # none, or several: no policy (RFC 7489 6.6.3)
        return None
    tags = {}
    for item in records[0].decode("ascii", "replace").split(";"):
        key, _, value = item.partition("=")
        if key.strip():
            tags[key.strip().lower()] = value.strip().lower()
    return tags


def policy(from_domain: str) -> tuple[dict[str, str] | None, str, str]:
    """(the policy record for ``from_domain``, the name it was found at, the
    organisational domain)."""
    labels = from_domain.split(".")
    if len(labels) > MAX_TREE_WALK:
        labels = labels[-(MAX_TREE_WALK - 1) :]
    found: dict[str, str] | None = None
    found_at = organisational = from_domain
    for start in range(len(labels) - 1):  # the TLD itself is not asked
        name = ".".join(labels[start:])
        record = _dmarc_record(name)
        if record is None or record.get("psd") == "y":
            continue
        if found is None:
            found, found_at = record, name
        organisational = name
    return found, found_at, organisational


def _aligned(domain: str, from_domain: str, organisational: str, mode: str) -> bool:
    domain = domain.lower().rstrip(".")
    if mode == "s":
        return domain == from_domain
    return domain == organisational or domain.endswith("." + organisational)


def check_dmarc(
    from_domain: str,
    spf_result: str,
    spf_identity: str,
    dkim_results: tuple[DkimResult, ...],
) -> tuple[str, str]:
    """(result, the policy that applies): pass if SPF or a DKIM signature passed for a
    domain aligned with ``From:``."""
    try:
        record, found_at, organisational = policy(from_domain)
    except dns.DnsTemporaryError:
        return "temperror", ""
    if record is None:
        return "none", ""
    applied = record.get("p", "none")
    if found_at != from_domain:  # a parent's policy: its subdomain policy applies
        applied = record.get("sp", applied)
    spf_domain = spf_identity.rpartition("@")[2]
    if spf_result == "pass" and _aligned(spf_domain, from_domain, organisational, record.get("aspf", "r")):
        return "pass", applied
    if any(
        r.result == "pass" and _aligned(r.domain, from_domain, organisational, record.get("adkim", "r"))
        for r in dkim_results
    ):
        return "pass", applied
    return "fail", applied


def from_domain(raw: bytes) -> str:
    """The domain of the single ``From:`` address, or "" (none, several, unreadable)."""
    message = headers.parse(raw)
    values = [str(v) for v in message.get_all("From", [])]
    found = [a for _, a in email.utils.getaddresses(values) if "@" in a]
    if len(values) != 1 or len(found) != 1:
        return ""
    return found[0].rpartition("@")[2].lower().rstrip(".")


def _check(raw: bytes, ip: str, helo: str, mail_from: str) -> Verdict:
    spf_result, identity = check_spf(ip, mail_from, helo)
    dkim_results = check_dkim(raw)
    domain = from_domain(raw)
    dmarc_result, applied = check_dmarc(domain, spf_result, identity, dkim_results) if domain else ("none", "")
    return Verdict(
        spf=spf_result,
        spf_identity=identity,
        dkim=dkim_results,
        dmarc=dmarc_result,
        dmarc_policy=applied,
        from_domain=domain,
    )


async def check(raw: bytes, *, ip: str, helo: str, mail_from: str) -> Verdict:
    """The verdict on a message as it arrived (the libraries block: run in a thread)."""
    return await asyncio.to_thread(_check, raw, ip, helo, mail_from)
