"""What the benchmark relies on: event timestamps and a countable motion flood."""

from __future__ import annotations

import time

from tests.conftest import Control

from .helpers import HubClient


async def test_physical_events_answer_their_monotonic_time(
    client: HubClient, control: Control
) -> None:
    for path, body in (
        ("/devices/doorbell-1/ring", None),
        ("/devices/cam-1/motion", {"active": True}),
        ("/devices/lock-1/activity", {"activity": "keypad"}),
        ("/devices/lock-1/door", {"state": "open"}),
        ("/devices/bell-1/press", None),
    ):
        before = time.monotonic_ns()
        result = await control.post(path, body)
        assert before <= result["t"] <= time.monotonic_ns()


async def test_motion_flood_toggles_the_motion_state(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    result = await control.post("/flood", {"count": 4, "rate": 0, "kind": "motion"})
    assert result["devices"] == ["cam-1"]
    events = await stream.until(
        lambda e: e["event"] == "device_updated" and e["seq"] == 6, timeout=3
    )
    assert [e["event"] for e in events] == [
        "motion_detected",
        "device_updated",
        "device_updated",
    ] * 2
    motion = [e["data"]["device"]["state"]["motion"] for e in events if "device" in e["data"]]
    assert motion == [True, False, True, False]
    await stream.close()
