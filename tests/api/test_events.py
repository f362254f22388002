"""The event stream against the running emulator: events, resume, resync, faults."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from custom_components.seoul_safehome.api import (
    DeviceType,
    EmergencySource,
    EventName,
    Hub,
    LockActivity,
    LockState,
    SafeHomeAuthenticationError,
    SafeHomeClient,
    SafeHomeConnectionError,
    SafeHomeEventStream,
    SafeHomeIdentityError,
)

from .conftest import Capture, Recorder, wait_until
from .tls import make_certificate


async def started(
    make_stream: Any, client: SafeHomeClient, **kwargs: Any
) -> tuple[SafeHomeEventStream, Recorder, Hub]:
    """Start a stream right after the state loaded by REST and wait for its welcome."""
    stream, rec = make_stream(**kwargs)
    hub = await client.hub()
    await stream.start(boot_id=hub.boot_id, since=hub.last_seq)
    await wait_until(lambda: stream.connected)
    return stream, rec, hub


def assert_in_order(rec: Recorder, first: int) -> None:
    """Events arrived exactly once each, consecutively from `first`."""
    assert rec.seqs() == list(range(first, first + len(rec.events)))


async def test_connect_and_state(make_stream: Any, client: SafeHomeClient) -> None:
    assert client.events_url.startswith("wss://")
    stream, rec, hub = await started(make_stream, client)
    assert rec.connected == [True]  # same boot, resumed from the REST state
    assert stream.running
    assert stream.boot_id == hub.boot_id
    assert stream.last_seq == hub.last_seq
    assert stream.hub_id == hub.id
    assert stream.api_version == hub.api_version
    assert stream.heartbeat_interval is not None
    assert stream.watchdog_timeout == 2 * stream.heartbeat_interval + 5
    assert client.token not in repr(stream)
    await stream.start()  # already running: no-op
    await stream.stop()
    assert not stream.connected
    assert not stream.running
    await stream.stop()  # idempotent
    assert rec.disconnected == []  # stop() does not report a disconnection


async def test_live_only_start(make_stream: Any, client: SafeHomeClient, control: Any) -> None:
    stream, rec = make_stream()
    await stream.start()
    await wait_until(lambda: stream.connected)
    assert rec.connected == [False]
    hub = await client.hub()
    assert stream.boot_id == hub.boot_id
    assert stream.last_seq == hub.last_seq
    await control.post("/devices/doorbell-1/ring")
    await wait_until(lambda: rec.named(EventName.DOORBELL_RING))
    assert_in_order(rec, hub.last_seq + 1)


async def test_every_event_type(make_stream: Any, client: SafeHomeClient, control: Any) -> None:
    stream, rec, hub = await started(make_stream, client)

    await control.post("/devices/doorbell-1/ring")
    await wait_until(lambda: rec.named(EventName.DOORBELL_RING))
    ring = rec.named(EventName.DOORBELL_RING)[0]
    assert ring.device_id == "doorbell-1"
    assert ring.device is None
    assert ring.time.tzinfo is not None

    await control.post("/devices/cam-1/motion", {"active": True})
    await wait_until(lambda: rec.named(EventName.MOTION_DETECTED))
    assert rec.named(EventName.MOTION_DETECTED)[0].device_id == "cam-1"
    await wait_until(
        lambda: any(
            e.device is not None and e.device.id == "cam-1" and e.device.state.motion
            for e in rec.named(EventName.DEVICE_UPDATED)
        )
    )

    await control.post("/devices/lock-1/activity", {"activity": "keypad", "user": "resident"})
    await wait_until(lambda: rec.named(EventName.LOCK_ACTIVITY))
    activity = rec.named(EventName.LOCK_ACTIVITY)[0]
    assert activity.device_id == "lock-1"
    assert activity.data == {"activity": "keypad", "user": "resident"}
    assert LockActivity(activity.data["activity"]) is LockActivity.KEYPAD

    await control.post("/devices/lock-1/door", {"state": "open"})
    await wait_until(
        lambda: any(
            e.device is not None and e.device.id == "lock-1" and e.device.state.door == "open"
            for e in rec.named(EventName.DEVICE_UPDATED)
        )
    )

    await control.post("/devices/bell-1/press")
    await wait_until(lambda: rec.named(EventName.EMERGENCY_TRIGGERED))
    triggered = rec.named(EventName.EMERGENCY_TRIGGERED)[0]
    assert triggered.device_id == "bell-1"
    assert triggered.data["source"] == EmergencySource.BUTTON
    await control.post("/devices/bell-1/press")
    await wait_until(lambda: rec.named(EventName.EMERGENCY_CANCELLED))
    assert rec.named(EventName.EMERGENCY_CANCELLED)[0].data["source"] == "button"

    await control.post("/devices/bell-1/say", {"text": "누가 좀 사람 살려"})
    await wait_until(lambda: len(rec.named(EventName.EMERGENCY_TRIGGERED)) == 2)
    voice = rec.named(EventName.EMERGENCY_TRIGGERED)[1]
    assert voice.data["source"] == "voice"
    assert voice.data["keyword"]
    await client.cancel_emergency("bell-1")
    await wait_until(lambda: len(rec.named(EventName.EMERGENCY_CANCELLED)) == 2)

    await client.set_away_mode(True)
    await wait_until(lambda: rec.named(EventName.HUB_UPDATED))
    hub_event = rec.named(EventName.HUB_UPDATED)[0]
    assert hub_event.device_id is None
    assert hub_event.hub is not None
    assert hub_event.hub.away_mode is True

    await control.post("/devices/doorbell-1/battery", {"level": 42})
    await wait_until(
        lambda: any(
            e.device is not None and e.device.id == "doorbell-1" and e.device.battery == 42
            for e in rec.named(EventName.DEVICE_UPDATED)
        )
    )

    await control.post("/devices", {"id": "cam-2", "type": "camera", "name": "Back room camera"})
    await wait_until(lambda: rec.named(EventName.DEVICE_ADDED))
    added = rec.named(EventName.DEVICE_ADDED)[0]
    assert added.device is not None
    assert added.device.id == "cam-2"
    assert added.device.type is DeviceType.CAMERA

    await control.request("DELETE", "/devices/cam-2")
    await wait_until(lambda: rec.named(EventName.DEVICE_REMOVED))
    assert rec.named(EventName.DEVICE_REMOVED)[0].device_id == "cam-2"

    # The district options (API 2.1): a window lock and a personal alarm.
    await control.post("/devices", {"id": "window-1", "type": "window_lock", "name": "Window"})
    await control.post("/devices/window-1/window", {"state": "open"})
    await wait_until(lambda: rec.named(EventName.WINDOW_ACTIVITY))
    await control.post("/devices", {"id": "alarm-1", "type": "personal_alarm", "name": "Alarm"})
    await control.post("/devices/alarm-1/press")
    await wait_until(lambda: rec.named(EventName.PERSONAL_ALARM))

    assert {e.event for e in rec.events} == set(EventName)
    assert_in_order(rec, hub.last_seq + 1)
    assert stream.last_seq == rec.events[-1].seq
    assert rec.resyncs == 0
    assert rec.disconnected == []


async def test_command_progress_arrives_as_events(make_stream: Any, client: SafeHomeClient) -> None:
    _, rec, _ = await started(make_stream, client)
    await client.unlock("lock-1")

    def states() -> list[LockState]:
        return [
            e.device.state.lock_state
            for e in rec.named(EventName.DEVICE_UPDATED)
            if e.device is not None and e.device.id == "lock-1"
        ]

    await wait_until(lambda: LockState.UNLOCKED in states())
    assert states()[-2:] == [LockState.UNLOCKING, LockState.UNLOCKED]


async def test_resume_after_drop(make_stream: Any, client: SafeHomeClient, control: Any) -> None:
    # A long enough first backoff that events are raised while the link is down.
    stream, rec, hub = await started(make_stream, client, backoff_min=0.5)
    await control.post("/devices/doorbell-1/ring")
    await wait_until(lambda: len(rec.named(EventName.DOORBELL_RING)) == 1)

    await control.post("/stream/drop")
    await wait_until(lambda: len(rec.disconnected) == 1)
    assert isinstance(rec.disconnected[0], SafeHomeConnectionError | type(None))
    assert not stream.connected
    for _ in range(3):
        await control.post("/devices/doorbell-1/ring")
    await control.post("/devices/cam-1/motion", {"active": True})

    await wait_until(lambda: len(rec.connected) == 2)
    assert rec.connected == [True, True]
    await wait_until(lambda: len(rec.named(EventName.DOORBELL_RING)) == 4)
    await wait_until(lambda: rec.named(EventName.MOTION_DETECTED))
    await control.post("/devices/doorbell-1/ring")  # live again
    await wait_until(lambda: len(rec.named(EventName.DOORBELL_RING)) == 5)
    assert_in_order(rec, hub.last_seq + 1)
    assert rec.resyncs == 0
    assert stream.last_seq == (await client.hub()).last_seq


async def test_repeated_drops_lose_nothing(
    make_stream: Any, client: SafeHomeClient, control: Any
) -> None:
    stream, rec, hub = await started(make_stream, client)
    for round_ in range(1, 4):
        await control.post("/devices/doorbell-1/ring")
        await control.post("/stream/drop")
        await control.post("/devices/doorbell-1/ring")
        await wait_until(lambda r=round_: len(rec.named(EventName.DOORBELL_RING)) == 2 * r)
        await wait_until(lambda r=round_: len(rec.connected) == r + 1)
    assert_in_order(rec, hub.last_seq + 1)
    assert rec.resyncs == 0
    assert stream.connected


async def test_resync_after_buffer_cleared(
    make_stream: Any, client: SafeHomeClient, control: Any
) -> None:
    stream, rec, hub = await started(make_stream, client, backoff_min=0.5)

    async def reload() -> None:
        # While the owner reloads, nothing else may be processed.
        await control.post("/devices/doorbell-1/ring")
        await asyncio.sleep(0.05)
        assert rec.log[-1] == ("resync_start", None)
        await client.hub()
        await client.devices()

    rec.resync_hook = reload
    await control.post("/stream/drop")
    await wait_until(lambda: len(rec.disconnected) == 1)
    await control.post("/devices/cam-1/motion", {"active": True})  # missed ...
    await control.post("/buffer/clear")  # ... and no longer replayable
    await wait_until(lambda: rec.resyncs == 1)
    await wait_until(lambda: rec.named(EventName.DOORBELL_RING))
    assert ("resync_end", None) in rec.log
    after = rec.log[rec.log.index(("resync_end", None)) + 1 :]
    assert ("event", rec.named(EventName.DOORBELL_RING)[0].seq) in after
    assert rec.connected[-1] is False  # in sync through a reload, not a replay
    assert rec.log.index(("resync_end", None)) < len(rec.log) - rec.log[::-1].index(
        ("connected", False)
    )
    assert stream.boot_id == hub.boot_id
    seqs = rec.seqs()
    assert seqs == sorted(set(seqs))
    await control.post("/devices/doorbell-1/ring")
    await wait_until(lambda: len(rec.named(EventName.DOORBELL_RING)) == 2)
    assert stream.last_seq == (await client.hub()).last_seq


async def test_resync_after_hub_restart(
    make_stream: Any, client: SafeHomeClient, control: Any
) -> None:
    stream, rec, hub = await started(make_stream, client)
    await control.post("/devices/doorbell-1/ring")
    await wait_until(lambda: rec.named(EventName.DOORBELL_RING))
    old_boot = hub.boot_id
    reloaded: list[Hub] = []

    async def reload() -> None:
        reloaded.append(await client.hub())
        await client.devices()

    rec.resync_hook = reload
    await control.post("/restart", {"downtime": 0.3})
    await wait_until(lambda: ("resync_end", None) in rec.log, timeout=5.0)
    assert rec.resyncs == 1
    assert rec.disconnected
    assert stream.boot_id != old_boot
    assert stream.boot_id == reloaded[0].boot_id
    assert rec.connected[-1] is False  # another boot: not a resume

    # seq restarted at 1 with the new boot: new events must not be taken for duplicates.
    await control.post("/devices/doorbell-1/ring")
    await wait_until(lambda: len(rec.named(EventName.DOORBELL_RING)) == 2)
    new_ring = rec.named(EventName.DOORBELL_RING)[1]
    assert new_ring.seq <= (await client.hub()).last_seq
    assert stream.last_seq == (await client.hub()).last_seq


async def test_heartbeat_watchdog(make_stream: Any, client: SafeHomeClient, control: Any) -> None:
    stream, rec, hub = await started(make_stream, client, watchdog_timeout=0.3)
    assert stream.watchdog_timeout == 0.3
    await control.post("/stream/pause", {"seconds": 1.0})
    await wait_until(lambda: rec.disconnected, timeout=3.0)
    assert isinstance(rec.disconnected[0], SafeHomeConnectionError)
    assert "heartbeat" in str(rec.disconnected[0])
    await wait_until(lambda: len(rec.connected) >= 2 and stream.connected, timeout=5.0)
    await control.post("/devices/doorbell-1/ring")
    await wait_until(lambda: rec.named(EventName.DOORBELL_RING))
    assert_in_order(rec, hub.last_seq + 1)


async def test_token_revoked_stops_the_stream(
    make_stream: Any, client: SafeHomeClient, control: Any
) -> None:
    stream, rec, _ = await started(make_stream, client)
    await control.post("/tokens/revoke")
    await wait_until(lambda: not stream.running)
    assert len(rec.disconnected) == 1
    assert isinstance(rec.disconnected[0], SafeHomeAuthenticationError)
    assert rec.disconnected[0].code == "unauthorized"
    assert not stream.connected
    await asyncio.sleep(0.2)
    assert len(rec.connected) == 1  # no retry

    # A refused token on connect (401 before the upgrade) also stops it at once.
    again, rec2 = make_stream()
    await again.start()
    await wait_until(lambda: not again.running)
    assert len(rec2.disconnected) == 1
    assert isinstance(rec2.disconnected[0], SafeHomeAuthenticationError)
    assert rec2.connected == []


async def test_stream_refuses_another_certificate(
    make_stream: Any, client: SafeHomeClient, emulator: Any
) -> None:
    """A client pinned to another certificate never opens the stream, and does not retry."""
    impostor = SafeHomeClient(
        "127.0.0.1",
        emulator.port,
        client.session,
        token=client.token,
        fingerprint=make_certificate().fingerprint,
    )
    stream, rec = make_stream(impostor)
    await stream.start()
    await wait_until(lambda: not stream.running)
    assert rec.connected == []
    assert len(rec.disconnected) == 1
    assert isinstance(rec.disconnected[0], SafeHomeIdentityError)
    assert list(stream.retry_delays) == []  # stopped at once


async def test_stored_token_and_fingerprint(
    make_stream: Any, client: SafeHomeClient, emulator: Any
) -> None:
    """A client built from what the integration stores (token, fingerprint) streams pinned."""
    stored = SafeHomeClient(
        "127.0.0.1",
        emulator.port,
        client.session,
        token=emulator.issue_token("stored"),
        fingerprint=emulator.fingerprint.upper(),
    )
    assert stored.fingerprint == emulator.fingerprint
    stream, _ = make_stream(stored)
    await stream.start()
    await wait_until(lambda: stream.connected)
    assert (await stored.hub()).id == stream.hub_id


@pytest.mark.parametrize(
    "kind", ["not_json", "unknown_type", "unknown_event", "missing_fields", "oversized", "binary"]
)
async def test_malformed_frames_are_skipped(
    make_stream: Any, client: SafeHomeClient, control: Any, capture: Capture, kind: str
) -> None:
    capture.garbage_expected = True
    stream, rec, hub = await started(make_stream, client)
    await control.post("/stream/garbage", {"kind": kind})
    await control.post("/devices/doorbell-1/ring")
    await wait_until(lambda: rec.named(EventName.DOORBELL_RING))
    await control.post("/stream/garbage", {"kind": kind})  # a second one is skipped too
    await control.post("/devices/doorbell-1/ring")
    await wait_until(lambda: len(rec.named(EventName.DOORBELL_RING)) == 2)
    assert stream.connected
    assert rec.disconnected == []
    assert rec.connected == [True]
    seqs = rec.seqs()
    assert seqs == sorted(set(seqs))
    assert seqs[0] == hub.last_seq + 1
    assert stream.last_seq == (await client.hub()).last_seq
    assert rec.resyncs == 0  # a skipped frame does not advance the sequence: no gap
    known = [e for e in rec.events if e.event in set(EventName)]
    unknown = [e for e in rec.events if e.event not in set(EventName)]
    if kind == "unknown_event":
        # Passed through as a plain string; the integration decides what to do with it.
        assert len(unknown) == 2
        assert all(type(e.event) is str for e in unknown)
    else:
        assert unknown == []
        assert stream.skipped_frames == 2
    assert len(known) == len(rec.events) - len(unknown)


async def test_flood(make_stream: Any, client: SafeHomeClient, control: Any) -> None:
    _, rec, hub = await started(make_stream, client)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await control.post("/flood", {"count": 2000, "rate": 1000})
    await wait_until(lambda: len(rec.named(EventName.MOTION_DETECTED)) >= 2000, timeout=10.0)
    assert loop.time() - start < 5.0
    hub_after = await client.hub()
    await wait_until(lambda: rec.seqs()[-1] == hub_after.last_seq)
    assert_in_order(rec, hub.last_seq + 1)


async def test_ping(make_stream: Any, client: SafeHomeClient, capture: Capture) -> None:
    stream, _, _ = await started(make_stream, client)
    rtt = await stream.ping()
    assert 0 <= rtt < 1
    assert any('"ping"' in frame for frame in capture.ws_sent)
    await stream.stop()
    with pytest.raises(SafeHomeConnectionError):
        await stream.ping()


async def test_hub_down_then_back(make_stream: Any, client: SafeHomeClient, control: Any) -> None:
    stream, rec, _ = await started(make_stream, client)
    await control.post("/restart", {"downtime": 0.5})
    await wait_until(lambda: rec.disconnected)
    assert not stream.connected
    await wait_until(lambda: stream.connected, timeout=5.0)
    assert len(rec.disconnected) == 1  # failed attempts while down are not reported


async def test_retries_stay_fast_while_a_hub_reboots(
    make_stream: Any, client: SafeHomeClient, control: Any
) -> None:
    """A rebooting hub is found again within a quick retry interval, however long it was down.

    Plain doubling from 0.05 s tries at 0.05, 0.15, 0.35, 0.75, 1.55, 3.15 s...: after a
    1.6 s reboot it would find the hub 1.5 s late; early in an outage the waits are capped
    (0.1 s here) whatever the jitter draws.
    """
    stream, rec, _ = await started(
        make_stream,
        client,
        backoff_max=10.0,
        backoff_jitter=0.2,
        quick_retry_max=0.1,
        quick_retry_window=30.0,
        fast_retry_window=30.0,
    )
    await control.post("/restart", {"downtime": 1.6})
    await wait_until(lambda: rec.disconnected)
    await wait_until(lambda: stream.connected, timeout=10.0)
    delays = list(stream.retry_delays)
    assert len(delays) >= 5  # the hub was away for 1.6 s
    assert max(delays) <= 0.1 * 1.2


async def test_retries_slow_down_after_the_quick_window(
    make_stream: Any, client: SafeHomeClient, control: Any
) -> None:
    """After the quick window, retries come about once a second, not every 0.1 s."""
    clock = FakeClock(jump_after_first=15.0)
    stream, rec, _ = await started(
        make_stream, client, backoff_max=10.0, fast_retry_max=0.3, monotonic=clock
    )
    await control.post("/restart", {"downtime": 1.0})
    await wait_until(lambda: rec.disconnected)
    await wait_until(lambda: stream.connected, timeout=10.0)
    # 0.05 s (inside the quick window), then doubling capped at the fast cap.
    assert list(stream.retry_delays)[:4] == [0.05, 0.1, 0.2, 0.3]


async def test_backoff_grows_once_the_fast_window_is_over(
    make_stream: Any, client: SafeHomeClient, control: Any
) -> None:
    """After the fast window, retries back off fully (a hub that stays away).

    The stream's clock jumps past the window after the first failure, so the chosen
    delays are asserted, not wall-clock time.
    """
    clock = FakeClock(jump_after_first=120.0)
    stream, rec, _ = await started(make_stream, client, backoff_max=10.0, monotonic=clock)
    await control.post("/restart", {"downtime": 1.6})
    await wait_until(lambda: rec.disconnected)
    await wait_until(lambda: stream.connected, timeout=15.0)
    assert list(stream.retry_delays)[:4] == [0.05, 0.1, 0.2, 0.4]


async def test_jitter_is_drawn_from_the_injected_source(
    make_stream: Any, client: SafeHomeClient, control: Any
) -> None:
    """The jitter comes from `uniform` within ±backoff_jitter (here always its top)."""
    draws: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        draws.append((low, high))
        return high

    stream, rec, _ = await started(make_stream, client, backoff_jitter=0.5, uniform=uniform)
    await control.post("/stream/drop")
    await wait_until(lambda: len(rec.connected) == 2)
    assert draws[0] == (0.5, 1.5)
    assert stream.retry_delays[0] == pytest.approx(0.05 * 1.5)


class FakeClock:
    """A monotonic clock that jumps ahead once, after its first reading."""

    def __init__(self, jump_after_first: float) -> None:
        self._jump = jump_after_first
        self._readings = 0

    def __call__(self) -> float:
        self._readings += 1
        return time.monotonic() + (self._jump if self._readings > 1 else 0.0)


async def test_stream_logs_no_secrets(
    make_stream: Any, client: SafeHomeClient, control: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stream, rec, _ = await started(make_stream, client)
    await control.post("/devices/doorbell-1/ring")
    await control.post("/stream/drop")
    await wait_until(lambda: len(rec.connected) == 2)
    await control.post("/tokens/revoke")
    await wait_until(lambda: not stream.running)
    assert client.token
    assert client.token not in caplog.text
    assert client.token not in repr(stream)
