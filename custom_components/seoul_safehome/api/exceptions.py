"""Exceptions raised by the SafeHome client."""

from __future__ import annotations


class SafeHomeError(Exception):
    """Base class of every SafeHome client error."""

    def __init__(
        self, message: str = "", *, code: str | None = None, status: int | None = None
    ) -> None:
        """Store the hub's error code and HTTP status when there are any."""
        super().__init__(message or code or self.__class__.__name__)
        self.message = message
        self.code = code
        self.status = status


class SafeHomeConnectionError(SafeHomeError):
    """The hub cannot be reached, timed out, dropped the link or answered 5xx."""


class SafeHomeTlsError(SafeHomeConnectionError):
    """Something answers, but the TLS handshake failed (no SafeHome API 2 hub there)."""


class SafeHomeProtocolError(SafeHomeError):
    """The hub's answer does not follow the SafeHome Local API."""


class SafeHomeAuthenticationError(SafeHomeError):
    """The token or pairing code was refused (401), or there is no pinned certificate; pair again.

    For a refused pairing code (`code` "invalid_code"), `attempts_left` is how many more
    attempts the hub's pairing window allows (None when the hub did not say, or the code
    was refused by the client itself).
    """

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        status: int | None = None,
        attempts_left: int | None = None,
    ) -> None:
        """Store the hub's error code, HTTP status and remaining pairing attempts."""
        super().__init__(message, code=code, status=status)
        self.attempts_left = attempts_left


class SafeHomeIdentityError(SafeHomeAuthenticationError):
    """The hub is not the one paired with: a possible man in the middle; pair again.

    Its TLS certificate does not match the pinned fingerprint, or its pairing confirmation
    (or sealed answer) does not verify. Every path that stops on an authentication error
    stops on this one too.
    """


class SafeHomePairingClosedError(SafeHomeError):
    """The hub's pairing window is not open (403 `pairing_closed`): press its pairing button."""


class SafeHomeRateLimitedError(SafeHomeAuthenticationError):
    """Too many pairing attempts (429); try again after `retry_after` seconds."""

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float,
        code: str | None = "rate_limited",
        status: int | None = 429,
    ) -> None:
        """Store how long to wait before the next attempt."""
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class SafeHomeCommandError(SafeHomeError):
    """The hub refused a request (4xx, or 503 `offline`); see `code`."""
