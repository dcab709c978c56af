"""The calendar module's public face: what other modules may use (mail's webmail
autocompleting from address books, the shell's agenda). Only the names in ``__all__``;
plain frozen dataclasses, never a table's rows (tests/core/test_layering.py)."""

from hexagone.calendar.service.collections import CollectionInfo
from hexagone.calendar.service.objects import ObjectInfo

__all__ = ["CollectionInfo", "ObjectInfo"]
