"""What the soak relies on: the event journal, API-only restarts and more kinds of garbage."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from safehome_emulator import Emulator
from tests.conftest import Control
from tests.schema import assert_valid

from .helpers import HubClient, wait_for


async def _hub_up(client: HubClient) -> bool:
    return (await client.request("GET", "/hub")).status == 200


async def test_journal_lists_every_event_across_boots(client: HubClient, control: Control) -> None:
    before = time.monotonic_ns()
    await control.post("/devices/doorbell-1/ring")
    await control.post("/devices/lock-1/activity", {"activity": "tamper", "user": "kim"})
    first_boot = (await client.hub())["boot_id"]
    journal = await control.get("/events")
    assert journal["last_index"] == len(journal["events"])
    ring, ring_update, activity = journal["events"][:3]
    assert ring == {
        "index": 1,
        "t": ring["t"],
        "boot_id": first_boot,
        "seq": 1,
        "time": ring["time"],
        "event": "doorbell_ring",
        "device_id": "doorbell-1",
        "data": {},
    }
    assert before <= ring["t"] <= time.monotonic_ns()
    # The ring's time is the doorbell's last_ring: the hub's own time of the event.
    assert ring["time"] == (await client.state_of("doorbell-1"))["last_ring"]
    # State events are listed without their (whole-object) data.
    assert ring_update["event"] == "device_updated"
    assert "data" not in ring_update
    assert activity["event"] == "lock_activity"
    assert activity["data"] == {"activity": "tamper", "user": "kim"}

    # A reboot restarts the numbering; the journal keeps counting and names the boot.
    await control.post("/restart", {"downtime": 0})
    await control.post("/devices/doorbell-1/ring")
    cursor = journal["last_index"]
    later = await control.get(f"/events?after={cursor}&event=doorbell_ring")
    assert [(e["index"] > cursor, e["seq"], e["event"]) for e in later["events"]] == [
        (True, 1, "doorbell_ring")
    ]
    assert later["events"][0]["boot_id"] not in (first_boot, None)
    assert later["last_index"] > later["events"][0]["index"]  # its device_updated follows
    assert (await control.get(f"/events?after={later['last_index']}"))["events"] == []


async def test_journal_cursor_must_be_a_number(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{emulator.control_url}/control/events?after=soon") as resp:
        assert resp.status == 400
        body = await resp.json()
    assert_valid("Error", body)
    assert body["error"]["code"] == "invalid_params"


async def test_restart_keeping_the_boot_replays_the_downtime(
    client: HubClient, control: Control
) -> None:
    stream = await client.connect()
    await control.post("/devices/doorbell-1/ring")
    await stream.event("doorbell_ring")
    await stream.event("device_updated")
    boot_id, seen = stream.welcome["boot_id"], stream.last_seq  # type: ignore[index]
    await control.post("/restart", {"downtime": 0.3, "new_boot": False})
    msg = await stream.raw()
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    await client.error("GET", "/hub", 503, "offline")
    # Events while the API is down are numbered and buffered, not lost.
    await control.post("/devices/doorbell-1/ring")
    await wait_for(lambda: _hub_up(client))
    hub = await client.hub()
    assert (hub["boot_id"], hub["last_seq"]) == (boot_id, 4)
    stream = await client.connect(since=seen, boot_id=boot_id)
    assert [(await stream.event())["event"] for _ in range(2)] == [
        "doorbell_ring",
        "device_updated",
    ]
    await stream.close()


async def test_a_pending_reboot_stays_a_reboot(client: HubClient, control: Control) -> None:
    boot_id = (await client.hub())["boot_id"]
    await control.post("/restart", {"downtime": 5})
    await control.post("/devices/doorbell-1/ring")  # lost: the hub is rebooting
    await control.post("/restart", {"downtime": 0.1, "new_boot": False})
    await wait_for(lambda: _hub_up(client))
    hub = await client.hub()
    assert hub["boot_id"] != boot_id
    assert hub["last_seq"] == 0


async def test_truncated_duplicate_and_out_of_order_frames(
    client: HubClient, control: Control
) -> None:
    stream = await client.connect()
    # Before any event of this boot there is nothing to repeat.
    for kind in ("duplicate", "out_of_order"):
        assert await control.post("/stream/garbage", {"kind": kind}) == {
            "ok": True,
            "streams": 1,
            "frames": 0,
        }
    for _ in range(5):
        await control.post("/devices/doorbell-1/ring")  # 10 events
    for _ in range(10):
        await stream.event()
    newest = (await control.get("/events"))["events"][-1]
    answer = await control.post("/stream/garbage", {"kind": "truncated", "count": 3})
    assert (answer["streams"], answer["frames"]) == (1, 3)
    for _ in range(3):
        msg = await stream.raw()
        assert msg.type is aiohttp.WSMsgType.TEXT
        assert json.dumps({"seq": newest["seq"]})[1:-1].replace(" ", "") in msg.data
        with pytest.raises(json.JSONDecodeError):
            json.loads(msg.data)
    await control.post("/stream/garbage", {"kind": "duplicate", "count": 2})
    await control.post("/stream/garbage", {"kind": "out_of_order"})
    repeated = [json.loads((await stream.raw()).data) for _ in range(3)]
    assert [frame["seq"] for frame in repeated] == [10, 10, 2]
    for frame in repeated:
        assert_valid("Event", frame)
    # Live events carry on where they were.
    await control.post("/devices/bell-1/press")
    assert (await stream.event("emergency_triggered"))["seq"] == 11
    await stream.close()


async def test_garbage_count_is_bounded(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    async with session.post(
        f"{emulator.control_url}/control/stream/garbage", json={"kind": "binary", "count": 10_001}
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "invalid_params"


async def test_many_unknown_events_are_numbered(
    client: HubClient, control: Control, emulator: Emulator
) -> None:
    stream = await client.connect()
    answer = await control.post("/stream/garbage", {"kind": "unknown_event", "count": 4})
    assert (answer["streams"], answer["frames"]) == (1, 4)
    assert [(await stream.event("x_future_event"))["seq"] for _ in range(4)] == [1, 2, 3, 4]
    assert emulator.hub.seq == 4
    await stream.close()


async def test_buffer_clear_names_what_it_forgot(client: HubClient, control: Control) -> None:
    await control.post("/devices/doorbell-1/ring")
    boot_id = (await client.hub())["boot_id"]
    assert await control.post("/buffer/clear") == {"ok": True, "boot_id": boot_id, "last_seq": 2}
    stream = await client.connect(since=1, boot_id=boot_id)
    assert (await stream.expect("resync"))["reason"] == "gap"
    await stream.close()
