"""Faults the integration's tests inject: a flaky reload, a hub clock set wrong, a seq gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

from tests.conftest import Control

from .helpers import HubClient


async def test_failing_reads(client: HubClient, control: Control) -> None:
    """The next n `GET /devices` fail with 503 `offline`; other requests are served."""
    assert await control.post("/reads/fail", {"count": 2}) == {"ok": True, "count": 2, "left": 0}
    assert (await client.request("GET", "/hub")).status == 200
    for _ in range(2):
        reply = await client.request("GET", "/devices")
        assert reply.status == 503
        assert reply.body["error"]["code"] == "offline"
    assert (await client.request("GET", "/devices")).status == 200
    assert (await control.post("/reads/fail", {"count": 0}))["left"] == 0
    await control.post("/reads/fail", {"count": 5})
    assert (await control.post("/reads/fail", {"count": 0}))["left"] == 5


async def test_hub_clock_skew(client: HubClient, control: Control) -> None:
    """Every time the hub sends is off by the skew, until it is set back."""
    await control.post("/clock", {"skew": -600})
    await control.post("/devices/doorbell-1/ring")
    rang = datetime.fromisoformat((await client.state_of("doorbell-1"))["last_ring"])
    assert abs(rang - (datetime.now(UTC) - timedelta(minutes=10))) < timedelta(seconds=5)
    await control.post("/clock", {"skew": 0})
    await control.post("/devices/doorbell-1/ring")
    rang = datetime.fromisoformat((await client.state_of("doorbell-1"))["last_ring"])
    assert abs(rang - datetime.now(UTC)) < timedelta(seconds=5)


async def test_skipped_seq(client: HubClient, control: Control) -> None:
    """A well-formed event numbered one too far, not buffered: the hub's seq is unchanged."""
    stream = await client.connect()
    await control.post("/devices/doorbell-1/ring")
    seq = (await stream.until(lambda e: e["event"] == "device_updated"))[-1]["seq"]
    await control.post("/stream/garbage", {"kind": "skipped_seq"})
    frame = json.loads((await stream.raw()).data)
    assert frame["seq"] == seq + 2
    assert frame["event"] == "x_skipped_seq"
    assert (await client.hub())["last_seq"] == seq
    await stream.close()
