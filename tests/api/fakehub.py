"""A scripted, misbehaving hub on loopback for the paths the emulator never takes.

The emulator follows the protocol; these tests need a server that breaks it (malformed
answers, missing welcomes, gaps, odd close codes, a pairing that does not verify). It is a
real aiohttp server on 127.0.0.1 serving HTTPS with a self-signed certificate of its own
(tests/api/tls.py), not an HTTP mock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
import json
import ssl
from typing import Any

import aiohttp
from aiohttp import web

from custom_components.seoul_safehome.api import SafeHomeClient

from .tls import Certificate, make_certificate

type WsScript = Callable[["FakeWs"], Awaitable[None]]

NOW = "2026-11-25T14:03:07.125Z"


def info(**extra: Any) -> dict[str, Any]:
    return {
        "id": "shub-fake",
        "name": "Fake hub",
        "model": "SH-FAKE",
        "manufacturer": "Test",
        "firmware": "0.0.1",
        "api_version": "2.0",
        **extra,
    }


def hub(**extra: Any) -> dict[str, Any]:
    return info(**{"away_mode": False, "boot_id": "b-1", "last_seq": 0, **extra})


def lock(**state: Any) -> dict[str, Any]:
    return {
        "id": "lock-1",
        "type": "door_lock",
        "name": "Lock",
        "manufacturer": "Test",
        "model": "L",
        "firmware": "1",
        "online": True,
        "battery": 50,
        "capabilities": ["lock", "unlock"],
        "state": {"lock_state": "locked", "door": "closed", "auto_lock_delay": 2.5, **state},
    }


def welcome(boot_id: str = "b-1", last_seq: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "type": "welcome",
        "hub_id": "shub-fake",
        "api_version": "2.0",
        "boot_id": boot_id,
        "last_seq": last_seq,
        "heartbeat_interval": 10,
        **extra,
    }


def event(seq: int, name: str = "doorbell_ring", **extra: Any) -> dict[str, Any]:
    return {
        "type": "event",
        "seq": seq,
        "time": NOW,
        "event": name,
        "device_id": "doorbell-1",
        "data": {},
        **extra,
    }


class FakeWs:
    """One event-stream connection as the script sees it."""

    def __init__(self, ws: web.WebSocketResponse, subscribe: dict[str, Any], index: int) -> None:
        self.ws = ws
        self.subscribe = subscribe
        self.index = index

    async def send(self, frame: Any) -> None:
        await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    async def hold(self) -> None:
        """Keep the link open until the client goes away."""
        async for _ in self.ws:
            pass

    async def close(self, code: int) -> None:
        await self.ws.close(code=code)


@dataclass(frozen=True)
class Seen:
    """A request that reached the hub's HTTP layer."""

    method: str
    path: str
    headers: dict[str, str]


class FakeHub:
    """REST answers set per path; event-stream connections run scripts in turn.

    Serves TLS with its own certificate (`fingerprint`); `swap_certificate()` makes new
    connections see another one. `seen` lists every request that got through TLS.
    """

    def __init__(self) -> None:
        self.certificate: Certificate = make_certificate()
        self.ssl_context: ssl.SSLContext = self.certificate.server_context()
        self.seen: list[Seen] = []
        self.rest: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] = {}
        self.scripts: list[WsScript] = []
        self.ws_status: list[int] = []  # refuse the upgrade with these statuses first
        self.ws_stalls = 0  # then leave this many upgrades unanswered
        self.subscribes: list[dict[str, Any]] = []
        self.received: list[str] = []
        self.connections = 0
        self.port = 0
        self.released = asyncio.Event()  # set at teardown: stalled handlers return

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the certificate the hub shows now."""
        return self.certificate.fingerprint

    def swap_certificate(self) -> None:
        """Show a new certificate on every connection from now on (open ones keep theirs)."""
        self.certificate = make_certificate()
        self.certificate.load_into(self.ssl_context)

    async def _stall(self) -> None:
        """Leave a request unanswered until the test is over."""
        await self.released.wait()

    def json(self, path: str, body: Any, status: int = 200, **headers: str) -> None:
        async def handler(_request: web.Request) -> web.Response:
            return web.Response(
                status=status,
                text=body if isinstance(body, str) else json.dumps(body),
                content_type="application/json",
                headers=headers,
            )

        self.rest[path] = handler

    def raw(
        self, path: str, body: bytes, status: int = 200, content_type: str = "text/plain"
    ) -> None:
        async def handler(_request: web.Request) -> web.Response:
            return web.Response(status=status, body=body, content_type=content_type)

        self.rest[path] = handler

    def stall(self, path: str) -> None:
        async def handler(_request: web.Request) -> web.Response:
            await self._stall()
            return web.Response()

        self.rest[path] = handler

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix("/api/v2")
        handler = self.rest.get(path)
        if handler is None:
            return web.Response(status=404)
        return await handler(request)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        index = self.connections
        self.connections += 1
        if self.ws_status:
            return web.Response(status=self.ws_status.pop(0))
        if self.ws_stalls:
            self.ws_stalls -= 1
            await self._stall()
            return web.Response(status=503)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        msg = await ws.receive()
        if msg.type is not web.WSMsgType.TEXT:
            return ws
        self.received.append(msg.data)
        subscribe = json.loads(msg.data)
        self.subscribes.append(subscribe)
        script = self.scripts[min(len(self.subscribes), len(self.scripts)) - 1]
        await script(FakeWs(ws, subscribe, index))
        if not ws.closed:
            await ws.close()
        return ws

    @web.middleware
    async def _record(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        self.seen.append(Seen(request.method, request.path, dict(request.headers)))
        return await handler(request)

    @property
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/api/v2/events", self._events)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        return app


@asynccontextmanager
async def running_fake_hub() -> AsyncIterator[FakeHub]:
    """Run a scripted hub on a free loopback port (HTTPS with its own certificate)."""
    fake = FakeHub()
    runner = web.AppRunner(fake.app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=fake.ssl_context)
    await site.start()
    fake.port = runner.addresses[0][1]
    try:
        yield fake
    finally:
        fake.released.set()
        await runner.cleanup()


def pinned_client(
    fake: FakeHub, session: aiohttp.ClientSession, request_timeout: float
) -> SafeHomeClient:
    """A client paired with the scripted hub: its token, its certificate pinned."""
    return SafeHomeClient(
        "127.0.0.1",
        fake.port,
        session,
        token="t" * 40,
        fingerprint=fake.fingerprint,
        request_timeout=request_timeout,
    )
