"""The code asked for before Home Assistant unlocks a door: stored hashed, rate-limited."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import hashlib
import hmac
import re
import secrets
import time
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

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

# Wrong codes allowed within WRONG_WINDOW seconds before unlocking is refused for LOCKOUT,
# doubled at each further lockout (up to MAX_LOCKOUT).
MAX_WRONG: Final = 3
WRONG_WINDOW: Final = 300.0
LOCKOUT: Final = 300.0
MAX_LOCKOUT: Final = 3600.0


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
    """Count wrong codes; after MAX_WRONG within WRONG_WINDOW s, refuse for a while.

    One guard per config entry, shared by all its locks (the code is the same), kept
    across reloads of the entry. Checks run one at a time (`lock`), so codes sent all at
    once are judged in turn and the lockout stops them as it would stop them one by one.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        """Start with no wrong codes."""
        self._monotonic = monotonic
        self._wrong: list[float] = []
        self._locked_until = 0.0
        self._lockouts = 0
        self.lock = asyncio.Lock()

    def retry_after(self) -> float | None:
        """Seconds until a code is accepted again, or None if it is now."""
        wait = self._locked_until - self._monotonic()
        return wait if wait > 0 else None

    def record_wrong(self) -> None:
        """Count a wrong code; start the lockout at the MAX_WRONG-th within the window."""
        now = self._monotonic()
        self._wrong = [t for t in self._wrong if now - t < WRONG_WINDOW] + [now]
        if len(self._wrong) >= MAX_WRONG:
            self._locked_until = now + min(LOCKOUT * 2**self._lockouts, MAX_LOCKOUT)
            self._lockouts += 1
            self._wrong.clear()

    def record_right(self) -> None:
        """Forget earlier wrong codes and lockouts."""
        self._wrong.clear()
        self._lockouts = 0


_GUARDS: HassKey[dict[str, WrongCodeGuard]] = HassKey("seoul_safehome_unlock_guards")


def entry_guard(hass: HomeAssistant, entry_id: str) -> WrongCodeGuard:
    """Return the wrong-code guard of a config entry (it outlives reloads of the entry)."""
    guards = hass.data.setdefault(_GUARDS, {})
    if (guard := guards.get(entry_id)) is None:
        guard = guards[entry_id] = WrongCodeGuard()
    return guard


async def async_check_code(
    hass: HomeAssistant, entry_id: str, stored: Mapping[str, Any], code: str
) -> bool | float:
    """Check a code under the entry's guard.

    Returns True (right), False (wrong, counted), or the seconds to wait while every code
    is refused after repeated wrong ones.
    """
    guard = entry_guard(hass, entry_id)
    async with guard.lock:
        if (wait := guard.retry_after()) is not None:
            return wait
        if await hass.async_add_executor_job(code_matches, stored, code):
            guard.record_right()
            return True
        guard.record_wrong()
        return False
