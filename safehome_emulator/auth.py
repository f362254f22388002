"""Bearer tokens and the pairing-attempt rate limit."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
import hmac
import math
import time

from .util import new_secret


class TokenStore:
    """The hub's paired clients: token -> client name. Tokens never expire."""

    def __init__(self) -> None:
        """Start with no tokens."""
        self._tokens: dict[str, str] = {}

    def issue(self, client_name: str) -> str:
        """Create and return a new token for a client."""
        token = new_secret()
        self._tokens[token] = client_name
        return token

    def client(self, token: str | None) -> str | None:
        """Return the client name of a valid token, or None."""
        if token is None:
            return None
        return self._tokens.get(token)

    def revoke_all(self) -> int:
        """Revoke every token; return how many there were."""
        count = len(self._tokens)
        self._tokens.clear()
        return count


def bearer_token(header: str | None) -> str | None:
    """Extract the token from an `Authorization: Bearer <token>` header."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def code_matches(given: str, expected: str) -> bool:
    """Compare pairing codes in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


class PairingGuard:
    """Refuse pairing once `max_failures` attempts failed within `window` seconds."""

    def __init__(
        self, max_failures: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Configure the limit."""
        self._max = max_failures
        self._window = window
        self._clock = clock
        self._failures: deque[float] = deque()

    def _prune(self, now: float) -> None:
        while self._failures and self._failures[0] <= now - self._window:
            self._failures.popleft()

    def retry_after(self) -> int | None:
        """Return the whole seconds until pairing is allowed again, or None if it is."""
        now = self._clock()
        self._prune(now)
        if len(self._failures) < self._max:
            return None
        reopens = self._failures[-self._max] + self._window
        return max(1, math.ceil(reopens - now))

    def record_failure(self) -> None:
        """Count one failed attempt."""
        now = self._clock()
        self._prune(now)
        self._failures.append(now)
