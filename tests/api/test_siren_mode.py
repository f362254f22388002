"""The emergency bell's siren mode through the client: read, set, older and newer hubs."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from custom_components.seoul_safehome.api import (
    EmergencyBellState,
    EventName,
    SafeHomeClient,
    SafeHomeCommandError,
    SafeHomeProtocolError,
    SirenMode,
    models,
)
from tests.conftest import Control

from .conftest import StreamFactory, wait_until
from .fakehub import FakeHub, lock

OLDER_BELL = {
    "id": "bell-1",
    "type": "emergency_bell",
    "name": "Emergency bell",
    "capabilities": ["siren", "emergency", "voice"],
}
QUIET = {"emergency": False, "emergency_source": None, "emergency_since": None, "siren": False}


def _bell(**state: Any) -> dict[str, Any]:
    """A bell as a hub reports it (for the scripted hub)."""
    return {
        **lock(),
        "id": "bell-1",
        "type": "emergency_bell",
        "capabilities": ["siren", "emergency", "siren_mode"],
        "state": {**QUIET, **state},
    }


async def test_read_and_set_the_siren_mode(client: SafeHomeClient, control: Control) -> None:
    bell = await client.device("bell-1")
    assert bell.has("siren_mode")
    assert isinstance(bell.state, EmergencyBellState)
    assert bell.state.siren_mode is SirenMode.IMMEDIATE

    device = await client.set_siren_mode("bell-1", SirenMode.ESCALATION)
    assert device.state.siren_mode is SirenMode.ESCALATION
    assert (await control.device("bell-1"))["state"]["siren_mode"] == "escalation"
    device = await client.set_siren_mode("bell-1", "silent")  # a plain string works too
    assert device.state.siren_mode is SirenMode.SILENT
    assert [(c["command"], c["params"]) for c in await control.commands()] == [
        ("set_siren_mode", {"mode": "escalation"}),
        ("set_siren_mode", {"mode": "silent"}),
    ]


async def test_a_silent_bell_raises_an_emergency_without_its_siren(
    client: SafeHomeClient, control: Control, make_stream: StreamFactory
) -> None:
    """What the stream reports: the new mode, then an emergency with the siren quiet."""
    stream, rec = make_stream()
    await stream.start()
    await wait_until(lambda: rec.connected)
    await client.set_siren_mode("bell-1", SirenMode.SILENT)
    await control.post("/devices/bell-1/press")
    await wait_until(lambda: rec.named(EventName.EMERGENCY_TRIGGERED))
    await wait_until(
        lambda: any(e.device and e.device.state.emergency for e in rec.named("device_updated"))
    )
    states = [e.device.state for e in rec.named(EventName.DEVICE_UPDATED) if e.device]
    assert states[0].siren_mode is SirenMode.SILENT
    assert (states[-1].emergency, states[-1].siren) == (True, False)


@pytest.mark.parametrize("mode", ["loud", "", "SILENT", None, 1, True])
async def test_bad_mode_is_refused_locally(
    client: SafeHomeClient, control: Control, mode: Any
) -> None:
    with pytest.raises(SafeHomeCommandError) as err:
        await client.set_siren_mode("bell-1", mode)
    assert err.value.code == "invalid_params"
    assert await control.commands() == []


@pytest.mark.parametrize("emulator_options", [{"devices": [OLDER_BELL]}])
async def test_a_bell_without_the_setting(client: SafeHomeClient) -> None:
    """A bell that has no siren mode reads as None, and refuses to be set."""
    bell = await client.device("bell-1")
    assert not bell.has("siren_mode")
    assert isinstance(bell.state, EmergencyBellState)
    assert bell.state.siren_mode is None
    with pytest.raises(SafeHomeCommandError) as err:
        await client.set_siren_mode("bell-1", SirenMode.SILENT)
    assert err.value.code == "unsupported"


async def test_an_older_hub_that_does_not_know_the_command(
    fake_hub: FakeHub, fake_client: SafeHomeClient
) -> None:
    error = {"error": {"code": "unknown_command", "message": "no command 'set_siren_mode'"}}
    fake_hub.json("/devices/bell-1/commands", error, status=400)
    with pytest.raises(SafeHomeCommandError) as err:
        await fake_client.set_siren_mode("bell-1", SirenMode.ESCALATION)
    assert err.value.code == "unknown_command"


async def test_a_newer_mode_does_not_break_the_bell(
    fake_hub: FakeHub,
    fake_client: SafeHomeClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mode this client does not know yet reads as None; the rest of the bell is kept."""
    monkeypatch.setattr(models, "_LOGGED_UNKNOWN", set())
    caplog.set_level(logging.INFO)
    fake_hub.json("/devices", {"devices": [_bell(siren_mode="after_30_s", siren=True)]})
    [bell] = await fake_client.devices()
    assert isinstance(bell.state, EmergencyBellState)
    assert bell.state.siren_mode is None
    assert bell.state.siren is True
    assert "unknown siren mode 'after_30_s'" in caplog.text


def test_a_malformed_mode_is_a_protocol_error() -> None:
    with pytest.raises(SafeHomeProtocolError, match="siren_mode"):
        EmergencyBellState.from_dict({**QUIET, "siren_mode": 2})
    # Absent or null: a bell without the setting.
    assert EmergencyBellState.from_dict(QUIET).siren_mode is None
    assert EmergencyBellState.from_dict({**QUIET, "siren_mode": None}).siren_mode is None
