"""Bridges over the device-registry changes between the supported Home Assistant releases.

Since 2026.8 a device belongs to a single config entry, and the newest releases (2026.10
checked) warn about the old API: a device links to its parent by the parent's registry id
(`DeviceInfo` key `via_device_id`; the `via_device` identifier stops working in 2027.8),
and a device's config entry is `DeviceEntry.config_entry_id` (`config_entries` stops
working in 2027.10). The minimum supported release, 2026.2, has only the old API. Each
helper uses the new API where the running Home Assistant has it and the old one
elsewhere; remove this module once the minimum release has the new one.
"""

from __future__ import annotations

from collections.abc import Callable
import inspect
from typing import Any, Final, Protocol, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

# Newer releases only: look a device up by identifier within one config entry, and
# resolve a device id to the config entry of a domain that owns it.
_device_id_by_identifier: Final[Callable[..., str] | None] = getattr(
    dr, "async_get_device_id_by_identifier", None
)
_device_and_entry_for_domain: Final[Callable[..., tuple[Any, Any]] | None] = getattr(
    dr, "async_get_device_and_config_entry_for_domain", None
)
HAS_VIA_DEVICE_ID: Final = (
    _device_id_by_identifier is not None
    and "via_device_id" in inspect.signature(dr.DeviceRegistry.async_get_or_create).parameters
)


class RegistryDevice(Protocol):
    """What the integration reads of a device-registry entry, on every release.

    Newer releases return a `DeviceEntry` or a `ChildDeviceEntry` where 2026.2 returns a
    `DeviceEntry`; both have these.
    """

    @property
    def identifiers(self) -> set[tuple[str, str]]:
        """The device's identifiers."""

    @property
    def name(self) -> str | None:
        """The device's name."""

    @property
    def name_by_user(self) -> str | None:
        """The name the user gave the device."""


@callback
def with_via_device(
    hass: HomeAssistant,
    config_entry_id: str,
    device_info: DeviceInfo,
    parent: tuple[str, str],
) -> DeviceInfo:
    """Return `device_info` linked to its parent device (the device it connects through).

    The parent (given by its identifier) must already be registered by the same config
    entry.
    """
    if _device_id_by_identifier is None or not HAS_VIA_DEVICE_ID:
        return cast(DeviceInfo, {**device_info, "via_device": parent})
    parent_id = _device_id_by_identifier(hass, parent, config_entry_id=config_entry_id)
    return cast(DeviceInfo, {**device_info, "via_device_id": parent_id})


@callback
def async_get_device_and_entry(
    hass: HomeAssistant, device_id: str, domain: str
) -> tuple[RegistryDevice | None, ConfigEntry | None]:
    """Return a device and the config entry of `domain` that owns it.

    (None, None) for an unknown device id; (device, None) for a device that no config
    entry of `domain` owns.
    """
    if _device_and_entry_for_domain is not None:
        found: tuple[RegistryDevice | None, ConfigEntry | None]
        found = _device_and_entry_for_domain(hass, device_id, domain=domain)
        return found
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return None, None
    for entry_id in device.config_entries:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is not None and entry.domain == domain:
            return device, entry
    return device, None
