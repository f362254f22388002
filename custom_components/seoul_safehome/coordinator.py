"""Keep Home Assistant in step with a SafeHome hub: REST for the full state, push for changes."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import (
    Device,
    Event,
    EventName,
    Hub,
    SafeHomeAuthenticationError,
    SafeHomeClient,
    SafeHomeError,
    SafeHomeEventStream,
)
from .const import DOMAIN, LOGGER
from .data import SafeHomeConfigEntry

# How long setup waits for the event stream's first welcome before retrying later.
STREAM_CONNECT_TIMEOUT = 10.0

type EventListener = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class SafeHomeState:
    """A consistent picture of the hub and its devices."""

    hub: Hub
    devices: dict[str, Device]


class SafeHomeCoordinator(DataUpdateCoordinator[SafeHomeState]):
    """Load the hub's state once, then follow its event stream (no polling)."""

    config_entry: SafeHomeConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: SafeHomeConfigEntry, client: SafeHomeClient
    ) -> None:
        """Create the coordinator and its (not yet started) event stream."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=None,
            always_update=True,
        )
        self.client = client
        self.link_up = False
        self._link_lost_logged = False
        self._connected = asyncio.Event()
        self._event_listeners: defaultdict[str | None, list[EventListener]] = defaultdict(list)
        self._stream = SafeHomeEventStream(
            client,
            on_event=self._handle_event,
            on_connected=self._handle_connected,
            on_disconnected=self._handle_disconnected,
            on_resync=self._handle_resync,
        )

    async def _async_update_data(self) -> SafeHomeState:
        """Fetch the hub and every device over REST."""
        try:
            hub = await self.client.hub()
            devices = await self.client.devices()
        except SafeHomeAuthenticationError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except SafeHomeError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(err)},
            ) from err
        self.link_up = True
        return SafeHomeState(hub=hub, devices={device.id: device for device in devices})

    async def async_start(self) -> None:
        """Start the event stream, resuming right after the state just loaded."""
        hub = self.data.hub
        await self._stream.start(boot_id=hub.boot_id, since=hub.last_seq)
        try:
            async with asyncio.timeout(STREAM_CONNECT_TIMEOUT):
                await self._connected.wait()
        except TimeoutError as err:
            await self._stream.stop()
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="stream_unavailable"
            ) from err

    @property
    def stream(self) -> SafeHomeEventStream:
        """The hub's event stream (diagnostics read its link state)."""
        return self._stream

    async def async_stop(self) -> None:
        """Stop the event stream."""
        await self._stream.stop()

    @callback
    def async_add_event_listener(
        self, device_id: str | None, listener: EventListener
    ) -> CALLBACK_TYPE:
        """Call `listener` with every event of one device (None: hub events)."""
        listeners = self._event_listeners[device_id]
        listeners.append(listener)

        @callback
        def remove() -> None:
            listeners.remove(listener)

        return remove

    @callback
    def _handle_event(self, event: Event) -> None:
        """Apply one pushed event to the state, then tell the event's listeners."""
        data = self.data
        name = event.event
        if name in (EventName.DEVICE_UPDATED, EventName.DEVICE_ADDED) and event.device:
            devices = dict(data.devices)
            devices[event.device.id] = event.device
            self.async_set_updated_data(replace(data, devices=devices))
        elif name == EventName.DEVICE_REMOVED and event.device_id in data.devices:
            devices = {key: dev for key, dev in data.devices.items() if key != event.device_id}
            self.async_set_updated_data(replace(data, devices=devices))
        elif name == EventName.HUB_UPDATED and event.hub:
            self.async_set_updated_data(replace(data, hub=event.hub))
        for listener in tuple(self._event_listeners.get(event.device_id, ())):
            listener(event)

    @callback
    def _handle_connected(self, resumed: bool) -> None:
        """Mark the link up; log once if it had been lost."""
        self._connected.set()
        if self._link_lost_logged:
            LOGGER.info("Connection to SafeHome hub %s restored", self.config_entry.title)
            self._link_lost_logged = False
        if not self.link_up:
            self.link_up = True
            self.async_update_listeners()

    @callback
    def _handle_disconnected(self, error: Exception | None) -> None:
        """Mark the link down (once); ask for a new pairing if the token was refused."""
        self._connected.clear()
        if isinstance(error, SafeHomeAuthenticationError):
            self.config_entry.async_start_reauth(self.hass)
        if not self._link_lost_logged:
            LOGGER.info(
                "Lost connection to SafeHome hub %s: %s",
                self.config_entry.title,
                error or "connection closed",
            )
            self._link_lost_logged = True
        if self.link_up:
            self.link_up = False
            self.async_update_listeners()

    async def _handle_resync(self) -> None:
        """Reload everything after the hub said events were missed."""
        await self.async_refresh()
