"""Simulated hub restarts: downtime, new boot, resync; tokens and devices survive."""

from __future__ import annotations

import aiohttp

from .conftest import MakeEmulator, paired
from .helpers import wait_for


async def test_restart(make_emulator: MakeEmulator, session: aiohttp.ClientSession) -> None:
    emulator, client, control = await paired(make_emulator, session)
    port = emulator.port
    stream = await client.connect()
    boot_id = stream.welcome["boot_id"]  # type: ignore[index]
    await client.command("bell-1", "siren_on", {"duration": 600})
    await stream.until(lambda e: e["event"] == "device_updated")
    assert (await client.hub())["last_seq"] == 1
    assert await control.post("/restart", {"downtime": 0.3}) == {"ok": True, "downtime": 0.3}
    # The stream is dropped; the API answers 503 while the hub is down.
    msg = await stream.raw()
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    await client.error("GET", "/hub", 503, "offline")
    await client.error("GET", "/info", 503, "offline", token=None)
    reply = await client.request("GET", "/events")
    assert reply.status == 503
    # Events during the downtime are lost with the reboot.
    await control.post("/devices/doorbell-1/ring")

    async def up() -> bool:
        return (await client.request("GET", "/hub")).status == 200

    await wait_for(up)
    hub = await client.hub()  # the token survived
    assert hub["boot_id"] != boot_id
    assert hub["last_seq"] == 0
    assert emulator.port == port
    # Devices survived, with their state.
    assert (await client.state_of("bell-1"))["siren"] is True
    assert (await client.state_of("doorbell-1"))["last_ring"] is not None
    # Resuming with the old boot id needs a resync; numbering restarts at 1.
    stream = await client.connect(since=1, boot_id=boot_id)
    assert await stream.expect("resync") == {"type": "resync", "reason": "boot", "last_seq": 0}
    await control.post("/devices/doorbell-1/ring")
    assert (await stream.event("doorbell_ring"))["seq"] == 1
    await stream.close()


async def test_restart_without_downtime_and_twice(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator, client, control = await paired(make_emulator, session)
    first = emulator.hub.boot_id
    await control.post("/restart", {"downtime": 0})
    second = (await client.hub())["boot_id"]
    assert second != first
    await control.post("/restart", {"downtime": 10})
    await control.post("/restart")  # default downtime 1 s replaces the pending 10 s
    await client.error("GET", "/devices", 503, "offline")

    async def up() -> bool:
        return (await client.request("GET", "/hub")).status == 200

    await wait_for(up, timeout=3)
    assert (await client.hub())["boot_id"] not in (first, second)


async def test_restart_ends_media_streams_and_keys(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    _, client, control = await paired(make_emulator, session)
    info = await client.ok("GET", "/devices/cam-1/stream", "StreamInfo")
    async with session.get(info["url"]) as resp:
        await resp.content.readexactly(188)
        await control.post("/restart", {"downtime": 0})
        while await resp.content.read(65536):
            pass
    async with session.get(info["url"]) as resp:
        assert resp.status == 401


async def test_stop_during_downtime(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator, _, control = await paired(make_emulator, session)
    await control.post("/restart", {"downtime": 60})
    await emulator.stop()
    await emulator.stop()  # stopping twice is harmless


async def test_events_numbered_just_before_a_restart_are_sent_first(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    """A ring numbered in the very moment the hub goes down reaches the open stream.

    The reboot empties the buffer, so a client could never get it again (found by the
    soak: a tamper a moment before a restart was lost).
    """
    emulator, client, _control = await paired(make_emulator, session)
    stream = await client.connect()
    doorbell = emulator.hub.devices["doorbell-1"]
    doorbell.ring()  # numbered and queued ...
    emulator.restart(0.3)  # ... and the hub goes down in the same instant
    ring = await stream.event("doorbell_ring")
    assert ring["seq"] == 1
    update = await stream.event("device_updated")  # the doorbell's last_ring
    assert update["seq"] == 2
    msg = await stream.raw()  # then the hub goes away
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
