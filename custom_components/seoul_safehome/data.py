"""Runtime data kept on a Seoul SafeHome config entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

from .api import SafeHomeClient

if TYPE_CHECKING:
    from .coordinator import SafeHomeCoordinator

type SafeHomeConfigEntry = ConfigEntry[SafeHomeData]


@dataclass(slots=True)
class SafeHomeData:
    """What a loaded hub needs at run time."""

    client: SafeHomeClient
    coordinator: SafeHomeCoordinator
