"""The district options (API 2.1): window locks, personal alarms and the emergency a pull raises."""

from __future__ import annotations

import aiohttp
import pytest

from safehome_emulator import Emulator, EmulatorConfig
from safehome_emulator.cli import build_parser, config_from_args
from safehome_emulator.page import PAGE
from tests.conftest import Control

from .conftest import MakeEmulator, paired
from .helpers import EventStream, HubClient
from .test_control import control_error


@pytest.fixture
async def district(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> tuple[Emulator, HubClient, Control]:
    """A hub with the Seoul kit and the district options, a paired client and its control."""
    return await paired(make_emulator, session, district_kit=True)


async def _refused(emulator: Emulator, path: str, body: object, status: int, code: str) -> None:
    """POST to the control surface and expect an error."""
    async with aiohttp.ClientSession() as session:
        await control_error(
            session, emulator.control_url, "POST", path, body, status=status, code=code
        )


def _names(events: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(e["event"], e["device_id"]) for e in events]


async def test_the_district_kit_adds_two_devices_and_speaks_2_1(
    district: tuple[Emulator, HubClient, Control],
) -> None:
    """Six devices (the Seoul kit's four untouched), each valid by the 2.1 schema."""
    emulator, client, _ = district
    devices = {d["id"]: d for d in (await client.ok("GET", "/devices", "DeviceList"))["devices"]}
    assert list(devices) == ["doorbell-1", "cam-1", "lock-1", "bell-1", "window-1", "alarm-1"]
    window, alarm = devices["window-1"], devices["alarm-1"]
    assert (window["type"], window["battery"]) == ("window_lock", 90)
    assert set(window["capabilities"]) == {"latch", "tamper", "activity"}
    assert window["state"] == {"window": "closed", "tamper": False, "latch": "locked"}
    assert (alarm["type"], alarm["battery"]) == ("personal_alarm", 100)
    assert set(alarm["capabilities"]) == {"button", "emergency"}
    assert alarm["state"] == {"sounding": False, "sounding_since": None}
    assert (await client.hub())["api_version"] == "2.1"
    assert (await client.ok("GET", "/info", "Info"))["api_version"] == "2.1"
    stream = await client.connect()
    assert stream.welcome is not None
    assert stream.welcome["api_version"] == "2.1"
    await stream.close()
    assert emulator.hub.config.api_version == "2.1"


def test_without_the_option_the_kit_and_the_version_stay() -> None:
    config = EmulatorConfig()
    assert (len(config.device_specs()), config.api_version) == (4, "2.0")
    district = EmulatorConfig(district_kit=True)
    assert [d["id"] for d in district.device_specs()][4:] == ["window-1", "alarm-1"]
    # A newer version is kept; a district device configured by id is not added twice.
    assert EmulatorConfig(district_kit=True, api_version="2.4").api_version == "2.4"
    mine = [{"id": "alarm-1", "type": "personal_alarm", "name": "Jiwoo's alarm"}]
    specs = EmulatorConfig(district_kit=True, devices=mine).device_specs()
    assert [(d["id"], d["name"]) for d in specs] == [
        ("alarm-1", "Jiwoo's alarm"),
        ("window-1", "Window lock"),
    ]
    with pytest.raises(ValueError, match="district_kit"):
        EmulatorConfig(district_kit="yes")  # type: ignore[arg-type]


def test_the_command_line_flag() -> None:
    parser = build_parser()
    config = config_from_args(parser.parse_args(["--district-kit"]))
    assert (config.district_kit, config.api_version, len(config.device_specs())) == (
        True,
        "2.1",
        6,
    )
    assert not config_from_args(parser.parse_args([])).district_kit
    assert "--district-kit" in parser.format_help()


async def test_a_latched_window_opens_only_by_force(
    district: tuple[Emulator, HubClient, Control],
) -> None:
    """Opening the latched window forces it: the latch stays locked and the lock says so."""
    emulator, client, control = district
    stream = await client.connect()
    reply = await control.post("/devices/window-1/window", {"state": "open"})
    assert isinstance(reply["t"], int)
    events = await stream.until(lambda e: e["event"] == "window_activity")
    assert _names(events) == [("device_updated", "window-1"), ("window_activity", "window-1")]
    assert events[0]["data"]["device"]["state"] == {
        "window": "open",
        "tamper": False,
        "latch": "locked",
    }
    assert events[1]["data"] == {"activity": "forced"}
    # An open window cannot be latched, by command or by hand.
    reply = await client.command_error("window-1", "lock", status=409, code="window_open")
    assert "window" in reply.body["error"]["message"]
    await _refused(emulator, "/devices/window-1/latch", {"state": "locked"}, 409, "window_open")

    # Closed again: nothing more is reported than the window; unlocked, it opens quietly.
    await control.post("/devices/window-1/window", {"state": "closed"})
    await stream.device_state("window-1", "window", "closed")
    device = await client.command("window-1", "unlock")
    assert device["state"]["latch"] == "unlocked"
    await stream.device_state("window-1", "latch", "unlocked")
    await control.post("/devices/window-1/window", {"state": "open"})
    await stream.device_state("window-1", "window", "open")
    await stream.quiet(0.2)
    await control.post("/devices/window-1/window", {"state": "closed"})
    await stream.device_state("window-1", "window", "closed")
    device = await client.command("window-1", "lock")
    assert device["state"]["latch"] == "locked"
    await stream.device_state("window-1", "latch", "locked")
    # A command that changes nothing is accepted and reports nothing.
    await client.command("window-1", "lock")
    await stream.quiet(0.1)
    await stream.close()


async def test_the_latch_by_hand_and_the_tamper_switch(
    district: tuple[Emulator, HubClient, Control],
) -> None:
    _, client, control = district
    stream = await client.connect()
    await control.post("/devices/window-1/latch", {"state": "unlocked"})
    await stream.device_state("window-1", "latch", "unlocked")
    await control.post("/devices/window-1/tamper", {"active": True})
    events = await stream.until(lambda e: e["event"] == "window_activity")
    assert _names(events) == [("device_updated", "window-1"), ("window_activity", "window-1")]
    assert events[0]["data"]["device"]["state"]["tamper"] is True
    assert events[1]["data"] == {"activity": "tamper"}
    # The cover closed again: only the state.
    await control.post("/devices/window-1/tamper", {"active": False})
    await stream.device_state("window-1", "tamper", False)
    await stream.quiet(0.1)
    await stream.close()


async def test_a_window_lock_without_a_latch(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    """No `latch` in its state, no latch commands, and opening the window forces nothing."""
    devices = [
        {
            "id": "window-2",
            "type": "window_lock",
            "name": "Bathroom window",
            "capabilities": ["activity"],
        }
    ]
    emulator, client, control = await paired(make_emulator, session, devices=devices)
    assert (await client.device("window-2"))["state"] == {"window": "closed", "tamper": False}
    await client.command_error("window-2", "lock", status=400, code="unsupported")
    await client.command_error("window-2", "open", status=400, code="unknown_command")
    await _refused(emulator, "/devices/window-2/tamper", {"active": True}, 400, "unsupported")
    stream = await client.connect()
    await control.post("/devices/window-2/window", {"state": "open"})
    await stream.device_state("window-2", "window", "open")
    await stream.quiet(0.2)
    await stream.close()


async def _pull(stream: EventStream, control: Control) -> list[dict[str, object]]:
    """Pull alarm-1's pin; return the events up to the bell's state after it."""
    await control.post("/devices/alarm-1/pin", {"pulled": True})
    return await stream.device_state("bell-1", "emergency", True)


async def test_a_pulled_alarm_sounds_and_raises_an_emergency_on_the_bell(
    district: tuple[Emulator, HubClient, Control],
) -> None:
    """Pin out: the alarm sounds, and the bell raises an emergency naming the alarm."""
    _, client, control = district
    stream = await client.connect()
    events = await _pull(stream, control)
    assert _names(events) == [
        ("personal_alarm", "alarm-1"),
        ("device_updated", "alarm-1"),
        ("emergency_triggered", "bell-1"),
        ("device_updated", "bell-1"),
    ]
    assert events[0]["data"] == {"action": "pulled"}
    alarm = events[1]["data"]["device"]["state"]
    assert alarm["sounding"] is True
    assert alarm["sounding_since"] == events[0]["time"]
    # The bell's emergency, as a 2.0 client knows one (a button), naming the alarm.
    assert events[2]["data"] == {"source": "button", "keyword": None, "device": "alarm-1"}
    bell = events[3]["data"]["device"]["state"]
    assert (bell["emergency_source"], bell["emergency_device"]) == ("button", "alarm-1")
    assert bell["siren"] is True  # the bell's siren mode (immediate) decides it

    # The pin back in: the alarm is quiet, the emergency stays until it is cancelled.
    await control.post("/devices/alarm-1/pin", {"pulled": False})
    events = await stream.device_state("alarm-1", "sounding", False)
    assert _names(events) == [("personal_alarm", "alarm-1"), ("device_updated", "alarm-1")]
    assert events[0]["data"] == {"action": "cleared"}
    assert events[1]["data"]["device"]["state"] == {"sounding": False, "sounding_since": None}
    await stream.quiet(0.1)
    assert (await client.state_of("bell-1"))["emergency"] is True

    await client.command("bell-1", "cancel_emergency")
    events = await stream.device_state("bell-1", "emergency", False)
    assert events[0]["data"] == {"source": "phone"}
    assert "emergency_device" not in events[-1]["data"]["device"]["state"]
    await stream.close()


async def test_a_bell_already_in_an_emergency_keeps_it(
    district: tuple[Emulator, HubClient, Control],
) -> None:
    _, client, control = district
    await control.post("/devices/bell-1/say", {"text": "사람 살려"})
    stream = await client.connect()
    await control.post("/devices/alarm-1/pin", {"pulled": True})
    await stream.device_state("alarm-1", "sounding", True)
    await stream.quiet(0.2)
    state = await client.state_of("bell-1")
    assert state["emergency_source"] == "voice"
    assert "emergency_device" not in state
    await stream.close()


async def test_the_button_reports_a_press_and_nothing_else(
    district: tuple[Emulator, HubClient, Control],
) -> None:
    _, client, control = district
    stream = await client.connect()
    reply = await control.post("/devices/alarm-1/press")
    assert isinstance(reply["t"], int)
    event = await stream.event("personal_alarm", "alarm-1")
    assert event["data"] == {"action": "pressed"}
    await stream.quiet(0.2)
    assert (await client.state_of("bell-1"))["emergency"] is False
    await stream.close()


async def test_a_pull_the_hub_cannot_hear_raises_nothing(
    district: tuple[Emulator, HubClient, Control],
) -> None:
    """Offline, the alarm still sounds; the hub learns of it only when it is back."""
    _, client, control = district
    await control.post("/devices/alarm-1/online", {"online": False})
    stream = await client.connect()
    await control.post("/devices/alarm-1/pin", {"pulled": True})
    await stream.quiet(0.2)
    assert (await client.state_of("bell-1"))["emergency"] is False
    await control.post("/devices/alarm-1/online", {"online": True})
    events = await stream.device_state("alarm-1", "sounding", True)
    assert _names(events) == [("device_updated", "alarm-1")]
    await stream.close()


async def test_an_alarm_without_the_emergency_capability_only_sounds(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    devices = [
        {"id": "bell-1", "type": "emergency_bell", "name": "Bell"},
        {"id": "alarm-2", "type": "personal_alarm", "name": "Alarm", "capabilities": []},
    ]
    emulator, client, control = await paired(make_emulator, session, devices=devices)
    stream = await client.connect()
    await control.post("/devices/alarm-2/pin", {"pulled": True})
    await stream.device_state("alarm-2", "sounding", True)
    await stream.quiet(0.2)
    assert (await client.state_of("bell-1"))["emergency"] is False
    await _refused(emulator, "/devices/alarm-2/press", None, 400, "unsupported")
    await stream.close()


async def test_wrong_devices_and_bodies_are_refused(
    district: tuple[Emulator, HubClient, Control],
) -> None:
    emulator, client, _ = district
    for path, body in [
        ("/devices/lock-1/window", {"state": "open"}),
        ("/devices/lock-1/latch", {"state": "locked"}),
        ("/devices/bell-1/tamper", {"active": True}),
        ("/devices/bell-1/pin", {"pulled": True}),
        ("/devices/window-1/pin", {"pulled": True}),
        ("/devices/window-1/press", None),
        ("/devices/alarm-1/say", {"text": "help me"}),
    ]:
        await _refused(emulator, path, body, 400, "unsupported")
    for path, body in [
        ("/devices/window-1/window", {"state": "ajar"}),
        ("/devices/window-1/latch", {"state": "open"}),
        ("/devices/window-1/tamper", {}),
        ("/devices/alarm-1/pin", {"pulled": "yes"}),
    ]:
        await _refused(emulator, path, body, 400, "invalid_params")
    await client.command_error("alarm-1", "silence", status=400, code="unknown_command")
    await client.command_error("alarm-1", "lock", status=400, code="unknown_command")


def test_the_control_page_has_the_buttons() -> None:
    """The page lays out the district devices with English and Korean labels."""
    for text in (
        '"window-open"',
        '"window-close"',
        '"latch-lock"',
        '"latch-unlock"',
        '"tamper-on"',
        '"pin-pull"',
        '"pin-insert"',
        "Force the window open · 창문 강제로 열기",
        "Pull the pin · 핀 뽑기",
        "Put the pin back · 핀 다시 꽂기",
        'window_lock: "Window lock · 창문 잠금장치"',
        'personal_alarm: "Personal alarm · 휴대용 비상벨"',
    ):
        assert text in PAGE, text
