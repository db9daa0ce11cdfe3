"""Whitespace normalization shared by the parsers: NBSP, thin and zero-width spaces."""

from __future__ import annotations

import re

# Every space-like character a shop may put between digit groups or words becomes a plain space;
# zero-width characters and soft hyphens disappear.
_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")


def normalize_space(text: str) -> str:
    """Collapse all kinds of spaces to one ASCII space, drop invisible characters, strip the ends."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip()
