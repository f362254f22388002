"""The hub's state: identity, devices, tokens, away mode and the numbered event log."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
import itertools
import logging
from time import monotonic_ns
from typing import Any, Protocol

from .auth import TokenStore
from .catalog import build_device
from .config import EmulatorConfig
from .devices import Device, EmergencyBell
from .errors import ApiError
from .pairing import PairingWindow
from .util import dumps, new_boot_id, utc_now_iso

_LOGGER = logging.getLogger(__name__)
COMMAND_LOG_SIZE = 10_000
JOURNAL_SIZE = 50_000
# Events whose data is a whole object: the journal keeps them without their data.
STATE_EVENTS = frozenset({"device_updated", "device_added", "hub_updated"})


class Subscriber(Protocol):
    """Something that receives every event as encoded JSON text."""

    def push(self, text: str) -> None:
        """Queue one encoded event."""


class Hub:
    """A SafeHome hub: everything the API exposes, minus the transport."""

    def __init__(self, config: EmulatorConfig) -> None:
        """Create the hub and its configured devices (raises ValueError on a bad device)."""
        self.config = config
        self.tokens = TokenStore(config.state_dir)
        self.pairing = PairingWindow(
            config.pairing_window, config.pairing_attempts, config.pairing_code
        )
        self.away_mode = False
        self.boot_id = new_boot_id()
        self.seq = 0
        self.buffer: deque[tuple[int, str]] = deque(maxlen=config.replay_buffer)
        self.subscribers: set[Subscriber] = set()
        self.down = False
        self.failing_reads = 0
        """How many of the next `GET /devices` answer 503 `offline` (a flaky hub)."""
        # Down for a reboot: events are lost, not numbered (a hub that keeps its boot
        # while its API is down numbers and buffers them as usual).
        self.rebooting = False
        # Every numbered event across boots, for tests and the soak (`/control/events`).
        self.journal: deque[dict[str, Any]] = deque(maxlen=JOURNAL_SIZE)
        self.journal_index = 0
        self.command_log: deque[dict[str, Any]] = deque(maxlen=COMMAND_LOG_SIZE)
        self.devices: dict[str, Device] = {}
        self._drain_handle: asyncio.TimerHandle | None = None
        for spec in config.device_specs():
            device = build_device(self, spec)
            self.devices[device.id] = device

    # --- identity --------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Return the `Info` object."""
        c = self.config
        return {
            "id": c.hub_id,
            "name": c.name,
            "model": c.model,
            "manufacturer": c.manufacturer,
            "firmware": c.firmware,
            "api_version": c.api_version,
        }

    def to_dict(self, last_seq: int | None = None) -> dict[str, Any]:
        """Return the `Hub` object."""
        return {
            **self.info(),
            "away_mode": self.away_mode,
            "boot_id": self.boot_id,
            "last_seq": self.seq if last_seq is None else last_seq,
        }

    # --- events ----------------------------------------------------------------------

    def emit(
        self, event: str, device_id: str | None, data: dict[str, Any], time: str | None = None
    ) -> None:
        """Record and push one numbered event (lost while the hub is down for a reboot)."""
        if self.down and self.rebooting:
            return
        self.seq += 1
        at = time or utc_now_iso()
        text = dumps(
            {
                "type": "event",
                "seq": self.seq,
                "time": at,
                "event": event,
                "device_id": device_id,
                "data": data,
            }
        )
        self.buffer.append((self.seq, text))
        self.journal_index += 1
        entry = {
            "index": self.journal_index,
            "t": monotonic_ns(),
            "boot_id": self.boot_id,
            "seq": self.seq,
            "time": at,
            "event": event,
            "device_id": device_id,
        }
        if event not in STATE_EVENTS:
            entry["data"] = data
        self.journal.append(entry)
        for subscriber in tuple(self.subscribers):
            subscriber.push(text)

    def replay(self, boot_id: str | None, since: int) -> tuple[list[str], str | None]:
        """Return the events to send after `since` and None, or those and the resync reason.

        After a resync the hub sends the events that follow it: none for a gap (the client
        reloads the current state), and for another boot the whole new boot from seq 1 while
        the buffer still holds it, so that nothing since the reboot is lost.
        """
        if boot_id != self.boot_id:
            if self.buffer and self.buffer[0][0] == 1:
                return [text for _, text in self.buffer], "boot"
            return [], "boot"
        if since > self.seq:
            return [], "gap"
        if since == self.seq:
            return [], None
        if not self.buffer or self.buffer[0][0] > since + 1:
            return [], "gap"
        start = since + 1 - self.buffer[0][0]
        return [text for _, text in itertools.islice(self.buffer, start, None)], None

    def journal_after(self, index: int) -> list[dict[str, Any]]:
        """Return the journal's entries after `index` (oldest first)."""
        if not self.journal:
            return []
        start = max(0, index + 1 - self.journal[0]["index"])
        return list(itertools.islice(self.journal, start, None))

    def clear_buffer(self) -> None:
        """Forget every buffered event (a later resume needs a resync)."""
        self.buffer.clear()

    def reboot(self) -> None:
        """Start a new boot: new boot id, sequence numbers from 1, empty buffer."""
        self.boot_id = new_boot_id(self.boot_id)
        self.seq = 0
        self.buffer.clear()

    # --- state changes ---------------------------------------------------------------

    def device(self, device_id: str) -> Device:
        """Return a device or raise `not_found`."""
        try:
            return self.devices[device_id]
        except KeyError:
            raise ApiError("not_found", f"no device {device_id!r}") from None

    def add_device(self, spec: Mapping[str, Any]) -> Device:
        """Add a device (`device_added`); raise ValueError if the spec is invalid."""
        if spec.get("id") in self.devices:
            raise ValueError(f"a device {spec.get('id')!r} exists already")
        device = build_device(self, spec)
        self.devices[device.id] = device
        self.emit("device_added", device.id, {"device": device.to_dict()})
        return device

    def remove_device(self, device_id: str) -> None:
        """Remove a device (`device_removed`)."""
        device = self.device(device_id)
        device.close()
        del self.devices[device_id]
        self.emit("device_removed", device_id, {})

    def raise_emergency(self, device_id: str) -> None:
        """Raise an emergency for another device (a pulled personal alarm) on every bell.

        Each bell reports it as its own button would (source `button`), naming the device;
        a bell already in an emergency keeps it.
        """
        for device in tuple(self.devices.values()):
            if isinstance(device, EmergencyBell) and device.has("emergency"):
                device.trigger("button", device=device_id)

    def set_away_mode(self, enabled: bool) -> None:
        """Switch away mode (`hub_updated` when it changes)."""
        if enabled != self.away_mode:
            self.away_mode = enabled
            self.emit("hub_updated", None, {"hub": self.to_dict(last_seq=self.seq + 1)})

    def log_command(
        self,
        t_ns: int,
        device_id: str | None,
        command: str | None,
        params: Any,
        result: str,
    ) -> None:
        """Record a received command and what became of it."""
        self.command_log.append(
            {
                "t": t_ns,
                "time": utc_now_iso(),
                "device_id": device_id,
                "command": command,
                "params": params,
                "result": result,
            }
        )

    # --- life cycle ------------------------------------------------------------------

    def start(self) -> None:
        """Start the battery drain."""
        self._schedule_drain()

    def _schedule_drain(self) -> None:
        interval = self.config.battery_drain_interval
        if interval > 0:
            self._drain_handle = asyncio.get_running_loop().call_later(interval, self._drain)

    def _drain(self) -> None:
        for device in tuple(self.devices.values()):
            device.drain_battery()
        self._schedule_drain()

    def close(self) -> None:
        """Cancel every timer of the hub and its devices."""
        if self._drain_handle is not None:
            self._drain_handle.cancel()
            self._drain_handle = None
        for device in self.devices.values():
            device.close()
        self.subscribers.clear()
