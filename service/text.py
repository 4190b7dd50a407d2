"""Cleaning free text typed by people, one way for every room."""

from __future__ import annotations

import re

from service.errors import DomainError

# Control characters (NUL above all: PostgreSQL refuses it in text) are never meaningful in
# what people type; newlines and tabs are kept only where text may span lines.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LINE_BREAKS = re.compile(r"[\t\n\r]")


def plain_text(
    raw: str | None, *, field: str, limit: int | None = None, multiline: bool = False
) -> str:
    """Trimmed text without control characters; single-line text has its spaces folded."""
    text = raw or ""
    if CONTROL.search(text) or (not multiline and LINE_BREAKS.search(text.strip())):
        raise DomainError(
            "validation_error", "Remove the special characters and try again.", field=field
        )
    text = text.strip() if multiline else " ".join(text.split())
    if limit is not None and len(text) > limit:
        raise DomainError(
            "validation_error",
            "Keep this to %(limit)s characters or fewer.",
            field=field,
            limit=limit,
        )
    return text
