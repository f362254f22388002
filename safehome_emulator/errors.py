"""The API's error type: an HTTP status, a stable code and an English message."""

from __future__ import annotations

from typing import Any

STATUS_CODES: dict[str, int] = {
    "bad_request": 400,
    "invalid_params": 400,
    "unknown_command": 400,
    "unsupported": 400,
    "unauthorized": 401,
    "invalid_code": 401,
    "pairing_closed": 403,
    "forbidden": 403,
    "not_found": 404,
    "door_open": 409,
    "window_open": 409,
    "jammed": 409,
    "busy": 409,
    "camera_off": 409,
    "payload_too_large": 413,
    "rate_limited": 429,
    "internal": 500,
    "offline": 503,
}


class ApiError(Exception):
    """A failure the hub reports to its client as an `Error` body."""

    def __init__(self, code: str, message: str, *, status: int | None = None, **extra: Any) -> None:
        """Describe an error by its code (the status follows from it unless given)."""
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else STATUS_CODES[code]
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """Return the `Error` body."""
        return error_body(self.code, self.message, **self.extra)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """Build an `Error` body."""
    return {"error": {"code": code, "message": message, **extra}}
