"""What every browser test shares: launching Debian's chromium, watching what a page
does (third-party requests, console errors, CSP refusals), running axe-core, and
checking the shape every page of the shell must have.

Nothing here downloads a browser or loads a script from elsewhere: chromium is the
system one and axe-core comes from the project's own ``node_modules``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Error, Page, Request, Response

from tests.factories import TestUser, login

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_SOURCE = (ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
LOCALES = {"fr": "fr-FR", "en": "en-GB"}


@dataclass
class Watch:
    """Records, for every page of one browser context, what a clean page never does."""

    origin: str
    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        context.on("request", self._on_request)
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self.console_errors.append(f"uncaught: {error.error}"))

    def _on_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign_requests.append(request.url)

    def _on_console(self, message: ConsoleMessage) -> None:
        # CSP refusals ("Refused to load/apply/execute …") are console errors in Chromium,
        # but match them by text too in case a future version demotes them to warnings.
        if message.type == "error" or message.text.startswith("Refused to"):
            where = message.location.get("url", "")
            self.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def drain(self, *, document: str | None = None) -> list[str]:
        """Problems seen since the last drain. When the page itself answered with an
        error status on purpose, Chromium's "Failed to load resource" line for that
        document (and only that one) is expected."""
        problems = [f"request to a third-party host: {url}" for url in self.foreign_requests]
        for line in self.console_errors:
            if document and line.startswith("Failed to load resource") and line.endswith(f"({document})"):
                continue
            problems.append(f"console error: {line}")
        self.foreign_requests.clear()
        self.console_errors.clear()
        return problems


@dataclass
class Tab:
    """One page in its own browser context (own cookies), with its watch."""

    context: BrowserContext
    page: Page
    watch: Watch


OpenTab = Callable[..., Awaitable[Tab]]


async def open_tab(
    browser: Browser,
    base_url: str,
    *,
    lang: str = "fr",
    color_scheme: str = "light",
    viewport: dict[str, int] = DESKTOP,
    user: TestUser | None = None,
    second_factor: bool = True,
) -> Tab:
    """A fresh context whose browser prefers ``lang``; signed in as ``user`` if given
    (through the real form over HTTP, the cookies handed to the browser: journeys that
    are about signing in do it with the keyboard instead)."""
    context = await browser.new_context(
        base_url=base_url,
        locale=LOCALES[lang],
        color_scheme=color_scheme,  # type: ignore[arg-type]
        viewport=viewport,
        reduced_motion="reduce",  # type: ignore[arg-type]
    )
    context.set_default_timeout(15_000)
    watch = Watch(origin=base_url)
    watch.attach(context)
    if user is not None:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            await login(client, user, second_factor=second_factor)
            cookies = [{"name": c.name, "value": c.value or "", "url": base_url} for c in client.cookies.jar]
        await context.add_cookies(cookies)  # type: ignore[arg-type]
    return Tab(context=context, page=await context.new_page(), watch=watch)


async def settle(page: Page) -> None:
    """Waits for htmx's on-load requests (the shell's badges) to finish."""
    await page.wait_for_function("() => !document.querySelector('.htmx-request')")


async def goto(page: Page, path: str) -> Response:
    response = await page.goto(path, wait_until="load")
    assert response is not None, path
    await settle(page)
    return response


async def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations, one readable line per failing element.

    ``evaluate`` injects the library without a <script> element, so the page's strict
    Content-Security-Policy does not have to be loosened for the test. ``preload`` is off:
    axe would copy stylesheets into inline <style> elements, which that policy refuses."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE_SOURCE)
    result = await page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],"
        " preload: false})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html, summary: n.failureSummary}))})))",
        AXE_TAGS,
    )
    lines = []
    for violation in result:
        for node in violation["nodes"]:
            summary = " ".join(node["summary"].split())
            lines.append(
                f"axe {violation['id']} ({violation['impact']}): {violation['help']}\n"
                f"      at {node['target']}: {node['html'][:200]}\n      {summary[:400]}"
            )
    return lines


async def shell_problems(page: Page, lang: str) -> list[str]:
    """The rules every page keeps: one h1, the page's language declared, axe clean."""
    problems = []
    h1_count = await page.locator("h1").count()
    if h1_count != 1:
        problems.append(f"{h1_count} <h1> elements instead of exactly one")
    declared = await page.evaluate("() => document.documentElement.lang")
    if declared != lang:
        problems.append(f'<html lang="{declared}"> instead of "{lang}"')
    problems.extend(await axe_violations(page))
    return problems


def report(problems: dict[str, list[str]]) -> str:
    """Problems by page, for an assertion message a person can act on."""
    return "\n".join(f"{where}:\n" + "\n".join(f"  - {p}" for p in found) for where, found in problems.items() if found)


FOCUS_SCRIPT = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {ok: false, what: 'nothing', why: 'no element has focus'};
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).slice(0, 4).map(Number);
  const opaque = (c) => { const v = rgb(c); return v.length === 3 || (v.length === 4 && v[3] > 0); };
  const luminance = ([r, g, b]) => {
    const f = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const style = getComputedStyle(el);
  const label = (el.textContent || el.value || '').trim().slice(0, 40);
  const what = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + label + '"';
  if (style.outlineStyle === 'none' || parseFloat(style.outlineWidth) < 2) {
    return {ok: false, what, why: `no visible outline (${style.outlineStyle} ${style.outlineWidth})`};
  }
  // The outline is drawn around the element, over its parent's background.
  let behind = 'rgb(255, 255, 255)';
  for (let node = el.parentElement; node; node = node.parentElement) {
    const bg = getComputedStyle(node).backgroundColor;
    if (opaque(bg)) { behind = bg; break; }
  }
  const a = luminance(rgb(style.outlineColor)), b = luminance(rgb(behind));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  return {ok: ratio >= 3, what, why: `outline ${style.outlineColor} on ${behind}: contrast ${ratio.toFixed(2)}`};
}"""


async def focus_problem(page: Page) -> str | None:
    """None when the focused element shows a focus ring of at least 3:1 contrast."""
    found = await page.evaluate(FOCUS_SCRIPT)
    return None if found["ok"] else f"{found['what']}: {found['why']}"


async def active_element(page: Page) -> dict[str, str]:
    return await page.evaluate(
        "() => { const el = document.activeElement; return {tag: el.tagName.toLowerCase(), id: el.id,"
        " index: String([...document.querySelectorAll('*')].indexOf(el)),"
        " cls: el.className || '', href: el.getAttribute('href') || '', text: (el.textContent || '').trim()}; }"
    )


def is_download(error: Error) -> bool:
    return "Download is starting" in str(error)


async def press_until(page: Page, wanted: str, unseen: list[str], limit: int = 80) -> None:
    """Tab until the focus is on ``wanted`` (a selector), noting in ``unseen`` each stop
    whose focus does not show."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if (problem := await focus_problem(page)) is not None and (await active_element(page))["tag"] != "body":
            unseen.append(f"{page.url}: {problem}")
        if await page.evaluate("(s) => document.activeElement.matches(s)", wanted):
            return
    raise AssertionError(f"Tab ×{limit} on {page.url} never reached {wanted}")
