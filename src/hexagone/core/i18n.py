"""Translations: French first, English second, from Babel catalogues, never strings in code.

Each module ships its own catalogues (``<module>/locale/<lang>/*.po``); the core merges
the core's and every loaded module's into one catalogue per language when the app starts.
Messages are written in English in the code and templates (``_("Sign in")``); the French
catalogue is complete (a test extracts every message and checks it is translated).

The language of a request is, in order: the user's choice, the ``lang`` cookie, the
browser's ``Accept-Language``, the organisation's default, French.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES: dict[str, str] = {"fr": "Français", "en": "English"}
DEFAULT_LANGUAGE = "fr"
CORE_LOCALE_DIR = Path(__file__).parent / "locale"

_catalogues: dict[str, Translations] = {}
_current: ContextVar[str] = ContextVar("hexagone_language", default=DEFAULT_LANGUAGE)


def load_catalogues(locale_dirs: Iterable[Path]) -> None:
    """Compile every ``.po`` under each ``<dir>/<lang>/`` into one in-memory catalogue
    (one layout for every module: ``<module>/locale/<lang>/<part>.po``)."""
    _catalogues.clear()
    dirs = [d for d in locale_dirs if d and d.is_dir()]
    for lang in LANGUAGES:
        merged = Translations()
        for base in dirs:
            for po_path in sorted((base / lang).glob("*.po")):
                with po_path.open("rb") as fh:
                    catalog = read_po(fh, locale=lang)
                buf = io.BytesIO()
                write_mo(buf, catalog)
                buf.seek(0)
                merged.merge(Translations(buf))
        _catalogues[lang] = merged


def set_language(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def get_language() -> str:
    return _current.get()


def _translations() -> Translations:
    return _catalogues.get(_current.get()) or Translations()


def gettext(message: str, **variables: object) -> str:
    text = _translations().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = _translations().ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def has_translation(message: str | tuple[str, str]) -> bool:
    """Whether the current language's catalogue holds ``message`` (a word may translate
    to itself, as "Notifications" does in French, so comparing texts is not enough)."""
    key = message if isinstance(message, str) else (message[0], 0)
    return key in _translations()._catalog  # gettext keeps the merged messages there


def negotiate(accept_language: str | None) -> str | None:
    """The first supported language in an ``Accept-Language`` header, by q-value."""
    if not accept_language:
        return None
    choices: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        piece = part.strip().split(";")
        tag = piece[0].strip().lower()[:2]
        q = 1.0
        for param in piece[1:]:
            name, _eq, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag in LANGUAGES:
            choices.append((q, tag))
    choices.sort(key=lambda c: -c[0])
    return choices[0][1] if choices and choices[0][0] > 0 else None


def N_(message: str) -> str:
    """Marks a message for extraction where it is translated later (navigation labels)."""
    return message
