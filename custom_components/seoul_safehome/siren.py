"""Sirens: the emergency bell's siren."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.siren import SirenEntity, SirenEntityDescription
from homeassistant.components.siren.const import ATTR_DURATION, SirenEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Device, EmergencyBellState
from .commands import async_run
from .coordinator import SafeHomeCoordinator
from .data import SafeHomeConfigEntry
from .entity import SafeHomeEntity, async_add_device_entities

# Commands go straight to the hub, which handles several at once.
PARALLEL_UPDATES = 0

SIREN = SirenEntityDescription(key="siren", translation_key="siren")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SafeHomeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a siren for each emergency bell that has one."""

    def create(coordinator: SafeHomeCoordinator, device: Device) -> Iterable[SirenEntity]:
        if device.has("siren") and isinstance(device.state, EmergencyBellState):
            yield SafeHomeSiren(coordinator, device, SIREN)

    async_add_device_entities(entry, async_add_entities, create)


class SafeHomeSiren(SafeHomeEntity, SirenEntity):
    """An emergency bell's siren; it stops by itself after its duration."""

    _attr_supported_features = (
        SirenEntityFeature.TURN_ON | SirenEntityFeature.TURN_OFF | SirenEntityFeature.DURATION
    )

    @property
    def is_on(self) -> bool | None:
        """Return whether the siren sounds."""
        state = self.device.state
        return state.siren if isinstance(state, EmergencyBellState) else None

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Sound the siren, for `duration` seconds if given (the hub's default otherwise)."""
        await async_run(
            self.coordinator.client.siren_on(self._device_id, kwargs.get(ATTR_DURATION))
        )

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Silence the siren."""
        await async_run(self.coordinator.client.siren_off(self._device_id))
