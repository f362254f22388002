"""Small helpers shared by the emulator's modules: timestamps, ids and JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import re
import secrets
from typing import Any

ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
API_VERSION_RE = re.compile(r"^\d+\.\d+$")


class HubClock:
    """The hub's wall clock: the real one, or set wrong on purpose (a hub without NTP)."""

    skew = timedelta(0)


def utc_now_iso() -> str:
    """Return the hub's current UTC time as an ISO 8601 string with milliseconds and a `Z`."""
    now = datetime.now(UTC) + HubClock.skew
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_boot_id(previous: str | None = None) -> str:
    """Return a fresh boot id (`b-` and 6 hex digits), different from `previous`."""
    while True:
        boot_id = f"b-{secrets.token_hex(3)}"
        if boot_id != previous:
            return boot_id


def new_secret() -> str:
    """Return an opaque, URL-safe random secret of 43 characters."""
    return secrets.token_urlsafe(32)


def new_session_id() -> str:
    """Return an opaque pairing session id: 32 characters from [A-Za-z0-9_-]."""
    return secrets.token_urlsafe(24)


def is_valid_id(value: object) -> bool:
    """Return whether `value` is a valid hub or device identifier."""
    return isinstance(value, str) and ID_RE.match(value) is not None


def dumps(message: Any) -> str:
    """Encode a message as compact UTF-8 JSON text."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    """Decode strict JSON (no NaN or Infinity); raise ValueError on bad input."""
    return json.loads(text, parse_constant=_reject_constant)
