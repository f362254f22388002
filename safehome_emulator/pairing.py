"""The pairing window: open after a press of the hub's pairing button, for a while.

Each window has a fresh random 6-digit code (or the fixed development code), lasts
`pairing_window` seconds, and allows `pairing_attempts` attempts: each `pair/start` uses
one. It closes when time is up, after a successful pairing, or when the last attempt has
failed. A pending attempt (session) expires 30 s after its start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import hmac
import secrets
import time
from typing import Any

from .errors import ApiError
from .pake import HubPake

SESSION_TTL = 30.0


def closed_error() -> ApiError:
    """Return the answer to any pairing request outside a window."""
    return ApiError("pairing_closed", "press the pairing button on the hub")


def new_code() -> str:
    """Return a fresh random code of 6 digits."""
    return f"{secrets.randbelow(10**6):06d}"


@dataclass(frozen=True)
class PairingSession:
    """A started attempt, waiting for the client's confirmation."""

    id: str
    client_name: str
    pake: HubPake
    expires: float


class PairingWindow:
    """The hub's pairing window and its one pending attempt."""

    def __init__(
        self,
        duration: float,
        attempts: int,
        fixed_code: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the window (closed until `open`)."""
        self._duration = duration
        self._attempts = attempts
        self._fixed_code = fixed_code
        self.clock = clock
        self._code: str | None = None
        self._deadline = 0.0
        self._left = 0
        self._session: PairingSession | None = None
        self.generation = 0
        """Changes whenever a window opens or closes (an attempt in flight checks it)."""

    # --- state -----------------------------------------------------------------------

    def _tick(self) -> None:
        """Close a window whose time is up; end an expired attempt."""
        if self._code is None:
            return
        now = self.clock()
        if now >= self._deadline:
            self.close()
        elif self._session is not None and now >= self._session.expires:
            self._session = None
            self.fail()

    @property
    def is_open(self) -> bool:
        """Whether pairing is possible now."""
        self._tick()
        return self._code is not None

    @property
    def code(self) -> str | None:
        """The open window's code (None when closed)."""
        self._tick()
        return self._code

    @property
    def seconds_left(self) -> float:
        """Seconds until the window closes (0 when closed)."""
        self._tick()
        return max(0.0, self._deadline - self.clock()) if self._code is not None else 0.0

    @property
    def attempts_left(self) -> int:
        """Attempts that may still be started (0 when closed)."""
        self._tick()
        return self._left if self._code is not None else 0

    def status(self) -> dict[str, Any]:
        """Return the window as the control surface shows it."""
        return {
            "open": self.is_open,
            "code": self.code,
            "seconds_left": round(self.seconds_left, 1),
            "attempts_left": self.attempts_left,
        }

    # --- the button ------------------------------------------------------------------

    def open(self) -> str:
        """Open a new window (a pending attempt is forgotten); return its code."""
        self._code = self._fixed_code or new_code()
        self._deadline = self.clock() + self._duration
        self._left = self._attempts
        self._session = None
        self.generation += 1
        return self._code

    def close(self) -> None:
        """Close the window (and forget any pending attempt)."""
        if self._code is not None:
            self.generation += 1
        self._code = None
        self._session = None
        self._left = 0

    # --- attempts --------------------------------------------------------------------

    def begin_attempt(self) -> tuple[int, str]:
        """Use one attempt; return the window's generation and code.

        A pending attempt counts as failed. Raises `pairing_closed` outside a window or
        when no attempt is left.
        """
        if not self.is_open:
            raise closed_error()
        if self._session is not None:
            self._session = None
            self.fail()
        if self._code is None or self._left <= 0:
            self.close()
            raise closed_error()
        self._left -= 1
        return self.generation, self._code

    def fail(self) -> None:
        """Record a failed attempt: the window closes once none is left."""
        if self._left <= 0 and self._session is None:
            self.close()

    def pend(self, generation: int, session_id: str, client_name: str, pake: HubPake) -> None:
        """Keep a started attempt; raise `pairing_closed` if its window has gone."""
        if not self.is_open or generation != self.generation:
            raise closed_error()
        self._session = PairingSession(
            session_id, client_name, pake, min(self.clock() + SESSION_TTL, self._deadline)
        )

    def take(self, session_id: str) -> PairingSession | None:
        """End the pending attempt and return it if `session_id` names it; else None.

        A `finish` naming another session (a guess from someone who never saw the
        exchange, which travels inside TLS) leaves the pending attempt alone, so nobody
        on the network can cut a resident's pairing short. Raises `pairing_closed`
        outside a window.
        """
        if not self.is_open:
            raise closed_error()
        session = self._session
        if session is None or not hmac.compare_digest(session.id.encode(), session_id.encode()):
            return None
        self._session = None
        return session
