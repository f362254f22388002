"""Runtime data kept on a Seoul SafeHome config entry (a hub, or a monitoring centre link)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeIs

from homeassistant.config_entries import ConfigEntry

from .api import SafeHomeClient
from .const import CONF_ENTRY_TYPE, ENTRY_TYPE_MONITORING

if TYPE_CHECKING:
    from .coordinator import SafeHomeCoordinator
    from .monitoring import MonitoringCentreLink

type SafeHomeConfigEntry = ConfigEntry[SafeHomeData]
type MonitoringConfigEntry = ConfigEntry[MonitoringData]
# What Home Assistant hands the entry hooks and platforms: either kind of entry.
type AnyConfigEntry = SafeHomeConfigEntry | MonitoringConfigEntry


@dataclass(slots=True)
class SafeHomeData:
    """What a loaded hub needs at run time."""

    client: SafeHomeClient
    coordinator: SafeHomeCoordinator


@dataclass(slots=True)
class MonitoringData:
    """What a loaded monitoring-centre link needs at run time."""

    link: MonitoringCentreLink


def is_monitoring_entry(entry: ConfigEntry[Any]) -> TypeIs[MonitoringConfigEntry]:
    """Whether an entry is a monitoring-centre link (not a hub)."""
    return entry.data.get(CONF_ENTRY_TYPE) == ENTRY_TYPE_MONITORING
