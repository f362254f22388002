"""Events: rings, lock and window activity, emergency calls, personal alarms (pushed)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from homeassistant.components.event import (
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
    EventExtraStoredData,
)
from homeassistant.core import HomeAssistant, State, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

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
from .api.models import (
    PersonalAlarmAction,
    PersonalAlarmState,
    WindowActivity,
    WindowLockState,
)
from .const import EVENT_WRONG_CODE, LOGGER
from .coordinator import SafeHomeCoordinator
from .data import SafeHomeConfigEntry
from .entity import SafeHomeEntity, async_add_device_entities

try:  # Home Assistant releases that name the doorbell's event type.
    # Missing from the minimum supported release (2026.2), present in newer ones: the
    # ignore is needed on one and unused on the other.
    from homeassistant.components.event import (  # type: ignore[attr-defined, unused-ignore]
        DoorbellEventType,
    )

    EVENT_RING: str = DoorbellEventType.RING  # pragma: no cover
except ImportError:  # pragma: no cover - the event type is "ring" either way
    EVENT_RING = "ring"

EVENT_CANCELLED = "cancelled"

# Every fired event carries the hub's sequence number, the hub's time of the event and
# whether it arrived late (replayed after an outage): a ring from minutes ago is not a ring
# now. The entity's state is, as for every event entity, when Home Assistant received it.
ATTR_SEQ: Final = "seq"
ATTR_OCCURRED_AT: Final = "occurred_at"
ATTR_DELAYED: Final = "delayed"
DELAYED_AFTER: Final = timedelta(seconds=2)

LAST_EVENT_TIME: Final = "last_event_time"


@dataclass
class SafeHomeEventStoredData(EventExtraStoredData):
    """The last event as Home Assistant saves it, with its time.

    Home Assistant saves the state shown, `unavailable` while the hub's link is down:
    restoring from that alone would lose the last event's time.
    """

    last_event_time: str | None = None


# Events are pushed by the hub; nothing is polled.
PARALLEL_UPDATES = 0

type EventMapper = Callable[[Event], tuple[str, dict[str, Any] | None] | None]


def _text(value: object) -> str | None:
    """Return a hub-given value as a short text (or None): attributes stay plain strings."""
    return None if value is None else str(value)[:64]


def _ring(event: Event) -> tuple[str, dict[str, Any] | None] | None:
    """Map a press of the doorbell's button."""
    if event.event == EventName.DOORBELL_RING:
        return EVENT_RING, None
    return None


def _lock_activity(event: Event) -> tuple[str, dict[str, Any] | None] | None:
    """Map a use of the lock (keypad, fingerprint, ...), forcing or tampering."""
    if event.event != EventName.LOCK_ACTIVITY:
        return None
    return str(event.data.get("activity")), {"user": _text(event.data.get("user"))}


def _emergency(event: Event) -> tuple[str, dict[str, Any] | None] | None:
    """Map an emergency raised (by button, voice or phone) or cancelled."""
    if event.event == EventName.EMERGENCY_TRIGGERED:
        source = str(event.data.get("source"))
        if source == EmergencySource.VOICE:
            return source, {"keyword": _text(event.data.get("keyword"))}
        return source, None
    if event.event == EventName.EMERGENCY_CANCELLED:
        return EVENT_CANCELLED, {"source": _text(event.data.get("source"))}
    return None


def _window_activity(event: Event) -> tuple[str, dict[str, Any] | None] | None:
    """Map a window forced open or tampered with (or a wrong code typed for its latch)."""
    if event.event == EventName.WINDOW_ACTIVITY:
        return str(event.data.get("activity")), None
    if event.event == EventName.LOCK_ACTIVITY and event.data.get("activity") == EVENT_WRONG_CODE:
        # (Reported by the latch's lock entity, as for the door lock.)
        return EVENT_WRONG_CODE, {"user": _text(event.data.get("user"))}
    return None


def _personal_alarm(event: Event) -> tuple[str, dict[str, Any] | None] | None:
    """Map a personal alarm's pin pulled or put back, or its button pressed."""
    if event.event == EventName.PERSONAL_ALARM:
        return str(event.data.get("action")), None
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
        # Plus a wrong unlock code typed in Home Assistant (reported by the lock entity).
        event_types=[*(activity.value for activity in LockActivity), EVENT_WRONG_CODE],
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
    # The district options (API 2.1).
    SafeHomeEventEntityDescription(
        key="window_activity",
        translation_key="window_activity",
        event_types=[*(activity.value for activity in WindowActivity), EVENT_WRONG_CODE],
        exists_fn=lambda device: (
            device.has("activity") and isinstance(device.state, WindowLockState)
        ),
        event_fn=_window_activity,
    ),
    SafeHomeEventEntityDescription(
        key="personal_alarm",
        translation_key="personal_alarm",
        event_types=[action.value for action in PersonalAlarmAction],
        exists_fn=lambda device: isinstance(device.state, PersonalAlarmState),
        event_fn=_personal_alarm,
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
    # True only while showing an event its device sent before it went offline or away.
    _showing_past_event = False

    @property
    def available(self) -> bool:
        """Available as the device is, and for the moment of showing an event it sent."""
        return self._showing_past_event or super().available

    @property
    def extra_restore_state_data(self) -> SafeHomeEventStoredData:
        """The last event and its time, whether or not the entity is available now."""
        stored = super().extra_restore_state_data
        return SafeHomeEventStoredData(
            stored.last_event_type, stored.last_event_attributes, last_event_time=self.state
        )

    async def async_get_last_state(self) -> State | None:
        """Return the state saved last, with the last event's time even if unavailable then."""
        state = await super().async_get_last_state()
        extra = await self.async_get_last_extra_data()
        fired = extra.as_dict().get(LAST_EVENT_TIME) if extra is not None else None
        if state is None or not isinstance(fired, str) or state.state == fired:
            return state
        return State(state.entity_id, fired, state.attributes)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Come back from an outage with the event the hub replays, if there is one.

        Writing the last event first, just before the replayed one, would log it again.
        """
        if self.available and any(
            (fired := self.entity_description.event_fn(event)) is not None
            and fired[0] in self.event_types
            for event in self.coordinator.pending_events(self._device_id)
        ):
            return
        super()._handle_coordinator_update()

    def _lateness(self, event: Event) -> timedelta:
        """How long after it happened the event reached Home Assistant (hub clock allowed for)."""
        return dt_util.utcnow() - (event.time - self.coordinator.stream.clock_offset)

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
        self._trigger_event(
            event_type,
            {
                **(attributes or {}),
                ATTR_SEQ: event.seq,
                ATTR_OCCURRED_AT: event.time.isoformat(timespec="milliseconds"),
                ATTR_DELAYED: self._lateness(event) > DELAYED_AFTER,
            },
        )
        if self.available or not self.coordinator.in_sync:
            self.async_write_ha_state()
            return
        # A replay: the device went offline (or was removed) after this event. Show the
        # event (automations and the logbook see it), then the device as it is now.
        self._showing_past_event = True
        try:
            self.async_write_ha_state()
        finally:
            self._showing_past_event = False
        self.async_write_ha_state()
