"""Jinja2 pages: one environment for the core and every module, translated, autoescaped.

Templates live in ``<package>/templates/<package-name>/…`` so that names never collide
(``core/base.html``, ``identity/login.html``). Every page extends ``core/base.html``, the
shell, and so gets the same navigation, search, notifications and user menu.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from hexagone.core import i18n

STATIC_DIR = Path(__file__).parent / "static"

_env: jinja2.Environment | None = None


def configure(template_dirs: Iterable[Path], globals_: dict[str, Any]) -> jinja2.Environment:
    global _env
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    # ``_`` is the extension's alias, which looks ``gettext`` up and calls it through the
    # context on every use (a list page says ``_()`` a hundred times): bind it directly.
    env.globals["_"] = env.globals["gettext"]
    env.globals.update(static_url=static_url, languages=i18n.LANGUAGES, **globals_)
    _env = env
    return env


@lru_cache(maxsize=256)
def static_url(path: str) -> str:
    """``/static/<path>?v=<content hash>``: cacheable forever, refreshed on change."""
    file = STATIC_DIR / path
    version = hashlib.sha256(file.read_bytes()).hexdigest()[:12] if file.is_file() else "missing"
    return f"/static/{path}?v={version}"


def environment() -> jinja2.Environment:
    if _env is None:
        raise RuntimeError("templating.configure() was not called")
    return _env


_context_processors: list[Any] = []


def add_context_processor(fn: Any) -> None:
    """``fn(request) -> dict`` adds variables to every page (the shell uses it)."""
    _context_processors.append(fn)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    values: dict[str, Any] = {"request": request, "lang": i18n.get_language()}
    for processor in _context_processors:
        values.update(processor(request))
    values.update(context or {})
    html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=headers)
