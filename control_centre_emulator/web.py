"""The centre's web page and JSON API (aiohttp, plain HTTP, loopback by default).

- `GET /`: the page (page.py), which polls `/reports` and shows each report live;
- `GET /reports`: `{"state": {...}, "reports": [...]}` (Report.to_json, oldest first);
- `DELETE /reports`: forget them; `GET /state`: settings and switches;
- `POST /switches` with JSON `{"refuse": bool, "mute": bool, "up": bool}` (any of them).

No token, as a development tool. Two checks keep a web page in a local browser from
using it: the Host header must be an IP address or `localhost` (no DNS rebinding), and a
request that changes something must be same-origin JSON (no cross-site form or fetch).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import ipaddress
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from .page import PAGE

if TYPE_CHECKING:
    from .centre import ControlCentre

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CENTRE: web.AppKey[ControlCentre] = web.AppKey("centre")
SAFE_METHODS = frozenset({"GET", "HEAD"})
SWITCHES = ("refuse", "mute", "up")


def _host_allowed(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost":
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _forbidden(message: str) -> web.Response:
    return web.json_response({"error": message}, status=403)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse DNS-rebound and cross-site requests."""
    if not _host_allowed(request.host):
        return _forbidden("use an IP address or localhost")
    if request.method not in SAFE_METHODS:
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            return _forbidden("cross-site request")
        if request.method == "POST" and request.content_type != "application/json":
            return _forbidden("send JSON")
    return await handler(request)


async def page(_request: web.Request) -> web.Response:
    """Serve the page."""
    return web.Response(text=PAGE, content_type="text/html", charset="utf-8")


async def get_reports(request: web.Request) -> web.Response:
    """List the reports with the centre's state."""
    centre = request.app[CENTRE]
    return web.json_response(
        {"state": centre.state(), "reports": [r.to_json() for r in centre.reports]}
    )


async def delete_reports(request: web.Request) -> web.Response:
    """Forget every report."""
    request.app[CENTRE].clear()
    return web.json_response({"ok": True})


async def get_state(request: web.Request) -> web.Response:
    """Answer the centre's settings and switches."""
    return web.json_response(request.app[CENTRE].state())


async def post_switches(request: web.Request) -> web.Response:
    """Flip the switches given (refuse, mute, up); answer the new state."""
    centre = request.app[CENTRE]
    try:
        body: Any = await request.json()
    except json.JSONDecodeError:
        body = None
    if (
        not isinstance(body, dict)
        or not set(body) <= set(SWITCHES)
        or not all(isinstance(v, bool) for v in body.values())
    ):
        return web.json_response(
            {"error": "send an object of booleans: refuse, mute, up"}, status=400
        )
    if "refuse" in body:
        centre.refuse = body["refuse"]
    if "mute" in body:
        centre.mute = body["mute"]
    if body.get("up") is True:
        await centre.go_up()
    elif body.get("up") is False:
        await centre.go_down()
    return web.json_response(centre.state())


def build_app(centre: ControlCentre) -> web.Application:
    """Return the page's aiohttp application for `centre`."""
    app = web.Application(middlewares=[guard])
    app[CENTRE] = centre
    app.add_routes(
        [
            web.get("/", page),
            web.get("/reports", get_reports),
            web.delete("/reports", delete_reports),
            web.get("/state", get_state),
            web.post("/switches", post_switches),
        ]
    )
    return app
