"""Locks: the instant-locking door lock."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.lock import LockEntity, LockEntityDescription, LockEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Device, DoorLockState, LockState
from .commands import async_run
from .coordinator import SafeHomeCoordinator
from .data import SafeHomeConfigEntry
from .entity import SafeHomeEntity, async_add_device_entities

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


class SafeHomeLock(SafeHomeEntity, LockEntity):
    """A door lock: its motor reports locking/unlocking, and it can jam."""

    def __init__(
        self, coordinator: SafeHomeCoordinator, device: Device, description: LockEntityDescription
    ) -> None:
        """Offer `open` (release the latch) only on locks that can."""
        super().__init__(coordinator, device, description)
        if device.has("open"):
            self._attr_supported_features = LockEntityFeature.OPEN

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
        """Unlock the door."""
        await async_run(self.coordinator.client.unlock(self._device_id))

    async def async_open(self, **kwargs: Any) -> None:
        """Release the latch."""
        await async_run(self.coordinator.client.open_latch(self._device_id))
