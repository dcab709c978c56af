"""Write French translations into a module's catalogue from the extracted messages.

Used by developers: ``python tools/write_catalogue.py TRANSLATIONS.py OUT.po PATH_PREFIX...``
where TRANSLATIONS.py defines ``FR = {msgid: translation}``; only messages found in
files under the given path prefixes are written, so each catalogue holds its own part.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

SRC = Path(__file__).resolve().parent.parent / "src" / "hexagone"
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def main() -> None:
    translations: dict = runpy.run_path(sys.argv[1])["FR"]
    out = Path(sys.argv[2])
    prefixes = sys.argv[3:]
    catalog = Catalog(locale="fr", project="Hexagone", charset="utf-8")
    if out.exists():
        with out.open("rb") as fh:
            catalog = read_po(fh, locale="fr")
    for filename, lineno, message, _comments, _context in extract_from_dir(str(SRC), METHOD_MAP, options_map=OPTIONS):
        if not any(filename.startswith(p) for p in prefixes):
            continue
        if message in translations:
            catalog.add(message, translations[message], locations=[(filename, lineno)])
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        write_po(fh, catalog, width=0, omit_header=False)


if __name__ == "__main__":
    main()
