"""The control surface (`/control`, only with `--control`): physical events and faults.

Tests, the benchmark and people use it to press the doorbell (or the pairing button),
open the door, shout for help, take devices offline, and break the push stream on
purpose. JSON in and out, no token; every answer is `{"ok": true, ...}` or an `Error`.
It has its own plain-HTTP server, on loopback by default (see server.py and guard.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
import itertools
import time
from typing import Any

from aiohttp import web

from . import params as p
from .devices import LOCK_ACTIVITIES, CameraDevice, Device, Doorbell, DoorLock, EmergencyBell
from .district import LATCH_STATES, WINDOW_STATES, PersonalAlarm, WindowLock
from .errors import ApiError
from .events import GARBAGE_KINDS, EventStreams
from .hub import Hub
from .media import Media
from .page import PAGE
from .util import HubClock
from .webutil import json_response, read_json

BASE = "/control"
FLOOD_BATCH = 500
# `motion_detected`: events only; `motion`: toggle each camera's motion state (each
# toggle is a `device_updated`, plus a `motion_detected` when motion starts).
FLOOD_KINDS = ("motion_detected", "motion")
GARBAGE_MAX = 10_000


def _int_or_text(value: str | None) -> int | str | None:
    """Read a query parameter as an integer where it is one (validated afterwards)."""
    if value is None or not value.strip().isdigit():
        return value
    return int(value)


def ok(**extra: Any) -> web.Response:
    """Answer `{"ok": true, ...}`."""
    return json_response({"ok": True, **extra})


class Control:
    """Handlers of the control surface."""

    def __init__(
        self,
        hub: Hub,
        streams: EventStreams,
        media: Media,
        restart: Callable[[float, bool], None],
        open_pairing: Callable[[], str],
    ) -> None:
        """Drive one hub, its event streams and its media (and press its buttons)."""
        self.hub = hub
        self.streams = streams
        self.media = media
        self._restart = restart
        self._open_pairing = open_pairing
        self._floods: set[asyncio.Task[None]] = set()

    def routes(self) -> list[web.AbstractRouteDef]:
        """Return the route table."""
        dev = f"{BASE}/devices/{{device_id}}"
        return [
            web.get(BASE, self.page),
            web.get(f"{BASE}/state", self.state),
            web.get(f"{BASE}/log", self.get_log),
            web.delete(f"{BASE}/log", self.clear_log),
            web.get(f"{BASE}/events", self.events),
            web.post(f"{dev}/ring", self.ring),
            web.post(f"{dev}/motion", self.motion),
            web.post(f"{dev}/door", self.door),
            web.post(f"{dev}/activity", self.activity),
            web.post(f"{dev}/jam", self.jam),
            web.post(f"{dev}/press", self.press),
            web.post(f"{dev}/say", self.say),
            web.post(f"{dev}/window", self.window),
            web.post(f"{dev}/latch", self.latch),
            web.post(f"{dev}/tamper", self.tamper),
            web.post(f"{dev}/pin", self.pin),
            web.post(f"{dev}/online", self.online),
            web.post(f"{dev}/battery", self.battery),
            web.post(f"{dev}/info", self.info),
            web.post(f"{BASE}/devices", self.add_device),
            web.delete(dev, self.remove_device),
            web.post(f"{BASE}/pairing", self.open_pairing),
            web.delete(f"{BASE}/pairing", self.close_pairing),
            web.post(f"{BASE}/tokens/revoke", self.revoke),
            web.post(f"{BASE}/stream/drop", self.drop),
            web.post(f"{BASE}/stream/garbage", self.garbage),
            web.post(f"{BASE}/stream/pause", self.pause),
            web.post(f"{BASE}/restart", self.restart),
            web.post(f"{BASE}/flood", self.flood),
            web.post(f"{BASE}/buffer/clear", self.clear_buffer),
            web.post(f"{BASE}/reads/fail", self.fail_reads),
            web.post(f"{BASE}/clock", self.clock),
        ]

    def _device[T: Device](self, request: web.Request, cls: type[T]) -> T:
        device = self.hub.device(request.match_info["device_id"])
        if not isinstance(device, cls):
            raise ApiError(
                "unsupported", f"{device.id} is a {device.type}; this needs a {cls.TYPE}"
            )
        return device

    def _pressable(self, request: web.Request) -> EmergencyBell | PersonalAlarm:
        device = self.hub.device(request.match_info["device_id"])
        if not isinstance(device, EmergencyBell | PersonalAlarm):
            raise ApiError(
                "unsupported",
                f"{device.id} is a {device.type}; this needs an emergency_bell or a personal_alarm",
            )
        return device

    # --- inspection ------------------------------------------------------------------

    async def page(self, _request: web.Request) -> web.Response:
        """Serve a small web page for people."""
        return web.Response(text=PAGE, content_type="text/html")

    async def state(self, _request: web.Request) -> web.Response:
        """Return the hub, every device and the pairing window (code included)."""
        return ok(
            hub=self.hub.to_dict(),
            devices=[d.to_dict() for d in self.hub.devices.values()],
            pairing=self.hub.pairing.status(),
        )

    async def get_log(self, _request: web.Request) -> web.Response:
        """Return the log of received commands."""
        return ok(commands=list(self.hub.command_log))

    async def clear_log(self, _request: web.Request) -> web.Response:
        """Empty the command log."""
        self.hub.command_log.clear()
        return ok()

    async def events(self, request: web.Request) -> web.Response:
        """Return the journal of numbered events (across boots) after a cursor."""
        query = request.query
        after = p.integer({"after": _int_or_text(query.get("after"))}, "after", 0, 2**62, default=0)
        names = {name for name in query.get("event", "").split(",") if name}
        entries = self.hub.journal_after(after)
        if names:
            entries = [entry for entry in entries if entry["event"] in names]
        return ok(events=entries, last_index=self.hub.journal_index)

    # --- physical events -------------------------------------------------------------

    async def ring(self, request: web.Request) -> web.Response:
        """Press the doorbell button."""
        device = self._device(request, Doorbell)
        t = time.monotonic_ns()
        device.ring()
        return ok(t=t)

    async def motion(self, request: web.Request) -> web.Response:
        """Start or stop motion in front of a camera."""
        device = self._device(request, CameraDevice)
        active = p.boolean(await read_json(request), "active")
        t = time.monotonic_ns()
        device.set_motion(active)
        return ok(t=t)

    async def door(self, request: web.Request) -> web.Response:
        """Open or close the door."""
        device = self._device(request, DoorLock)
        state = p.choice(await read_json(request), "state", ("open", "closed"))
        t = time.monotonic_ns()
        device.set_door(state)
        return ok(t=t)

    async def activity(self, request: web.Request) -> web.Response:
        """Use the lock by hand."""
        device = self._device(request, DoorLock)
        body = await read_json(request)
        activity = p.choice(body, "activity", LOCK_ACTIVITIES)
        user = p.text(body, "user", max_length=64, default=None)
        t = time.monotonic_ns()
        device.physical_activity(activity, user)
        return ok(t=t)

    async def jam(self, request: web.Request) -> web.Response:
        """Make the lock's next lock attempt jam."""
        device = self._device(request, DoorLock)
        device.set_jam(p.boolean(await read_json(request, optional=True), "jam", default=True))
        return ok()

    async def press(self, request: web.Request) -> web.Response:
        """Press the emergency bell's (or the personal alarm's) button."""
        device = self._pressable(request)
        t = time.monotonic_ns()
        device.press()
        return ok(t=t)

    async def window(self, request: web.Request) -> web.Response:
        """Open or close the window (opening it while latched forces it)."""
        device = self._device(request, WindowLock)
        state = p.choice(await read_json(request), "state", WINDOW_STATES)
        t = time.monotonic_ns()
        device.set_window(state)
        return ok(t=t)

    async def latch(self, request: web.Request) -> web.Response:
        """Lock or unlock the window's latch by hand."""
        device = self._device(request, WindowLock)
        state = p.choice(await read_json(request), "state", LATCH_STATES)
        t = time.monotonic_ns()
        device.set_latch(state)
        return ok(t=t)

    async def tamper(self, request: web.Request) -> web.Response:
        """Trip the window lock's tamper switch (or let it go)."""
        device = self._device(request, WindowLock)
        active = p.boolean(await read_json(request), "active")
        t = time.monotonic_ns()
        device.set_tamper(active)
        return ok(t=t)

    async def pin(self, request: web.Request) -> web.Response:
        """Pull the personal alarm's pin out, or put it back."""
        device = self._device(request, PersonalAlarm)
        pulled = p.boolean(await read_json(request), "pulled")
        t = time.monotonic_ns()
        device.set_pin(pulled)
        return ok(t=t)

    async def say(self, request: web.Request) -> web.Response:
        """Say a phrase near the emergency bell."""
        device = self._device(request, EmergencyBell)
        phrase = p.text(await read_json(request), "text", max_length=1000) or ""
        return ok(keyword=device.hear(phrase))

    async def online(self, request: web.Request) -> web.Response:
        """Make the device reachable or unreachable."""
        device = self._device(request, Device)
        device.set_online(p.boolean(await read_json(request), "online"))
        return ok()

    async def battery(self, request: web.Request) -> web.Response:
        """Set the battery level."""
        device = self._device(request, Device)
        device.set_battery(p.integer(await read_json(request), "level", 0, 100))
        return ok()

    async def info(self, request: web.Request) -> web.Response:
        """Rename a device or change its firmware version."""
        device = self._device(request, Device)
        body = await read_json(request)
        name = p.text(body, "name", max_length=128, default=None)
        if name == "":
            raise ApiError("invalid_params", "the name must not be empty")
        device.set_info(name, p.text(body, "firmware", max_length=64, default=None))
        return ok()

    async def add_device(self, request: web.Request) -> web.Response:
        """Add a device."""
        spec = await read_json(request)
        try:
            device = self.hub.add_device(spec)
        except ValueError as err:
            raise ApiError("invalid_params", str(err)) from None
        return ok(device=device.to_dict())

    async def remove_device(self, request: web.Request) -> web.Response:
        """Remove a device."""
        self.hub.remove_device(request.match_info["device_id"])
        return ok()

    async def open_pairing(self, _request: web.Request) -> web.Response:
        """Press the hub's pairing button: a new window with a new code."""
        code = self._open_pairing()
        return ok(code=code, expires_in=float(self.hub.config.pairing_window))

    async def close_pairing(self, _request: web.Request) -> web.Response:
        """Close the pairing window."""
        self.hub.pairing.close()
        return ok()

    # --- faults ----------------------------------------------------------------------

    async def revoke(self, _request: web.Request) -> web.Response:
        """Revoke every token; open streams are closed with 4001."""
        tokens = self.hub.tokens.revoke_all()
        self.media.revoke_keys()
        self.media.stop_all()
        streams = self.streams.close_all(4001, b"token revoked")
        return ok(tokens=tokens, streams=streams)

    async def drop(self, _request: web.Request) -> web.Response:
        """Drop every event stream abruptly."""
        return ok(streams=self.streams.drop_all())

    async def garbage(self, request: web.Request) -> web.Response:
        """Send malformed frames (one by default) on every event stream."""
        body = await read_json(request)
        kind = p.choice(body, "kind", GARBAGE_KINDS)
        count = p.integer(body, "count", 1, GARBAGE_MAX, default=1)
        streams, frames = self.streams.garbage(kind, count)
        return ok(streams=streams, frames=frames)

    async def pause(self, request: web.Request) -> web.Response:
        """Send nothing on any event stream for a while."""
        seconds = p.number(await read_json(request), "seconds", 0, 300)
        self.streams.pause(seconds)
        return ok()

    async def restart(self, request: web.Request) -> web.Response:
        """Simulate a hub reboot."""
        body = await read_json(request, optional=True)
        downtime = p.number(body, "downtime", 0, 300, default=1.0)
        self._restart(downtime, p.boolean(body, "new_boot", default=True))
        return ok(downtime=downtime)

    async def clock(self, request: web.Request) -> web.Response:
        """Set the hub's clock this many seconds off (every emulator in the process)."""
        skew = p.number(await read_json(request), "skew", -86400, 86400)
        HubClock.skew = timedelta(seconds=skew)
        return ok(skew=skew)

    async def fail_reads(self, request: web.Request) -> web.Response:
        """Make the next `GET /api/v2/devices` requests fail (503 `offline`)."""
        count = p.integer(await read_json(request), "count", 0, 1000)
        left, self.hub.failing_reads = self.hub.failing_reads, count
        return ok(count=count, left=left)

    async def clear_buffer(self, _request: web.Request) -> web.Response:
        """Empty the replay buffer; answer the boot and the last event it held."""
        self.hub.clear_buffer()
        return ok(boot_id=self.hub.boot_id, last_seq=self.hub.seq)

    async def flood(self, request: web.Request) -> web.Response:
        """Emit many motion events at a given rate (0 = as fast as possible)."""
        body = await read_json(request)
        count = p.integer(body, "count", 1, 10_000_000)
        rate = p.number(body, "rate", 0, 1_000_000, default=1000)
        kind = p.choice(body, "kind", FLOOD_KINDS, default="motion_detected")
        devices = self.hub.devices.values()
        targets = [d.id for d in devices if d.type == "camera"] or [
            d.id for d in devices if d.has("motion")
        ]
        if not targets:
            raise ApiError("unsupported", "no camera to flood with motion events")
        task = asyncio.create_task(self._flood(targets, count, rate, kind))
        self._floods.add(task)
        task.add_done_callback(self._floods.discard)
        return ok(count=count, rate=rate, devices=targets)

    def _flood_step(self, device_id: str, kind: str) -> None:
        if kind == "motion_detected":
            self.hub.emit("motion_detected", device_id, {})
            return
        device = self.hub.devices.get(device_id)
        if isinstance(device, CameraDevice) and device.has("motion"):
            device.set_motion(not device.motion)

    async def _flood(self, targets: list[str], count: int, rate: float, kind: str) -> None:
        loop = asyncio.get_running_loop()
        devices = itertools.cycle(targets)
        start = loop.time()
        sent = 0
        while sent < count:
            if rate:
                due = min(count, int((loop.time() - start) * rate) + 1, sent + FLOOD_BATCH)
            else:
                due = min(count, sent + FLOOD_BATCH)
            while sent < due:
                self._flood_step(next(devices), kind)
                sent += 1
            if sent < count:
                delay = start + sent / rate - loop.time() if rate else 0.0
                await asyncio.sleep(max(0.0, delay))

    async def stop(self) -> None:
        """Stop every running flood."""
        for task in self._floods:
            task.cancel()
        if self._floods:
            await asyncio.gather(*self._floods, return_exceptions=True)
