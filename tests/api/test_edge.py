"""Protocol violations and rare paths, against a scripted hub on loopback."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
import logging
import re
from typing import Any

import aiohttp
import pytest

from custom_components.seoul_safehome.api import (
    Device,
    DeviceType,
    Event,
    EventName,
    SafeHomeAuthenticationError,
    SafeHomeClient,
    SafeHomeCommandError,
    SafeHomeConnectionError,
    SafeHomeError,
    SafeHomeEventStream,
    SafeHomePairingClosedError,
    SafeHomeProtocolError,
    SafeHomeRateLimitedError,
    models,
)

from .conftest import Recorder, StreamFactory, wait_until
from .fakehub import FakeHub, FakeWs, event, hub, info, lock, welcome
from .test_client import free_port

# --- REST: answers that break the protocol


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ({"id": "x"}, "missing"),
        (hub(away_mode="yes"), "away_mode"),
        (hub(last_seq=-1), "last_seq"),
        (hub(api_version="one"), "api_version"),
        (hub(name=5), "name"),
    ],
)
async def test_bad_hub_answer(
    fake_hub: FakeHub, fake_client: SafeHomeClient, body: Any, match: str
) -> None:
    fake_hub.json("/hub", body)
    with pytest.raises(SafeHomeProtocolError, match=match):
        await fake_client.hub()


@pytest.mark.parametrize(
    ("device", "match"),
    [
        ({**lock(), "battery": 101}, "battery"),
        ({**lock(), "battery": True}, "battery"),
        ({**lock(), "capabilities": "lock"}, "capabilities"),
        ({**lock(), "capabilities": [1]}, "capabilities"),
        ({**lock(), "state": []}, "state"),
        (lock(lock_state="half"), "lock_state"),
        (lock(lock_state=["locked"]), "lock_state"),
        (lock(auto_lock_delay="2"), "auto_lock_delay"),
        ({**lock(), "online": None}, "online"),
        ({**lock(), "type": 3}, "type"),
        (
            {
                **lock(),
                "type": "emergency_bell",
                "state": {
                    "emergency": True,
                    "emergency_source": "button",
                    "emergency_since": "yesterday",
                    "siren": True,
                },
            },
            "emergency_since",
        ),
        (
            {**lock(), "type": "doorbell", "state": {"motion": False, "camera_on": True}},
            "last_ring",
        ),
    ],
)
async def test_bad_device_answer(
    fake_hub: FakeHub, fake_client: SafeHomeClient, device: dict[str, Any], match: str
) -> None:
    fake_hub.json("/devices/lock-1", device)
    with pytest.raises(SafeHomeProtocolError, match=match):
        await fake_client.device("lock-1")


async def test_lenient_device_parsing(fake_hub: FakeHub, fake_client: SafeHomeClient) -> None:
    fake_hub.json(
        "/devices",
        {
            "devices": [
                {**lock(), "future_field": 1, "capabilities": ["lock", "teleport"]},
                {**lock(), "id": "robot-1", "type": "robot", "state": {"mood": "happy"}},
                {
                    **lock(),
                    "id": "bell-1",
                    "type": "emergency_bell",
                    "battery": None,
                    "state": {
                        "emergency": True,
                        "emergency_source": "voice",
                        "emergency_since": "2026-11-25T14:03:07Z",
                        "siren": True,
                    },
                },
                {
                    **lock(),
                    "id": "doorbell-1",
                    "type": "doorbell",
                    "state": {
                        "motion": False,
                        "camera_on": True,
                        "last_ring": "2026-11-25T14:03:07",
                    },
                },
            ],
            "next": None,
        },
    )
    lock_dev, robot, bell, doorbell = await fake_client.devices()
    assert lock_dev.has("teleport")
    assert "future_field" in lock_dev.raw
    assert robot.type == "robot"
    assert not isinstance(robot.type, DeviceType)
    assert robot.state is None
    assert bell.battery is None
    assert bell.state.emergency_since.tzinfo is not None
    assert doorbell.state.last_ring.tzinfo is not None  # naive times are taken as UTC


async def test_bad_lists_and_other_answers(fake_hub: FakeHub, fake_client: SafeHomeClient) -> None:
    fake_hub.json("/devices", {"devices": {}})
    with pytest.raises(SafeHomeProtocolError, match="devices"):
        await fake_client.devices()
    fake_hub.json("/info", info(api_version=None))
    with pytest.raises(SafeHomeProtocolError):
        await fake_client.info()
    fake_hub.json("/devices/cam-1/stream", {"url": 5, "format": "mpegts", "rtsp_url": None})
    with pytest.raises(SafeHomeProtocolError, match="url"):
        await fake_client.stream_info("cam-1")
    fake_hub.raw("/devices/cam-1/snapshot", b"hello", content_type="text/plain")
    with pytest.raises(SafeHomeProtocolError, match="not an image"):
        await fake_client.snapshot("cam-1")
    fake_hub.raw("/devices/cam-1/snapshot", b"", content_type="image/jpeg")
    with pytest.raises(SafeHomeProtocolError):
        await fake_client.snapshot("cam-1")


async def test_rtsp_stream_info(fake_hub: FakeHub, fake_client: SafeHomeClient) -> None:
    secret = "rtsp://user:pass@10.0.0.5/live"
    fake_hub.json("/devices/cam-1/stream", {"url": None, "format": "mpegts", "rtsp_url": secret})
    stream = await fake_client.stream_info("cam-1")
    assert stream.url is None
    assert stream.rtsp_url == secret
    assert "pass" not in repr(stream)


@pytest.mark.parametrize(
    "answer",
    [
        {"pake": "AAAA"},
        {"session": "s" * 20},
        {"session": "short", "pake": "AAAA"},
        {"session": "bad session with spaces", "pake": "AAAA"},
        {"session": "s" * 20, "pake": "not base64!"},
        {"session": "s" * 20, "pake": 5},
        {"session": "s" * 20, "pake": "AAAA"},  # base64, but no SPAKE2 message
        {"session": "s" * 20, "pake": base64.b64encode(b"A" + b"\0" * 32).decode()},
        [],
    ],
)
async def test_bad_pair_challenge(
    fake_hub: FakeHub, fake_client: SafeHomeClient, answer: Any
) -> None:
    fake_client.token = fake_client.fingerprint = None
    fake_hub.json("/pair/start", answer)
    with pytest.raises(SafeHomeProtocolError):
        await fake_client.pair("123456")
    assert fake_client.token is None
    assert fake_client.fingerprint is None
    assert not any(seen.path.endswith("/pair/finish") for seen in fake_hub.seen)


def error(code: str, message: str = "msg", **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


@pytest.mark.parametrize(
    ("status", "body", "headers", "exc", "code"),
    [
        (401, "", {}, SafeHomeAuthenticationError, "unauthorized"),
        (401, error("invalid_code"), {}, SafeHomeAuthenticationError, "invalid_code"),
        (403, error("pairing_closed"), {}, SafeHomePairingClosedError, "pairing_closed"),
        (403, error("unauthorized"), {}, SafeHomeAuthenticationError, "unauthorized"),
        (429, "", {"Retry-After": "7"}, SafeHomeRateLimitedError, "rate_limited"),
        (500, error("internal", "boom"), {}, SafeHomeConnectionError, "internal"),
        (502, "<html>bad gateway</html>", {}, SafeHomeConnectionError, None),
        (503, error("offline"), {}, SafeHomeConnectionError, "offline"),  # hub-wide
        (409, error("door_open"), {}, SafeHomeCommandError, "door_open"),
        (418, error("teapot"), {}, SafeHomeCommandError, "teapot"),
        (413, error("payload_too_large"), {}, SafeHomeCommandError, "payload_too_large"),
        (404, "", {}, SafeHomeProtocolError, None),
        (404, {"error": "not_found"}, {}, SafeHomeProtocolError, None),
        (302, "", {"Location": "http://example.invalid/"}, SafeHomeProtocolError, None),
    ],
)
async def test_error_mapping(
    fake_hub: FakeHub,
    fake_client: SafeHomeClient,
    status: int,
    body: Any,
    headers: dict[str, str],
    exc: type[SafeHomeError],
    code: str | None,
) -> None:
    fake_hub.json("/hub", body, status=status, **headers)
    with pytest.raises(exc) as err:
        await fake_client.hub()
    assert type(err.value) is exc
    assert err.value.code == code
    assert err.value.status == status


@pytest.mark.parametrize(
    ("body", "headers", "retry_after"),
    [
        (error("rate_limited", retry_after=12.5), {"Retry-After": "13"}, 12.5),
        (error("rate_limited"), {"Retry-After": "30"}, 30.0),
        (error("rate_limited"), {"Retry-After": "soon"}, 60.0),
        (error("rate_limited"), {"Retry-After": "-1"}, 60.0),
        ("", {}, 60.0),
        (error("rate_limited", retry_after="x"), {}, 60.0),
    ],
)
async def test_rate_limited_retry_after(
    fake_hub: FakeHub,
    fake_client: SafeHomeClient,
    body: Any,
    headers: dict[str, str],
    retry_after: float,
) -> None:
    fake_hub.json("/pair/start", body, status=429, **headers)
    with pytest.raises(SafeHomeRateLimitedError) as err:
        await fake_client.pair("123456")
    assert err.value.retry_after == retry_after
    assert isinstance(err.value, SafeHomeAuthenticationError)


async def test_offline_device_vs_hub(fake_hub: FakeHub, fake_client: SafeHomeClient) -> None:
    fake_hub.json("/devices/lock-1", error("offline", "device gone"), status=503)
    fake_hub.json("/devices", error("offline", "hub restarting"), status=503)
    with pytest.raises(SafeHomeCommandError) as err:
        await fake_client.device("lock-1")
    assert err.value.code == "offline"
    with pytest.raises(SafeHomeConnectionError) as conn_err:
        await fake_client.devices()
    assert conn_err.value.code == "offline"
    assert conn_err.value.status == 503


async def test_timeouts(fake_hub: FakeHub, fake_client: SafeHomeClient) -> None:
    fake_hub.stall("/hub")
    fake_hub.stall("/devices/cam-1/mjpeg")
    with pytest.raises(SafeHomeConnectionError, match="Timed out"):
        await fake_client.hub()
    with pytest.raises(SafeHomeConnectionError, match="Timed out"):
        await fake_client.mjpeg("cam-1")


async def test_mjpeg_ok_and_odd_status(fake_hub: FakeHub, fake_client: SafeHomeClient) -> None:
    fake_hub.raw("/devices/cam-1/mjpeg", b"--frame\r\n", content_type="multipart/x-mixed-replace")
    resp = await fake_client.mjpeg("cam-1")
    assert resp.status == 200
    resp.release()
    fake_hub.raw("/devices/cam-1/mjpeg", b"", status=204)
    with pytest.raises(SafeHomeProtocolError):
        await fake_client.mjpeg("cam-1")


@pytest.mark.parametrize(
    ("body", "attempts_left"),
    [
        (error("invalid_code", attempts_left=2), 2),
        (error("invalid_code", attempts_left=0), 0),
        (error("invalid_code"), None),
        (error("invalid_code", attempts_left=-1), None),
        (error("invalid_code", attempts_left=True), None),
        (error("invalid_code", attempts_left="2"), None),
        (error("unauthorized", attempts_left=2), None),  # only a refused code counts down
    ],
)
async def test_attempts_left(
    fake_hub: FakeHub, fake_client: SafeHomeClient, body: Any, attempts_left: int | None
) -> None:
    fake_hub.json("/hub", body, status=401)
    with pytest.raises(SafeHomeAuthenticationError) as err:
        await fake_client.hub()
    assert err.value.attempts_left == attempts_left


def test_urls_and_ids() -> None:
    api = SafeHomeClient("::1", 8765, None, token="secret-token-value")  # type: ignore[arg-type]
    assert api.base_url == "https://[::1]:8765/api/v2"
    assert api.events_url == "wss://[::1]:8765/api/v2/events"
    assert api.request_timeout == 10.0
    assert api.fingerprint is None
    assert "secret-token-value" not in repr(api)
    fingerprint = "AB:" * 31 + "CD"
    api.fingerprint = fingerprint
    assert api.fingerprint == "ab" * 31 + "cd"
    assert api.fingerprint in repr(api)
    for bad in ("ab" * 31, "zz" * 32, "", "ab" * 33):
        with pytest.raises(ValueError, match="fingerprint"):
            api.fingerprint = bad
        with pytest.raises(ValueError, match="fingerprint"):
            SafeHomeClient("::1", 8765, None, fingerprint=bad)  # type: ignore[arg-type]
    assert api.fingerprint == "ab" * 31 + "cd"
    assert api.auth_headers() == {"Authorization": "Bearer secret-token-value"}
    api.token = None
    assert api.auth_headers() == {}


def test_model_helpers(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "_LOGGED_UNKNOWN", set())
    caplog.set_level(logging.INFO)
    with pytest.raises(SafeHomeProtocolError):
        models.parse_timestamp(5)
    with pytest.raises(SafeHomeProtocolError):
        models.parse_timestamp("not a time")
    for old in ("0.9", "1.0", "1.9", "3.0"):
        assert not models.Info.from_dict(info(api_version=old)).api_supported
    assert models.Info.from_dict(info(api_version="2.3")).api_supported
    assert models.Info.from_dict(info(api_version="2.3")).api_version_tuple == (2, 3)
    with pytest.raises(SafeHomeProtocolError, match="JSON object"):
        models.Info.from_dict([])
    for _ in range(3):
        models.log_unknown_once("gadget", "zap")
    assert caplog.text.count("zap") == 1
    device = Device.from_dict(lock())
    assert device.has("lock")
    assert hash(device) == hash(Device.from_dict(lock()))


@pytest.mark.parametrize(
    "frame",
    [
        {"seq": 1},
        event(0),
        event(1, time="noon"),
        event(1, event=""),
        event(1, device_id=5),
        event(1, data=[]),
        event(1, "device_updated", data={}),
        event(1, "device_updated", data={"device": {"id": "x"}}),
        event(1, "hub_updated", data={"hub": hub(boot_id=None)}),
    ],
)
def test_invalid_events(frame: dict[str, Any]) -> None:
    with pytest.raises(SafeHomeProtocolError):
        Event.from_dict(frame)


def test_event_parsing() -> None:
    updated = Event.from_dict(
        event(3, "device_updated", device_id="lock-1", data={"device": lock()})
    )
    assert updated.event is EventName.DEVICE_UPDATED
    assert updated.device is not None
    assert updated.device.id == "lock-1"
    hub_event = Event.from_dict(event(4, "hub_updated", device_id=None, data={"hub": hub()}))
    assert hub_event.hub is not None
    assert hub_event.device_id is None
    odd = Event.from_dict(event(5, "sunrise", data={"x": 1}))
    assert odd.event == "sunrise"
    assert type(odd.event) is str
    assert odd.data == {"x": 1}


# --- event stream: scripted hubs


def script(*frames: Any, then: str = "hold", code: int = 1000) -> Any:
    """A connection that sends `frames` then holds the link, or closes with `code`."""

    async def run(conn: FakeWs) -> None:
        for frame in frames:
            await conn.send(frame)
        if then == "hold":
            await conn.hold()
        else:
            await conn.close(code)

    return run


async def test_gap_and_duplicates(fake_hub: FakeHub, fake_stream: StreamFactory) -> None:
    fake_hub.scripts = [
        script(welcome(last_seq=0), event(1), event(2), event(2), event(1), event(5), event(6))
    ]
    stream, rec = fake_stream()
    await stream.start(boot_id="b-1", since=0)
    await wait_until(lambda: len(rec.events) == 4)
    assert rec.seqs() == [1, 2, 5, 6]
    assert rec.resyncs == 1
    assert rec.log.index(("resync_end", None)) < rec.log.index(("event", 5))
    assert stream.last_seq == 6
    assert fake_hub.subscribes == [{"type": "subscribe", "boot_id": "b-1", "since": 0}]


async def test_hub_resync_frame(fake_hub: FakeHub, fake_stream: StreamFactory) -> None:
    fake_hub.scripts = [
        script(
            welcome(last_seq=50),
            {"type": "resync", "reason": "gap", "last_seq": 50},
            event(51),
        )
    ]
    stream, rec = fake_stream()
    await stream.start(boot_id="b-1", since=10)
    await wait_until(lambda: rec.events)
    # In sync only once the resync's reload is done: not resumed, the state was reloaded.
    assert rec.connected == [False]
    assert rec.log.index(("resync_end", None)) < rec.log.index(("connected", False))
    assert rec.resyncs == 1
    assert rec.seqs() == [51]


async def test_new_boot_without_resync_frame(fake_hub: FakeHub, fake_stream: StreamFactory) -> None:
    fake_hub.scripts = [script(welcome(boot_id="b-2", last_seq=3), event(4), event(5))]
    stream, rec = fake_stream()
    await stream.start(boot_id="b-1", since=900)
    await wait_until(lambda: len(rec.events) == 2)
    assert rec.connected == [False]
    assert rec.resyncs == 1  # done by the client itself
    assert rec.seqs() == [4, 5]
    assert stream.boot_id == "b-2"


async def test_failed_resync_is_retried(fake_hub: FakeHub, fake_stream: StreamFactory) -> None:
    fake_hub.scripts = [
        script(
            welcome(boot_id="b-2", last_seq=3), {"type": "resync", "reason": "boot", "last_seq": 3}
        ),
    ]
    stream, rec = fake_stream()
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise SafeHomeConnectionError("hub busy")

    rec.resync_hook = flaky
    await stream.start(boot_id="b-1", since=7)
    await wait_until(lambda: calls == 2)
    await wait_until(lambda: stream.boot_id == "b-2")
    # The second subscribe still asked from the old position, so the hub resynced again.
    assert fake_hub.subscribes[1] == {"type": "subscribe", "boot_id": "b-1", "since": 7}
    assert stream.last_seq == 3
    # The link whose reload failed never counted as up: the owner heard of one link only,
    # after the reload that succeeded.
    await wait_until(lambda: rec.connected)
    assert rec.connected == [False]
    assert rec.disconnected == []


async def test_callback_errors_do_not_break_the_stream(
    fake_hub: FakeHub, fake_client: SafeHomeClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake_hub.scripts = [script(welcome(), event(1), event(2), event(3), then="close", code=1000)]
    seen: list[int] = []

    async def on_event(ev: Event) -> None:  # async callbacks are awaited
        await asyncio.sleep(0)
        seen.append(ev.seq)
        if ev.seq == 2:
            raise RuntimeError("integration bug")

    def broken(*_args: Any) -> None:
        raise RuntimeError("callback bug")

    stream = SafeHomeEventStream(
        fake_client,
        on_event,
        on_connected=broken,
        on_disconnected=broken,
        backoff_min=0.05,
        backoff_jitter=0,
    )
    try:
        await stream.start()
        await wait_until(lambda: len(seen) >= 3)
        await wait_until(lambda: fake_hub.connections >= 2)
    finally:
        await stream.stop()
    assert seen[:3] == [1, 2, 3]
    assert "Error in the on_event callback" in caplog.text
    assert "Error in the on_connected callback" in caplog.text
    assert "Error in the on_disconnected callback" in caplog.text


@pytest.mark.parametrize(
    ("code", "expected"),
    [(1000, type(None)), (1001, type(None)), (1011, SafeHomeConnectionError)],
)
async def test_close_codes(
    fake_hub: FakeHub, fake_stream: StreamFactory, code: int, expected: type
) -> None:
    fake_hub.scripts = [script(welcome(), then="close", code=code), script(welcome())]
    stream, rec = fake_stream()
    await stream.start()
    await wait_until(lambda: len(rec.connected) == 2)
    assert len(rec.disconnected) == 1
    assert isinstance(rec.disconnected[0], expected)
    assert stream.connected


async def test_close_4001_stops(fake_hub: FakeHub, fake_stream: StreamFactory) -> None:
    fake_hub.scripts = [script(welcome(), then="close", code=4001)]
    stream, rec = fake_stream()
    await stream.start()
    await wait_until(lambda: not stream.running)
    assert isinstance(rec.disconnected[0], SafeHomeAuthenticationError)
    assert fake_hub.connections == 1


async def test_handshake_refusals(fake_hub: FakeHub, fake_stream: StreamFactory) -> None:
    fake_hub.ws_status = [503, 500, 401]
    stream, rec = fake_stream()
    await stream.start()
    await wait_until(lambda: not stream.running)
    assert fake_hub.connections == 3
    assert len(rec.disconnected) == 1  # only the final authentication failure
    assert isinstance(rec.disconnected[0], SafeHomeAuthenticationError)


async def test_upgrade_timeout(fake_hub: FakeHub, fake_stream: StreamFactory) -> None:
    fake_hub.ws_stalls = 1
    fake_hub.scripts = [script(welcome())]
    stream, rec = fake_stream(handshake_timeout=0.1)
    await stream.start()
    await wait_until(lambda: stream.connected)
    assert fake_hub.connections == 2
    assert rec.disconnected == []


async def test_missing_or_bad_welcome(
    fake_hub: FakeHub, fake_stream: StreamFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_hub.scripts = [
        script(),  # no welcome at all
        script(welcome(heartbeat_interval=0)),  # malformed welcome
        script(event(1), welcome(), event(1)),  # an event before the welcome is skipped
    ]
    stream, rec = fake_stream(handshake_timeout=0.2)
    await stream.start()
    await wait_until(lambda: rec.events, timeout=5.0)
    assert rec.connected == [False]
    assert rec.seqs() == [1]
    assert rec.disconnected == []  # never welcomed: nothing to report
    assert "No welcome" in caplog.text
    assert "welcome is malformed" in caplog.text


async def test_odd_frames_are_skipped(
    fake_hub: FakeHub,
    fake_stream: StreamFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(models, "_LOGGED_UNKNOWN", set())

    async def run(conn: FakeWs) -> None:
        await conn.send({"type": "resync", "reason": "gap", "last_seq": 0})  # before welcome
        await conn.send(welcome())
        for frame in (
            welcome(),
            {"type": "resync", "reason": "gap"},
            {"no": "type"},
            [1, 2],
            "{broken",
            {"type": "heartbeat", "last_seq": 0, "time": "2026-11-25T14:03:07Z"},
            {"type": "pong"},
            {"type": "error", "code": "bad_request", "message": "what?"},
            {"type": "teleport"},
            {"type": "teleport"},
            "x" * 70_000,
            "é" * 30_000,
            event(1, "sunrise"),
            event(2),
        ):
            await conn.send(frame)
        await conn.ws.send_bytes(b"\x00\x01")
        await conn.send(event(3))
        await conn.hold()

    fake_hub.scripts = [run]
    stream, rec = fake_stream()
    await stream.start()
    await wait_until(lambda: len(rec.events) == 3)
    assert rec.seqs() == [1, 2, 3]
    assert rec.events[0].event == "sunrise"
    assert stream.connected
    assert rec.disconnected == []
    assert stream.skipped_frames == 11
    assert caplog.text.count("teleport") == 1
    assert "what?" in caplog.text


async def test_invalid_utf8_frame_drops_the_link(
    fake_hub: FakeHub, fake_stream: StreamFactory
) -> None:
    async def run(conn: FakeWs) -> None:
        await conn.send(welcome())
        await conn.ws.send_frame(b"\xff\xfe", aiohttp.WSMsgType.TEXT)
        await conn.hold()

    fake_hub.scripts = [run, script(welcome())]
    stream, rec = fake_stream()
    await stream.start()
    await wait_until(lambda: len(rec.connected) == 2)
    assert isinstance(rec.disconnected[0], SafeHomeConnectionError)


async def test_backoff(
    fake_hub: FakeHub, fake_stream: StreamFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.seoul_safehome.api")
    fake_hub.ws_status = [503] * 5
    fake_hub.scripts = [script(welcome(), then="close", code=1011), script(welcome())]
    stream, rec = fake_stream(backoff_min=0.01, backoff_max=0.04)
    await stream.start()
    await wait_until(lambda: len(rec.connected) == 2)
    waits = re.findall(r"Reconnecting the SafeHome event stream in ([\d.]+) s", caplog.text)
    # Doubling to the cap while refused, back to the minimum after a welcome.
    assert waits == ["0.010", "0.020", "0.040", "0.040", "0.040", "0.010"]


async def test_backoff_jitter(
    fake_hub: FakeHub, fake_stream: StreamFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.seoul_safehome.api")
    fake_hub.ws_status = [503] * 20
    fake_hub.scripts = [script(welcome())]
    stream, rec = fake_stream(backoff_min=0.01, backoff_max=0.01, backoff_jitter=0.2)
    await stream.start()
    await wait_until(lambda: rec.connected, timeout=5.0)
    waits = [float(w) for w in re.findall(r"stream in ([\d.]+) s", caplog.text)]
    assert len(waits) == 20
    assert all(0.008 <= w <= 0.012 for w in waits)
    assert len(set(waits)) > 1


async def test_ping_paths(fake_hub: FakeHub, fake_stream: StreamFactory) -> None:
    async def pong_then_silence(conn: FakeWs) -> None:
        await conn.send(welcome())
        async for msg in conn.ws:
            fake_hub.received.append(msg.data)
            if len(fake_hub.received) == 2:  # subscribe, first ping
                await conn.send({"type": "pong"})

    fake_hub.scripts = [pong_then_silence]
    stream, _ = fake_stream()
    await stream.start()
    await wait_until(lambda: stream.connected)
    assert await stream.ping() >= 0
    with pytest.raises(SafeHomeConnectionError, match="No pong"):
        await stream.ping()  # fake_client's request timeout is 0.3 s

    pending = asyncio.ensure_future(stream.ping())
    await wait_until(lambda: len(fake_hub.received) == 4)
    await stream.stop()  # fails the waiting ping
    with pytest.raises(SafeHomeConnectionError):
        await pending


async def test_ping_send_failure(
    fake_hub: FakeHub, fake_stream: StreamFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_hub.scripts = [script(welcome())]
    stream, _ = fake_stream()
    await stream.start()
    await wait_until(lambda: stream.connected)

    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise aiohttp.ClientConnectionResetError("gone")

    monkeypatch.setattr(aiohttp.ClientWebSocketResponse, "send_str", broken)
    with pytest.raises(SafeHomeConnectionError, match="Cannot send"):
        await stream.ping()


async def test_unexpected_error_reconnects(
    fake_hub: FakeHub, fake_stream: StreamFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_hub.scripts = [script(welcome(), event(1)), script(welcome(), event(1))]
    stream, rec = fake_stream()
    original = Event.from_dict
    calls = 0

    def buggy(data: Any) -> Event:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("bug")
        return original(data)

    monkeypatch.setattr(Event, "from_dict", buggy)
    await stream.start()
    await wait_until(lambda: rec.events)
    assert len(rec.connected) == 2
    assert isinstance(rec.disconnected[0], SafeHomeError)


async def test_stop_from_on_resync(fake_hub: FakeHub, fake_client: SafeHomeClient) -> None:
    fake_hub.scripts = [script(welcome(), {"type": "resync", "reason": "gap", "last_seq": 0})]
    stopped = asyncio.Event()

    async def on_resync() -> None:
        await stream.stop()
        stopped.set()
        await asyncio.sleep(1)  # cancelled: stop() cancelled this very task

    stream = SafeHomeEventStream(fake_client, Recorder().on_event, on_resync=on_resync)
    await stream.start()
    await asyncio.wait_for(stopped.wait(), 5)
    await wait_until(lambda: not stream.running)
    assert not stream.connected


async def test_connection_refused_keeps_retrying(socket_enabled: None) -> None:
    async with aiohttp.ClientSession() as session:
        api = SafeHomeClient(
            "127.0.0.1", free_port(), session, token="t" * 40, fingerprint="ab" * 32
        )
        rec = Recorder()
        stream = SafeHomeEventStream(
            api,
            rec.on_event,
            on_disconnected=rec.on_disconnected,
            backoff_min=0.01,
            backoff_max=0.02,
        )
        await stream.start(boot_id="b-1", since=4)
        await asyncio.sleep(0.1)
        assert stream.running
        assert not stream.connected
        assert rec.disconnected == []
        assert stream.last_seq == 4
        await stream.stop()
        assert not stream.running


async def test_start_validates_since(fake_stream: StreamFactory) -> None:
    stream, _ = fake_stream()
    with pytest.raises(ValueError, match="since"):
        await stream.start(since=-1)
    with pytest.raises(ValueError, match="since"):
        await stream.start(since=True)  # type: ignore[arg-type]
    assert not stream.running


async def test_new_boot_replayed_after_its_resync(
    fake_hub: FakeHub, fake_stream: StreamFactory
) -> None:
    """After a reboot the hub resyncs to the new boot's start and replays it: none lost."""
    fake_hub.scripts = [
        script(
            welcome(boot_id="b-2", last_seq=2),
            {"type": "resync", "reason": "boot", "last_seq": 0},
            event(1),
            event(2),
            event(3),
        )
    ]
    stream, rec = fake_stream()
    await stream.start(boot_id="b-1", since=40)
    await wait_until(lambda: len(rec.events) == 3)
    assert rec.seqs() == [1, 2, 3]
    assert rec.resyncs == 1
    # In sync (and so "connected") only once the replay reached the welcome's last_seq.
    log = rec.log
    assert log.index(("resync_end", None)) < log.index(("event", 1))
    assert log.index(("event", 2)) < log.index(("connected", True)) < log.index(("event", 3))
    assert stream.boot_id == "b-2"


async def test_an_unreadable_last_event_does_not_hold_the_link_down(
    fake_hub: FakeHub, fake_stream: StreamFactory
) -> None:
    """The last replayed event cannot be read: the next heartbeat brings a reload.

    Without it the stream would wait for the next event (hours, in a quiet home) before
    counting as in sync, and every entity would stay unavailable meanwhile.
    """
    broken = event(4)
    del broken["time"]
    fake_hub.scripts = [
        script(
            welcome(last_seq=4),
            event(3),
            broken,
            {"type": "heartbeat", "last_seq": 4, "time": "2026-11-30T10:00:00.000Z"},
        )
    ]
    stream, rec = fake_stream()
    await stream.start(boot_id="b-1", since=2)
    await wait_until(lambda: rec.connected)
    assert rec.seqs() == [3]
    assert rec.resyncs == 1
    assert stream.last_seq == 4


async def test_the_hubs_clock_offset_comes_from_its_heartbeats(
    fake_hub: FakeHub, fake_stream: StreamFactory
) -> None:
    """A hub whose clock runs 5 minutes fast: the stream measures it from a heartbeat."""
    ahead = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    fake_hub.scripts = [
        script(welcome(last_seq=0), {"type": "heartbeat", "last_seq": 0, "time": ahead})
    ]
    stream, rec = fake_stream()
    assert stream.clock_offset == timedelta(0)
    await stream.start(boot_id="b-1", since=0)
    await wait_until(lambda: stream.clock_offset > timedelta(minutes=4))
    assert stream.clock_offset < timedelta(minutes=5, seconds=1)
    assert rec.resyncs == 0
