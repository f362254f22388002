"""Events: doorbell rings, lock activity and emergency calls, pushed by the hub."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.event import (
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import (
    Device,
    DoorbellState,
    DoorLockState,
    EmergencyBellState,
    EmergencySource,
    Event,
    EventName,
    LockActivity,
)
from .const import LOGGER
from .coordinator import SafeHomeCoordinator
from .data import SafeHomeConfigEntry
from .entity import SafeHomeEntity, async_add_device_entities

try:  # Home Assistant releases that name the doorbell's event type.
    from homeassistant.components.event import DoorbellEventType  # type: ignore[attr-defined]

    EVENT_RING: str = DoorbellEventType.RING  # pragma: no cover
except ImportError:  # pragma: no cover - the event type is "ring" either way
    EVENT_RING = "ring"

EVENT_CANCELLED = "cancelled"

# Events are pushed by the hub; nothing is polled.
PARALLEL_UPDATES = 0

type EventMapper = Callable[[Event], tuple[str, dict[str, Any] | None] | None]


def _ring(event: Event) -> tuple[str, dict[str, Any] | None] | None:
    """Map a press of the doorbell's button."""
    if event.event == EventName.DOORBELL_RING:
        return EVENT_RING, None
    return None


def _lock_activity(event: Event) -> tuple[str, dict[str, Any] | None] | None:
    """Map a use of the lock (keypad, fingerprint, ...), forcing or tampering."""
    if event.event != EventName.LOCK_ACTIVITY:
        return None
    return str(event.data.get("activity")), {"user": event.data.get("user")}


def _emergency(event: Event) -> tuple[str, dict[str, Any] | None] | None:
    """Map an emergency raised (by button, voice or phone) or cancelled."""
    if event.event == EventName.EMERGENCY_TRIGGERED:
        source = str(event.data.get("source"))
        if source == EmergencySource.VOICE:
            return source, {"keyword": event.data.get("keyword")}
        return source, None
    if event.event == EventName.EMERGENCY_CANCELLED:
        return EVENT_CANCELLED, {"source": event.data.get("source")}
    return None


@dataclass(frozen=True, kw_only=True)
class SafeHomeEventEntityDescription(EventEntityDescription):
    """Describes an event entity of a SafeHome device."""

    exists_fn: Callable[[Device], bool]
    event_fn: EventMapper


DESCRIPTIONS: tuple[SafeHomeEventEntityDescription, ...] = (
    SafeHomeEventEntityDescription(
        key="ring",
        translation_key="ring",
        device_class=EventDeviceClass.DOORBELL,
        event_types=[EVENT_RING],
        exists_fn=lambda device: isinstance(device.state, DoorbellState),
        event_fn=_ring,
    ),
    SafeHomeEventEntityDescription(
        key="lock_activity",
        translation_key="lock_activity",
        event_types=[activity.value for activity in LockActivity],
        exists_fn=lambda device: (
            device.has("activity") and isinstance(device.state, DoorLockState)
        ),
        event_fn=_lock_activity,
    ),
    SafeHomeEventEntityDescription(
        key="emergency",
        translation_key="emergency",
        event_types=[*(source.value for source in EmergencySource), EVENT_CANCELLED],
        exists_fn=lambda device: isinstance(device.state, EmergencyBellState),
        event_fn=_emergency,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SafeHomeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each device's event entities."""

    def create(coordinator: SafeHomeCoordinator, device: Device) -> Iterable[EventEntity]:
        return (
            SafeHomeEventEntity(coordinator, device, description)
            for description in DESCRIPTIONS
            if description.exists_fn(device)
        )

    async_add_device_entities(entry, async_add_entities, create)


class SafeHomeEventEntity(SafeHomeEntity, EventEntity):
    """Fires on the device's pushed events; the last one is restored, never re-fired."""

    entity_description: SafeHomeEventEntityDescription

    async def async_added_to_hass(self) -> None:
        """Listen to the device's events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.async_add_event_listener(self._device_id, self._handle_event)
        )

    @callback
    def _handle_event(self, event: Event) -> None:
        """Fire the entity for an event it describes."""
        if (fired := self.entity_description.event_fn(event)) is None:
            return
        event_type, attributes = fired
        if event_type not in self.event_types:
            LOGGER.debug(
                "Ignoring %s of unknown type %r on %s", event.event, event_type[:64], self.entity_id
            )
            return
        self._trigger_event(event_type, attributes)
        self.async_write_ha_state()
