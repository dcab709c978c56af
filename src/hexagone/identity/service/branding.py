"""Branding rules: a brand colour must keep white text readable (WCAG AA, 4.5:1), and a
logo must be a small PNG or JPEG (no SVG: scripts hide in SVG)."""

from __future__ import annotations

import base64

from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _

MIN_CONTRAST = 4.5
MAX_LOGO_BYTES = 200_000
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_with_white(hex_colour: str) -> float:
    return 1.05 / (_luminance(hex_colour) + 0.05)


def check_contrast(hex_colour: str) -> None:
    ratio = contrast_with_white(hex_colour)
    if ratio < MIN_CONTRAST:
        raise Invalid(
            _(
                "White text on %(colour)s has a contrast of %(ratio).1f:1; at least 4.5:1 is needed. "
                "Choose a darker colour.",
                colour=hex_colour,
                ratio=ratio,
            )
        )


def clean_logo(data: bytes) -> str:
    """``<mime>;base64,<data>`` for a PNG or JPEG logo; empty bytes remove the logo."""
    if not data:
        return ""
    if len(data) > MAX_LOGO_BYTES:
        raise Invalid(_("The logo must be smaller than 200 KB."))
    for magic, mime in LOGO_TYPES.items():
        if data.startswith(magic):
            return f"{mime};base64,{base64.b64encode(data).decode()}"
    raise Invalid(_("The logo must be a PNG or JPEG image."))


def logo_bytes(stored: str) -> tuple[str, bytes] | None:
    if not stored or ";base64," not in stored:
        return None
    mime, _sep, payload = stored.partition(";base64,")
    return mime, base64.b64decode(payload)
