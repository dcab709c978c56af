"""A breadth-first walk over every page a signed-in user can reach by following links,
so that pages added later (admin console, OIDC clients, modules) are checked without
anyone listing them here.

Links that would end the walk or leave the shell are not followed: sign-out (any path
with "logout"), static files, other origins, and file exports (``?format=``/``?export=``
or a ``download`` attribute). Pages of one shape (``/admin/users/<id>``) are visited at
most ``per_shape`` times: one more user page proves nothing new and costs seconds.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from playwright.async_api import Error, Page

from tests.browser.harness import Watch, goto, is_download

# A path segment that names one object: a number, a UUID, a random token.
IDENTIFIER = re.compile(r"\d+|[0-9a-fA-F-]{32,36}|(?=[\w-]*\d)[\w-]{16,}")
EXPORT_QUERY = re.compile(r"(^|&)(format|export|download)=", re.IGNORECASE)

PageCheck = Callable[[Page], Awaitable[list[str]]]


@dataclass
class Crawl:
    """The pages visited, in order, and what was wrong with each."""

    visited: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)


def _followable(href: str, origin: str) -> str | None:
    """The same-origin path (and query) of a link worth following, or None."""
    parts = urlsplit(href)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    if parts.path.startswith("/static/") or "logout" in parts.path:
        return None
    if parts.query and EXPORT_QUERY.search(parts.query):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def shape(url: str) -> str:
    """``/admin/users/3f…?page=2`` → ``/admin/users/{id}?page``."""
    parts = urlsplit(url)
    keys = sorted({k for k, _v in parse_qsl(parts.query, keep_blank_values=True)})
    segments = ["{id}" if IDENTIFIER.fullmatch(s) else s for s in parts.path.split("/")]
    return "/".join(segments) + ("?" + "&".join(keys) if keys else "")


async def crawl(
    page: Page, watch: Watch, check: PageCheck, *, start: list[str], limit: int = 80, per_shape: int = 2
) -> Crawl:
    """Visits up to ``limit`` HTML pages from ``start``, runs ``check`` on each, and
    reports links that answer with an error status as problems of the page they are on."""
    result = Crawl()
    queue: deque[tuple[str, str]] = deque((path, "(start)") for path in start)
    seen = set(start)
    shapes: dict[str, int] = {}
    while queue and len(result.visited) < limit:
        path, source = queue.popleft()
        try:
            response = await goto(page, path)
        except Error as exc:
            if is_download(exc):
                continue
            raise
        final = _followable(page.url, watch.origin) or page.url
        if final.startswith("/login"):
            result.problems[path] = [f"the crawl was signed out here (linked from {source})"]
            break
        if not response.headers.get("content-type", "").startswith("text/html"):
            watch.drain()
            continue
        result.visited.append(path)
        seen.add(final)
        problems = []
        if response.status >= 400:
            problems.append(f"answered {response.status} (linked from {source})")
        problems += await check(page)
        problems += watch.drain(document=page.url if response.status >= 400 else None)
        if problems:
            result.problems[path] = problems
        hrefs: list[str] = await page.eval_on_selector_all("a[href]:not([download])", "els => els.map(a => a.href)")
        for href in hrefs:
            target = _followable(href, watch.origin)
            if target is None or target in seen:
                continue
            seen.add(target)
            key = shape(target)
            if shapes.get(key, 0) >= per_shape:
                continue
            shapes[key] = shapes.get(key, 0) + 1
            queue.append((target, path))
    return result
