"""The emergency bell's keyword recognition."""

from __future__ import annotations

import re

# Canonical keyword -> pattern on the case-folded phrase (spacing between words is free).
KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("사람 살려", re.compile(r"사람\s*살려")),
    ("살려주세요", re.compile(r"살려\s*주세요")),
    ("도와주세요", re.compile(r"도와\s*주세요")),
    ("help me", re.compile(r"\bhelp\s+me\b")),
)


def recognise(phrase: str) -> str | None:
    """Return the canonical keyword heard in `phrase`, or None if it has none."""
    folded = phrase.casefold()
    for keyword, pattern in KEYWORDS:
        if pattern.search(folded):
            return keyword
    return None
