"""Property-based tests (Hypothesis) of what the client parses from a hub.

Whatever JSON, text or bytes a hub sends, the models raise nothing but
SafeHomeProtocolError, an error answer always maps to a SafeHomeError, and the event stream
skips the frame and goes on: the next valid event still arrives on the same link.
Example counts are bounded and the examples fixed (`derandomize`) so that the suite stays
fast and never depends on luck; a failure Hypothesis found is kept as an `@example`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import copy
from dataclasses import dataclass
import json
import logging
import math
from typing import Any

import aiohttp
from hypothesis import HealthCheck, example, given, settings, strategies as st
import pytest

from custom_components.seoul_safehome.api import (
    CameraState,
    Device,
    DeviceType,
    DoorbellState,
    DoorLockState,
    EmergencyBellState,
    Event,
    EventName,
    Hub,
    Info,
    PairResult,
    SafeHomeClient,
    SafeHomeConnectionError,
    SafeHomeError,
    SafeHomeProtocolError,
    SafeHomeRateLimitedError,
    StreamInfo,
)
from custom_components.seoul_safehome.api.client import error_from_response

from .conftest import StreamFactory, wait_until
from .fakehub import NOW, FakeHub, FakeWs, event, hub, info, lock, welcome
from .fakepair import FakePairing

# Integers a hub could send in JSON; the stream's test events are numbered above them.
MAX_INT = 2**53
SENTINEL_BASE = 2**60


@dataclass(frozen=True)
class Nested:
    """JSON arrays nested `depth` deep (a short name for a long text in failure reports)."""

    depth: int

    def text(self) -> str:
        """The JSON text."""
        return "[" * self.depth + "]" * self.depth


# Deeper than Python's JSON decoder goes (about 8,000 on 3.13) and under the 64 KiB frame limit.
NESTED = st.integers(min_value=1, max_value=32_000).map(Nested)
TOO_DEEP = Nested(30_000)


def fuzz(max_examples: int) -> settings:
    """Bounded, reproducible Hypothesis settings (the suite is timed)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --- well-formed messages, the starting points of the broken ones


def device(kind: str, state: dict[str, Any], *capabilities: str) -> dict[str, Any]:
    """A well-formed `Device` of a type."""
    return {
        **lock(),
        "id": f"{kind}-1",
        "type": kind,
        "capabilities": list(capabilities),
        "state": state,
    }


DEVICES = [
    device("doorbell", {"motion": False, "camera_on": True, "last_ring": NOW}, "ring", "motion"),
    device("camera", {"motion": True, "camera_on": False}, "motion", "snapshot"),
    lock(),
    device(
        "emergency_bell",
        {"emergency": True, "emergency_source": "voice", "emergency_since": NOW, "siren": True},
        "siren",
        "emergency",
    ),
    device("thermostat", {"target": 21.5}),  # a type from a newer hub
]
PAIR_ANSWER = {"token": "t" * 40, "fingerprint": "0f" * 32, "hub": info()}
STREAM_INFO = {"url": "https://127.0.0.1/live.ts?key=k", "format": "mpegts", "rtsp_url": None}
ERROR_ANSWER = {"error": {"code": "rate_limited", "message": "Slow down", "retry_after": 30}}
EVENTS = [
    *(
        event(3, name, device_id=d["id"], data={"device": d})
        for d in DEVICES
        for name in (EventName.DEVICE_UPDATED, EventName.DEVICE_ADDED)
    ),
    event(4, EventName.DEVICE_REMOVED, device_id="cam-1"),
    event(5, EventName.HUB_UPDATED, device_id=None, data={"hub": hub(last_seq=5)}),
    event(6, EventName.DOORBELL_RING),
    event(7, EventName.MOTION_DETECTED, device_id="cam-1"),
    event(
        8, EventName.LOCK_ACTIVITY, device_id="lock-1", data={"activity": "keypad", "user": "Kim"}
    ),
    event(
        9,
        EventName.EMERGENCY_TRIGGERED,
        device_id="bell-1",
        data={"source": "voice", "keyword": "살려주세요"},
    ),
    event(10, EventName.EMERGENCY_CANCELLED, device_id="bell-1", data={"source": "button"}),
    event(11, "x_future_event", data={"note": "from a newer hub"}),
]
FRAMES = [
    *EVENTS,
    welcome(),
    {"type": "resync", "reason": "gap", "last_seq": 3},
    {"type": "heartbeat", "last_seq": 3, "time": NOW},
    {"type": "pong"},
    {"type": "error", "code": "bad_request", "message": "what?"},
]

# Values that sit next to valid ones: other fields' values, edge numbers and odd timestamps.
NEAR_STRINGS = [
    "", " ", "x", "1.0", "1.0.0", "v1.0", "99999999999999999999.0", NOW, "2026-11-25",
    "2026-02-30T00:00:00Z", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59",
    "locked", "open", "closed", "jammed", "button", "voice", "phone", "doorbell", "camera",
    "door_lock", "emergency_bell", "device_updated", "hub_updated", "event", "welcome",
    "resync",
]  # fmt: skip
NEAR_MISSES = st.sampled_from(
    [
        None, True, False, 0, 1, -1, 100, 101, 2**31, 0.5, -0.0, math.nan, math.inf, -math.inf,
        *NEAR_STRINGS, [], {}, ["lock"], [None], {"": None}, hub(), info(), lock(),
    ]
)  # fmt: skip


def integers(max_int: int | None) -> st.SearchStrategy[int]:
    """Integers, within ±`max_int` if given."""
    return st.integers(min_value=None if max_int is None else -max_int, max_value=max_int)


def near(value: Any, max_int: int | None) -> st.SearchStrategy[Any]:
    """Values like `value` (same JSON type, edge cases): a hub's likely mistakes."""
    if isinstance(value, bool):
        return st.sampled_from([not value, 0, 1, "true", None])
    if isinstance(value, int | float):
        edges = [-1, 0, 1, 99, 100, 101, 255, 2**31, 2**53, -(2**53), True]
        return st.sampled_from(edges) | integers(max_int) | st.floats()
    if isinstance(value, str):
        return st.text(max_size=30) | st.sampled_from(NEAR_STRINGS)
    if isinstance(value, list):
        return st.lists(st.text(max_size=8) | integers(max_int) | st.none(), max_size=4)
    if isinstance(value, dict):
        return st.dictionaries(
            st.text(max_size=8), st.none() | integers(max_int) | st.text(max_size=8), max_size=3
        )
    return NEAR_MISSES


def json_values(max_int: int | None = None) -> st.SearchStrategy[Any]:
    """Any JSON value (Python's decoder also takes NaN and ±Infinity)."""
    bound = None if max_int is None else -max_int
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=bound, max_value=max_int)
        | st.floats()
        | st.text(max_size=20)
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=12), children, max_size=4)
        ),
        max_leaves=12,
    )


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path to every value inside `value`, itself included."""
    yield path
    if isinstance(value, dict):
        children: Any = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return
    for key, child in children:
        yield from _paths(child, (*path, key))


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


@st.composite
def broken(
    draw: st.DrawFn, templates: list[Any], junk: st.SearchStrategy[Any], max_int: int | None
) -> Any:
    """A well-formed message with one to three values replaced, removed or added."""
    value = copy.deepcopy(draw(st.sampled_from(templates)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(value))
        action = draw(st.sampled_from(("replace", "replace", "replace", "remove", "add")))
        if action == "add":
            paths = [path for path in paths if isinstance(_at(value, path), dict | list)]
        elif action == "remove":
            paths = paths[1:]
        else:  # mostly one field, sometimes a whole object
            leaves = [path for path in paths if not isinstance(_at(value, path), dict | list)]
            paths = leaves if leaves and draw(st.integers(0, 3)) else paths
        if not paths:
            continue
        path = draw(st.sampled_from(paths))
        target = _at(value, path)
        # A deep copy: never edit a value that the strategies may hand out again.
        new = copy.deepcopy(draw(near(target, max_int) | junk))
        if action == "add" and isinstance(target, dict):
            target[draw(st.text(max_size=12))] = new
        elif action == "add":
            target.append(new)
        elif action == "remove":
            del _at(value, path[:-1])[path[-1]]
        elif path:
            _at(value, path[:-1])[path[-1]] = new
        else:
            value = new
    return value


def hub_json(templates: list[Any], max_int: int | None = None) -> st.SearchStrategy[Any]:
    """Arbitrary JSON, and well-formed messages broken in a few places."""
    values = json_values(max_int)
    junk = NEAR_MISSES | values
    return values | broken(templates, junk, max_int)


# --- the models


def check_info(parsed: Info) -> None:
    """A parsed hub identity can always tell whether its API is supported."""
    assert isinstance(parsed.api_supported, bool)
    major, minor = parsed.api_version_tuple
    assert major >= 0
    assert minor >= 0


def check_hub(parsed: Hub) -> None:
    """A parsed hub has a usable position in its event log."""
    check_info(parsed)
    assert parsed.last_seq >= 0
    assert isinstance(parsed.boot_id, str)


STATE_TYPES = {
    DeviceType.DOORBELL: DoorbellState,
    DeviceType.CAMERA: CameraState,
    DeviceType.DOOR_LOCK: DoorLockState,
    DeviceType.EMERGENCY_BELL: EmergencyBellState,
}


def check_device(parsed: Device) -> None:
    """A parsed device has a valid battery, string capabilities and its type's state."""
    assert parsed.battery is None or 0 <= parsed.battery <= 100
    assert all(isinstance(capability, str) for capability in parsed.capabilities)
    state_type = next((cls for kind, cls in STATE_TYPES.items() if parsed.type == kind), None)
    if state_type is None:
        assert parsed.state is None
    else:
        assert isinstance(parsed.state, state_type)
    hash(parsed)  # entities compare and keep devices


def check_event(parsed: Event) -> None:
    """A parsed event is numbered, timed, named and carries what its name promises."""
    assert parsed.seq >= 1
    assert parsed.time.tzinfo is not None
    assert parsed.event
    carries_device = parsed.event in (EventName.DEVICE_UPDATED, EventName.DEVICE_ADDED)
    assert (parsed.device is not None) == carries_device
    assert (parsed.hub is not None) == (parsed.event == EventName.HUB_UPDATED)
    if parsed.device is not None:
        check_device(parsed.device)
    if parsed.hub is not None:
        check_hub(parsed.hub)


def check_pair(parsed: PairResult) -> None:
    """A sealed pairing answer has a token, a fingerprint to pin and a hub identity."""
    assert parsed.token
    assert len(parsed.fingerprint) == 64
    assert bytes.fromhex(parsed.fingerprint).hex() == parsed.fingerprint
    check_info(parsed.hub)


def no_check(_parsed: object) -> None:
    """The parsed value's type is all there is to check."""


# Each model, the well-formed messages its fuzzing starts from, its checks, and how many
# examples it gets (the richest get the most; every state also comes inside a Device).
MODELS: list[tuple[type[Any], list[Any], Callable[[Any], None], int]] = [
    (Info, [info()], check_info, 40),
    (Hub, [hub()], check_hub, 100),
    (PairResult, [PAIR_ANSWER], check_pair, 60),
    (Device, DEVICES, check_device, 250),
    (DoorbellState, [DEVICES[0]["state"]], no_check, 40),
    (CameraState, [DEVICES[1]["state"]], no_check, 40),
    (DoorLockState, [DEVICES[2]["state"]], no_check, 40),
    (EmergencyBellState, [DEVICES[3]["state"]], no_check, 40),
    (StreamInfo, [STREAM_INFO], no_check, 40),
    (Event, EVENTS, check_event, 250),
]
MODEL_IDS = [model.__name__ for model, *_ in MODELS]
# A version string past Python's 4300-digit int() limit: `from_dict` accepted it, then
# `api_supported`/`api_version_tuple` raised ValueError (Hypothesis finding, issue 8).
HUGE_VERSION = "1" * 5000 + ".0"


@pytest.mark.parametrize(("model", "templates", "check", "_examples"), MODELS, ids=MODEL_IDS)
def test_templates_are_valid(
    model: type[Any], templates: list[Any], check: Callable[[Any], None], _examples: int
) -> None:
    """The messages the fuzzing starts from parse (so the broken ones are near-valid)."""
    for template in templates:
        check(model.from_dict(template))


@pytest.mark.parametrize(("model", "templates", "check", "examples"), MODELS, ids=MODEL_IDS)
def test_models_accept_or_refuse_any_json(
    model: type[Any], templates: list[Any], check: Callable[[Any], None], examples: int
) -> None:
    """Any JSON either parses into a usable model or raises SafeHomeProtocolError."""

    @fuzz(examples)
    @given(value=hub_json(templates))
    def parses_or_refuses(value: Any) -> None:
        try:
            parsed = model.from_dict(value)
        except SafeHomeProtocolError:
            return
        assert isinstance(parsed, model)
        check(parsed)

    parses_or_refuses()


@pytest.mark.parametrize(
    ("model", "value"),
    [(Info, info(api_version=HUGE_VERSION)), (Hub, hub(api_version=HUGE_VERSION))],
    ids=["Info", "Hub"],
)
def test_huge_api_version_is_refused_or_usable(model: type[Info], value: dict[str, Any]) -> None:
    """An absurdly long API version is refused, or parsed into a usable version."""
    try:
        parsed = model.from_dict(value)
    except SafeHomeProtocolError:
        return
    check_info(parsed)


# --- error answers


@fuzz(max_examples=200)
@given(
    status=st.integers(min_value=100, max_value=599),
    body=st.binary(max_size=100)
    | hub_json([ERROR_ANSWER]).map(lambda value: json.dumps(value).encode())
    | NESTED,
    retry_after=st.none() | st.text(max_size=12),
    device_request=st.booleans(),
)
@example(
    status=429,
    body=b'{"error": {"code": "rate_limited", "message": "Wait", "retry_after": 1e400}}',
    retry_after=None,
    device_request=False,
).via("Hypothesis finding, issue 8: 1e400 decodes to infinity")
@example(
    status=429,
    body=b'{"error": {"code": "rate_limited", "retry_after": 1%s}}' % (b"0" * 400),
    retry_after=None,
    device_request=False,
).via("Hypothesis finding, issue 8: OverflowError escaped")
@example(status=500, body=TOO_DEEP, retry_after=None, device_request=False).via(
    "Hypothesis finding, issue 8: RecursionError escaped"
)
def test_any_error_answer_maps_to_a_client_error(
    status: int, body: bytes | Nested, retry_after: str | None, device_request: bool
) -> None:
    """A non-2xx answer with any body maps to a SafeHomeError, and a usable wait if any."""
    raw = body.text().encode() if isinstance(body, Nested) else body
    headers = None if retry_after is None else {"Retry-After": retry_after}
    error = error_from_response(status, raw, headers, device_request=device_request)
    assert isinstance(error, SafeHomeError)
    if isinstance(error, SafeHomeRateLimitedError):
        assert math.isfinite(error.retry_after)
        assert error.retry_after >= 0


# --- the event stream against a scripted hub


class Feeder:
    """The hub's side of each event-stream link: a welcome, then whatever the test queues."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str | bytes | Nested | tuple[bytes]] = asyncio.Queue()
        self.links = 0
        self.serving = False  # the newest link is open

    async def __call__(self, conn: FakeWs) -> None:
        """Serve one link until the client leaves."""
        queue = self.queue = asyncio.Queue()
        self.links += 1
        self.serving = True
        await conn.send(welcome(last_seq=conn.subscribe.get("since") or 0))
        closed = asyncio.ensure_future(conn.hold())
        try:
            while True:
                get = asyncio.ensure_future(queue.get())
                await asyncio.wait({get, closed}, return_when=asyncio.FIRST_COMPLETED)
                if not get.done():
                    get.cancel()
                    return
                frame = get.result()
                if isinstance(frame, bytes):
                    await conn.ws.send_bytes(frame)
                elif isinstance(frame, tuple):  # raw bytes in a text frame
                    await conn.ws.send_frame(frame[0], aiohttp.WSMsgType.TEXT)
                elif isinstance(frame, Nested):
                    await conn.ws.send_str(frame.text())
                else:
                    await conn.ws.send_str(frame)
        finally:
            closed.cancel()
            if self.queue is queue:
                self.serving = False


class Link:
    """A stream on the scripted hub, and the valid event each check ends with."""

    def __init__(self, feeder: Feeder, fake_stream: StreamFactory) -> None:
        self.feeder = feeder
        self.stream, self.rec = fake_stream(backoff_min=0.01, backoff_max=0.05)
        self.sentinels = 0

    async def start(self) -> None:
        """Connect (live events only) and wait for the welcome."""
        await self.stream.start()
        await self.settle()

    async def settle(self) -> None:
        """Wait until the stream is in sync on the hub's newest link."""
        await wait_until(lambda: self.stream.connected and self.feeder.serving, timeout=3)

    async def ring(self) -> None:
        """Have the hub send a doorbell ring (numbered after anything fuzzed); wait for it.

        Returns early if the link dropped meanwhile (the ring may have gone with it).
        """
        self.sentinels += 1
        seq = SENTINEL_BASE + self.sentinels
        self.feeder.queue.put_nowait(json.dumps(event(seq, EventName.DOORBELL_RING)))
        disconnects = len(self.rec.disconnected)
        await wait_until(
            lambda: (self.rec.events and self.rec.events[-1].seq == seq)
            or len(self.rec.disconnected) > disconnects,
            timeout=3,
            interval=0.002,
        )


@pytest.fixture
async def link(fake_hub: FakeHub, fake_stream: StreamFactory) -> Link:
    """A connected stream whose hub sends what the test queues."""
    feeder = Feeder()
    fake_hub.scripts = [feeder]
    result = Link(feeder, fake_stream)
    await result.start()
    return result


def client_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Errors (tracebacks) the client logged."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.seoul_safehome")
        and record.levelno >= logging.ERROR
    ]


def truncated(templates: list[Any]) -> st.SearchStrategy[str]:
    """A well-formed frame cut short."""
    texts = [json.dumps(template) for template in templates]
    return st.sampled_from(texts).flatmap(
        lambda text: st.integers(min_value=0, max_value=len(text) - 1).map(lambda n: text[:n])
    )


FUZZ_FRAMES = st.lists(
    hub_json(FRAMES, MAX_INT).map(json.dumps)
    | truncated(FRAMES)
    | st.text(max_size=200)
    | st.binary(max_size=200)
    | NESTED,
    min_size=1,
    max_size=8,
)


@fuzz(max_examples=100)
@given(frames=FUZZ_FRAMES)
@example(frames=[TOO_DEEP]).via("Hypothesis finding, issue 8: RecursionError dropped the link")
async def test_stream_survives_any_frames(
    link: Link, caplog: pytest.LogCaptureFixture, frames: list[str | bytes | Nested]
) -> None:
    """Garbage, broken and out-of-order frames never drop the link or stop the stream."""
    await link.settle()  # (after a failing example, while Hypothesis shrinks it)
    caplog.clear()
    links, drops = link.feeder.links, len(link.rec.disconnected)
    for frame in frames:
        link.feeder.queue.put_nowait(frame)
    await link.ring()
    assert link.rec.disconnected[drops:] == []
    assert client_errors(caplog) == []
    assert link.rec.events[-1].event == EventName.DOORBELL_RING
    assert link.stream.connected
    assert link.stream.running
    assert link.feeder.links == links  # still the same link


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


NOT_UTF8 = (
    st.tuples(
        st.binary(max_size=24),
        st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80"]),
        st.binary(max_size=24),
    )
    .map(b"".join)
    .filter(_not_utf8)
)


@fuzz(max_examples=15)
@given(data=NOT_UTF8)
async def test_stream_recovers_from_text_that_is_not_utf8(link: Link, data: bytes) -> None:
    """A text frame that is not UTF-8 breaks the WebSocket: the stream reconnects and goes on."""
    await link.settle()
    links, drops = link.feeder.links, len(link.rec.disconnected)
    link.feeder.queue.put_nowait((data,))
    await wait_until(lambda: len(link.rec.disconnected) > drops, timeout=3)
    assert isinstance(link.rec.disconnected[-1], SafeHomeConnectionError)
    await link.settle()
    assert link.feeder.links == links + 1
    await link.ring()
    assert link.rec.events[-1].event == EventName.DOORBELL_RING
    assert link.stream.running


# --- pairing against a scripted hub

CHALLENGE = {"session": "s" * 24, "pake": "QQ" + "A" * 42}
SEALED = {"confirm": "A" * 44, "nonce": "A" * 16, "sealed": "A" * 64}


@fuzz(max_examples=60)
@given(answer=hub_json([CHALLENGE]) | st.binary(max_size=64) | NESTED)
async def test_pairing_survives_any_challenge(
    fake_hub: FakeHub, fake_client: SafeHomeClient, answer: Any
) -> None:
    """Whatever `pair/start` answers, pairing fails with a SafeHomeError and keeps nothing."""
    fake_client.token = fake_client.fingerprint = None
    if isinstance(answer, bytes):
        fake_hub.raw("/pair/start", answer, content_type="application/json")
    else:
        fake_hub.json("/pair/start", answer.text() if isinstance(answer, Nested) else answer)
    with pytest.raises(SafeHomeError):
        await fake_client.pair("246810")
    assert fake_client.token is None
    assert fake_client.fingerprint is None


@fuzz(max_examples=60)
@given(answer=hub_json([SEALED]) | st.binary(max_size=64))
async def test_pairing_survives_any_sealed_answer(
    fake_hub: FakeHub, fake_client: SafeHomeClient, answer: Any
) -> None:
    """After a genuine challenge, any `pair/finish` answer fails cleanly and keeps nothing."""
    fake_client.token = fake_client.fingerprint = None
    FakePairing(fake_hub).install()
    if isinstance(answer, bytes):
        fake_hub.raw("/pair/finish", answer, content_type="application/json")
    else:
        fake_hub.json("/pair/finish", answer)
    with pytest.raises(SafeHomeError):
        await fake_client.pair("246810")
    assert fake_client.token is None
    assert fake_client.fingerprint is None
