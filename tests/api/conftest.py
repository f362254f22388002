"""Fixtures for the api client tests: a paired client on the emulator, schema capture."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
import inspect
import json
import re
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from custom_components.seoul_safehome.api import (
    Event,
    SafeHomeClient,
    SafeHomeEventStream,
    client as client_module,
)
from custom_components.seoul_safehome.api.pairing import ClientPairing
from tests.schema import assert_valid

from .fakehub import FakeHub, pinned_client, running_fake_hub

_DEVICE_PATH = re.compile(r"^/devices/[^/]+$")
_DEVICE_SUB = re.compile(r"^/devices/[^/]+/(commands|stream)$")
REQUEST_SCHEMAS = {"/pair/start": "PairStart", "/pair/finish": "PairFinish"}


def response_schema(path: str) -> str:
    """The schema name of a JSON answer to `path` (relative to /api/v2)."""
    if path in ("/info",):
        return "Info"
    if path == "/pair/start":
        return "PairChallenge"
    if path == "/pair/finish":
        return "PairSealed"
    if path in ("/hub", "/hub/commands"):
        return "Hub"
    if path == "/devices":
        return "DeviceList"
    if _DEVICE_PATH.match(path):
        return "Device"
    match = _DEVICE_SUB.match(path)
    assert match, f"no schema known for {path}"
    return "Device" if match[1] == "commands" else "StreamInfo"


@dataclass
class Capture:
    """Everything the client sent and every hub answer it parsed, for schema checks."""

    requests: list[tuple[str, str, bytes]] = field(default_factory=list)
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sealed: list[bytes] = field(default_factory=list)  # opened pairing answers
    errors: list[bytes] = field(default_factory=list)
    ws_sent: list[str] = field(default_factory=list)
    ws_received: list[str] = field(default_factory=list)
    # Set by tests that send a malformed body or receive garbage on purpose.
    unchecked_bodies: set[bytes] = field(default_factory=set)
    garbage_expected: bool = False

    def check(self) -> None:
        """Validate every captured message against the protocol's JSON Schema."""
        for method, path, body in self.requests:
            if not body or body in self.unchecked_bodies:
                continue
            name = REQUEST_SCHEMAS.get(path, "CommandRequest")
            assert method == "POST", (method, path)
            assert_valid(name, json.loads(body))
        for text in self.ws_sent:
            frame = json.loads(text)
            assert_valid("Subscribe" if frame["type"] == "subscribe" else "Ping", frame)
        for path, answer in self.responses:
            assert_valid(response_schema(path), answer)
        for plaintext in self.sealed:
            assert_valid("PairSealedPlaintext", json.loads(plaintext))
        for body in self.errors:
            assert_valid("Error", json.loads(body))
        if not self.garbage_expected:
            per_kind: dict[tuple[Any, Any], int] = {}
            for text in self.ws_received:
                frame = json.loads(text)
                kind = (frame.get("type"), frame.get("event"))
                per_kind[kind] = per_kind.get(kind, 0) + 1
                if per_kind[kind] <= 50:  # a flood repeats one shape thousands of times
                    assert_valid("HubMessage", frame)


@pytest.fixture
def capture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Capture]:
    """Capture what the client sends and parses; validate it all at teardown."""
    cap = Capture()

    send_str = aiohttp.ClientWebSocketResponse.send_str

    async def capturing_send_str(self: Any, data: str, compress: int | None = None) -> None:
        cap.ws_sent.append(data)
        await send_str(self, data, compress)

    handle_text = SafeHomeEventStream._handle_text

    async def capturing_handle_text(self: Any, data: str) -> None:
        cap.ws_received.append(data)
        await handle_text(self, data)

    json_object = client_module._json_object

    def capturing_json_object(response: Any, what: str) -> dict[str, Any]:
        answer = json_object(response, what)
        cap.responses.append((what.split(" ", 1)[1], answer))
        return answer

    open_sealed = ClientPairing.open

    def capturing_open(self: Any, nonce: bytes, sealed: bytes) -> bytes:
        plaintext = open_sealed(self, nonce, sealed)
        cap.sealed.append(plaintext)
        return plaintext

    error_from_response = client_module.error_from_response

    def capturing_error_from_response(
        status: int, body: bytes, headers: Any = None, **kwargs: Any
    ) -> Any:
        cap.errors.append(body)
        return error_from_response(status, body, headers, **kwargs)

    monkeypatch.setattr(aiohttp.ClientWebSocketResponse, "send_str", capturing_send_str)
    monkeypatch.setattr(SafeHomeEventStream, "_handle_text", capturing_handle_text)
    monkeypatch.setattr(client_module, "_json_object", capturing_json_object)
    monkeypatch.setattr(ClientPairing, "open", capturing_open)
    monkeypatch.setattr(client_module, "error_from_response", capturing_error_from_response)
    yield cap
    cap.check()


@pytest.fixture
async def session(capture: Capture) -> AsyncIterator[aiohttp.ClientSession]:
    """A client session that records every request body it sends."""

    async def on_chunk(
        _session: aiohttp.ClientSession,
        _ctx: SimpleNamespace,
        params: aiohttp.TraceRequestChunkSentParams,
    ) -> None:
        path = params.url.path.removeprefix("/api/v2")
        capture.requests.append((params.method, path, params.chunk))

    trace = aiohttp.TraceConfig()
    trace.on_request_chunk_sent.append(on_chunk)
    async with aiohttp.ClientSession(trace_configs=[trace]) as sess:
        yield sess


async def open_window(emulator: Any) -> str:
    """Press the emulator's pairing button; return the window's code."""
    code = emulator.open_pairing_window()
    if inspect.isawaitable(code):
        code = await code
    assert isinstance(code, str)
    return code


@pytest.fixture
async def client(emulator: Any, session: aiohttp.ClientSession) -> SafeHomeClient:
    """A client paired with the emulator (through its pairing window, SPAKE2 and all)."""
    api = SafeHomeClient("127.0.0.1", emulator.port, session, request_timeout=5.0)
    await api.pair(await open_window(emulator), "pytest")
    assert api.fingerprint == emulator.fingerprint
    return api


async def wait_until(
    predicate: Callable[[], object], timeout: float = 5.0, interval: float = 0.01
) -> None:
    """Poll `predicate` until it is true (fails after `timeout` seconds)."""
    async with asyncio.timeout(timeout):
        while True:
            result = predicate()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(interval)


class Recorder:
    """Collect a stream's callbacks, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.connected: list[bool] = []
        self.disconnected: list[Exception | None] = []
        self.resyncs = 0
        self.log: list[tuple[str, Any]] = []
        self.resync_hook: Callable[[], Awaitable[None]] | None = None

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        self.log.append(("event", event.seq))

    def on_connected(self, resumed: bool) -> None:
        self.connected.append(resumed)
        self.log.append(("connected", resumed))

    def on_disconnected(self, error: Exception | None) -> None:
        self.disconnected.append(error)
        self.log.append(("disconnected", error))

    async def on_resync(self) -> None:
        self.resyncs += 1
        self.log.append(("resync_start", None))
        if self.resync_hook is not None:
            await self.resync_hook()
        self.log.append(("resync_end", None))

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.event == name]

    def seqs(self) -> list[int]:
        return [e.seq for e in self.events]


class StreamFactory:
    """Build event streams with fast test settings; all are stopped at teardown."""

    def __init__(self, api: SafeHomeClient) -> None:
        self.api = api
        self.streams: list[SafeHomeEventStream] = []

    def __call__(
        self, api: SafeHomeClient | None = None, **kwargs: Any
    ) -> tuple[SafeHomeEventStream, Recorder]:
        rec = Recorder()
        options: dict[str, Any] = {
            "backoff_min": 0.05,
            "backoff_max": 0.2,
            "backoff_jitter": 0.0,
            "handshake_timeout": 2.0,
        }
        options.update(kwargs)
        stream = SafeHomeEventStream(
            api or self.api,
            rec.on_event,
            rec.on_connected,
            rec.on_disconnected,
            rec.on_resync,
            **options,
        )
        self.streams.append(stream)
        return stream, rec

    async def stop_all(self) -> None:
        for stream in self.streams:
            await stream.stop()


@pytest.fixture
async def make_stream(client: SafeHomeClient) -> AsyncIterator[StreamFactory]:
    """Streams on the emulator (stopped before the emulator goes)."""
    factory = StreamFactory(client)
    yield factory
    await factory.stop_all()


@pytest.fixture
async def fake_hub(socket_enabled: None) -> AsyncIterator[FakeHub]:
    """Run a scripted (misbehaving) hub on a free loopback port."""
    async with running_fake_hub() as fake:
        yield fake


@pytest.fixture
async def fake_client(fake_hub: FakeHub) -> AsyncIterator[SafeHomeClient]:
    """A client paired with the scripted hub (its certificate pinned), short request timeout."""
    async with aiohttp.ClientSession() as sess:
        yield pinned_client(fake_hub, sess, request_timeout=0.3)


@pytest.fixture
async def fake_stream(fake_client: SafeHomeClient) -> AsyncIterator[StreamFactory]:
    """Streams on the scripted hub (stopped before it goes)."""
    factory = StreamFactory(fake_client)
    yield factory
    await factory.stop_all()
