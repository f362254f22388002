"""Locks: the instant-locking door lock, and a window lock's latch (API 2.1)."""

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
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import (
    Device,
    DoorLockState,
    EventName,
    LockState,
    SafeHomeCommandError,
    SafeHomeError,
)
from .api.models import LatchState, WindowLockState, WindowState
from .commands import async_run, command_error
from .const import CONF_UNLOCK_CODE, DOMAIN, EVENT_WRONG_CODE, LOGGER
from .coordinator import SafeHomeCoordinator
from .data import SafeHomeConfigEntry
from .entity import SafeHomeEntity, async_add_device_entities
from .unlock_code import LOCK_CODE_FORMAT, async_check_code

# Commands go straight to the hub, which handles several at once.
PARALLEL_UPDATES = 0

# The lock is the device's main feature: the entity takes the device's name.
LOCK = LockEntityDescription(key="lock", name=None)
# So is a window lock's latch.
LATCH = LockEntityDescription(key="latch", name=None)
# The hub's refusal to latch an open window (API 2.1).
ERROR_WINDOW_OPEN = "window_open"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SafeHomeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a lock entity for each door lock and each window lock with a latch."""

    def create(coordinator: SafeHomeCoordinator, device: Device) -> Iterable[LockEntity]:
        if isinstance(device.state, DoorLockState):
            yield SafeHomeLock(coordinator, device, LOCK)
        elif isinstance(device.state, WindowLockState) and device.has("latch"):
            yield SafeHomeWindowLatch(coordinator, device, LATCH)

    async_add_device_entities(entry, async_add_entities, create)


def _unlock_code(coordinator: SafeHomeCoordinator) -> Mapping[str, Any] | None:
    """Return the entry's stored (hashed) unlock code, if one is set."""
    stored = coordinator.config_entry.options.get(CONF_UNLOCK_CODE)
    return stored if isinstance(stored, Mapping) else None


class SafeHomeCodeLock(SafeHomeEntity, LockEntity):
    """A lock that asks for the entry's unlock code (when one is set) before it unlocks."""

    def __init__(
        self, coordinator: SafeHomeCoordinator, device: Device, description: LockEntityDescription
    ) -> None:
        """Ask for a code only when one is set."""
        super().__init__(coordinator, device, description)
        if _unlock_code(coordinator) is not None:
            self._attr_code_format = LOCK_CODE_FORMAT

    async def _async_check_code(self, code: object) -> None:
        """Refuse without the right unlock code (when one is set).

        After repeated wrong codes every code is refused for a while (for all the
        entry's locks); each wrong one is reported as lock activity, with who tried.
        """
        if (stored := _unlock_code(self.coordinator)) is None:
            return
        if self._lock_option_default_code:
            # Home Assistant would fill in a code kept in clear in its entity settings.
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="unlock_code_default_code"
            )
        if not isinstance(code, str) or not code:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="unlock_code_required"
            )
        entry_id = self.coordinator.config_entry.entry_id
        result = await async_check_code(self.hass, entry_id, stored, code)
        if result is True:
            return
        if result is not False:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unlock_code_locked_out",
                translation_placeholders={"minutes": str(max(1, math.ceil(result / 60)))},
            )
        LOGGER.warning("Wrong unlock code for %s from Home Assistant", self.entity_id)
        self.coordinator.async_fire_local_event(
            self._device_id,
            EventName.LOCK_ACTIVITY,
            {"activity": EVENT_WRONG_CODE, "user": await self._async_user_name()},
        )
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="unlock_code_wrong")

    async def _async_user_name(self) -> str:
        """Name who sent the unlock (the Home Assistant user), for the lock activity."""
        user_id = self._context.user_id if self._context is not None else None
        if user_id and (user := await self.hass.auth.async_get_user(user_id)) and user.name:
            return f"Home Assistant ({user.name})"
        return "Home Assistant"


class SafeHomeLock(SafeHomeCodeLock):
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
        """Unlock the door (with the unlock code, when one is set)."""
        await self._async_check_code(kwargs.get(ATTR_CODE))
        await async_run(self.coordinator.client.unlock(self._device_id))

    async def async_open(self, **kwargs: Any) -> None:
        """Release the latch (with the unlock code, when one is set)."""
        await self._async_check_code(kwargs.get(ATTR_CODE))
        await async_run(self.coordinator.client.open_latch(self._device_id))


def _window_open_error() -> HomeAssistantError:
    return HomeAssistantError(translation_domain=DOMAIN, translation_key="window_open")


class SafeHomeWindowLatch(SafeHomeCodeLock):
    """A window lock's latch (API 2.1): locked or not, never while the window is open."""

    @property
    def _state(self) -> WindowLockState | None:
        state = self.device.state
        return state if isinstance(state, WindowLockState) else None

    @property
    def is_locked(self) -> bool | None:
        """Return whether the latch is locked."""
        if (state := self._state) is None or state.latch is None:
            return None
        return state.latch is LatchState.LOCKED

    async def async_lock(self, **kwargs: Any) -> None:
        """Lock the latch (refused while the window is open)."""
        if (state := self._state) is not None and state.window is WindowState.OPEN:
            raise _window_open_error()
        try:
            await self.coordinator.client.lock(self._device_id)
        except SafeHomeCommandError as err:
            if err.code == ERROR_WINDOW_OPEN:  # opened meanwhile
                raise _window_open_error() from err
            raise command_error(err) from err
        except SafeHomeError as err:
            raise command_error(err) from err

    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock the latch (with the unlock code, when one is set)."""
        await self._async_check_code(kwargs.get(ATTR_CODE))
        await async_run(self.coordinator.client.unlock(self._device_id))
