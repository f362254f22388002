"""Switches: the hub's away mode."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Hub, SafeHomeClient
from .commands import async_run
from .data import SafeHomeConfigEntry
from .entity import SafeHomeHubEntity

# Commands go straight to the hub, which handles several at once.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SafeHomeHubSwitchEntityDescription(SwitchEntityDescription):
    """Describes a switch of the SafeHome hub."""

    is_on_fn: Callable[[Hub], bool]
    set_fn: Callable[[SafeHomeClient, bool], Awaitable[Hub]]


HUB_SWITCHES: tuple[SafeHomeHubSwitchEntityDescription, ...] = (
    SafeHomeHubSwitchEntityDescription(
        key="away_mode",
        translation_key="away_mode",
        is_on_fn=lambda hub: hub.away_mode,
        set_fn=lambda client, on: client.set_away_mode(on),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SafeHomeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's switches."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(SafeHomeHubSwitch(coordinator, description) for description in HUB_SWITCHES)


class SafeHomeHubSwitch(SafeHomeHubEntity, SwitchEntity):
    """A switch of the hub; the new state arrives back from the hub."""

    entity_description: SafeHomeHubSwitchEntityDescription

    @property
    def is_on(self) -> bool:
        """Return the switch's state from the hub."""
        return self.entity_description.is_on_fn(self.hub)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the hub setting on."""
        await async_run(self.entity_description.set_fn(self.coordinator.client, True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the hub setting off."""
        await async_run(self.entity_description.set_fn(self.coordinator.client, False))
