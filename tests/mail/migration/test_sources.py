"""Sources read in-process: IMAP addresses, how the other server's refusals and
certificates are told apart, files that are not what they claim, and which of our
folders a source folder goes to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hexagone.core import i18n
from hexagone.mail.migration import open_source
from hexagone.mail.migration.folders import is_virtual, special_use_of, target_name
from hexagone.mail.migration.imap import ImapAddress, parse_url
from hexagone.mail.migration.sources import SourceError, SourceUnavailable
from tests.mail.migration.conftest import OldServer


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """These tests read the sources' messages in English; other tests of the run may
    have loaded the catalogues into this process, where French is the default."""
    previous = i18n.get_language()
    i18n.set_language("en")
    yield
    i18n.set_language(previous)


def test_parse_url_reads_login_host_and_port_with_the_usual_defaults() -> None:
    assert parse_url("imaps://jeanne@mail.example.org") == ImapAddress(True, "jeanne", "mail.example.org", 993)
    assert parse_url("imap://DOMAINE%5Cjeanne@10.0.0.5:1143/") == ImapAddress(
        False, "DOMAINE\\jeanne", "10.0.0.5", 1143
    )
    assert (
        parse_url(" imaps://jeanne%40old.example@mail.old.example:9993 ").label
        == "imaps://jeanne@old.example@mail.old.example:9993"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("imaps://jeanne:secret@mail.example.org", "password in the address"),
        ("imaps://mail.example.org", "must name the login"),
        ("pop3://jeanne@mail.example.org", "imaps://login@host"),
        ("imaps://jeanne@mail.example.org/INBOX", "imaps://login@host"),
        ("imaps://jeanne@mail.example.org:99999", "not a valid IMAP address"),
    ],
)
def test_parse_url_refuses_what_is_not_an_imap_account(url: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_url(url)


def test_imap_source_tells_refusals_from_outages(old_server: OldServer) -> None:
    with pytest.raises(SourceError, match="not trusted") as untrusted:
        open_source(old_server.url(), old_server.password)
    with pytest.raises(SourceError, match="refused the login") as refused:
        open_source(old_server.url(), "not-the-password", insecure=True)
    with pytest.raises(SourceUnavailable, match="Cannot reach"):
        open_source("imaps://jeanne@127.0.0.1:1", "x")
    assert not isinstance(untrusted.value, SourceUnavailable) and not isinstance(refused.value, SourceUnavailable)
    with pytest.raises(SourceError, match=r"password .* is required"):
        open_source(old_server.url(), "")


def test_imap_source_over_starttls_lists_folders_with_their_special_uses(old_server: OldServer) -> None:
    source = open_source(old_server.url(tls=False), old_server.password, insecure=True)
    try:
        folders = {f.name: f for f in source.folders()}
    finally:
        source.close()
    assert folders["Sent Items"].special_use == "\\Sent" and folders["Projets.2024"].parts == ("Projets", "2024")
    assert "Projets" not in folders  # \Noselect: only a level of the hierarchy
    assert folders["Reçus"].uidvalidity > 0


def test_file_sources_that_are_not_what_they_claim_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        open_source(f"mbox:{tmp_path / 'absent.mbox'}")
    with pytest.raises(SourceError, match="not a Maildir"):
        open_source(f"maildir:{tmp_path}")
    with pytest.raises(SourceError, match="mbox:PATH or maildir:PATH"):
        open_source("ftp://example.org/mail")


@pytest.mark.parametrize(
    ("parts", "given", "expected"),
    [
        (("Sent Items",), "\\Sent", "\\Sent"),
        (("Éléments envoyés",), None, "\\Sent"),
        (("INBOX", "Deleted Items"), None, "\\Trash"),
        (("Courrier indésirable",), None, "\\Junk"),
        (("Projets", "Sent"), None, None),
        (("Boîte",), "\\sent", "\\Sent"),
        (("Notes",), None, None),
    ],
)
def test_special_folders_are_recognised_by_attribute_or_usual_name(
    parts: tuple[str, ...], given: str | None, expected: str | None
) -> None:
    assert special_use_of(parts, given) == expected


def test_folder_names_become_ours_and_virtual_folders_are_skipped() -> None:
    assert target_name(("inbox", "Clients", "A/B", "x*y%")) == "INBOX/Clients/A-B/x-y-"
    assert is_virtual("\\All") and is_virtual("\\Flagged") and not is_virtual("\\Archive") and not is_virtual(None)
