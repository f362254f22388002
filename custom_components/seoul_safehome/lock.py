"""Locks: the instant-locking door lock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import math
from typing import Any

from homeassistant.components.lock import (
    ATTR_CODE,
    LockEntity,
    LockEntityDescription,
    LockEntityFeature,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Device, DoorLockState, EventName, LockState
from .commands import async_run
from .const import CONF_UNLOCK_CODE, DOMAIN, EVENT_WRONG_CODE, LOGGER
from .coordinator import SafeHomeCoordinator
from .data import SafeHomeConfigEntry
from .entity import SafeHomeEntity, async_add_device_entities
from .unlock_code import LOCK_CODE_FORMAT, WrongCodeGuard, code_matches

# Commands go straight to the hub, which handles several at once.
PARALLEL_UPDATES = 0

# The lock is the device's main feature: the entity takes the device's name.
LOCK = LockEntityDescription(key="lock", name=None)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SafeHomeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a lock entity for each door lock."""

    def create(coordinator: SafeHomeCoordinator, device: Device) -> Iterable[LockEntity]:
        if isinstance(device.state, DoorLockState):
            yield SafeHomeLock(coordinator, device, LOCK)

    async_add_device_entities(entry, async_add_entities, create)


def _unlock_code(coordinator: SafeHomeCoordinator) -> Mapping[str, Any] | None:
    """Return the entry's stored (hashed) unlock code, if one is set."""
    stored = coordinator.config_entry.options.get(CONF_UNLOCK_CODE)
    return stored if isinstance(stored, Mapping) else None


class SafeHomeLock(SafeHomeEntity, LockEntity):
    """A door lock: its motor reports locking/unlocking, and it can jam."""

    def __init__(
        self, coordinator: SafeHomeCoordinator, device: Device, description: LockEntityDescription
    ) -> None:
        """Offer `open` (release the latch) only on locks that can."""
        super().__init__(coordinator, device, description)
        if device.has("open"):
            self._attr_supported_features = LockEntityFeature.OPEN
        if _unlock_code(coordinator) is not None:
            self._attr_code_format = LOCK_CODE_FORMAT
        self._wrong_codes = WrongCodeGuard()

    @property
    def _lock_state(self) -> LockState | None:
        state = self.device.state
        return state.lock_state if isinstance(state, DoorLockState) else None

    @property
    def is_locked(self) -> bool | None:
        """Return whether the bolt is thrown."""
        if (state := self._lock_state) is None:
            return None
        return state is LockState.LOCKED

    @property
    def is_locking(self) -> bool:
        """Return whether the motor is locking."""
        return self._lock_state is LockState.LOCKING

    @property
    def is_unlocking(self) -> bool:
        """Return whether the motor is unlocking."""
        return self._lock_state is LockState.UNLOCKING

    @property
    def is_jammed(self) -> bool:
        """Return whether the motor jammed."""
        return self._lock_state is LockState.JAMMED

    @property
    def is_open(self) -> bool:
        """Return whether the latch is held released."""
        return self._lock_state is LockState.OPEN

    async def async_lock(self, **kwargs: Any) -> None:
        """Lock the door (refused while it is open)."""
        await async_run(self.coordinator.client.lock(self._device_id))

    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock the door (with the unlock code, when one is set)."""
        await self._async_check_code(kwargs.get(ATTR_CODE))
        await async_run(self.coordinator.client.unlock(self._device_id))

    async def async_open(self, **kwargs: Any) -> None:
        """Release the latch (with the unlock code, when one is set)."""
        await self._async_check_code(kwargs.get(ATTR_CODE))
        await async_run(self.coordinator.client.open_latch(self._device_id))

    async def _async_check_code(self, code: object) -> None:
        """Refuse without the right unlock code (when one is set).

        After repeated wrong codes every code is refused for a while; each wrong one is
        reported as lock activity.
        """
        if (stored := _unlock_code(self.coordinator)) is None:
            return
        if (wait := self._wrong_codes.retry_after()) is not None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unlock_code_locked_out",
                translation_placeholders={"minutes": str(max(1, math.ceil(wait / 60)))},
            )
        if not isinstance(code, str) or not code:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="unlock_code_required"
            )
        if await self.hass.async_add_executor_job(code_matches, stored, code):
            self._wrong_codes.record_right()
            return
        self._wrong_codes.record_wrong()
        LOGGER.warning("Wrong unlock code for %s from Home Assistant", self.entity_id)
        self.coordinator.async_fire_local_event(
            self._device_id,
            EventName.LOCK_ACTIVITY,
            {"activity": EVENT_WRONG_CODE, "user": "Home Assistant"},
        )
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="unlock_code_wrong")
