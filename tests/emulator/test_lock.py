"""The door lock: motor, door contact, auto-lock, latch, jams, activity and the command log."""

from __future__ import annotations

import time

import aiohttp
import pytest

from safehome_emulator import Emulator
from tests.conftest import Control

from .conftest import MakeEmulator, paired
from .helpers import HubClient


async def test_lock_and_unlock_take_the_motor_time(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    start = time.monotonic()
    device = await client.command("lock-1", "unlock")
    assert device["state"]["lock_state"] == "unlocking"
    events = await stream.device_state("lock-1", "lock_state", "unlocked")
    elapsed = time.monotonic() - start
    assert elapsed >= 0.14  # the default motor time is 0.15 s
    assert [e["event"] for e in events] == ["device_updated", "lock_activity", "device_updated"]
    assert events[0]["data"]["device"]["state"]["lock_state"] == "unlocking"
    assert events[1]["data"] == {"activity": "remote", "user": "pytest"}

    device = await client.command("lock-1", "lock")
    assert device["state"]["lock_state"] == "locking"
    await stream.device_state("lock-1", "lock_state", "locked")
    # Commands that change nothing are accepted and send nothing.
    assert (await client.command("lock-1", "lock"))["state"]["lock_state"] == "locked"
    await stream.quiet(0.05)
    await stream.close()


async def test_busy_while_the_motor_runs(client: HubClient) -> None:
    await client.command("lock-1", "unlock")
    await client.command_error("lock-1", "lock", status=409, code="busy")
    await client.command_error("lock-1", "unlock", status=409, code="busy")
    await client.command_error("lock-1", "open", status=409, code="busy")
    # Other settings are fine while it moves.
    await client.command("lock-1", "set_auto_lock_delay", {"seconds": 1})
    await client.wait_state("lock-1", "lock_state", "unlocked")


async def test_lock_refused_while_the_door_is_open(client: HubClient, control: Control) -> None:
    await client.command("lock-1", "unlock")
    await client.wait_state("lock-1", "lock_state", "unlocked")
    await control.post("/devices/lock-1/door", {"state": "open"})
    reply = await client.command_error("lock-1", "lock", status=409, code="door_open")
    assert "door" in reply.body["error"]["message"]
    assert (await client.state_of("lock-1"))["lock_state"] == "unlocked"


async def test_a_locked_door_opens_only_by_force(client: HubClient, control: Control) -> None:
    """Opening a locked door forces it: the bolt stays thrown and the lock reports it."""
    stream = await client.connect()
    await control.post("/devices/lock-1/door", {"state": "open"})
    events = await stream.until(lambda e: e["event"] == "lock_activity")
    assert [e["event"] for e in events] == ["device_updated", "lock_activity"]
    assert events[0]["data"]["device"]["state"] == {
        "lock_state": "locked",
        "door": "open",
        "auto_lock_delay": 2.5,
    }
    assert events[1]["device_id"] == "lock-1"
    assert events[1]["data"] == {"activity": "forced_entry", "user": None}
    # The bolt is still out: a lock command has nothing to do while the door is open...
    await client.command_error("lock-1", "lock", status=409, code="door_open")
    # ...closing the forced door neither relocks nor reports anything more...
    await control.post("/devices/lock-1/door", {"state": "closed"})
    await stream.device_state("lock-1", "door", "closed")
    await stream.quiet(0.3)
    assert (await client.state_of("lock-1"))["lock_state"] == "locked"
    # ...and opening it again is another forced entry.
    await control.post("/devices/lock-1/door", {"state": "open"})
    events = await stream.until(lambda e: e["event"] == "lock_activity")
    assert events[-1]["data"]["activity"] == "forced_entry"
    await stream.close()


@pytest.mark.parametrize("lock_state", ["unlocked", "open"])
async def test_an_unlocked_door_opens_normally(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession, lock_state: str
) -> None:
    """Unlocked (or the latch released), the door opens without any lock activity."""
    _, client, control = await paired(make_emulator, session, motor_time=0.02)
    await client.command("lock-1", "unlock" if lock_state == "unlocked" else "open")
    await client.wait_state("lock-1", "lock_state", lock_state)
    stream = await client.connect()
    await control.post("/devices/lock-1/door", {"state": "open"})
    events = await stream.device_state("lock-1", "door", "open")
    assert [e["event"] for e in events] == ["device_updated"]
    assert events[0]["data"]["device"]["state"]["lock_state"] == lock_state
    await stream.quiet(0.2)
    await stream.close()


async def test_unlocking_a_forced_door_retracts_the_bolt(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    """After a forced entry the resident unlocks; closing the door then auto-locks as usual."""
    _, client, control = await paired(make_emulator, session, motor_time=0.02)
    await client.command("lock-1", "set_auto_lock_delay", {"seconds": 0})
    await control.post("/devices/lock-1/door", {"state": "open"})
    await client.command("lock-1", "unlock")
    await client.wait_state("lock-1", "lock_state", "unlocked")
    stream = await client.connect()
    await control.post("/devices/lock-1/door", {"state": "closed"})
    events = await stream.until(lambda e: e["event"] == "lock_activity")
    assert events[-1]["data"] == {"activity": "auto_lock", "user": None}
    await stream.device_state("lock-1", "lock_state", "locked")
    await stream.close()


async def test_jam_then_unlock_clears_it(client: HubClient, control: Control) -> None:
    await client.command("lock-1", "unlock")
    await client.wait_state("lock-1", "lock_state", "unlocked")
    await control.post("/devices/lock-1/jam", {"jam": True})
    stream = await client.connect()
    await client.command("lock-1", "lock")
    await stream.device_state("lock-1", "lock_state", "jammed")
    await client.command_error("lock-1", "lock", status=409, code="jammed")
    await client.command_error("lock-1", "open", status=409, code="jammed")
    await client.command("lock-1", "unlock")
    await stream.device_state("lock-1", "lock_state", "unlocked")
    # The jam was one-off: the next lock works.
    await client.command("lock-1", "lock")
    await stream.device_state("lock-1", "lock_state", "locked")
    # A jam can be injected and withdrawn; the body is optional.
    await control.post("/devices/lock-1/jam")
    await control.post("/devices/lock-1/jam", {"jam": False})
    await client.command("lock-1", "unlock")
    await client.wait_state("lock-1", "lock_state", "unlocked")
    await client.command("lock-1", "lock")
    await client.wait_state("lock-1", "lock_state", "locked")
    await stream.close()


async def test_open_releases_the_latch_which_springs_back(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    _, client, _ = await paired(make_emulator, session, motor_time=0.02, latch_time=0.2)
    stream = await client.connect()
    device = await client.command("lock-1", "open")
    assert device["state"]["lock_state"] == "unlocking"
    await stream.device_state("lock-1", "lock_state", "open")
    start = time.monotonic()
    await client.command("lock-1", "open")  # already open: restarts the latch timer
    await stream.device_state("lock-1", "lock_state", "unlocked")
    assert time.monotonic() - start >= 0.18
    # unlock while open goes straight to unlocked.
    await client.command("lock-1", "open")
    await stream.device_state("lock-1", "lock_state", "open")
    await client.command("lock-1", "unlock")
    events = await stream.device_state("lock-1", "lock_state", "unlocked")
    assert len(events) == 1
    await stream.until(lambda e: e["event"] == "lock_activity")
    await stream.close()


async def test_open_door_keeps_the_latch_open_then_auto_locks(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    _, client, control = await paired(make_emulator, session, motor_time=0.02, latch_time=0.1)
    await client.command("lock-1", "set_auto_lock_delay", {"seconds": 0})
    await client.command("lock-1", "open")
    await client.wait_state("lock-1", "lock_state", "open")
    await control.post("/devices/lock-1/door", {"state": "open"})
    stream = await client.connect()
    await stream.quiet(0.15)  # the latch stays released while the door is open
    assert (await client.state_of("lock-1"))["lock_state"] == "open"
    await control.post("/devices/lock-1/door", {"state": "closed"})
    events = await stream.device_state("lock-1", "lock_state", "locked")
    assert [e["event"] for e in events] == [
        "device_updated",
        "device_updated",
        "lock_activity",
        "device_updated",
    ]
    assert events[0]["data"]["device"]["state"] == {
        "lock_state": "unlocked",
        "door": "closed",
        "auto_lock_delay": 0.0,
    }
    assert events[2]["data"] == {"activity": "auto_lock", "user": None}
    await stream.close()


@pytest.mark.parametrize("delay", [0, 0.2])
async def test_auto_lock_after_the_door_closes(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession, delay: float
) -> None:
    _, client, control = await paired(make_emulator, session, motor_time=0.02)
    await client.command("lock-1", "set_auto_lock_delay", {"seconds": delay})
    await client.command("lock-1", "unlock")
    await client.wait_state("lock-1", "lock_state", "unlocked")
    await control.post("/devices/lock-1/door", {"state": "open"})
    stream = await client.connect()
    start = time.monotonic()
    await control.post("/devices/lock-1/door", {"state": "closed"})
    events = await stream.until(lambda e: e["event"] == "lock_activity")
    elapsed = time.monotonic() - start
    assert events[-1]["data"] == {"activity": "auto_lock", "user": None}
    assert events[0]["data"]["device"]["state"]["door"] == "closed"
    assert events[-2]["data"]["device"]["state"]["lock_state"] == "locking"
    assert elapsed >= delay
    if delay == 0:
        assert len(events) == 3  # door closed, locking, activity: at once
    await stream.device_state("lock-1", "lock_state", "locked")
    await stream.close()


async def test_auto_lock_cancelled_when_the_door_reopens(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    _, client, control = await paired(make_emulator, session, motor_time=0.02)
    await client.command("lock-1", "set_auto_lock_delay", {"seconds": 0.1})
    await client.command("lock-1", "unlock")
    await client.wait_state("lock-1", "lock_state", "unlocked")
    await control.post("/devices/lock-1/door", {"state": "open"})
    await control.post("/devices/lock-1/door", {"state": "open"})  # no change
    await control.post("/devices/lock-1/door", {"state": "closed"})
    await control.post("/devices/lock-1/door", {"state": "open"})
    stream = await client.connect()
    await stream.quiet(0.2)
    assert (await client.state_of("lock-1"))["lock_state"] == "unlocked"
    # An explicit unlock also cancels a pending auto-lock.
    await control.post("/devices/lock-1/door", {"state": "closed"})
    await stream.device_state("lock-1", "door", "closed")
    await client.command("lock-1", "unlock")
    await stream.quiet(0.2)
    assert (await client.state_of("lock-1"))["lock_state"] == "unlocked"
    await stream.close()


async def test_default_auto_lock_delay(emulator: Emulator, client: HubClient) -> None:
    assert (await client.state_of("lock-1"))["auto_lock_delay"] == 2.5


@pytest.mark.parametrize(
    ("seconds", "stored"), [(0, 0.0), (0.1, 0.1), (2.56, 2.6), (2.54, 2.5), (30, 30.0), (7.0, 7.0)]
)
async def test_set_auto_lock_delay(client: HubClient, seconds: float, stored: float) -> None:
    device = await client.command("lock-1", "set_auto_lock_delay", {"seconds": seconds})
    assert device["state"]["auto_lock_delay"] == stored


@pytest.mark.parametrize(
    "params", [{}, {"seconds": -0.1}, {"seconds": 30.5}, {"seconds": "1"}, {"seconds": True}]
)
async def test_set_auto_lock_delay_invalid(client: HubClient, params: dict[str, object]) -> None:
    await client.command_error(
        "lock-1", "set_auto_lock_delay", params, status=400, code="invalid_params"
    )


async def test_set_auto_lock_delay_needs_params(client: HubClient) -> None:
    await client.command_error("lock-1", "set_auto_lock_delay", status=400, code="invalid_params")


@pytest.mark.parametrize("activity", ["keypad", "fingerprint", "card", "inside_handle"])
async def test_physical_unlock(client: HubClient, control: Control, activity: str) -> None:
    stream = await client.connect()
    await control.post("/devices/lock-1/activity", {"activity": activity, "user": "민지"})
    event = await stream.event("lock_activity", "lock-1")
    assert event["data"] == {"activity": activity, "user": "민지"}
    await stream.device_state("lock-1", "lock_state", "unlocked")
    # Already unlocked: only reported.
    await control.post("/devices/lock-1/activity", {"activity": activity})
    event = await stream.event("lock_activity")
    assert event["data"]["user"] is None
    await stream.quiet(0.2)
    await stream.close()


async def test_physical_unlock_clears_a_jam(client: HubClient, control: Control) -> None:
    await client.command("lock-1", "unlock")
    await client.wait_state("lock-1", "lock_state", "unlocked")
    await control.post("/devices/lock-1/jam", {"jam": True})
    await client.command("lock-1", "lock")
    await client.wait_state("lock-1", "lock_state", "jammed")
    await control.post("/devices/lock-1/activity", {"activity": "inside_handle", "user": None})
    await client.wait_state("lock-1", "lock_state", "unlocked")


@pytest.mark.parametrize("activity", ["forced_entry", "tamper", "remote", "auto_lock"])
async def test_reported_activity(client: HubClient, control: Control, activity: str) -> None:
    stream = await client.connect()
    await control.post("/devices/lock-1/activity", {"activity": activity, "user": None})
    event = await stream.event("lock_activity", "lock-1")
    assert event["data"] == {"activity": activity, "user": None}
    await stream.quiet(0.2)
    assert (await client.state_of("lock-1"))["lock_state"] == "locked"
    await stream.close()


async def test_command_log(client: HubClient, control: Control) -> None:
    await control.request("DELETE", "/log")
    before = time.monotonic_ns()
    await client.command("lock-1", "unlock")
    await client.command_error("lock-1", "lock", status=409, code="busy")
    await client.command_error("lock-1", "fly", status=400, code="unknown_command")
    await client.command_error("ghost", "lock", status=404, code="not_found")
    reply = await client.request("POST", "/devices/lock-1/commands", data=b"garbage")
    assert reply.status == 400
    after = time.monotonic_ns()
    log = await control.commands()
    assert [(c["device_id"], c["command"], c["result"]) for c in log] == [
        ("lock-1", "unlock", "accepted"),
        ("lock-1", "lock", "busy"),
        ("lock-1", "fly", "unknown_command"),
        ("ghost", None, "not_found"),
        ("lock-1", None, "bad_request"),
    ]
    times = [c["t"] for c in log]
    assert times == sorted(times)
    assert before <= times[0]
    assert times[-1] <= after
    for entry in log:
        assert set(entry) == {"t", "time", "device_id", "command", "params", "result"}
    await control.request("DELETE", "/log")
    assert await control.commands() == []


async def test_lock_config_options(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    devices = [
        {
            "id": "lock-9",
            "type": "door_lock",
            "lock_state": "unlocked",
            "door": "open",
            "auto_lock_delay": 0,
            "motor_time": 0,
        }
    ]
    _, client, control = await paired(make_emulator, session, devices=devices)
    assert await client.state_of("lock-9") == {
        "lock_state": "unlocked",
        "door": "open",
        "auto_lock_delay": 0,
    }
    stream = await client.connect()
    await control.post("/devices/lock-9/door", {"state": "closed"})
    await stream.device_state("lock-9", "lock_state", "locked")
    await stream.close()
