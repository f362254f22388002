"""Keep the control surface (no token, opens doors) to programs on the hub's own machine.

It listens on loopback by default. On top of that it refuses what a web page in a local
browser could send it: requests through a DNS name other than `localhost` or its own
(DNS rebinding) and cross-site requests (a form or fetch from another origin).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from .errors import ApiError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str) -> bool:
    """Return whether a bind address reaches this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_warning(host: str) -> str | None:
    """Return the warning to print when the control surface listens beyond loopback."""
    if is_loopback(host):
        return None
    return (
        f"WARNING: the control surface listens on {host}, not on loopback: anyone who can "
        "reach that address can open the door, raise alarms and pair a client, without a "
        "token. Use it only on a network you trust (default: 127.0.0.1)."
    )


def _hostname(authority: str) -> str:
    """Return the host part of a `Host` header value (an IPv6 literal unbracketed)."""
    return (urlsplit(f"//{authority}").hostname or "").lower()


def host_allowed(authority: str, bound_host: str) -> bool:
    """Accept IP literals, `localhost` and the configured host name; no other DNS name."""
    name = _hostname(authority)
    if not name:
        return False
    if name in ("localhost", bound_host.lower()):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def cross_site(request: web.Request) -> bool:
    """Return whether a browser sent this request from another origin."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    parts = urlsplit(origin)
    return parts.scheme != "http" or parts.netloc.lower() != request.host.lower()


def guard_middleware(bound_host: str) -> Any:
    """Refuse rebound host names (every method) and cross-site changes (403 `forbidden`)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not host_allowed(request.host, bound_host):
            raise ApiError("forbidden", "the control surface answers only to its own address")
        if request.method not in SAFE_METHODS and cross_site(request):
            raise ApiError("forbidden", "cross-site requests to the control surface are refused")
        return await handler(request)

    return middleware
