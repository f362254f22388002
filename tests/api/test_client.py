"""REST client against the running emulator: pairing, resources, commands, errors, media."""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import aiohttp
import pytest

from custom_components.seoul_safehome.api import (
    CameraState,
    Device,
    DeviceType,
    DoorbellState,
    DoorLockState,
    DoorState,
    EmergencyBellState,
    EmergencySource,
    Hub,
    Info,
    LockState,
    SafeHomeAuthenticationError,
    SafeHomeClient,
    SafeHomeCommandError,
    SafeHomeConnectionError,
    SafeHomeError,
    SafeHomeIdentityError,
    SafeHomePairingClosedError,
)
from tests.conftest import PAIRING_CODE

from .conftest import Capture, StreamFactory, open_window, wait_until
from .relay import TlsRelay


async def lock_state(control: Any, device_id: str = "lock-1") -> str:
    return (await control.device(device_id))["state"]["lock_state"]


async def settle(control: Any, expected: str, device_id: str = "lock-1") -> None:
    async def reached() -> bool:
        return await lock_state(control, device_id) == expected

    await wait_until(reached, timeout=3.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- pairing and hub


async def test_info_needs_no_token(emulator: Any, session: aiohttp.ClientSession) -> None:
    api = SafeHomeClient("127.0.0.1", emulator.port, session)
    info = await api.info()  # unpinned: nothing is known of the hub yet
    assert isinstance(info, Info)
    assert info.api_version_tuple[0] == 2
    assert info.api_supported
    assert api.base_url == f"https://127.0.0.1:{emulator.port}/api/v2"
    assert api.events_url == f"wss://127.0.0.1:{emulator.port}/api/v2/events"
    assert api.host == "127.0.0.1"
    assert api.port == emulator.port
    assert api.session is session
    assert api.fingerprint is None
    pinned = SafeHomeClient("127.0.0.1", emulator.port, session, fingerprint=emulator.fingerprint)
    assert await pinned.info() == info


async def test_pair(emulator: Any, session: aiohttp.ClientSession) -> None:
    api = SafeHomeClient("127.0.0.1", emulator.port, session)
    assert api.token is None
    assert "token=None" in repr(api)
    result = await api.pair(await open_window(emulator), "pytest")
    assert api.token == result.token
    assert api.fingerprint == result.fingerprint == emulator.fingerprint
    assert 32 <= len(result.token) <= 256
    assert result.hub.id == (await api.info()).id
    assert result.token not in repr(result)
    assert result.token not in repr(api)
    assert result.fingerprint in repr(result)
    assert isinstance(await api.hub(), Hub)
    assert not emulator.pairing_open  # a successful pairing closes the window


async def test_pair_accepts_spaces_and_dashes(
    emulator: Any, session: aiohttp.ClientSession
) -> None:
    api = SafeHomeClient("127.0.0.1", emulator.port, session)
    code = await open_window(emulator)
    await api.pair(f"{code[:3]}-{code[3:]} ")
    assert api.token


async def test_pair_wrong_code(emulator: Any, session: aiohttp.ClientSession) -> None:
    api = SafeHomeClient("127.0.0.1", emulator.port, session)
    code = await open_window(emulator)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(SafeHomeAuthenticationError) as err:
        await api.pair(wrong)
    assert type(err.value) is SafeHomeAuthenticationError
    assert err.value.code == "invalid_code"
    assert err.value.status == 401
    assert err.value.attempts_left == 2
    assert api.token is None
    assert api.fingerprint is None
    await api.pair(code)  # the window is still open: the right code works
    assert api.token


async def test_pair_window_closes_after_three_wrong_codes(
    emulator: Any, session: aiohttp.ClientSession
) -> None:
    api = SafeHomeClient("127.0.0.1", emulator.port, session)
    code = await open_window(emulator)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (2, 1, 0):
        with pytest.raises(SafeHomeAuthenticationError) as err:
            await api.pair(wrong)
        assert err.value.attempts_left == left
    with pytest.raises(SafeHomePairingClosedError) as closed:
        await api.pair(code)  # even the right code: the window is closed
    assert closed.value.code == "pairing_closed"
    assert closed.value.status == 403
    assert api.token is None


async def test_pair_window_not_open(emulator: Any, session: aiohttp.ClientSession) -> None:
    api = SafeHomeClient("127.0.0.1", emulator.port, session)
    assert not emulator.pairing_open
    with pytest.raises(SafeHomePairingClosedError) as err:
        await api.pair(PAIRING_CODE)
    assert err.value.code == "pairing_closed"
    assert err.value.status == 403
    assert "pairing button" in str(err.value)
    assert not isinstance(err.value, SafeHomeAuthenticationError)
    assert api.token is None


async def test_pair_malformed_code_is_refused_locally(
    emulator: Any, session: aiohttp.ClientSession, capture: Capture
) -> None:
    api = SafeHomeClient("127.0.0.1", emulator.port, session)
    code = await open_window(emulator)
    for bad in ("12345", "abcdef", "1234567", "", "１２３４５６"):
        with pytest.raises(SafeHomeAuthenticationError) as err:
            await api.pair(bad)
        assert err.value.code == "invalid_code"
        assert err.value.status is None
        assert err.value.attempts_left is None
    assert capture.requests == []  # nothing sent: no attempt spent
    await api.pair(code)


async def test_pair_through_a_man_in_the_middle(
    emulator: Any, session: aiohttp.ClientSession
) -> None:
    """An impostor that relays to the real hub with its own certificate is found out.

    It knows no code, so the hub's confirmation covers the hub's certificate, not the one
    the client sees: the client keeps nothing, and the relay saw no token in clear.
    """
    relay = TlsRelay(emulator.port)
    await relay.start()
    try:
        api = SafeHomeClient("127.0.0.1", relay.port, session)
        with pytest.raises(SafeHomeIdentityError) as err:
            await api.pair(await open_window(emulator))
        assert isinstance(err.value, SafeHomeAuthenticationError)
        assert "intercepted" in str(err.value)
        assert api.token is None
        assert api.fingerprint is None
        assert b"/api/v2/pair/finish" in relay.seen  # it relayed, and learnt nothing usable
        assert b"Authorization" not in relay.seen
    finally:
        await relay.stop()


async def test_paired_client_refuses_the_man_in_the_middle(
    client: SafeHomeClient, emulator: Any
) -> None:
    """A paired client sent to an impostor (spoofed address) sends it nothing."""
    relay = TlsRelay(emulator.port)
    await relay.start()
    try:
        moved = SafeHomeClient(
            "127.0.0.1",
            relay.port,
            client.session,
            token=client.token,
            fingerprint=client.fingerprint,
        )
        with pytest.raises(SafeHomeIdentityError):
            await moved.hub()
        with pytest.raises(SafeHomeIdentityError):
            await moved.unlock("lock-1")
        assert relay.seen == b""  # the TLS handshake failed its check: not one byte of HTTP
    finally:
        await relay.stop()


async def test_hub(client: SafeHomeClient, control: Any) -> None:
    hub = await client.hub()
    raw = (await control.get("/state"))["hub"]
    assert hub.id == raw["id"]
    assert hub.boot_id == raw["boot_id"]
    assert hub.away_mode is False
    assert hub.last_seq >= 0
    assert hub.api_supported


async def test_devices(client: SafeHomeClient, control: Any) -> None:
    devices = {d.id: d for d in await client.devices()}
    assert {"doorbell-1", "cam-1", "lock-1", "bell-1"} <= set(devices)

    doorbell = devices["doorbell-1"]
    assert doorbell.type is DeviceType.DOORBELL
    assert isinstance(doorbell.state, DoorbellState)
    assert doorbell.battery == 95
    assert doorbell.has("snapshot")
    assert doorbell.state.last_ring is None

    cam = devices["cam-1"]
    assert cam.type is DeviceType.CAMERA
    assert isinstance(cam.state, CameraState)
    assert cam.battery is None
    assert cam.state.camera_on

    lock = devices["lock-1"]
    assert lock.type is DeviceType.DOOR_LOCK
    assert isinstance(lock.state, DoorLockState)
    assert lock.state.lock_state is LockState.LOCKED
    assert lock.state.door is DoorState.CLOSED
    assert lock.state.auto_lock_delay == 2.5
    assert lock.battery == 86
    assert lock.has("open")
    assert not lock.has("snapshot")

    bell = devices["bell-1"]
    assert bell.type is DeviceType.EMERGENCY_BELL
    assert isinstance(bell.state, EmergencyBellState)
    assert bell.state.emergency is False
    assert bell.state.emergency_source is None

    for device in devices.values():
        assert device.raw == await control.device(device.id)
        assert device.online


async def test_device(client: SafeHomeClient) -> None:
    lock = await client.device("lock-1")
    assert isinstance(lock, Device)
    assert lock.id == "lock-1"
    assert lock == next(d for d in await client.devices() if d.id == "lock-1")


# --- commands


async def test_lock_unlock_open(client: SafeHomeClient, control: Any) -> None:
    await control.request("DELETE", "/log")
    device = await client.unlock("lock-1")
    assert isinstance(device.state, DoorLockState)
    assert device.state.lock_state in (LockState.UNLOCKING, LockState.UNLOCKED)
    await settle(control, "unlocked")

    device = await client.lock("lock-1")
    assert device.state.lock_state in (LockState.LOCKING, LockState.LOCKED)
    await settle(control, "locked")

    device = await client.open_latch("lock-1")
    assert device.state.lock_state in (LockState.UNLOCKING, LockState.OPEN)
    await settle(control, "open")

    log = await control.commands()
    assert [(c["device_id"], c["command"], c["result"]) for c in log] == [
        ("lock-1", "unlock", "accepted"),
        ("lock-1", "lock", "accepted"),
        ("lock-1", "open", "accepted"),
    ]


async def test_set_auto_lock_delay(client: SafeHomeClient, control: Any) -> None:
    device = await client.set_auto_lock_delay("lock-1", 0)
    assert device.state.auto_lock_delay == 0
    assert (await control.device("lock-1"))["state"]["auto_lock_delay"] == 0
    await client.set_auto_lock_delay("lock-1", 1.25)  # sent in steps of 0.1
    assert (await control.device("lock-1"))["state"]["auto_lock_delay"] in (1.2, 1.3)
    log = await control.commands()
    assert log[-1]["command"] == "set_auto_lock_delay"
    assert log[-1]["params"]["seconds"] in (1.2, 1.3)


@pytest.mark.parametrize("seconds", [-1, 30.5, True, "2"])
async def test_set_auto_lock_delay_checked_locally(
    client: SafeHomeClient, control: Any, seconds: Any
) -> None:
    await control.request("DELETE", "/log")
    with pytest.raises(SafeHomeCommandError) as err:
        await client.set_auto_lock_delay("lock-1", seconds)
    assert err.value.code == "invalid_params"
    assert await control.commands() == []


@pytest.mark.parametrize("device_id", ["cam-1", "doorbell-1"])
async def test_camera_on_off(client: SafeHomeClient, control: Any, device_id: str) -> None:
    device = await client.camera_off(device_id)
    assert device.state.camera_on is False
    assert (await control.device(device_id))["state"]["camera_on"] is False
    with pytest.raises(SafeHomeCommandError) as err:
        await client.snapshot(device_id)
    assert err.value.code == "camera_off"
    assert err.value.status == 409
    device = await client.camera_on(device_id)
    assert device.state.camera_on is True
    assert (await control.device(device_id))["state"]["camera_on"] is True


async def test_siren(client: SafeHomeClient, control: Any) -> None:
    device = await client.siren_on("bell-1", duration=5)
    assert device.state.siren is True
    assert (await control.commands())[-1]["params"] == {"duration": 5}
    device = await client.siren_off("bell-1")
    assert device.state.siren is False
    device = await client.siren_on("bell-1")
    assert device.state.siren is True
    assert (await control.device("bell-1"))["state"]["siren"] is True
    await client.siren_off("bell-1")
    assert (await control.device("bell-1"))["state"]["siren"] is False


@pytest.mark.parametrize("duration", [0, 601, 2.5, True])
async def test_siren_duration_checked_locally(client: SafeHomeClient, duration: Any) -> None:
    with pytest.raises(SafeHomeCommandError) as err:
        await client.siren_on("bell-1", duration=duration)
    assert err.value.code == "invalid_params"


async def test_emergency(client: SafeHomeClient, control: Any) -> None:
    device = await client.trigger_emergency("bell-1")
    assert isinstance(device.state, EmergencyBellState)
    assert device.state.emergency is True
    assert device.state.emergency_source is EmergencySource.PHONE
    assert device.state.emergency_since is not None
    raw = await control.device("bell-1")
    assert raw["state"]["emergency"] is True
    assert raw["state"]["emergency_source"] == "phone"

    device = await client.cancel_emergency("bell-1")
    assert device.state.emergency is False
    assert device.state.siren is False
    assert (await control.device("bell-1"))["state"]["emergency"] is False

    device = await client.trigger_emergency("bell-1", "voice")
    assert device.state.emergency_source is EmergencySource.VOICE
    await client.cancel_emergency("bell-1")
    log = await control.commands()
    assert [c["command"] for c in log][-4:] == [
        "trigger_emergency",
        "cancel_emergency",
        "trigger_emergency",
        "cancel_emergency",
    ]
    assert log[-4]["params"] == {"source": "phone"}


async def test_emergency_source_checked_locally(client: SafeHomeClient) -> None:
    with pytest.raises(SafeHomeCommandError) as err:
        await client.trigger_emergency("bell-1", "alien")
    assert err.value.code == "invalid_params"


async def test_away_mode(client: SafeHomeClient, control: Any) -> None:
    hub = await client.set_away_mode(True)
    assert hub.away_mode is True
    assert (await control.get("/state"))["hub"]["away_mode"] is True
    hub = await client.set_away_mode(False)
    assert hub.away_mode is False
    assert (await client.hub()).away_mode is False


async def test_generic_command(client: SafeHomeClient, control: Any) -> None:
    device = await client.command("lock-1", "unlock", {})
    assert device.id == "lock-1"
    assert (await control.commands())[-1]["command"] == "unlock"
    with pytest.raises(SafeHomeCommandError):
        await client.command("lock-1", "")


# --- error mapping


async def test_error_door_open(client: SafeHomeClient, control: Any) -> None:
    await client.unlock("lock-1")
    await settle(control, "unlocked")
    await control.post("/devices/lock-1/door", {"state": "open"})
    with pytest.raises(SafeHomeCommandError) as err:
        await client.lock("lock-1")
    assert err.value.code == "door_open"
    assert err.value.status == 409
    assert err.value.message
    assert (await control.commands())[-1]["result"] == "door_open"


async def test_error_jammed(client: SafeHomeClient, control: Any) -> None:
    await client.unlock("lock-1")
    await settle(control, "unlocked")
    await control.post("/devices/lock-1/jam", {"jam": True})
    await client.lock("lock-1")
    await settle(control, "jammed")
    assert (await client.device("lock-1")).state.lock_state is LockState.JAMMED
    with pytest.raises(SafeHomeCommandError) as err:
        await client.lock("lock-1")
    assert err.value.code == "jammed"
    assert err.value.status == 409
    await client.unlock("lock-1")  # clears the jam
    await settle(control, "unlocked")


async def test_error_busy(client: SafeHomeClient) -> None:
    await client.unlock("lock-1")
    with pytest.raises(SafeHomeCommandError) as err:
        await client.lock("lock-1")  # the motor is still running
    assert err.value.code == "busy"
    assert err.value.status == 409


async def test_error_offline(client: SafeHomeClient, control: Any) -> None:
    await control.post("/devices/lock-1/online", {"online": False})
    assert (await client.device("lock-1")).online is False
    with pytest.raises(SafeHomeCommandError) as err:
        await client.unlock("lock-1")
    assert err.value.code == "offline"
    assert err.value.status == 503
    await control.post("/devices/cam-1/online", {"online": False})
    with pytest.raises(SafeHomeCommandError) as err:
        await client.snapshot("cam-1")
    assert err.value.code == "offline"


async def test_error_invalid_params(client: SafeHomeClient, control: Any, capture: Capture) -> None:
    # Sent through the generic command() on purpose: the typed helpers refuse it locally.
    params: dict[str, Any] = {"seconds": 99}
    capture.unchecked_bodies.add(
        json.dumps(
            {"command": "set_auto_lock_delay", "params": params}, separators=(",", ":")
        ).encode()
    )
    with pytest.raises(SafeHomeCommandError) as err:
        await client.command("lock-1", "set_auto_lock_delay", params)
    assert err.value.code == "invalid_params"
    assert err.value.status == 400
    assert (await control.commands())[-1]["result"] == "invalid_params"


async def test_error_unknown_command_and_unsupported(client: SafeHomeClient) -> None:
    with pytest.raises(SafeHomeCommandError) as err:
        await client.command("lock-1", "fly")
    assert err.value.code == "unknown_command"
    assert err.value.status == 400
    with pytest.raises(SafeHomeCommandError) as err:
        await client.snapshot("lock-1")
    assert err.value.code == "unsupported"
    assert err.value.status == 400


async def test_error_not_found(client: SafeHomeClient) -> None:
    for call in (
        client.device("nope"),
        client.lock("nope"),
        client.snapshot("nope"),
        client.stream_info("nope"),
    ):
        with pytest.raises(SafeHomeCommandError) as err:
            await call
        assert err.value.code == "not_found"
        assert err.value.status == 404
    with pytest.raises(SafeHomeCommandError) as err:
        await client.mjpeg("nope")
    assert err.value.code == "not_found"


@pytest.mark.parametrize("device_id", ["..", "a/b", "", "x" * 65, "ü"])
async def test_invalid_device_id_is_not_sent(client: SafeHomeClient, device_id: str) -> None:
    with pytest.raises(SafeHomeCommandError) as err:
        await client.device(device_id)
    assert err.value.code == "not_found"
    assert err.value.status is None


async def test_error_unauthorized(client: SafeHomeClient, control: Any) -> None:
    fingerprint = client.fingerprint
    bad = SafeHomeClient(
        "127.0.0.1", client.port, client.session, token="x" * 40, fingerprint=fingerprint
    )
    with pytest.raises(SafeHomeAuthenticationError) as err:
        await bad.hub()
    assert err.value.code == "unauthorized"
    assert err.value.status == 401

    no_token = SafeHomeClient("127.0.0.1", client.port, client.session, fingerprint=fingerprint)
    with pytest.raises(SafeHomeAuthenticationError) as err:
        await no_token.devices()
    assert err.value.status == 401

    unpinned = SafeHomeClient("127.0.0.1", client.port, client.session, token=client.token)
    with pytest.raises(SafeHomeAuthenticationError) as err:
        await unpinned.devices()  # refused before sending: the token never goes unpinned
    assert err.value.status is None

    await client.hub()
    await control.post("/tokens/revoke")
    for call in (client.hub(), client.lock("lock-1"), client.snapshot("cam-1")):
        with pytest.raises(SafeHomeAuthenticationError) as err:
            await call
        assert err.value.code == "unauthorized"
    with pytest.raises(SafeHomeAuthenticationError):
        await client.mjpeg("cam-1")
    client.token = None
    assert client.token is None


# --- camera media


@pytest.mark.parametrize("device_id", ["cam-1", "doorbell-1"])
async def test_snapshot(client: SafeHomeClient, device_id: str) -> None:
    jpeg = await client.snapshot(device_id)
    assert jpeg[:2] == b"\xff\xd8"
    assert jpeg.endswith(b"\xff\xd9")


async def test_stream_info(client: SafeHomeClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    info = await client.stream_info("cam-1")
    assert info.format == "mpegts"
    assert info.url is not None
    assert info.url.startswith("https://")
    assert "auth=" in info.url
    assert info.rtsp_url is None
    assert info.url not in repr(info)
    assert "auth=" not in caplog.text


async def test_mjpeg(client: SafeHomeClient) -> None:
    resp = await client.mjpeg("cam-1")
    try:
        assert resp.status == 200
        assert resp.content_type == "multipart/x-mixed-replace"
        data = b""
        while data.count(b"\xff\xd8") < 2:
            data += await resp.content.readany()
        assert b"image/jpeg" in data
    finally:
        resp.release()


async def test_mjpeg_camera_off(client: SafeHomeClient) -> None:
    await client.camera_off("cam-1")
    with pytest.raises(SafeHomeCommandError) as err:
        await client.mjpeg("cam-1")
    assert err.value.code == "camera_off"


# --- connection failures


async def test_connection_refused(socket_enabled: None) -> None:
    async with aiohttp.ClientSession() as session:
        api = SafeHomeClient(
            "127.0.0.1", free_port(), session, token="t" * 40, fingerprint="ab" * 32
        )
        for call in (api.info(), api.hub(), api.pair(PAIRING_CODE), api.mjpeg("cam-1")):
            with pytest.raises(SafeHomeConnectionError) as err:
                await call
            assert isinstance(err.value, SafeHomeError)
            assert "t" * 40 not in str(err.value)


async def test_hub_restarting_is_a_connection_error(client: SafeHomeClient, control: Any) -> None:
    await control.post("/restart", {"downtime": 0.5})
    with pytest.raises(SafeHomeConnectionError) as err:
        await client.hub()
    assert err.value.status == 503

    async def back() -> bool:
        try:
            await client.hub()
        except SafeHomeConnectionError:
            return False
        return True

    await wait_until(back, timeout=5.0, interval=0.05)


# --- secrets


async def test_no_secret_in_logs(
    emulator: Any,
    session: aiohttp.ClientSession,
    control: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pair, use the hub and its event stream, lose the token: no code, token or key logged."""
    caplog.set_level(logging.DEBUG)
    api = SafeHomeClient("127.0.0.1", emulator.port, session)
    code = await open_window(emulator)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(SafeHomeAuthenticationError) as wrong_err:
        await api.pair(wrong)
    result = await api.pair(code)
    token = api.token
    assert token
    await api.hub()
    await api.devices()
    await api.unlock("lock-1")
    await api.snapshot("cam-1")
    info = await api.stream_info("cam-1")
    with pytest.raises(SafeHomeCommandError):
        await api.device("nope")
    streams = StreamFactory(api)
    stream, rec = streams()
    try:
        await stream.start()
        await wait_until(lambda: stream.connected)
        await control.post("/devices/doorbell-1/ring")
        await wait_until(lambda: rec.events)
        await control.post("/tokens/revoke")
        await wait_until(lambda: not stream.running)
    finally:
        await streams.stop_all()
    with pytest.raises(SafeHomeAuthenticationError) as err:
        await api.hub()
    assert info.url is not None
    texts = (
        caplog.text,
        repr(api),
        str(api),
        repr(result),
        repr(stream),
        str(err.value),
        repr(err.value),
        str(wrong_err.value),
        repr(wrong_err.value),
        *(str(e) for e in rec.disconnected),
    )
    for text in texts:
        for secret in (token, code, f"{code[:3]} {code[3:]}", wrong, info.url):
            assert secret not in text
