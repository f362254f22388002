"""The emergency bell: button, voice keywords, phone, cancel and the siren."""

from __future__ import annotations

import time

import aiohttp
import pytest

from tests.conftest import Control
from tests.schema import is_valid

from .conftest import MakeEmulator, paired
from .helpers import HubClient, wait_for


async def test_button_raises_and_cancels(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    await control.post("/devices/bell-1/press")
    triggered = await stream.event("emergency_triggered", "bell-1")
    assert triggered["data"] == {"source": "button", "keyword": None}
    update = await stream.event("device_updated", "bell-1")
    state = update["data"]["device"]["state"]
    assert state["emergency"] is True
    assert state["emergency_source"] == "button"
    assert state["emergency_since"] is not None
    assert state["siren"] is True
    await control.post("/devices/bell-1/press")
    cancelled = await stream.event("emergency_cancelled", "bell-1")
    assert cancelled["data"] == {"source": "button"}
    update = await stream.event("device_updated", "bell-1")
    assert update["data"]["device"]["state"] == {
        "emergency": False,
        "emergency_source": None,
        "emergency_since": None,
        "siren": False,
        "siren_mode": "immediate",
    }
    await stream.close()


@pytest.mark.parametrize(
    ("phrase", "keyword"),
    [
        ("사람 살려", "사람 살려"),
        ("누가 사람살려!!", "사람 살려"),
        ("살려주세요", "살려주세요"),
        ("제발 살려 주세요", "살려주세요"),
        ("도와주세요", "도와주세요"),
        ("누구 없어요? 도와 주세요", "도와주세요"),
        ("Help me!", "help me"),
        ("please HELP   ME now", "help me"),
    ],
)
async def test_voice_keywords(
    client: HubClient, control: Control, phrase: str, keyword: str
) -> None:
    stream = await client.connect()
    result = await control.post("/devices/bell-1/say", {"text": phrase})
    assert result == {"ok": True, "keyword": keyword}
    event = await stream.event("emergency_triggered", "bell-1")
    assert event["data"] == {"source": "voice", "keyword": keyword}
    state = (await stream.event("device_updated"))["data"]["device"]["state"]
    assert (state["emergency"], state["emergency_source"]) == (True, "voice")
    # While the emergency is on, another shout changes nothing.
    assert (await control.post("/devices/bell-1/say", {"text": phrase}))["keyword"] == keyword
    await stream.quiet(0.05)
    await stream.close()


@pytest.mark.parametrize("phrase", ["", "안녕하세요", "helpme", "the helper meets", "살려"])
async def test_ordinary_speech_is_ignored(client: HubClient, control: Control, phrase: str) -> None:
    stream = await client.connect()
    assert await control.post("/devices/bell-1/say", {"text": phrase}) == {
        "ok": True,
        "keyword": None,
    }
    await stream.quiet(0.05)
    assert (await client.state_of("bell-1"))["emergency"] is False
    await stream.close()


@pytest.mark.parametrize(
    ("params", "source"),
    [
        (None, "phone"),
        ({}, "phone"),
        ({"source": "button"}, "button"),
        ({"source": "voice"}, "voice"),
    ],
)
async def test_trigger_and_cancel_by_command(
    client: HubClient, params: dict[str, object] | None, source: str
) -> None:
    stream = await client.connect()
    device = await client.command("bell-1", "trigger_emergency", params)
    assert device["state"]["emergency"] is True
    assert device["state"]["emergency_source"] == source
    event = await stream.event("emergency_triggered")
    assert event["data"] == {"source": source, "keyword": None}
    await stream.event("device_updated")
    # Triggering again is accepted and changes nothing.
    await client.command("bell-1", "trigger_emergency", {"source": "phone"})
    await stream.quiet(0.05)
    device = await client.command("bell-1", "cancel_emergency")
    assert device["state"]["emergency"] is False
    assert device["state"]["siren"] is False
    assert (await stream.event("emergency_cancelled"))["data"] == {"source": "phone"}
    await stream.event("device_updated")
    # Cancelling with no emergency and no siren: nothing happens.
    await client.command("bell-1", "cancel_emergency")
    await stream.quiet(0.05)
    await stream.close()


async def test_null_optional_params_count_as_absent(client: HubClient) -> None:
    body = {"command": "trigger_emergency", "params": {"source": None}}
    device = await client.ok("POST", "/devices/bell-1/commands", "Device", json_body=body)
    assert device["state"]["emergency_source"] == "phone"


async def test_trigger_with_a_bad_source(client: HubClient) -> None:
    await client.command_error(
        "bell-1", "trigger_emergency", {"source": "cat"}, status=400, code="invalid_params"
    )


async def test_siren_duration(client: HubClient) -> None:
    stream = await client.connect()
    start = time.monotonic()
    device = await client.command("bell-1", "siren_on", {"duration": 1})
    assert device["state"]["siren"] is True
    await stream.device_state("bell-1", "siren", True)
    await stream.device_state("bell-1", "siren", False, timeout=3)
    assert 0.95 <= time.monotonic() - start < 2
    assert (await client.state_of("bell-1"))["emergency"] is False
    await stream.close()


async def test_siren_duration_may_be_a_whole_float(client: HubClient) -> None:
    body = {"command": "siren_on", "params": {"duration": 5.0}}
    device = await client.ok("POST", "/devices/bell-1/commands", "Device", json_body=body)
    assert device["state"]["siren"] is True


async def test_siren_off_and_cancel_silences(client: HubClient) -> None:
    stream = await client.connect()
    await client.command("bell-1", "siren_on")  # default duration
    await stream.device_state("bell-1", "siren", True)
    device = await client.command("bell-1", "siren_off")
    assert device["state"]["siren"] is False
    await stream.device_state("bell-1", "siren", False)
    await client.command("bell-1", "siren_off")  # already off
    await stream.quiet(0.05)
    await client.command("bell-1", "siren_on", {"duration": 600})
    await stream.device_state("bell-1", "siren", True)
    await client.command("bell-1", "cancel_emergency")  # no emergency, but silences
    await stream.device_state("bell-1", "siren", False)
    await stream.close()


@pytest.mark.parametrize(
    "params", [{"duration": 0}, {"duration": 601}, {"duration": 1.5}, {"duration": "10"}]
)
async def test_siren_invalid_duration(client: HubClient, params: dict[str, object]) -> None:
    await client.command_error("bell-1", "siren_on", params, status=400, code="invalid_params")


async def test_emergency_siren_uses_the_configured_duration(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    _, client, control = await paired(make_emulator, session, siren_duration=1)
    stream = await client.connect()
    await control.post("/devices/bell-1/press")
    await stream.device_state("bell-1", "siren", True)
    events = await stream.device_state("bell-1", "siren", False, timeout=3)
    # The siren stopped; the emergency goes on until cancelled.
    assert events[-1]["data"]["device"]["state"]["emergency"] is True
    await stream.close()


# --- the siren mode: when the hub sounds the siren for an emergency -----------------


async def test_siren_mode_defaults_to_immediate(client: HubClient) -> None:
    device = await client.device("bell-1")
    assert "siren_mode" in device["capabilities"]
    assert device["state"]["siren_mode"] == "immediate"


@pytest.mark.parametrize(("mode", "sounds"), [("immediate", True), ("escalation", False)])
async def test_siren_mode_decides_whether_an_emergency_sounds_the_siren(
    client: HubClient, control: Control, mode: str, sounds: bool
) -> None:
    stream = await client.connect()
    device = await client.command("bell-1", "set_siren_mode", {"mode": mode})
    assert device["state"]["siren_mode"] == mode
    if mode != "immediate":  # a change is reported; setting the same mode is not
        await stream.device_state("bell-1", "siren_mode", mode)
    await stream.quiet(0.05)
    await control.post("/devices/bell-1/press")
    await stream.event("emergency_triggered", "bell-1")
    state = (await stream.event("device_updated", "bell-1"))["data"]["device"]["state"]
    assert state["emergency"] is True
    assert state["siren"] is sounds
    assert state["siren_mode"] == mode
    await stream.close()


async def test_escalation_mode_leaves_the_siren_to_home_assistant(
    client: HubClient, control: Control
) -> None:
    """The emergency raises no siren; Home Assistant's escalation sounds it; cancel stops it."""
    stream = await client.connect()
    await client.command("bell-1", "set_siren_mode", {"mode": "escalation"})
    await stream.device_state("bell-1", "siren_mode", "escalation")
    await control.post("/devices/bell-1/say", {"text": "사람 살려"})
    await stream.event("emergency_triggered", "bell-1")
    await stream.event("device_updated", "bell-1")
    await stream.quiet(0.2)
    assert (await client.state_of("bell-1"))["siren"] is False
    # Nobody answered: the escalation sends `siren_on`.
    device = await client.command("bell-1", "siren_on", {"duration": 600})
    assert device["state"]["siren"] is True
    assert device["state"]["emergency"] is True
    await stream.device_state("bell-1", "siren", True)
    await control.post("/devices/bell-1/press")  # the resident cancels
    await stream.event("emergency_cancelled", "bell-1")
    state = (await stream.event("device_updated", "bell-1"))["data"]["device"]["state"]
    assert (state["emergency"], state["siren"]) == (False, False)
    await stream.close()


async def test_silent_mode_never_sounds_for_an_emergency(
    client: HubClient, control: Control
) -> None:
    """A silent alarm: button, voice and phone raise it quietly; `siren_on` still works."""
    stream = await client.connect()
    await client.command("bell-1", "set_siren_mode", {"mode": "silent"})
    await stream.device_state("bell-1", "siren_mode", "silent")
    for raise_it in (
        lambda: control.post("/devices/bell-1/press"),
        lambda: control.post("/devices/bell-1/say", {"text": "살려주세요"}),
        lambda: client.command("bell-1", "trigger_emergency"),
    ):
        await raise_it()
        await stream.event("emergency_triggered", "bell-1")
        state = (await stream.event("device_updated", "bell-1"))["data"]["device"]["state"]
        assert (state["emergency"], state["siren"]) == (True, False)
        await client.command("bell-1", "cancel_emergency")
        await stream.event("emergency_cancelled", "bell-1")
        await stream.event("device_updated", "bell-1")
    await stream.quiet(0.1)
    # An explicit command (a siren test, an escalation set up on purpose) still sounds it.
    device = await client.command("bell-1", "siren_on", {"duration": 5})
    assert device["state"]["siren"] is True
    await client.command("bell-1", "siren_off")
    await stream.close()


async def test_changing_the_mode_leaves_a_sounding_siren_alone(
    client: HubClient, control: Control
) -> None:
    """The mode applies from the next emergency."""
    stream = await client.connect()
    await control.post("/devices/bell-1/press")
    await stream.device_state("bell-1", "siren", True)
    device = await client.command("bell-1", "set_siren_mode", {"mode": "silent"})
    assert (device["state"]["siren"], device["state"]["siren_mode"]) == (True, "silent")
    await control.post("/devices/bell-1/press")  # cancel
    await stream.device_state("bell-1", "siren", False)
    await control.post("/devices/bell-1/press")  # the next emergency is silent
    await stream.event("emergency_triggered", "bell-1")
    state = (await stream.event("device_updated", "bell-1"))["data"]["device"]["state"]
    assert (state["emergency"], state["siren"]) == (True, False)
    await stream.close()


@pytest.mark.parametrize(
    "params",
    [None, {}, {"mode": None}, {"mode": "loud"}, {"mode": "Silent"}, {"mode": 1}, {"mode": True}],
)
async def test_set_siren_mode_with_bad_params(client: HubClient, params: object) -> None:
    await client.command_error(
        "bell-1", "set_siren_mode", params, status=400, code="invalid_params"
    )
    assert (await client.state_of("bell-1"))["siren_mode"] == "immediate"


async def test_set_siren_mode_is_for_bells_only(client: HubClient) -> None:
    await client.command_error(
        "lock-1", "set_siren_mode", {"mode": "silent"}, status=400, code="unknown_command"
    )


async def test_siren_mode_from_the_configuration_and_kept_across_a_restart(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    bell = {"id": "bell-1", "type": "emergency_bell", "siren_mode": "escalation"}
    _, client, control = await paired(make_emulator, session, devices=[bell])
    assert (await client.state_of("bell-1"))["siren_mode"] == "escalation"
    await client.command("bell-1", "set_siren_mode", {"mode": "silent"})
    await control.post("/restart", {"downtime": 0.1})

    async def up() -> bool:
        return (await client.request("GET", "/hub")).status == 200

    await wait_for(up)
    assert (await client.state_of("bell-1"))["siren_mode"] == "silent"


async def test_siren_mode_in_the_configuration_is_checked(
    make_emulator: MakeEmulator,
) -> None:
    bell = {"id": "bell-1", "type": "emergency_bell", "siren_mode": "sometimes"}
    with pytest.raises(ValueError, match="siren_mode"):
        await make_emulator(devices=[bell])


async def test_a_bell_without_the_setting_sounds_at_once(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    """An older bell: no `siren_mode` in its state, the siren at once, the command refused."""
    bell = {
        "id": "bell-1",
        "type": "emergency_bell",
        "capabilities": ["siren", "emergency", "voice"],
    }
    _, client, control = await paired(make_emulator, session, devices=[bell])
    device = await client.device("bell-1")
    assert "siren_mode" not in device["state"]
    await client.command_error(
        "bell-1", "set_siren_mode", {"mode": "silent"}, status=400, code="unsupported"
    )
    await control.post("/devices/bell-1/press")
    state = await client.wait_state("bell-1", "emergency", True)
    assert state["siren"] is True


def test_the_schema_ties_the_field_to_the_capability() -> None:
    """A bell reports `siren_mode` exactly when it has the capability, with a known mode."""
    state = {"emergency": False, "emergency_source": None, "emergency_since": None, "siren": False}
    bell = {
        "id": "bell-1",
        "type": "emergency_bell",
        "name": "Bell",
        "manufacturer": "M",
        "model": "B",
        "firmware": "1",
        "online": True,
        "battery": None,
        "capabilities": ["siren", "emergency", "siren_mode"],
        "state": {**state, "siren_mode": "silent"},
    }
    assert is_valid("Device", bell)
    assert not is_valid("Device", {**bell, "state": state})
    assert not is_valid("Device", {**bell, "state": {**state, "siren_mode": "loud"}})
    older = {**bell, "capabilities": ["siren", "emergency"]}
    assert is_valid("Device", {**older, "state": state})
    assert not is_valid("Device", older)
    assert is_valid("CommandRequest", {"command": "set_siren_mode", "params": {"mode": "silent"}})
    assert not is_valid("CommandRequest", {"command": "set_siren_mode"})
    assert not is_valid("CommandRequest", {"command": "set_siren_mode", "params": {"mode": "x"}})
