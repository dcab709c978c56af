"""Choosing a backend by URL, as Radicale does by name: a concern (pub/sub, blobs) is a
package with one module per implementation, each exposing a ``Backend`` class built from
the URL; the URL's scheme names the module."""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import urlsplit


def load_backend(package: str, setting: str, url: str, schemes: dict[str, str]) -> Any:
    """``schemes`` maps each accepted URL scheme to its module in ``package``."""
    scheme = urlsplit(url).scheme
    if scheme not in schemes:
        raise ValueError(f"{setting}: unknown scheme {scheme!r} (accepted: {', '.join(schemes)})")
    return importlib.import_module(f"{package}.{schemes[scheme]}").Backend(url)
