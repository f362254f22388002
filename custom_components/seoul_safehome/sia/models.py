"""What a DC-09 message carries: the link's identity, the event, the receiver's reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
import re
from typing import Literal

ReplyKind = Literal["ACK", "NAK", "DUH"]

SEQUENCE_MIN = 1
SEQUENCE_MAX = 9999
ZONE_MAX = 9999
TEXT_MAX = 64
KEY_SIZES = (16, 24, 32)  # AES-128, AES-192, AES-256

_ACCOUNT = re.compile(r"[0-9A-F]{3,16}")
_FIELD = re.compile(r"[0-9A-F]{1,6}")
_CODE = re.compile(r"[A-Z]{2}")
# Printable ASCII except the characters that delimit DC-09 fields and blocks.
_TEXT = re.compile(r"[\x20-\x7e]+")
_TEXT_FORBIDDEN = frozenset("[]|^")


def next_sequence(seq: int) -> int:
    """Return the sequence number after `seq`: 1, 2, ... 9999, then 1 again."""
    return seq + 1 if SEQUENCE_MIN <= seq < SEQUENCE_MAX else SEQUENCE_MIN


def _prefixed(value: str | int | None, letter: str) -> str | None:
    """Normalise a receiver ("R") or line ("L") field: 3 -> "R3", "r1a" -> "R1A"."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"{letter} field must be a number or a string")
    text = str(value).upper()
    if text.startswith(letter):
        text = text[1:]
    if not _FIELD.fullmatch(text):
        raise ValueError(f"{letter} field must be 1 to 6 hexadecimal digits, got {value!r}")
    return letter + text


@dataclass(frozen=True, slots=True)
class SiaLink:
    """Who sends: the account at the receiver, the R/L fields and the optional AES key.

    `account` is 3-16 hexadecimal characters (stored upper-case). `receiver` and `line`
    are the DC-09 "R" and "L" fields, given as "R0"/"L0" or as numbers (0 -> "R0");
    `receiver=None` leaves the optional R field out. `key` is 16, 24 or 32 bytes
    (AES-128/192/256); None sends unencrypted. The key never appears in repr().
    """

    account: str
    receiver: str | None = "R0"
    line: str = "L0"
    key: bytes | None = field(default=None, repr=False)

    def __init__(
        self,
        account: str,
        receiver: str | int | None = "R0",
        line: str | int = "L0",
        key: bytes | None = None,
    ) -> None:
        """Validate and normalise every field (ValueError/TypeError when invalid)."""
        if not isinstance(account, str) or not _ACCOUNT.fullmatch(account.upper()):
            raise ValueError("account must be 3 to 16 hexadecimal characters")
        if key is not None:
            if not isinstance(key, bytes):
                raise TypeError("key must be bytes")
            if len(key) not in KEY_SIZES:
                raise ValueError("key must be 16, 24 or 32 bytes (AES-128, -192 or -256)")
        line_field = _prefixed(line, "L")
        if line_field is None:
            raise ValueError("the L field is required")
        object.__setattr__(self, "account", account.upper())
        object.__setattr__(self, "receiver", _prefixed(receiver, "R"))
        object.__setattr__(self, "line", line_field)
        object.__setattr__(self, "key", key)

    @property
    def encrypted(self) -> bool:
        """Whether messages on this link are AES-encrypted."""
        return self.key is not None


@dataclass(frozen=True, slots=True)
class SiaEvent:
    """One event to report: SIA event code, zone (point) number and optional text.

    `code` is two upper-case letters (see KNOWN_CODES); `zone` 0-9999 is the address
    that follows the code; `text` (1-64 printable ASCII characters, none of `[ ] | ^`)
    goes in an ASCII ("A") block.
    """

    code: str
    zone: int = 0
    text: str | None = None

    def __post_init__(self) -> None:
        """Validate every field (ValueError when invalid)."""
        if not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            raise ValueError("code must be two upper-case letters, e.g. 'BA'")
        if isinstance(self.zone, bool) or not isinstance(self.zone, int):
            raise ValueError("zone must be an integer")
        if not 0 <= self.zone <= ZONE_MAX:
            raise ValueError(f"zone must be 0 to {ZONE_MAX}")
        if self.text is not None and (
            not isinstance(self.text, str)
            or not _TEXT.fullmatch(self.text)
            or len(self.text) > TEXT_MAX
            or _TEXT_FORBIDDEN.intersection(self.text)
        ):
            raise ValueError(
                f"text must be 1 to {TEXT_MAX} printable ASCII characters without [ ] | ^"
            )


@dataclass(frozen=True, slots=True)
class SiaReply:
    """A receiver's answer.

    `seq` is the sequence number it acknowledges (None for a NAK, which DC-09 sends with
    0000, or for a bare answer); `account` the account it names; `timestamp` the time
    it carried (UTC), if any; `encrypted` whether it came encrypted ("*ACK").
    """

    kind: ReplyKind
    seq: int | None
    account: str | None = None
    timestamp: datetime | None = None
    encrypted: bool = False
