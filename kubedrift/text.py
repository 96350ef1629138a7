"""The one way kubedrift shortens text for a field with a size limit."""

from __future__ import annotations

ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters; a cut is marked, so a reader knows there was more."""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS
