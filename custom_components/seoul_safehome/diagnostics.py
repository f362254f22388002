"""Diagnostics for Seoul SafeHome: the entry, the link, the hub and its devices, no secrets."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant

from .api import SafeHomeError
from .api.const import CAP_STREAM
from .const import CONF_KEY, CONF_UNLOCK_CODE
from .data import AnyConfigEntry, MonitoringConfigEntry, is_monitoring_entry

# Every field that may carry a secret: the bearer token, pairing codes, the unlock code's
# hash and the stream URLs with their access keys (today's and any a newer hub may add).
TO_REDACT: frozenset[str] = frozenset(
    {
        CONF_TOKEN,
        CONF_UNLOCK_CODE,
        "access",
        "access_key",
        "code",
        "pairing_code",
        "password",
        "rtsp_url",
        "stream_url",
        "url",
        "username",
    }
)


# A monitoring-centre link's AES key, and the reports' free text (often the address).
LINK_TO_REDACT: frozenset[str] = frozenset({CONF_KEY, "text"})


def _link_diagnostics(entry: MonitoringConfigEntry) -> dict[str, Any]:
    """Return diagnostics for a monitoring-centre link (no key, no report text)."""
    return {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(dict(entry.data), LINK_TO_REDACT),
            "options": dict(entry.options),
        },
        "link": async_redact_data(entry.runtime_data.link.diagnostics(), LINK_TO_REDACT),
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AnyConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    if is_monitoring_entry(entry):
        return _link_diagnostics(entry)
    client = entry.runtime_data.client
    coordinator = entry.runtime_data.coordinator
    stream = coordinator.stream
    state = coordinator.data

    devices: list[dict[str, Any]] = []
    for device in state.devices.values():
        data = dict(device.raw)
        if device.has(CAP_STREAM):
            # Which kind of live stream the camera offers (never its URLs).
            try:
                data["stream"] = asdict(await client.stream_info(device.id))
            except SafeHomeError as err:
                data["stream"] = {"error": err.code or type(err).__name__}
        devices.append(async_redact_data(data, TO_REDACT))

    return {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
        "link": {
            "connected": coordinator.link_up,
            "in_sync": coordinator.in_sync,
            "stream_connected": stream.connected,
            "boot_id": stream.boot_id,
            "last_seq": stream.last_seq,
        },
        "hub": async_redact_data(asdict(state.hub), TO_REDACT),
        "devices": devices,
    }
