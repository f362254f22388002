"""Keep Home Assistant in step with a SafeHome hub: REST for the full state, push for changes."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
import homeassistant.util.dt as dt_util

from .api import (
    Device,
    Event,
    EventName,
    Hub,
    SafeHomeAuthenticationError,
    SafeHomeClient,
    SafeHomeConnectionError,
    SafeHomeError,
    SafeHomeEventStream,
    SafeHomeIdentityError,
)
from .const import DOMAIN, LOGGER
from .data import SafeHomeConfigEntry
from .issues import async_report_identity_changed

type EventListener = Callable[[Event], None]
type StreamPosition = tuple[str, int]
"""A place in the hub's events: its boot id and the last sequence number told."""

# Consecutive failed reloads after which the log says so (earlier ones are expected while a
# hub finishes booting, and the entities already show unavailable).
RELOAD_FAILURES_LOGGED = 3


@dataclass(frozen=True, slots=True)
class SafeHomeState:
    """A consistent picture of the hub and its devices."""

    hub: Hub
    devices: dict[str, Device]


class SafeHomeCoordinator(DataUpdateCoordinator[SafeHomeState]):
    """Load the hub's state once, then follow its event stream (no polling).

    The data is the hub's truth only while `in_sync`: the stream is connected and caught up
    and the last full load succeeded. Entities read the data every time and are unavailable
    otherwise.
    """

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
        """Whether the event stream is connected, welcomed and caught up."""
        self._link_lost_logged = False
        self._failed_reloads = 0
        # Events that arrive while catching up (a replay) wait until the state is in sync,
        # so that the entities firing them are available.
        self._pending_events: list[Event] = []
        self._follow_task: asyncio.Task[None] | None = None
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
        except SafeHomeIdentityError as err:
            async_report_identity_changed(self.hass, self.config_entry)
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="identity_changed"
            ) from err
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
        return SafeHomeState(hub=hub, devices={device.id: device for device in devices})

    @property
    def in_sync(self) -> bool:
        """Whether the data is the hub's current state (link up, last full load good)."""
        return self.link_up and self.last_update_success

    async def async_follow_stream(self, resume: StreamPosition | None = None) -> None:
        """Follow the event stream from the state just loaded; runs until cancelled.

        Events after the load are replayed by the hub, so nothing falls between the load
        and the first event, however long the entities take to be set up. `resume` is
        where the stream last stopped telling events (a reload, a failed unload): the hub
        replays from there, so an event in between is told once (their state changes,
        applied again, end at the state loaded).
        """
        hub = self.data.hub
        since = hub.last_seq
        if resume is not None and resume[0] == hub.boot_id:
            since = resume[1]
        self._follow_task = asyncio.current_task()
        try:
            await self._stream.run(boot_id=hub.boot_id, since=since)
        finally:
            self.link_up = False

    async def async_stop_following(self) -> StreamPosition | None:
        """Stop the event stream and wait for it; return where to resume it.

        Called before the entities are taken down, so that nothing changes them (or adds
        new ones) meanwhile.
        """
        task, self._follow_task = self._follow_task, None
        if task is not None and not task.done():
            task.cancel()
            if task is not asyncio.current_task():
                await asyncio.wait([task])
        boot_id, seq = self._stream.boot_id, self._stream.last_seq
        # Held events were not told: the hub replays them when the stream follows again.
        held, self._pending_events = self._pending_events, []
        if boot_id is None or seq is None:
            return None
        return boot_id, min([seq, *(event.seq - 1 for event in held if event.seq > 0)])

    @property
    def stream(self) -> SafeHomeEventStream:
        """The hub's event stream (diagnostics read its link state)."""
        return self._stream

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
    def async_fire_local_event(self, device_id: str, name: str, data: dict[str, Any]) -> None:
        """Tell a device's listeners of something Home Assistant itself saw (seq 0).

        Used for a wrong unlock code; its time is now on the hub's clock.
        """
        event = Event(
            seq=0,
            time=dt_util.utcnow() + self._stream.clock_offset,
            event=EventName(name),
            device_id=device_id,
            data=data,
        )
        for listener in tuple(self._event_listeners.get(device_id, ())):
            listener(event)

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
        self._pending_events.append(event)
        if self.in_sync:
            self._dispatch_pending()

    @callback
    def pending_events(self, device_id: str | None) -> list[Event]:
        """Return a device's replayed events that its entities have not been told yet."""
        return [event for event in self._pending_events if event.device_id == device_id]

    @callback
    def _dispatch_pending(self) -> None:
        """Tell the listeners of every held event, oldest first (each event once)."""
        pending, self._pending_events = self._pending_events, []
        for event in pending:
            for listener in tuple(self._event_listeners.get(event.device_id, ())):
                try:
                    listener(event)
                except Exception:  # one listener must not keep the others from the event
                    LOGGER.exception("Error handling SafeHome event %s", event.event)

    @callback
    def _handle_connected(self, resumed: bool) -> None:
        """Mark the link up (it is in sync); log once if it had been lost."""
        if self._link_lost_logged:
            LOGGER.info("Connection to SafeHome hub %s restored", self.config_entry.title)
            self._link_lost_logged = False
        # Caught up from a position whose state was fully applied (a failed reload changes
        # neither the data nor the stream's position): the data is the hub's truth.
        if not self.link_up or not self.last_update_success:
            self.link_up = self.last_update_success = True
            self.async_update_listeners()
        self._dispatch_pending()

    @callback
    def _handle_disconnected(self, error: Exception | None) -> None:
        """Mark the link down (once); ask for a new pairing if the token was refused."""
        if isinstance(error, SafeHomeIdentityError):
            async_report_identity_changed(self.hass, self.config_entry)
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
        """Reload everything after events were missed; raise if that failed.

        The stream then keeps its old position and tries again on a new link, and the
        entities stay unavailable until a reload succeeds.
        """
        try:
            data = await self._async_update_data()
        except (UpdateFailed, ConfigEntryAuthFailed) as err:
            if isinstance(err, ConfigEntryAuthFailed):
                self.config_entry.async_start_reauth(self.hass)
            self._failed_reloads += 1
            # A hub just back from a reboot may fail a read or two: say so only if it lasts.
            log = LOGGER.warning if self._failed_reloads == RELOAD_FAILURES_LOGGED else LOGGER.debug
            log("Reloading SafeHome hub %s failed, retrying: %s", self.config_entry.title, err)
            self.last_exception = err
            if self.last_update_success:
                self.last_update_success = False
                self.async_update_listeners()
            raise SafeHomeConnectionError("Reloading the hub's state failed") from err
        self._failed_reloads = 0
        self.async_set_updated_data(data)
