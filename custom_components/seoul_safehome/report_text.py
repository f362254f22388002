"""Make a report's free text (often a Korean address) something SIA DC-09 can carry.

DC-09 text is printable ASCII, without the characters that delimit its blocks, and at most
64 characters. An alarm must never be held back by its text, so instead of refusing it:
Hangul is romanized syllable by syllable (Revised Romanization letters, without the
sound-change rules: 마포구 → mapogu, 301호 → 301ho), accents are dropped, `[ ] | ^` become
`( ) / -`, anything else is left out, and the result is cut to 64 characters.
"""

from __future__ import annotations

from typing import Final
import unicodedata

TEXT_MAX: Final = 64

_INITIALS: Final = (
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p",
    "h",
)  # fmt: skip
_VOWELS: Final = (
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we",
    "wi", "yu", "eu", "ui", "i",
)  # fmt: skip
_FINALS: Final = (
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p",
    "t", "t", "ng", "t", "t", "k", "t", "p", "t",
)  # fmt: skip
_HANGUL_FIRST: Final = 0xAC00
_HANGUL_LAST: Final = 0xD7A3
_DELIMITERS: Final = str.maketrans({"[": "(", "]": ")", "|": "/", "^": "-"})


def _romanize(char: str) -> str:
    """Return a Hangul syllable in Latin letters (other characters unchanged)."""
    index = ord(char) - _HANGUL_FIRST
    if not 0 <= index <= _HANGUL_LAST - _HANGUL_FIRST:
        return char
    initial, rest = divmod(index, len(_VOWELS) * len(_FINALS))
    vowel, final = divmod(rest, len(_FINALS))
    return _INITIALS[initial] + _VOWELS[vowel] + _FINALS[final]


def carriable_text(text: str | None) -> str | None:
    """Return `text` as DC-09 can carry it (None when nothing is left)."""
    if not text:
        return None
    romanized = "".join(_romanize(char) for char in text)
    ascii_only = unicodedata.normalize("NFKD", romanized).encode("ascii", "ignore").decode("ascii")
    printable = "".join(char if char.isprintable() else " " for char in ascii_only)
    carried = " ".join(printable.translate(_DELIMITERS).split())[:TEXT_MAX].strip()
    return carried or None
