"""The SafeHome event stream: a self-healing WebSocket subscription (docs/protocol.md §7)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import inspect
import json
import logging
import random
import time
from typing import TYPE_CHECKING, Any, TypeIs

import aiohttp

from .const import (
    CLOSE_CODE_UNAUTHORIZED,
    DEFAULT_BACKOFF_JITTER,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_BACKOFF_MIN,
    ERROR_UNAUTHORIZED,
    FAST_RETRY_MAX,
    FAST_RETRY_WINDOW,
    MAX_FRAME_SIZE,
    QUICK_RETRY_MAX,
    QUICK_RETRY_WINDOW,
    WATCHDOG_FACTOR,
    WATCHDOG_GRACE,
    WS_MAX_MESSAGE_SIZE,
)
from .exceptions import (
    SafeHomeAuthenticationError,
    SafeHomeConnectionError,
    SafeHomeError,
    SafeHomeProtocolError,
)
from .models import Event, log_unknown_once, parse_timestamp

if TYPE_CHECKING:
    from .client import SafeHomeClient

_LOGGER = logging.getLogger(__package__)

type EventCallback = Callable[[Event], Awaitable[None] | None]
type ConnectedCallback = Callable[[bool], None]
type DisconnectedCallback = Callable[[Exception | None], None]
type ResyncCallback = Callable[[], Awaitable[None]]

_CLEAN_CLOSE_CODES = frozenset({aiohttp.WSCloseCode.OK, aiohttp.WSCloseCode.GOING_AWAY})
_CLOSE_TYPES = frozenset(
    {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED}
)


class _ResyncFailedError(SafeHomeConnectionError):
    """`on_resync` failed: drop the link and resume from the old position (the hub resyncs)."""


def _is_seq(value: object) -> TypeIs[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class SafeHomeEventStream:
    """Keep a subscription to the hub's events: resume, dedupe, resync, watchdog, backoff.

    `await run()` follows the hub until cancelled (its owner, e.g. a config entry's
    background task, cancels it); `start()`/`stop()` run it in a task of the stream's own for
    standalone use. Callbacks run in the running task, one frame at a time and in order:
    `on_event(event)` for every new event (no duplicates), `on_connected(resumed)` once the link
    is welcomed *and in sync* (the replay is applied or the resync's reload succeeded; `resumed`
    is True when the hub kept the same boot and replayed), `on_disconnected(error)` when an
    in-sync link goes down (None for a clean close by the hub) and once for an authentication
    failure, after which the stream stops. `await on_resync()` must reload the hub and devices
    by REST and raise if it could not; it runs before any later frame is processed, and a
    failure keeps the old position and retries on a new link. Cancelling does not call
    `on_disconnected`.

    The link is `wss://` pinned to the client's certificate fingerprint: a hub showing
    another certificate ends the stream like a refused token, with a SafeHomeIdentityError
    (a subclass of SafeHomeAuthenticationError) and no retry.
    """

    def __init__(
        self,
        client: SafeHomeClient,
        on_event: EventCallback,
        on_connected: ConnectedCallback | None = None,
        on_disconnected: DisconnectedCallback | None = None,
        on_resync: ResyncCallback | None = None,
        backoff_min: float = DEFAULT_BACKOFF_MIN,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        *,
        backoff_jitter: float = DEFAULT_BACKOFF_JITTER,
        fast_retry_window: float = FAST_RETRY_WINDOW,
        fast_retry_max: float = FAST_RETRY_MAX,
        watchdog_factor: float = WATCHDOG_FACTOR,
        watchdog_grace: float = WATCHDOG_GRACE,
        watchdog_timeout: float | None = None,
        handshake_timeout: float | None = None,
        close_timeout: float = 1.0,
        quick_retry_window: float = QUICK_RETRY_WINDOW,
        quick_retry_max: float = QUICK_RETRY_MAX,
        uniform: Callable[[float, float], float] = random.uniform,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the stream; `watchdog_timeout` overrides `factor × interval + grace`.

        Retries come every `quick_retry_max` s for the first `quick_retry_window` s of an
        outage, then at most every `fast_retry_max` s until `fast_retry_window`, then with
        capped exponential backoff; `uniform` (the jitter) and `monotonic` are injectable.
        """
        self._client = client
        self._on_event = on_event
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._on_resync = on_resync
        self._backoff_min = backoff_min
        self._backoff_max = max(backoff_min, backoff_max)
        self._backoff_jitter = backoff_jitter
        self._fast_retry_window = fast_retry_window
        self._fast_retry_max = fast_retry_max
        self._quick_retry_window = min(quick_retry_window, fast_retry_window)
        self._quick_retry_max = quick_retry_max
        self._uniform = uniform
        self._monotonic = monotonic
        self.retry_delays: deque[float] = deque(maxlen=64)
        """The waits chosen before the latest reconnection attempts, in seconds."""
        self._watchdog_factor = watchdog_factor
        self._watchdog_grace = watchdog_grace
        self._watchdog_override = watchdog_timeout
        self._handshake_timeout = handshake_timeout or client.request_timeout
        self._close_timeout = close_timeout

        self._task: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._connected = False
        self._boot_id: str | None = None
        self._last_seq: int | None = None
        self._hub_id: str | None = None
        self._api_version: str | None = None
        self._heartbeat_interval: float | None = None
        self._pongs: deque[asyncio.Future[None]] = deque()
        self._logged_skips: set[str] = set()
        self._skipped = 0
        self._clock_offset = timedelta(0)
        # Per connection.
        self._welcomed = False
        self._reset_backoff = False
        self._link_boot_id: str | None = None
        self._link_last_seq = 0
        self._awaiting_resync = False
        self._watchdog = self._handshake_timeout

    def __repr__(self) -> str:
        """Describe the stream (no secrets)."""
        return (
            f"{type(self).__name__}(client={self._client!r}, connected={self._connected}, "
            f"boot_id={self._boot_id!r}, last_seq={self._last_seq})"
        )

    # --- public state

    @property
    def connected(self) -> bool:
        """Whether the link is up and in sync (welcomed, replay or resync applied)."""
        return self._connected

    @property
    def running(self) -> bool:
        """Whether the stream's task is running (connected or retrying)."""
        return self._task is not None and not self._task.done()

    @property
    def boot_id(self) -> str | None:
        """The hub boot the stream is in sync with."""
        return self._boot_id

    @property
    def last_seq(self) -> int | None:
        """The sequence number of the last event processed (or the sync point)."""
        return self._last_seq

    @property
    def hub_id(self) -> str | None:
        """The hub id from the last welcome."""
        return self._hub_id

    @property
    def api_version(self) -> str | None:
        """The API version from the last welcome."""
        return self._api_version

    @property
    def heartbeat_interval(self) -> float | None:
        """The hub's heartbeat interval from the last welcome, in seconds."""
        return self._heartbeat_interval

    @property
    def watchdog_timeout(self) -> float:
        """Silence after which the link is considered dead, in seconds."""
        return self._watchdog

    @property
    def clock_offset(self) -> timedelta:
        """How far the hub's clock is ahead of ours (last welcome or heartbeat; 0 before one).

        Subtract it from a hub time to compare it with the local clock.
        """
        return self._clock_offset

    @property
    def skipped_frames(self) -> int:
        """How many malformed or unusable frames were skipped."""
        return self._skipped

    # --- control

    async def run(self, boot_id: str | None = None, since: int | None = None) -> None:
        """Follow the hub from a position (`None`s: live events only) until cancelled.

        Returns only when the hub refused the token or showed another certificate than the
        pinned one (after `on_disconnected`).
        """
        if since is not None and not _is_seq(since):
            raise ValueError("since must be a non-negative integer or None")
        self._boot_id = boot_id
        self._last_seq = since
        await self._run()

    async def start(self, boot_id: str | None = None, since: int | None = None) -> None:
        """Run the stream in a task of its own (standalone use); returns at once."""
        if self.running:
            return
        if since is not None and not _is_seq(since):
            raise ValueError("since must be a non-negative integer or None")
        self._task = asyncio.get_running_loop().create_task(
            self.run(boot_id, since), name="seoul_safehome event stream"
        )

    async def stop(self) -> None:
        """Close the link and stop reconnecting; waits until the task has ended."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            if task is not asyncio.current_task():
                try:
                    await task
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise
        self._connected = False
        self._fail_pongs()

    async def ping(self) -> float:
        """Send a `ping` and wait for the `pong`; return the round trip in seconds."""
        ws = self._ws
        if ws is None or not self._connected:
            raise SafeHomeConnectionError("The event stream is not connected")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pongs.append(future)
        start = loop.time()
        try:
            await self._send(ws, {"type": "ping"})
            async with asyncio.timeout(self._client.request_timeout):
                await future
        except TimeoutError:
            raise SafeHomeConnectionError("No pong from the hub") from None
        finally:
            if future in self._pongs:
                self._pongs.remove(future)
        return loop.time() - start

    # --- connection loop

    async def _run(self) -> None:
        """Connect, listen and reconnect with capped exponential backoff until stopped."""
        delay = self._backoff_min
        outage_start: float | None = None
        try:
            while True:
                self._welcomed = self._reset_backoff = False
                error: Exception | None
                try:
                    error = await self._connect_and_listen()
                except SafeHomeAuthenticationError as err:
                    # A refused token, no pinned certificate, or another certificate
                    # (SafeHomeIdentityError): retrying cannot help, pairing again does.
                    _LOGGER.warning("%s; the SafeHome event stream stops", err)
                    self._link_down(err, final=True)
                    return
                except SafeHomeError as err:
                    error = err
                except (aiohttp.ClientError, OSError) as err:
                    error = SafeHomeConnectionError(
                        f"Event stream failed: {type(err).__name__}: {err}"
                    )
                except Exception as err:  # a bug must not end the stream for good
                    _LOGGER.exception("Unexpected error in the SafeHome event stream")
                    error = SafeHomeError(f"Unexpected {type(err).__name__}")
                self._link_down(error)
                now = self._monotonic()
                if self._reset_backoff or outage_start is None:
                    outage_start = now  # a new outage begins
                if self._reset_backoff:
                    delay = self._backoff_min
                wait = min(delay, self._retry_cap(now - outage_start)) * self._uniform(
                    1 - self._backoff_jitter, 1 + self._backoff_jitter
                )
                self.retry_delays.append(wait)
                _LOGGER.debug("Reconnecting the SafeHome event stream in %.3f s", wait)
                await asyncio.sleep(wait)
                delay = min(delay * 2, self._backoff_max)
        finally:
            self._connected = False
            self._ws = None

    def _retry_cap(self, outage: float) -> float:
        """Early in an outage (a hub rebooting) retry often; later, back off fully."""
        if outage < self._quick_retry_window:
            return self._quick_retry_max
        if outage < self._fast_retry_window:
            return self._fast_retry_max
        return self._backoff_max

    async def _connect_and_listen(self) -> Exception | None:
        """Run one link; return None for a clean close by the hub, raise on failure."""
        client = self._client
        tls = client.pinned_ssl()  # no fingerprint: an authentication error, nothing sent
        try:
            async with asyncio.timeout(self._handshake_timeout):
                ws = await client.session.ws_connect(
                    client.events_url,
                    headers=client.auth_headers(),
                    ssl=tls,
                    autoping=True,
                    heartbeat=None,
                    compress=0,
                    max_msg_size=WS_MAX_MESSAGE_SIZE,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=self._close_timeout),
                )
        except aiohttp.WSServerHandshakeError as err:
            if err.status == 401:
                raise SafeHomeAuthenticationError(
                    "The hub refused the token", code=ERROR_UNAUTHORIZED, status=401
                ) from None
            raise SafeHomeConnectionError(
                f"Event stream handshake failed with HTTP {err.status}", status=err.status
            ) from None
        except aiohttp.ServerFingerprintMismatch as err:
            raise client.transport_error(err) from None
        except TimeoutError:
            raise SafeHomeConnectionError("Timed out connecting the event stream") from None
        async with ws:
            self._ws = ws
            self._watchdog = self._handshake_timeout
            await self._send(
                ws, {"type": "subscribe", "boot_id": self._boot_id, "since": self._last_seq}
            )
            return await self._listen(ws)

    async def _listen(self, ws: aiohttp.ClientWebSocketResponse) -> Exception | None:
        """Process frames as they arrive until the link ends."""
        while True:
            try:
                async with asyncio.timeout(self._watchdog):
                    msg = await ws.receive()
            except TimeoutError:
                what = "heartbeat" if self._welcomed else "welcome"
                raise SafeHomeConnectionError(
                    f"No {what} from the hub for {self._watchdog:g} s; the link is dead"
                ) from None
            if msg.type is aiohttp.WSMsgType.TEXT:
                await self._handle_text(msg.data)
            elif msg.type is aiohttp.WSMsgType.BINARY:
                self._skip("binary", "a binary frame")
            elif msg.type in _CLOSE_TYPES:
                code = msg.data if msg.type is aiohttp.WSMsgType.CLOSE else ws.close_code
                if code == CLOSE_CODE_UNAUTHORIZED:
                    raise SafeHomeAuthenticationError(
                        "The hub revoked the token", code=ERROR_UNAUTHORIZED, status=401
                    )
                if msg.type is aiohttp.WSMsgType.CLOSE and code in _CLEAN_CLOSE_CODES:
                    _LOGGER.debug("The hub closed the event stream (code %s)", code)
                    return None
                raise SafeHomeConnectionError(f"The event stream was closed (code {code})")
            else:  # ERROR
                raise SafeHomeConnectionError(f"Event stream error: {msg.data}")

    async def _send(self, ws: aiohttp.ClientWebSocketResponse, message: dict[str, Any]) -> None:
        try:
            await ws.send_str(json.dumps(message, separators=(",", ":")))
        except (aiohttp.ClientError, OSError) as err:
            raise SafeHomeConnectionError(f"Cannot send on the event stream: {err}") from err

    def _link_down(self, error: Exception | None, *, final: bool = False) -> None:
        """Note that the link is gone; tell the owner if it had been up (or for good)."""
        was_connected = self._connected
        self._connected = False
        self._ws = None
        self._fail_pongs()
        if was_connected:
            _LOGGER.debug("SafeHome event stream disconnected: %s", error or "closed by the hub")
        else:
            _LOGGER.debug("SafeHome event stream connection failed: %s", error)
        if (was_connected or final) and self._on_disconnected is not None:
            try:
                self._on_disconnected(error)
            except Exception:
                _LOGGER.exception("Error in the on_disconnected callback")

    def _fail_pongs(self) -> None:
        while self._pongs:
            future = self._pongs.popleft()
            if not future.done():
                future.set_exception(SafeHomeConnectionError("The event stream closed"))
                future.exception()  # mark retrieved: nobody may be waiting any more

    # --- frames

    def _skip(self, kind: str, detail: str) -> None:
        """Skip a frame without dropping the link (logged once per kind)."""
        self._skipped += 1
        if kind in self._logged_skips:
            _LOGGER.debug("Skipping a frame from the SafeHome hub: %s", detail)
            return
        self._logged_skips.add(kind)
        _LOGGER.warning("Skipping a malformed frame from the SafeHome hub: %s", detail)

    async def _handle_text(self, data: str) -> None:
        if len(data) > MAX_FRAME_SIZE or (
            len(data) > MAX_FRAME_SIZE // 4 and len(data.encode()) > MAX_FRAME_SIZE
        ):
            self._skip("oversized", "a frame over 64 KiB")
            return
        try:
            frame = json.loads(data)
        except (ValueError, RecursionError):
            self._skip("not_json", "a frame that is not JSON")
            return
        if not isinstance(frame, dict):
            self._skip("not_object", "a frame that is not a JSON object")
            return
        kind = frame.get("type")
        if kind == "event":
            await self._handle_event(frame)
        elif kind == "heartbeat":
            await self._handle_heartbeat(frame)  # (receiving anything feeds the watchdog)
        elif kind == "welcome":
            self._handle_welcome(frame)
        elif kind == "resync":
            await self._handle_resync(frame)
        elif kind == "pong":
            self._handle_pong()
        elif kind == "error":
            _LOGGER.warning(
                "The SafeHome hub reported a stream error: %.64s: %.200s",
                frame.get("code"),
                frame.get("message"),
            )
        elif isinstance(kind, str):
            self._skipped += 1
            log_unknown_once("message type", kind)
        else:
            self._skip("no_type", "a frame without a type")

    def _handle_welcome(self, frame: dict[str, Any]) -> None:
        if self._welcomed:
            self._skip("second_welcome", "a second welcome")
            return
        boot_id = frame.get("boot_id")
        last_seq = frame.get("last_seq")
        interval = frame.get("heartbeat_interval")
        hub_id = frame.get("hub_id")
        api_version = frame.get("api_version")
        if (
            not isinstance(boot_id, str)
            or not boot_id
            or not _is_seq(last_seq)
            or isinstance(interval, bool)
            or not isinstance(interval, int | float)
            or not 0 < interval <= 300
            or not isinstance(hub_id, str)
            or not isinstance(api_version, str)
        ):
            raise SafeHomeProtocolError("The hub's welcome is malformed")
        self._hub_id = hub_id
        self._api_version = api_version
        self._heartbeat_interval = float(interval)
        self._watchdog = (
            self._watchdog_override
            if self._watchdog_override is not None
            else self._watchdog_factor * interval + self._watchdog_grace
        )
        self._link_boot_id = boot_id
        self._link_last_seq = last_seq
        self._awaiting_resync = False
        self._measure_clock(frame)
        self._welcomed = True
        _LOGGER.debug(
            "SafeHome event stream welcomed (hub last_seq %s, ours %s)", last_seq, self._last_seq
        )
        if self._last_seq is None:
            # Live events only: the caller loads the state by REST.
            self._boot_id = boot_id
            self._last_seq = last_seq
            self._in_sync(resumed=False)
        elif boot_id != self._boot_id:
            self._awaiting_resync = True  # another boot: the hub sends a resync
        elif self._last_seq >= last_seq:
            self._in_sync(resumed=True)  # nothing was missed
        # else: the replay (or a resync) follows; in sync once it is applied

    def _in_sync(self, *, resumed: bool) -> None:
        """Count the link as up from now on: it is welcomed and caught up."""
        self._reset_backoff = self._connected = True
        _LOGGER.debug("SafeHome event stream in sync at %s", self._last_seq)
        if self._on_connected is not None:
            try:
                self._on_connected(resumed)
            except Exception:
                _LOGGER.exception("Error in the on_connected callback")

    async def _resync(self, last_seq: int, why: str) -> None:
        """Have the owner reload everything, then carry on from `last_seq` of this boot."""
        _LOGGER.debug("SafeHome event stream resync (%s); reloading the state", why)
        if self._on_resync is not None:
            try:
                await self._on_resync()
            except Exception as err:
                raise _ResyncFailedError(f"Reloading after a resync failed: {err!r}") from err
        self._boot_id = self._link_boot_id
        self._last_seq = last_seq
        self._awaiting_resync = False
        if not self._connected and last_seq >= self._link_last_seq:
            self._in_sync(resumed=False)

    async def _handle_resync(self, frame: dict[str, Any]) -> None:
        last_seq = frame.get("last_seq")
        if not _is_seq(last_seq):
            self._skip("bad_resync", "a resync without last_seq")
            return
        if not self._welcomed:
            self._skip("early", "a frame before the welcome")
            return
        await self._resync(last_seq, f"hub: {frame.get('reason')}")

    async def _handle_heartbeat(self, frame: dict[str, Any]) -> None:
        """Note the hub's clock; reload if the hub sent events that could not be applied.

        A heartbeat follows every event sent before it on the link (§7), so a `last_seq`
        beyond ours means an event we had to skip (unreadable): without this, the link would
        not catch up until the next event, which may be hours away in a quiet home.
        """
        self._measure_clock(frame)
        last_seq = frame.get("last_seq")
        if not self._welcomed or not _is_seq(last_seq) or self._last_seq is None:
            return
        if self._awaiting_resync or last_seq > self._last_seq:
            await self._resync(max(last_seq, self._link_last_seq), "unapplied events")

    def _measure_clock(self, frame: dict[str, Any]) -> None:
        """Note how far the hub's clock is ahead of ours from a welcome's or heartbeat's time.

        Measured on every link (a rebooted hub's clock may have moved); a frame without a
        readable time keeps the last measure.
        """
        try:
            hub_time = parse_timestamp(frame.get("time"))
        except SafeHomeProtocolError:
            return
        self._clock_offset = hub_time - datetime.now(UTC)

    def _handle_pong(self) -> None:
        while self._pongs:
            future = self._pongs.popleft()
            if not future.done():
                future.set_result(None)
                return

    async def _handle_event(self, frame: dict[str, Any]) -> None:
        if not self._welcomed:
            self._skip("early", "a frame before the welcome")
            return
        try:
            event = Event.from_dict(frame)
        except SafeHomeProtocolError as err:
            self._skip("invalid_event", f"an invalid event ({err})")
            return
        if self._awaiting_resync:
            # Another boot but no resync from the hub: reload anyway.
            await self._resync(self._link_last_seq, "new boot")
        last = self._last_seq
        assert last is not None  # set by the welcome or a resync
        if event.seq <= last:
            return  # a duplicate
        if event.seq > last + 1:
            _LOGGER.warning("SafeHome events %d-%d were missed", last + 1, event.seq - 1)
            await self._resync(event.seq - 1, "gap")
        try:
            result = self._on_event(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            _LOGGER.exception("Error in the on_event callback")
        self._last_seq = event.seq
        if not self._connected and event.seq >= self._link_last_seq:
            self._in_sync(resumed=True)  # the replay is applied
