"""The WebSocket event stream: handshake, replay, resync, heartbeats and bad input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import json
import time

import aiohttp
import pytest

from safehome_emulator import Emulator
from tests.conftest import Control
from tests.schema import assert_valid, is_valid

from .conftest import MakeEmulator, paired
from .helpers import HubClient, wait_for


async def test_welcome(client: HubClient, emulator: Emulator) -> None:
    stream = await client.connect()
    welcome = dict(stream.welcome)
    sent_at = datetime.fromisoformat(welcome.pop("time"))
    assert welcome == {
        "type": "welcome",
        "hub_id": "shub-demo01",
        "api_version": "2.0",
        "boot_id": emulator.hub.boot_id,
        "last_seq": 0,
        "heartbeat_interval": 10.0,
    }
    assert abs(sent_at - datetime.now(UTC)) < timedelta(seconds=2)  # the hub's clock
    await stream.close()


async def test_welcome_is_stamped_when_it_is_sent(client: HubClient, control: Control) -> None:
    """A stream held back (paused) sends its welcome later: stamped then, not when queued."""
    await control.post("/stream/pause", {"seconds": 1.5})
    stream = await client.connect()
    received = datetime.now(UTC)
    sent_at = datetime.fromisoformat(stream.welcome["time"])
    assert abs(sent_at - received) < timedelta(seconds=0.5)
    await stream.close()


async def test_live_events_and_several_clients(client: HubClient, control: Control) -> None:
    first = await client.connect()
    second = await client.connect()
    await control.post("/devices/doorbell-1/ring")
    for stream in (first, second):
        ring = await stream.event("doorbell_ring", "doorbell-1")
        assert ring["seq"] == 1
        assert (await stream.event("device_updated"))["seq"] == 2
    assert (await client.hub())["last_seq"] == 2
    await first.close()
    await second.close()


async def test_only_live_events_without_since(client: HubClient, control: Control) -> None:
    await control.post("/devices/doorbell-1/ring")
    stream = await client.connect()
    assert stream.welcome is not None
    assert stream.welcome["last_seq"] == 2
    await stream.quiet(0.05)
    await control.post("/devices/bell-1/press")
    assert (await stream.event("emergency_triggered"))["seq"] == 3
    await stream.close()


async def test_replay_after_reconnect(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    await control.post("/devices/doorbell-1/ring")
    await stream.event("doorbell_ring")
    boot_id, seen = stream.welcome["boot_id"], stream.last_seq  # type: ignore[index]
    await stream.close()
    # Missed while away: motion on, motion off, a ring.
    await control.post("/devices/cam-1/motion", {"active": True})
    await control.post("/devices/cam-1/motion", {"active": False})
    await control.post("/devices/doorbell-1/ring")
    stream = await client.connect(since=seen, boot_id=boot_id)
    assert seen == 1
    replayed = [await stream.event() for _ in range(6)]
    assert [e["seq"] for e in replayed] == [2, 3, 4, 5, 6, 7]
    assert [e["event"] for e in replayed] == [
        "device_updated",
        "motion_detected",
        "device_updated",
        "device_updated",
        "doorbell_ring",
        "device_updated",
    ]
    # Then live events.
    await control.post("/devices/bell-1/press")
    assert (await stream.event("emergency_triggered"))["seq"] == 8
    await stream.close()
    # Resuming at the newest event replays nothing.
    stream = await client.connect(since=9, boot_id=boot_id)
    await stream.quiet(0.05)
    await stream.close()


async def test_resync_on_a_gap(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    boot_id = stream.welcome["boot_id"]  # type: ignore[index]
    await stream.close()
    await control.post("/devices/doorbell-1/ring")
    await control.post("/buffer/clear")
    await control.post("/devices/doorbell-1/ring")
    stream = await client.connect(since=0, boot_id=boot_id)
    resync = await stream.expect("resync")
    assert resync == {"type": "resync", "reason": "gap", "last_seq": 4}
    await control.post("/devices/bell-1/press")
    assert (await stream.event("emergency_triggered"))["seq"] == 5
    await stream.close()
    # A client that claims to be ahead of the hub must resync too.
    stream = await client.connect(since=99, boot_id=boot_id)
    assert (await stream.expect("resync"))["reason"] == "gap"
    await stream.close()


async def test_resync_when_the_buffer_overflowed(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    _, client, control = await paired(make_emulator, session, replay_buffer=4)
    stream = await client.connect()
    boot_id = stream.welcome["boot_id"]  # type: ignore[index]
    await stream.close()
    for _ in range(3):
        await control.post("/devices/doorbell-1/ring")  # 6 events, 4 kept
    stream = await client.connect(since=1, boot_id=boot_id)
    assert (await stream.expect("resync"))["reason"] == "gap"
    await stream.close()
    stream = await client.connect(since=2, boot_id=boot_id)
    assert [(await stream.event())["seq"] for _ in range(4)] == [3, 4, 5, 6]
    await stream.close()


@pytest.mark.parametrize("boot_id", ["b-000000", None])
async def test_resync_on_another_boot(
    client: HubClient, control: Control, boot_id: str | None
) -> None:
    await control.post("/devices/doorbell-1/ring")
    stream = await client.connect(since=1, boot_id=boot_id)
    # The whole new boot is still buffered: resync to its start, then replay it (nothing
    # that happened since the reboot is lost).
    assert await stream.expect("resync") == {"type": "resync", "reason": "boot", "last_seq": 0}
    assert [(await stream.event())["seq"] for _ in range(2)] == [1, 2]
    await stream.close()


async def test_resync_on_another_boot_beyond_the_buffer(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    _, client, control = await paired(make_emulator, session, replay_buffer=4)
    for _ in range(3):
        await control.post("/devices/doorbell-1/ring")  # 6 events, 4 kept
    stream = await client.connect(since=1, boot_id="b-000000")
    assert await stream.expect("resync") == {"type": "resync", "reason": "boot", "last_seq": 6}
    await stream.close()


async def test_heartbeat(make_emulator: MakeEmulator, session: aiohttp.ClientSession) -> None:
    _, client, control = await paired(make_emulator, session, heartbeat=0.1)
    stream = await client.connect()
    assert stream.welcome["heartbeat_interval"] == 0.1  # type: ignore[index]
    start = time.monotonic()
    beat = await stream.expect("heartbeat", timeout=1)
    assert beat["last_seq"] == 0
    assert 0.05 < time.monotonic() - start < 0.5
    await control.post("/devices/doorbell-1/ring")
    await stream.until(lambda e: e["event"] == "device_updated")
    beat = await stream.expect("heartbeat", timeout=1)
    assert beat["last_seq"] == 2
    # Heartbeats keep coming while events flow.
    await control.post("/flood", {"count": 40, "rate": 100})
    kinds = []
    while len([k for k in kinds if k == "event"]) < 40:
        kinds.append((await stream.receive())["type"])
    assert "heartbeat" in kinds
    await stream.close()


async def test_no_heartbeat_before_subscribing(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    _, client, _ = await paired(make_emulator, session, heartbeat=0.05)
    stream = await client.connect(subscribe=False)
    with pytest.raises(TimeoutError):
        await stream.receive(timeout=0.2)
    await stream.send({"type": "ping"})
    assert await stream.expect("pong") == {"type": "pong"}
    await stream.close()


async def test_ping_pong(client: HubClient) -> None:
    stream = await client.connect()
    message = {"type": "ping"}
    assert_valid("Ping", message)
    assert_valid("ClientMessage", message)
    await stream.send(message)
    assert await stream.expect("pong") == {"type": "pong"}
    await stream.close()


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        '"subscribe"',
        "{}",
        '{"type": "dance"}',
        '{"type": 5}',
        '{"type": "subscribe", "since": -1}',
        '{"type": "subscribe", "since": "5"}',
        '{"type": "subscribe", "since": true}',
        '{"type": "subscribe", "boot_id": 7}',
        '{"type": "subscribe", "boot_id": ""}',
        '{"type": "subscribe", "since": NaN}',
        '{"type": "ping", "pad": "' + "x" * (64 * 1024) + '"}',
        b"\x00\x01binary",
    ],
)
async def test_malformed_frames_get_errors_and_keep_the_connection(
    client: HubClient, control: Control, frame: str | bytes
) -> None:
    stream = await client.connect(subscribe=False)
    if isinstance(frame, bytes):
        await stream.ws.send_bytes(frame)
    else:
        await stream.ws.send_str(frame)
    error = await stream.expect("error")
    assert error["code"] == "bad_request"
    assert error["message"]
    # Still usable: subscribe, then get events.
    await stream.subscribe()
    await control.post("/devices/doorbell-1/ring")
    await stream.event("doorbell_ring")
    await stream.close()


async def test_subscribing_twice(client: HubClient) -> None:
    stream = await client.connect()
    await stream.send({"type": "subscribe"})
    assert (await stream.expect("error"))["message"] == "already subscribed"
    await stream.close()


async def test_stream_needs_a_websocket(client: HubClient) -> None:
    await client.error("GET", "/events", 400, "bad_request")


async def test_revocation_closes_streams_with_4001(client: HubClient, control: Control) -> None:
    subscribed = await client.connect()
    waiting = await client.connect(subscribe=False)
    result = await control.post("/tokens/revoke")
    assert result["streams"] == 2
    for stream in (subscribed, waiting):
        msg = await stream.raw()
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert stream.ws.close_code == 4001
    # Reconnecting with the revoked token is refused before the upgrade.
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await client.connect()
    assert err.value.status == 401


async def test_drop_closes_streams_without_a_close_frame(
    client: HubClient, control: Control
) -> None:
    stream = await client.connect()
    assert (await control.post("/stream/drop"))["streams"] == 1
    msg = await stream.raw()
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert stream.ws.close_code != 1000
    # The hub itself is fine: reconnect and resume.
    seen = stream.last_seq
    await control.post("/devices/doorbell-1/ring")
    stream = await client.connect(since=seen, boot_id=stream.welcome["boot_id"])  # type: ignore[index]
    await stream.event("doorbell_ring")
    await stream.close()


async def test_garbage_frames(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    for kind in ("not_json", "unknown_type", "missing_fields", "oversized", "binary"):
        assert (await control.post("/stream/garbage", {"kind": kind}))["streams"] == 1
        msg = await stream.raw()
        if kind == "binary":
            assert msg.type is aiohttp.WSMsgType.BINARY
            continue
        assert msg.type is aiohttp.WSMsgType.TEXT
        if kind == "not_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(msg.data)
            continue
        message = json.loads(msg.data)
        assert not is_valid("HubMessage", message)
        if kind == "oversized":
            assert len(msg.data.encode()) > 64 * 1024
    # An unknown event is a real, numbered event from a newer hub.
    await control.post("/stream/garbage", {"kind": "unknown_event"})
    event = await stream.event("x_future_event")
    assert event["seq"] == 1
    assert event["device_id"] is None
    await control.post("/devices/doorbell-1/ring")
    assert (await stream.event("doorbell_ring"))["seq"] == 2
    await stream.close()


async def test_garbage_with_an_unknown_kind(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    async with session.post(
        f"{emulator.control_url}/control/stream/garbage", json={"kind": "confetti"}
    ) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert_valid("Error", body)
    assert body["error"]["code"] == "invalid_params"


async def test_pause(make_emulator: MakeEmulator, session: aiohttp.ClientSession) -> None:
    _, client, control = await paired(make_emulator, session, heartbeat=0.05)
    stream = await client.connect()
    await stream.expect("heartbeat")
    await control.post("/stream/pause", {"seconds": 0.3})
    start = time.monotonic()
    await control.post("/devices/doorbell-1/ring")
    # Nothing at all (not even heartbeats) until the pause ends; then nothing is lost.
    ring = await stream.event("doorbell_ring")
    assert time.monotonic() - start >= 0.2
    assert ring["seq"] == 1
    await stream.event("device_updated")
    await stream.expect("heartbeat")
    # A pause can be cut short by a shorter one.
    await control.post("/stream/pause", {"seconds": 100})
    await control.post("/stream/pause", {"seconds": 0})
    await stream.expect("heartbeat")
    await stream.close()


async def test_flood_without_loss(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    start = time.monotonic()
    result = await control.post("/flood", {"count": 1500, "rate": 1000})
    assert result == {"ok": True, "count": 1500, "rate": 1000, "devices": ["cam-1"]}
    events = [await stream.event("motion_detected", "cam-1") for _ in range(1500)]
    elapsed = time.monotonic() - start
    assert [e["seq"] for e in events] == list(range(1, 1501))
    # Paced at the requested rate (a lower bound only: speed is measured in bench/).
    assert elapsed >= 1.3
    await stream.close()


async def test_flood_as_fast_as_possible_replays(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    boot_id = stream.welcome["boot_id"]  # type: ignore[index]
    await control.post("/flood", {"count": 3000, "rate": 0})
    for _ in range(1000):
        await stream.event("motion_detected")
    await stream.close()
    await wait_for(lambda: _last_seq(client, 3000))
    stream = await client.connect(since=1000, boot_id=boot_id)
    for seq in range(1001, 3001):
        assert (await stream.event("motion_detected"))["seq"] == seq
    await stream.close()


async def _last_seq(client: HubClient, seq: int) -> bool:
    return (await client.hub())["last_seq"] == seq


async def test_flood_targets(make_emulator: MakeEmulator, session: aiohttp.ClientSession) -> None:
    devices = [
        {"id": "db-1", "type": "doorbell"},
        {"id": "db-2", "type": "doorbell"},
        {"id": "lock-1", "type": "door_lock"},
    ]
    emulator, client, control = await paired(make_emulator, session, devices=devices)
    stream = await client.connect()
    assert (await control.post("/flood", {"count": 4}))["devices"] == ["db-1", "db-2"]
    assert [(await stream.event())["device_id"] for _ in range(4)] == [
        "db-1",
        "db-2",
        "db-1",
        "db-2",
    ]
    await stream.close()
    for body in ({"count": 0}, {"count": 5, "rate": -1}, {}):
        async with session.post(f"{emulator.control_url}/control/flood", json=body) as resp:
            assert resp.status == 400


async def test_flood_needs_a_camera(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator, _, _ = await paired(
        make_emulator, session, devices=[{"id": "lock-1", "type": "door_lock"}]
    )
    async with session.post(f"{emulator.control_url}/control/flood", json={"count": 1}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "unsupported"


async def test_a_client_that_falls_behind_is_dropped(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    _, client, control = await paired(make_emulator, session, replay_buffer=16)
    stream = await client.connect()
    await control.post("/stream/pause", {"seconds": 5})
    await control.post("/flood", {"count": 5000, "rate": 0})
    msg = await stream.raw(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    await control.post("/stream/pause", {"seconds": 0})


async def test_flood_is_stopped_with_the_emulator(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator, _, control = await paired(make_emulator, session)
    await control.post("/flood", {"count": 100000, "rate": 10})
    await emulator.stop()
    assert emulator.hub.seq < 10


async def test_stopping_closes_streams(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator, client, _ = await paired(make_emulator, session)
    stream = await client.connect()
    reader = asyncio.create_task(stream.raw())
    start = time.monotonic()
    await asyncio.wait_for(emulator.stop(), 5)
    assert time.monotonic() - start < 1  # the client answered the close frame
    msg = await reader
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert msg.data == 1001
    assert stream.ws.close_code == 1001


async def test_stopping_does_not_wait_for_silent_clients(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator, client, _ = await paired(make_emulator, session)
    stream = await client.connect()  # never reads, so never answers the close frame
    await asyncio.wait_for(emulator.stop(), 5)
    msg = await stream.raw()
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert msg.data == 1001
