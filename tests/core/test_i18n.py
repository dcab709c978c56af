"""Every user-facing message goes through the catalogues, and French (the default) is complete."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from hexagone.core import i18n

SRC = Path(__file__).resolve().parents[2] / "src" / "hexagone"
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extracted_messages() -> dict[str | tuple[str, str], str]:
    found: dict[str | tuple[str, str], str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(str(SRC), METHOD_MAP, options_map=OPTIONS):
        if message:
            found.setdefault(message if isinstance(message, str) else tuple(message[:2]), f"{filename}:{lineno}")
    return found


def load_all_catalogues() -> None:
    from hexagone.app import load_registry

    i18n.load_catalogues([i18n.CORE_LOCALE_DIR] + [m.locale_dir for m in load_registry() if m.locale_dir])


def test_every_message_has_a_french_translation() -> None:
    load_all_catalogues()
    i18n.set_language("fr")
    messages = extracted_messages()
    assert len(messages) > 50
    missing = {msgid: where for msgid, where in messages.items() if not i18n.has_translation(msgid)}
    assert not missing, "untranslated in French:\n" + "\n".join(f"{w}: {m!r}" for m, w in missing.items())


def test_french_translations_keep_their_placeholders() -> None:
    import re

    load_all_catalogues()
    i18n.set_language("fr")
    placeholder = re.compile(r"%\((\w+)\)")
    for msgid in extracted_messages():
        if not isinstance(msgid, str):
            continue
        translated = i18n.gettext(msgid)
        assert set(placeholder.findall(translated)) == set(placeholder.findall(msgid)), msgid


def test_accept_language_picks_the_best_supported_language() -> None:
    assert i18n.negotiate("en-GB,en;q=0.9,fr;q=0.8") == "en"
    assert i18n.negotiate("de-DE,fr;q=0.5") == "fr"
    assert i18n.negotiate("de-DE") is None
    assert i18n.negotiate("fr;q=abc, en;q=0.1") == "en"
