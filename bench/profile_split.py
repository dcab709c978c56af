"""Where a request's time goes, in a few named parts, from py-spy's collapsed stacks
(``frame;frame;… count``, outermost first): used by :mod:`profile_request`.

Two splits of the same samples:

- **by layer**: the innermost frame that belongs to a known layer (SQLite's driver thread,
  aiosqlite's thread hops, SQLAlchemy's ORM or Core, Jinja2, the catalogues, Starlette,
  FastAPI and Pydantic, the event loop, the ASGI server, our own code);
- **by phase**: what the request was doing (resolving the session to a principal, the
  rest of the middlewares, rendering a template, the endpoint itself).
"""

from __future__ import annotations

from collections import Counter

# (label, marker in a frame's file path); the innermost frame matching any marker decides.
LAYERS = [
    ("SQLite (the sqlite3 module)", ("sqlite3/",)),
    ("aiosqlite thread hops (futures, queue, wake-ups)", ("aiosqlite/",)),
    ("asyncpg (protocol, records)", ("asyncpg/",)),
    ("SQLAlchemy ORM (objects, identity map, loading)", ("sqlalchemy/orm/",)),
    ("SQLAlchemy Core (compile, execute, result rows)", ("sqlalchemy/",)),
    ("Jinja2 templates", ("jinja2/", "hexagone/core/templating.py")),
    ("translation catalogues (babel, gettext)", ("babel/", "gettext.py", "hexagone/core/i18n.py")),
    ("FastAPI and Pydantic", ("fastapi/", "pydantic/", "pydantic_core/")),
    ("Starlette (routing, requests, responses)", ("starlette/",)),
    ("Hexagone's own code", ("hexagone/",)),
    ("event loop (asyncio, selectors, threads)", ("asyncio/", "selectors.py", "threading.py", "queue.py")),
    ("ASGI server", ("granian/", "uvicorn/", "h11/", "httptools/")),
]

# (label, function-name markers), outermost match wins in this order of precedence.
PHASES = [
    ("session → principal (core.auth, identity.principals)", ("principal_from_session_token", "load_principal")),
    ("rendering (templates, catalogues)", ("render (hexagone/core/templating.py", "render (hexagone/core/pages.py")),
]
MIDDLEWARE_FILES = ("hexagone/core/web.py", "hexagone/core/shell.py")


def _layer(frames: list[str]) -> str:
    for frame in reversed(frames):
        for label, markers in LAYERS:
            if any(m in frame for m in markers):
                return label
    return "other (interpreter, libraries)"


def _phase(frames: list[str]) -> str:
    for label, markers in PHASES:
        if any(m in frame for frame in frames for m in markers):
            return label
    if any("aiosqlite/" in f for f in frames):
        return "aiosqlite's thread (statements and their results)"
    if any("sqlalchemy/" in f for f in frames) and not any("hexagone/" in f for f in frames):
        # SQLAlchemy's asyncio layer runs in a greenlet whose stack does not show who asked
        return "SQL through SQLAlchemy (in its greenlet: the caller is not on the stack)"
    ours = [f for f in frames if "hexagone/" in f]
    if ours and any(m in ours[-1] for m in MIDDLEWARE_FILES):
        return "middlewares (cookies, CSRF, headers, language, the gate)"
    if ours:
        return "the endpoint (its queries and logic)"
    return "outside any request (server, loop, idle tasks)"


def split(raw: str) -> tuple[int, dict[str, Counter[str]]]:
    """Samples in total, and their count by layer and by phase."""
    layers: Counter[str] = Counter()
    phases: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        layers[_layer(frames)] += n
        phases[_phase(frames)] += n
    return total, {"by layer": layers, "by phase": phases}


def layer_of_file(path: str) -> str:
    """The layer of a function by its file (for cProfile's own-time figures)."""
    return _layer([path])


def report(raw: str) -> str:
    total, splits = split(raw)
    if not total:
        return "no samples"
    lines = []
    for title, counts in splits.items():
        lines.append(f"{title} ({total} samples):")
        lines += [f"  {100 * n / total:5.1f}%  {label}" for label, n in counts.most_common()]
        lines.append("")
    return "\n".join(lines)
