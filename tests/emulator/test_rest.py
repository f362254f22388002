"""REST resources, request validation and error codes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from safehome_emulator import Emulator
from tests.conftest import Control

from .conftest import MakeEmulator, paired
from .helpers import HubClient


async def test_hub(client: HubClient, emulator: Emulator) -> None:
    hub = await client.hub()
    assert hub["id"] == "shub-demo01"
    assert hub["away_mode"] is False
    assert hub["last_seq"] == 0
    assert hub["boot_id"].startswith("b-")
    assert hub["boot_id"] == emulator.hub.boot_id


async def test_default_devices(client: HubClient) -> None:
    body = await client.ok("GET", "/devices", "DeviceList")
    devices = {d["id"]: d for d in body["devices"]}
    assert list(devices) == ["doorbell-1", "cam-1", "lock-1", "bell-1"]
    assert devices["doorbell-1"]["type"] == "doorbell"
    assert devices["doorbell-1"]["battery"] == 95
    assert devices["doorbell-1"]["state"] == {"motion": False, "camera_on": True, "last_ring": None}
    assert devices["cam-1"]["type"] == "camera"
    assert devices["cam-1"]["battery"] is None
    assert devices["cam-1"]["state"] == {"motion": False, "camera_on": True}
    assert devices["lock-1"]["battery"] == 86
    assert "open" in devices["lock-1"]["capabilities"]
    assert devices["lock-1"]["state"] == {
        "lock_state": "locked",
        "door": "closed",
        "auto_lock_delay": 2.5,
    }
    assert devices["bell-1"]["battery"] == 100
    assert devices["bell-1"]["state"] == {
        "emergency": False,
        "emergency_source": None,
        "emergency_since": None,
        "siren": False,
        "siren_mode": "immediate",
    }
    for device_id, device in devices.items():
        assert await client.device(device_id) == device


async def test_unknown_device_and_path(client: HubClient) -> None:
    await client.error("GET", "/devices/nope", 404, "not_found")
    await client.command_error("nope", "lock", status=404, code="not_found")
    await client.error("GET", "/devices/nope/snapshot", 404, "not_found")
    await client.error("GET", "/nothing/here", 404, "not_found")
    async with client.session.get(f"{client.url}/not-api") as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["code"] == "not_found"


async def test_wrong_method(client: HubClient) -> None:
    await client.error("DELETE", "/devices", 405, "bad_request")
    await client.error("GET", "/devices/lock-1/commands", 405, "bad_request")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "bad_request"),
        (b"   ", "bad_request"),
        (b"{", "bad_request"),
        (b"[]", "bad_request"),
        (b'"lock"', "bad_request"),
        (b"{}", "bad_request"),
        (b'{"command": 5}', "bad_request"),
        (b'{"command": ""}', "bad_request"),
        (b'{"command": "' + b"x" * 65 + b'"}', "bad_request"),
        (b'{"command": "lock", "params": []}', "bad_request"),
        (b'{"command": "lock", "params": "x"}', "bad_request"),
        (b'{"command": "explode"}', "unknown_command"),
        (b'{"command": "siren_on"}', "unknown_command"),
    ],
)
async def test_malformed_commands(client: HubClient, data: bytes, code: str) -> None:
    reply = await client.request("POST", "/devices/lock-1/commands", data=data)
    assert reply.status == 400
    assert reply.body["error"]["code"] == code


async def test_unknown_fields_and_null_params_are_ignored(client: HubClient) -> None:
    device = await client.ok(
        "POST",
        "/devices/lock-1/commands",
        "Device",
        json_body={"command": "unlock", "params": None, "future": 1},
    )
    assert device["state"]["lock_state"] == "unlocking"


async def test_oversized_bodies(client: HubClient, emulator: Emulator) -> None:
    big = b'{"command": "lock", "pad": "' + b"x" * (64 * 1024) + b'"}'
    await client.error("POST", "/devices/lock-1/commands", 413, "payload_too_large", data=big)
    emulator.open_pairing_window()
    for path in ("/pair/start", "/pair/finish"):
        await client.error("POST", path, 413, "payload_too_large", data=big, token=None)

    # Exactly 64 KiB is allowed.
    exact = b'{"command": "unlock", "pad": "' + b"x" * (64 * 1024 - 32) + b'"}'
    assert len(exact) == 64 * 1024
    reply = await client.request("POST", "/devices/lock-1/commands", data=exact)
    assert reply.status == 200


@pytest.mark.parametrize(("size", "status"), [(64 * 1024, 200), (64 * 1024 + 1, 413)])
async def test_oversized_bodies_without_a_length(client: HubClient, size: int, status: int) -> None:
    body = b'{"command": "unlock", "pad": "' + b"x" * (size - 32) + b'"}'
    assert len(body) == size

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: found while reading
        for start in range(0, size, 1000):
            yield body[start : start + 1000]

    reply = await client.request("POST", "/devices/lock-1/commands", data=chunks())
    assert reply.status == status
    if status == 413:
        assert reply.body["error"]["code"] == "payload_too_large"


async def test_internal_errors_are_errors_too(
    client: HubClient, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("a hub fault")

    monkeypatch.setattr(emulator.hub, "to_dict", broken)
    reply = await client.error("GET", "/hub", 500, "internal")
    assert "fault" not in reply.body["error"]["message"]
    await client.ok("GET", "/devices", "DeviceList")  # the hub carries on


async def test_away_mode(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    hub = await client.ok(
        "POST",
        "/hub/commands",
        "Hub",
        json_body={"command": "set_away_mode", "params": {"enabled": True}},
    )
    assert hub["away_mode"] is True
    event = await stream.event("hub_updated")
    assert event["device_id"] is None
    assert event["data"]["hub"]["away_mode"] is True
    assert event["data"]["hub"]["last_seq"] == event["seq"]
    assert (await client.hub())["last_seq"] == event["seq"]
    # Setting the same value again changes nothing and sends nothing.
    await client.ok(
        "POST",
        "/hub/commands",
        "Hub",
        json_body={"command": "set_away_mode", "params": {"enabled": True}},
    )
    await stream.quiet(0.1)
    log = await control.commands()
    assert [(c["device_id"], c["command"], c["result"]) for c in log] == [
        (None, "set_away_mode", "accepted"),
        (None, "set_away_mode", "accepted"),
    ]
    await stream.close()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"command": "set_away_mode"}, "invalid_params"),
        ({"command": "set_away_mode", "params": {"enabled": "yes"}}, "invalid_params"),
        ({"command": "set_away_mode", "params": {"enabled": None}}, "invalid_params"),
        ({"command": "reboot"}, "unknown_command"),
        ({"params": {}}, "bad_request"),
    ],
)
async def test_bad_hub_commands(
    client: HubClient, control: Control, body: dict[str, object], code: str
) -> None:
    await client.error("POST", "/hub/commands", 400, code, json_body=body)
    assert (await control.commands())[-1]["result"] == code


async def test_offline_device(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    await control.post("/devices/lock-1/online", {"online": False})
    event = await stream.event("device_updated", "lock-1")
    assert event["data"]["device"]["online"] is False
    assert (await client.device("lock-1"))["online"] is False
    await client.command_error("lock-1", "unlock", status=503, code="offline")
    # Validation still comes first.
    await client.command_error("lock-1", "explode", status=400, code="unknown_command")
    await client.command_error(
        "lock-1", "set_auto_lock_delay", {"seconds": 99}, status=400, code="invalid_params"
    )
    # While offline, physical events are not reported; back online, the state is.
    await control.post("/devices/lock-1/door", {"state": "open"})
    await stream.quiet(0.05)
    await control.post("/devices/lock-1/online", {"online": True})
    event = await stream.event("device_updated", "lock-1")
    assert event["data"]["device"]["online"] is True
    assert event["data"]["device"]["state"]["door"] == "open"
    await control.post("/devices/lock-1/online", {"online": True})  # no change, no event
    await stream.quiet(0.05)
    await stream.close()


async def test_unsupported_capability(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    devices = [
        {
            "id": "lock-2",
            "type": "door_lock",
            "capabilities": ["lock", "unlock", "door_contact"],
        },
        {"id": "cam-9", "type": "camera", "capabilities": ["snapshot"]},
        {"id": "bell-9", "type": "emergency_bell", "capabilities": ["emergency"]},
    ]
    emulator, client, control = await paired(make_emulator, session, devices=devices)
    await client.command_error("lock-2", "open", status=400, code="unsupported")
    await client.command_error(
        "lock-2", "set_auto_lock_delay", {"seconds": 1}, status=400, code="unsupported"
    )
    await client.command_error("cam-9", "camera_off", status=400, code="unsupported")
    await client.command_error("bell-9", "siren_on", status=400, code="unsupported")
    await client.error("GET", "/devices/cam-9/mjpeg", 400, "unsupported")
    await client.error("GET", "/devices/cam-9/stream", 400, "unsupported")
    await client.error("GET", "/devices/lock-2/snapshot", 400, "unsupported")
    # Without a siren, an emergency raises no siren.
    await client.command("bell-9", "trigger_emergency")
    assert (await client.state_of("bell-9"))["siren"] is False
    # The control surface refuses what the device cannot do.
    for path, body in [
        ("/devices/cam-9/motion", {"active": True}),
        ("/devices/bell-9/say", {"text": "help me"}),
    ]:
        async with session.post(f"{emulator.control_url}/control{path}", json=body) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"]["code"] == "unsupported"
    lock = await client.device("lock-2")
    assert lock["capabilities"] == ["lock", "unlock", "door_contact"]
    await control.post("/devices/lock-2/door", {"state": "open"})


async def test_custom_hub_settings(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    _, client, _ = await paired(
        make_emulator,
        session,
        hub_id="shub-x1",
        name="우리집 허브",
        api_version="1.7",
        firmware="9.9.9",
        model="SH-HUB9",
    )
    hub = await client.hub()
    assert (hub["id"], hub["name"], hub["api_version"]) == ("shub-x1", "우리집 허브", "1.7")
    assert (hub["firmware"], hub["model"]) == ("9.9.9", "SH-HUB9")


async def test_unknown_device_types_are_served(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    devices = [
        {
            "id": "win-1",
            "type": "smoke_detector",
            "name": "Smoke detector",
            "battery": 50,
            "capabilities": ["lock"],
            "state": {"locked": True},
        }
    ]
    _, client, _ = await paired(make_emulator, session, devices=devices)
    device = await client.device("win-1")
    assert device["state"] == {"locked": True}
    assert device["model"] == "SH-GEN1"
    await client.command_error("win-1", "lock", status=400, code="unknown_command")
