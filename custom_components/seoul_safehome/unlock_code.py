"""The code asked for before Home Assistant unlocks a door: stored hashed, rate-limited."""

from __future__ import annotations

from collections.abc import Callable, Mapping
import hashlib
import hmac
import re
import secrets
import time
from typing import Any, Final

# What a code may look like: 4-8 digits, as on the lock's own keypad.
CODE_RE: Final = re.compile(r"^\d{4,8}$")
# The lock entity's code_format: such a code, or none at all. Home Assistant checks it for
# every lock action, and locking (an automation locking the door) never needs a code.
LOCK_CODE_FORMAT: Final = r"^(\d{4,8})?$"

# scrypt (RFC 7914) from hashlib: ~16 MiB and tens of milliseconds per guess.
_SCRYPT_N: Final = 2**14
_SCRYPT_R: Final = 8
_SCRYPT_P: Final = 1
_SALT_BYTES: Final = 16

# Wrong codes allowed within WRONG_WINDOW seconds before unlocking is refused for LOCKOUT.
MAX_WRONG: Final = 3
WRONG_WINDOW: Final = 300.0
LOCKOUT: Final = 300.0


def _derive(code: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(code.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024)


def hash_code(code: str) -> dict[str, Any]:
    """Return what the options store for a code: salt, scrypt parameters and hash."""
    salt = secrets.token_bytes(_SALT_BYTES)
    return {
        "scheme": "scrypt",
        "n": _SCRYPT_N,
        "r": _SCRYPT_R,
        "p": _SCRYPT_P,
        "salt": salt.hex(),
        "hash": _derive(code, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P).hex(),
    }


def code_matches(stored: Mapping[str, Any], code: str) -> bool:
    """Whether `code` is the stored one (constant-time; a malformed code never matches)."""
    if not CODE_RE.match(code):
        return False
    try:
        derived = _derive(
            code,
            bytes.fromhex(stored["salt"]),
            int(stored["n"]),
            int(stored["r"]),
            int(stored["p"]),
        )
        expected = bytes.fromhex(stored["hash"])
    except (KeyError, TypeError, ValueError):
        return False
    return hmac.compare_digest(derived, expected)


class WrongCodeGuard:
    """Count wrong codes; after MAX_WRONG within WRONG_WINDOW s, refuse for LOCKOUT s."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        """Start with no wrong codes."""
        self._monotonic = monotonic
        self._wrong: list[float] = []
        self._locked_until = 0.0

    def retry_after(self) -> float | None:
        """Seconds until a code is accepted again, or None if it is now."""
        wait = self._locked_until - self._monotonic()
        return wait if wait > 0 else None

    def record_wrong(self) -> None:
        """Count a wrong code; start the lockout at the MAX_WRONG-th within the window."""
        now = self._monotonic()
        self._wrong = [t for t in self._wrong if now - t < WRONG_WINDOW] + [now]
        if len(self._wrong) >= MAX_WRONG:
            self._locked_until = now + LOCKOUT
            self._wrong.clear()

    def record_right(self) -> None:
        """Forget earlier wrong codes."""
        self._wrong.clear()
