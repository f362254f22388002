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


class SafeHomeProtocolError(SafeHomeError):
    """The hub's answer does not follow the SafeHome Local API."""


class SafeHomeAuthenticationError(SafeHomeError):
    """The token or pairing code was refused (401); pair again."""


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
