"""Diagnostics a user downloads to attach to a bug report: useful, and free of secrets."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from safehome_emulator import Emulator
from tests.conftest import Control

REDACTED = "**REDACTED**"


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    control: Control,
    token: str,
) -> None:
    """Diagnostics show the hub, its devices and the link, with the token and stream URLs hidden."""
    # The key of a live stream that is currently valid must not leak either.
    client = init_integration.runtime_data.client
    live_url = (await client.stream_info("cam-1")).url
    assert live_url
    access_key = URL(live_url).query["auth"]
    await control.post("/devices/lock-1/door", {"state": "open"})

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    text = json.dumps(diagnostics)
    assert token not in text
    assert access_key not in text
    assert "live.ts" not in text

    assert diagnostics["entry"]["data"] == {
        "host": "127.0.0.1",
        "port": emulator.port,
        "token": REDACTED,
        # Public (any client sees the certificate), and what tells a changed hub apart.
        "fingerprint": emulator.fingerprint,
    }
    assert diagnostics["entry"]["title"] == "SafeHome Hub"
    assert diagnostics["link"]["connected"] is True
    assert diagnostics["link"]["stream_connected"] is True
    hub = diagnostics["hub"]
    assert hub["id"] == "shub-demo01"
    assert hub["api_version"] == "2.0"
    assert diagnostics["link"]["boot_id"] == (await control.get("/state"))["hub"]["boot_id"]
    assert diagnostics["link"]["last_seq"] >= 1  # the door just opened

    devices = {device["id"]: device for device in diagnostics["devices"]}
    assert set(devices) == {"doorbell-1", "cam-1", "lock-1", "bell-1"}
    assert devices["lock-1"]["state"]["door"] == "open"
    assert devices["cam-1"]["stream"] == {"url": REDACTED, "format": "mpegts", "rtsp_url": None}
    assert devices["doorbell-1"]["stream"]["url"] == REDACTED
    assert "stream" not in devices["lock-1"]


async def test_diagnostics_camera_offline(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    control: Control,
) -> None:
    """A camera that cannot stream right now says why instead of breaking diagnostics."""
    await control.post("/devices/cam-1/online", {"online": False})
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    devices = {device["id"]: device for device in diagnostics["devices"]}
    assert devices["cam-1"]["stream"] == {"error": "offline"}
