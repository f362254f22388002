"""The push half of the API: the WebSocket event stream (`wss://…/api/v2/events`).

Each connection has a queue of encoded frames and one sender task. Events are encoded
once by the hub and the same text is queued on every subscribed connection; the
subscribe handshake (welcome, replay or resync, joining the live stream) happens
without awaiting, so no event can fall between the replay and the live stream.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Coroutine
import contextlib
import logging
from typing import Any

from aiohttp import WSMsgType, web

from .api import API, authorize
from .errors import ApiError
from .hub import Hub
from .util import dumps, loads, utc_now_iso

_LOGGER = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024
# Frames up to this size are read and answered with an error; larger ones close the link.
MAX_READ_FRAME = 1024 * 1024
CLOSE_TIMEOUT = 2.0
GARBAGE_KINDS = (
    "not_json",
    "unknown_type",
    "unknown_event",
    "missing_fields",
    "oversized",
    "binary",
    "truncated",
    "duplicate",
    "out_of_order",
    "skipped_seq",
)
# `out_of_order` re-sends the event this many places before the newest one.
OUT_OF_ORDER_DISTANCE = 8


class Connection:
    """One client's event stream: an outgoing queue and the task that drains it."""

    def __init__(
        self,
        streams: EventStreams,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport | None,
    ) -> None:
        """Wrap an open WebSocket."""
        self._streams = streams
        self._hub = streams.hub
        self.ws = ws
        self._transport = transport
        # Frames as sent; a dict is a message stamped with the hub's clock when it is sent.
        self._pending: deque[str | bytes | dict[str, Any]] = deque()
        self._wake = asyncio.Event()
        self._next_heartbeat: float | None = None
        self._limit = max(2 * self._hub.config.replay_buffer, 4096)
        self.subscribed = False
        # Going down (a restart): send what is queued, then drop the connection (at the
        # latest when the timer fires).
        self._ending = False
        self._end_timer: asyncio.TimerHandle | None = None

    # --- queueing (synchronous) -----------------------------------------------------

    def push(self, frame: str | bytes | dict[str, Any]) -> None:
        """Queue one frame; a client that falls too far behind is dropped."""
        if len(self._pending) >= self._limit:
            _LOGGER.warning("event stream client too slow; dropping it")
            self.abort()
            return
        self._pending.append(frame)
        self._wake.set()

    def send(self, message: dict[str, Any]) -> None:
        """Queue one message."""
        self.push(dumps(message))

    def send_clocked(self, message: dict[str, Any]) -> None:
        """Queue one message whose `time` is the hub's clock when it leaves (not now)."""
        self.push(message)

    def error(self, message: str) -> None:
        """Queue a `StreamError` (the connection stays open)."""
        self.send({"type": "error", "code": "bad_request", "message": message})

    def start_heartbeat(self) -> None:
        """Send heartbeats from now on."""
        loop = asyncio.get_running_loop()
        self._next_heartbeat = loop.time() + self._hub.config.heartbeat
        self._wake.set()

    # --- sending ---------------------------------------------------------------------

    async def run_sender(self) -> None:
        """Send queued frames and heartbeats until the connection ends."""
        try:
            await self._send_loop()
        except (ConnectionError, RuntimeError) as err:
            _LOGGER.debug("event stream send failed: %s", err)
            self.abort()

    async def _send_loop(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self._hub.config.heartbeat
        while not self.ws.closed:
            if self._ending and not self._pending:
                self.abort()
                return
            if not self._pending:
                self._wake.clear()
                timeout = None
                if self._next_heartbeat is not None:
                    timeout = max(0.0, self._next_heartbeat - loop.time())
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
            await self._streams.wait_unpaused()
            if self._next_heartbeat is not None and loop.time() >= self._next_heartbeat:
                self._next_heartbeat = loop.time() + interval
                self.send({"type": "heartbeat", "last_seq": self._hub.seq, "time": utc_now_iso()})
            while self._pending and not self.ws.closed:
                frame = self._pending.popleft()
                if isinstance(frame, dict):
                    frame = dumps({**frame, "time": utc_now_iso()})
                if isinstance(frame, bytes):
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(frame)
                if self._streams.paused:
                    await self._streams.wait_unpaused()

    # --- ending ----------------------------------------------------------------------

    def end_after_sending(self) -> None:
        """Send what is queued (events already numbered), then drop the connection.

        A hub that restarts does not lose the events it numbered just before: they leave
        first. Nothing new is queued; a link that cannot take them is dropped anyway.
        """
        self._hub.subscribers.discard(self)
        self._ending = True
        self._next_heartbeat = None
        self._wake.set()
        self._end_timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self.abort)

    def abort(self) -> None:
        """Drop the connection abruptly, without a close frame."""
        self.forget()
        if self._transport is not None:
            self._transport.abort()
        self._hub.subscribers.discard(self)

    def forget(self) -> None:
        """Cancel the connection's timer: it must not outlive the connection."""
        if self._end_timer is not None:
            self._end_timer.cancel()
            self._end_timer = None

    async def close(self, code: int, message: bytes) -> None:
        """Close the connection with a close frame (abort if the client does not answer)."""
        self._hub.subscribers.discard(self)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.ws.close(code=code, message=message)
        except (TimeoutError, ConnectionError, RuntimeError):
            self.abort()


class EventStreams:
    """Every open event stream, and the faults the control surface injects into them."""

    def __init__(self, hub: Hub) -> None:
        """Serve one hub's events."""
        self.hub = hub
        self.connections: set[Connection] = set()
        self._unpaused = asyncio.Event()
        self._unpaused.set()
        self._pause_handle: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def routes(self) -> list[web.AbstractRouteDef]:
        """Return the route table."""
        return [web.get(f"{API}/events", self.handle)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Authenticate, upgrade to a WebSocket and serve the stream."""
        authorize(self.hub, request)
        ws = web.WebSocketResponse(max_msg_size=MAX_READ_FRAME, timeout=CLOSE_TIMEOUT)
        if not ws.can_prepare(request).ok:
            raise ApiError("bad_request", "this endpoint needs a WebSocket upgrade")
        transport = request.transport
        await ws.prepare(request)
        conn = Connection(self, ws, transport)
        self.connections.add(conn)
        sender = asyncio.create_task(conn.run_sender(), name="safehome event sender")
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self._on_text(conn, msg.data)
                elif msg.type is WSMsgType.BINARY:
                    conn.error("binary frames are not supported; send JSON text")
                else:  # an error; the connection is unusable
                    break
        finally:
            self.connections.discard(conn)
            self.hub.subscribers.discard(conn)
            conn.forget()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        return ws

    def _on_text(self, conn: Connection, data: str) -> None:
        if len(data) > MAX_FRAME:
            conn.error("frame larger than 64 KiB")
            return
        try:
            message = loads(data)
        except ValueError:
            conn.error("frame is not valid JSON")
            return
        if not isinstance(message, dict):
            conn.error("frame must be a JSON object")
            return
        kind = message.get("type")
        if kind == "ping":
            conn.send({"type": "pong"})
        elif kind == "subscribe":
            self._subscribe(conn, message)
        else:
            conn.error(f"unknown message type {kind!r}")

    def _subscribe(self, conn: Connection, message: dict[str, Any]) -> None:
        """Welcome, then replay or resync, then live events: all without awaiting."""
        if conn.subscribed:
            conn.error("already subscribed")
            return
        boot_id = message.get("boot_id")
        since = message.get("since")
        if boot_id is not None and (not isinstance(boot_id, str) or not 1 <= len(boot_id) <= 64):
            conn.error("'boot_id' must be a string of 1-64 characters or null")
            return
        if since is not None and (
            not isinstance(since, int) or isinstance(since, bool) or since < 0
        ):
            conn.error("'since' must be a non-negative integer or null")
            return
        hub = self.hub
        conn.send_clocked(
            {
                "type": "welcome",
                "hub_id": hub.config.hub_id,
                "api_version": hub.config.api_version,
                "boot_id": hub.boot_id,
                "last_seq": hub.seq,
                "heartbeat_interval": hub.config.heartbeat,
            }
        )
        if since is not None:
            events, reason = hub.replay(boot_id, since)
            if reason is not None:
                # The events sent after the resync follow its `last_seq`.
                after = hub.seq - len(events)
                conn.send({"type": "resync", "reason": reason, "last_seq": after})
            for text in events:
                conn.push(text)
        hub.subscribers.add(conn)
        conn.subscribed = True
        conn.start_heartbeat()

    # --- pause -----------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """Whether every stream is paused now."""
        return not self._unpaused.is_set()

    def pause(self, seconds: float) -> None:
        """Send nothing at all (not even heartbeats) on any stream for `seconds`."""
        self.resume()
        self._unpaused.clear()
        self._pause_handle = asyncio.get_running_loop().call_later(seconds, self.resume)

    def resume(self) -> None:
        """End a pause."""
        if self._pause_handle is not None:
            self._pause_handle.cancel()
            self._pause_handle = None
        self._unpaused.set()

    async def wait_unpaused(self) -> None:
        """Return once the streams are not paused."""
        await self._unpaused.wait()

    # --- faults ----------------------------------------------------------------------

    def drop_all(self) -> int:
        """Drop every stream abruptly; return how many there were."""
        connections = tuple(self.connections)
        for conn in connections:
            conn.abort()
        return len(connections)

    def end_all(self) -> int:
        """End every stream after sending what is queued; return how many there were."""
        connections = tuple(self.connections)
        for conn in connections:
            conn.end_after_sending()
        return len(connections)

    def close_all(self, code: int, message: bytes) -> int:
        """Start closing every stream with a close code; return how many there were."""
        connections = tuple(self.connections)
        for conn in connections:
            self._spawn(conn.close(code, message))
        return len(connections)

    def garbage(self, kind: str, count: int = 1) -> tuple[int, int]:
        """Send `count` malformed frames of a kind on every stream.

        Return how many streams there were and how many frames were queued in all.
        """
        if kind == "unknown_event":
            # Real events from a newer hub: numbered and buffered like any other.
            streams = len(self.hub.subscribers)
            for _ in range(count):
                self.hub.emit("x_future_event", None, {"note": "an event type from the future"})
            return streams, streams * count
        frame = self._garbage_frame(kind)
        connections = tuple(self.connections)
        if frame is None:
            return len(connections), 0
        for conn in connections:
            for _ in range(count):
                conn.push(frame)
        return len(connections), len(connections) * count

    def _garbage_frame(self, kind: str) -> str | bytes | None:
        """Return one frame of a kind (None: no event to repeat yet)."""
        buffer = self.hub.buffer
        if kind in ("duplicate", "out_of_order"):
            # An event every stream has had already (a client must drop it).
            if not buffer:
                return None
            if kind == "duplicate":
                return buffer[-1][1]
            return buffer[-min(len(buffer), OUT_OF_ORDER_DISTANCE + 1)][1]
        if kind == "skipped_seq":
            # A well-formed event numbered as if one had been lost before it (a faulty hub,
            # or a corrupted frame): the client sees a gap and must reload.
            return dumps(
                {
                    "type": "event",
                    "seq": self.hub.seq + 2,
                    "time": utc_now_iso(),
                    "event": "x_skipped_seq",
                    "device_id": None,
                    "data": {},
                }
            )
        if kind == "truncated":
            text = buffer[-1][1] if buffer else dumps({"type": "event", "seq": 1, "data": {}})
            return text[: len(text) // 2]
        frames: dict[str, str | bytes] = {
            "not_json": '{"type": "event", this is not JSON',
            "unknown_type": dumps({"type": "x_future_message", "data": {"a": 1}}),
            "missing_fields": dumps({"type": "event", "event": "device_updated"}),
            "oversized": dumps({"type": "x_oversized", "padding": "x" * (MAX_FRAME + 4096)}),
            "binary": b"\x00\xffSafeHome garbage\x00",
        }
        return frames[kind]

    # --- life cycle ------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Close every stream (1001 going away) and wait for the closing to finish."""
        self.resume()
        self.close_all(1001, b"hub stopping")
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
