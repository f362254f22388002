"""The control surface: inspection, device management, batteries and its own errors."""

from __future__ import annotations

import aiohttp
import pytest

from safehome_emulator import Emulator
from tests.conftest import Control
from tests.schema import assert_valid

from .conftest import MakeEmulator, paired
from .helpers import HubClient, wait_for


async def control_error(
    session: aiohttp.ClientSession,
    url: str,
    method: str,
    path: str,
    body: object = None,
    *,
    status: int,
    code: str,
    data: bytes | None = None,
) -> None:
    kwargs: dict[str, object] = {"data": data} if data is not None else {"json": body}
    async with session.request(method, f"{url}/control{path}", **kwargs) as resp:
        payload = await resp.json()
        assert resp.status == status, payload
    assert_valid("Error", payload)
    assert payload["error"]["code"] == code


async def test_state(emulator: Emulator, control: Control) -> None:
    state = await control.get("/state")
    assert state["ok"] is True
    assert_valid("Hub", state["hub"])
    for device in state["devices"]:
        assert_valid("Device", device)
    assert [d["id"] for d in state["devices"]] == ["doorbell-1", "cam-1", "lock-1", "bell-1"]
    assert (await control.device("lock-1"))["type"] == "door_lock"


async def test_page(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{emulator.control_url}/control") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        page = await resp.text()
    assert "SafeHome emulator" in page
    assert "Press the pairing button" in page
    assert "페어링 버튼 누르기" in page


async def test_control_is_off_by_default(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator = await make_emulator(control=False)
    assert emulator.control is None
    with pytest.raises(RuntimeError):
        _ = emulator.control_url
    # Nor is it on the API's port.
    await control_error(session, emulator.url, "GET", "/state", status=404, code="not_found")
    await control_error(
        session, emulator.url, "POST", "/devices/doorbell-1/ring", status=404, code="not_found"
    )


async def test_add_and_remove_devices(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    spec = {"id": "cam-2", "type": "camera", "name": "Kitchen camera", "camera_on": False}
    result = await control.post("/devices", spec)
    assert_valid("Device", result["device"])
    added = await stream.event("device_added", "cam-2")
    assert added["data"]["device"] == result["device"]
    assert added["data"]["device"]["state"] == {"motion": False, "camera_on": False}
    assert (await client.device("cam-2"))["name"] == "Kitchen camera"
    await control.request("DELETE", "/devices/cam-2")
    removed = await stream.event("device_removed", "cam-2")
    assert removed["data"] == {}
    await client.error("GET", "/devices/cam-2", 404, "not_found")
    await stream.close()


async def test_removing_a_lock_cancels_its_timers(client: HubClient, control: Control) -> None:
    await client.command("lock-1", "unlock")
    await control.request("DELETE", "/devices/lock-1")
    stream = await client.connect()
    await stream.quiet(0.25)  # the motor would have finished by now
    await stream.close()


@pytest.mark.parametrize(
    "spec",
    [
        {"id": "cam-1", "type": "camera"},
        {"id": "bad id!", "type": "camera"},
        {"type": "camera"},
        {"id": "x-1"},
        {"id": "x-1", "type": ""},
        {"id": "x-1", "type": "camera", "colour": "red"},
        {"id": "x-1", "type": "camera", "name": ""},
        {"id": "x-1", "type": "camera", "name": "n" * 129},
        {"id": "x-1", "type": "camera", "battery": 101},
        {"id": "x-1", "type": "camera", "battery": "full"},
        {"id": "x-1", "type": "camera", "online": "yes"},
        {"id": "x-1", "type": "camera", "capabilities": "snapshot"},
        {"id": "x-1", "type": "camera", "capabilities": ["a", "a"]},
        {"id": "x-1", "type": "door_lock", "lock_state": "locking"},
        {"id": "x-1", "type": "door_lock", "door": "ajar"},
        {"id": "x-1", "type": "door_lock", "auto_lock_delay": 31},
        {"id": "x-1", "type": "gadget", "state": []},
    ],
)
async def test_add_invalid_devices(
    emulator: Emulator, session: aiohttp.ClientSession, spec: dict[str, object]
) -> None:
    await control_error(
        session, emulator.control_url, "POST", "/devices", spec, status=400, code="invalid_params"
    )


async def test_control_404_and_wrong_types(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    url = emulator.control_url
    await control_error(session, url, "POST", "/devices/ghost/ring", status=404, code="not_found")
    await control_error(session, url, "DELETE", "/devices/ghost", status=404, code="not_found")
    for path, body in [
        ("/devices/lock-1/ring", None),
        ("/devices/lock-1/motion", {"active": True}),
        ("/devices/cam-1/door", {"state": "open"}),
        ("/devices/cam-1/activity", {"activity": "keypad"}),
        ("/devices/cam-1/jam", {"jam": True}),
        ("/devices/lock-1/press", None),
        ("/devices/lock-1/say", {"text": "help me"}),
    ]:
        await control_error(session, url, "POST", path, body, status=400, code="unsupported")
    for path, body in [
        ("/devices/cam-1/motion", {"active": "yes"}),
        ("/devices/cam-1/motion", {}),
        ("/devices/cam-1/motion", {"active": None}),
        ("/devices/lock-1/door", {"state": "ajar"}),
        ("/devices/lock-1/activity", {"activity": "magic"}),
        ("/devices/lock-1/activity", {"activity": "keypad", "user": 5}),
        ("/devices/lock-1/activity", {"activity": "keypad", "user": "u" * 65}),
        ("/devices/lock-1/jam", {"jam": "yes"}),
        ("/devices/bell-1/say", {"text": 5}),
        ("/devices/bell-1/say", {}),
        ("/devices/bell-1/online", {}),
        ("/devices/bell-1/battery", {"level": 101}),
        ("/devices/bell-1/battery", {"level": True}),
        ("/devices/bell-1/info", {"name": ""}),
        ("/devices/bell-1/info", {"firmware": 3}),
        ("/stream/pause", {"seconds": -1}),
        ("/stream/pause", {"seconds": 301}),
        ("/restart", {"downtime": "soon"}),
    ]:
        await control_error(session, url, "POST", path, body, status=400, code="invalid_params")
    await control_error(
        session, url, "POST", "/devices/cam-1/motion", data=b"{oops", status=400, code="bad_request"
    )
    await control_error(
        session, url, "POST", "/devices/cam-1/motion", data=b"", status=400, code="bad_request"
    )


async def test_battery(
    emulator: Emulator, client: HubClient, control: Control, session: aiohttp.ClientSession
) -> None:
    stream = await client.connect()
    await control.post("/devices/lock-1/battery", {"level": 5})
    update = await stream.event("device_updated", "lock-1")
    assert update["data"]["device"]["battery"] == 5
    await control.post("/devices/lock-1/battery", {"level": 5})  # no change
    await stream.quiet(0.05)
    await control_error(
        session,
        emulator.control_url,
        "POST",
        "/devices/cam-1/battery",
        {"level": 50},
        status=400,
        code="unsupported",
    )
    await stream.close()


async def test_battery_drain(make_emulator: MakeEmulator, session: aiohttp.ClientSession) -> None:
    devices = [
        {"id": "bell-1", "type": "emergency_bell", "battery": 2},
        {"id": "cam-1", "type": "camera"},
    ]
    _, client, _ = await paired(
        make_emulator, session, devices=devices, battery_drain_interval=0.05
    )
    # From the boot's first event: the battery may have drained before the stream opened.
    stream = await client.connect(since=0, boot_id=(await client.hub())["boot_id"])
    levels = [
        (await stream.event("device_updated", "bell-1"))["data"]["device"]["battery"]
        for _ in range(2)
    ]
    assert levels == [1, 0]
    await stream.quiet(0.15)  # empty batteries stay at 0; mains devices have none
    assert (await client.device("cam-1"))["battery"] is None
    await stream.close()


async def test_battery_drain_can_be_off(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator, _, _ = await paired(make_emulator, session, battery_drain_interval=0)
    assert emulator.hub._drain_handle is None


async def test_info_change(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    await control.post("/devices/lock-1/info", {"name": "현관 도어락", "firmware": "2.2.0"})
    device = (await stream.event("device_updated", "lock-1"))["data"]["device"]
    assert (device["name"], device["firmware"]) == ("현관 도어락", "2.2.0")
    await control.post("/devices/lock-1/info", {"name": "현관 도어락"})  # no change
    await control.post("/devices/lock-1/info", {})
    await stream.quiet(0.05)
    await stream.close()


async def test_requests_during_restart_still_reach_control(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    _, client, control = await paired(make_emulator, session)
    await control.post("/restart", {"downtime": 5})
    await client.error("GET", "/hub", 503, "offline")
    assert (await control.get("/state"))["ok"] is True
    await control.post("/restart", {"downtime": 0})
    await client.hub()


async def test_control_page_and_state_while_waiting(client: HubClient, control: Control) -> None:
    await control.post("/devices/doorbell-1/ring")
    await wait_for(lambda: _seq_is(client, 2))


async def _seq_is(client: HubClient, seq: int) -> bool:
    return (await client.hub())["last_seq"] == seq
