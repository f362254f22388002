"""Simulated SafeHome devices of the Seoul kit: doorbell, home camera, door lock, bell.

Each device keeps its own state, runs its own timers on the event loop (the lock's motor,
auto-lock and latch, the siren) and reports every change through its host (the hub).
Commands are handled synchronously: they validate, change state, schedule what takes
time, and return at once; no awaiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

from . import params as p
from .config import EmulatorConfig
from .errors import ApiError
from .util import utc_now_iso
from .voice import recognise

LOCK_ACTIVITIES = (
    "keypad",
    "fingerprint",
    "card",
    "inside_handle",
    "forced_entry",
    "tamper",
    "remote",
    "auto_lock",
)
UNLOCKING_ACTIVITIES = frozenset({"keypad", "fingerprint", "card", "inside_handle"})
EMERGENCY_SOURCES = ("button", "voice", "phone")
# When the hub sounds the bell's siren for an emergency: at once, only when Home
# Assistant escalates (it sends `siren_on`), or never (a silent alarm).
SIREN_MODES = ("immediate", "escalation", "silent")
COMMON_KEYS = frozenset(
    {"id", "type", "name", "manufacturer", "model", "firmware", "online", "battery", "capabilities"}
)


class DeviceHost(Protocol):
    """What a device needs from its hub."""

    config: EmulatorConfig

    def emit(
        self, event: str, device_id: str | None, data: dict[str, Any], time: str | None = None
    ) -> None:
        """Record and push one event (at `time`, default now)."""

    def raise_emergency(self, device_id: str) -> None:
        """Raise an emergency on the hub's emergency bells for another device (API 2.1)."""


class Device:
    """A device on the hub: identity, reachability, battery, capabilities and state."""

    TYPE: ClassVar[str] = ""
    MODEL: ClassVar[str] = "SH-GEN1"
    FIRMWARE: ClassVar[str] = "1.0.0"
    DEFAULT_NAME: ClassVar[str] = "Device"
    DEFAULT_BATTERY: ClassVar[int | None] = None
    CAPABILITIES: ClassVar[tuple[str, ...]] = ()
    COMMANDS: ClassVar[dict[str, str | None]] = {}
    EXTRA_KEYS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, host: DeviceHost, spec: Mapping[str, Any]) -> None:
        """Create a device from its configuration (raises ApiError on bad values)."""
        unknown = set(spec) - COMMON_KEYS - self.EXTRA_KEYS
        if unknown:
            raise ApiError("invalid_params", f"unknown device keys: {', '.join(sorted(unknown))}")
        self.host = host
        self.id: str = spec["id"]
        self.type: str = spec["type"]
        self.name = p.text(spec, "name", max_length=128, default=self.DEFAULT_NAME) or ""
        if not self.name:
            raise ApiError("invalid_params", "the device name must not be empty")
        self.manufacturer = p.text(spec, "manufacturer", max_length=128, default="Seoul SafeHome")
        self.model = p.text(spec, "model", max_length=128, default=self.MODEL)
        self.firmware = p.text(spec, "firmware", max_length=64, default=self.FIRMWARE)
        self.online = p.boolean(spec, "online", default=True)
        battery = spec.get("battery", self.DEFAULT_BATTERY)
        self.battery: int | None = (
            None if battery is None else p.integer({"battery": battery}, "battery", 0, 100)
        )
        capabilities = spec.get("capabilities", list(self.CAPABILITIES))
        if (
            not isinstance(capabilities, list)
            or not all(isinstance(c, str) for c in capabilities)
            or len(set(capabilities)) != len(capabilities)
        ):
            raise ApiError("invalid_params", "capabilities must be a list of distinct strings")
        self.capabilities: list[str] = capabilities
        self._timers: dict[str, asyncio.TimerHandle] = {}

    # --- reporting -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the device as the API's `Device` object."""
        return {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "firmware": self.firmware,
            "online": self.online,
            "battery": self.battery,
            "capabilities": list(self.capabilities),
            "state": self.state(),
        }

    def state(self) -> dict[str, Any]:
        """Return the per-type state object."""
        raise NotImplementedError

    def emit(self, event: str, data: dict[str, Any] | None = None, time: str | None = None) -> None:
        """Report an event, unless the hub cannot reach the device."""
        if self.online:
            self.host.emit(event, self.id, data if data is not None else {}, time)

    def updated(self) -> None:
        """Report the whole device after a change."""
        if self.online:
            self.host.emit("device_updated", self.id, {"device": self.to_dict()})

    # --- timers ----------------------------------------------------------------------

    def _later(self, slot: str, delay: float, callback: Callable[[], None]) -> None:
        """Run `callback` after `delay` seconds, replacing the slot's pending timer."""
        self._cancel(slot)

        def fire() -> None:
            self._timers.pop(slot, None)
            callback()

        self._timers[slot] = asyncio.get_running_loop().call_later(delay, fire)

    def _cancel(self, slot: str) -> None:
        handle = self._timers.pop(slot, None)
        if handle is not None:
            handle.cancel()

    def close(self) -> None:
        """Cancel every pending timer (the device is removed or the hub stops)."""
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    # --- commands --------------------------------------------------------------------

    def has(self, capability: str) -> bool:
        """Return whether the device has a capability."""
        return capability in self.capabilities

    def require(self, capability: str) -> None:
        """Raise `unsupported` unless the device has a capability."""
        if not self.has(capability):
            raise ApiError("unsupported", f"{self.id} has no {capability!r} capability")

    def execute(self, command: str, params: Mapping[str, Any], client: str | None) -> None:
        """Validate and start a command; raise ApiError if it cannot be accepted."""
        if command not in self.COMMANDS:
            raise ApiError("unknown_command", f"a {self.type} has no command {command!r}")
        capability = self.COMMANDS[command]
        if capability is not None:
            self.require(capability)
        parser: Callable[[Mapping[str, Any]], dict[str, Any]] = getattr(
            self, f"_parse_{command}", lambda _params: {}
        )
        args = parser(params)
        if not self.online:
            raise ApiError("offline", f"{self.id} does not answer")
        getattr(self, f"_do_{command}")(client, **args)

    # --- physical changes (control surface) ----------------------------------------

    def set_online(self, online: bool) -> None:
        """Make the device reachable or not (always reported)."""
        if online != self.online:
            self.online = online
            self.host.emit("device_updated", self.id, {"device": self.to_dict()})

    def set_battery(self, level: int) -> None:
        """Set the battery level (battery-powered devices only)."""
        if self.battery is None:
            raise ApiError("unsupported", f"{self.id} is mains-powered")
        if level != self.battery:
            self.battery = level
            self.updated()

    def set_info(self, name: str | None, firmware: str | None) -> None:
        """Rename the device or change its firmware version."""
        changed = False
        if name is not None and name != self.name:
            self.name, changed = name, True
        if firmware is not None and firmware != self.firmware:
            self.firmware, changed = firmware, True
        if changed:
            self.updated()

    def drain_battery(self) -> None:
        """Lose 1 % of battery."""
        if self.battery:
            self.battery -= 1
            self.updated()


class GenericDevice(Device):
    """A device of a type this hub version does not know: fixed state, no commands."""

    EXTRA_KEYS = frozenset({"state"})

    def __init__(self, host: DeviceHost, spec: Mapping[str, Any]) -> None:
        """Create the device with the configured state object."""
        super().__init__(host, spec)
        state = spec.get("state", {})
        if not isinstance(state, dict):
            raise ApiError("invalid_params", "state must be an object")
        self._state = dict(state)

    def state(self) -> dict[str, Any]:
        """Return the configured state."""
        return dict(self._state)


class CameraDevice(Device):
    """A home camera: snapshots, MJPEG and live video, motion and privacy mode."""

    TYPE = "camera"
    MODEL = "SH-CAM100"
    FIRMWARE = "3.2.1"
    DEFAULT_NAME = "Home camera"
    CAPABILITIES = ("snapshot", "mjpeg", "stream", "privacy", "motion")
    COMMANDS: ClassVar[dict[str, str | None]] = {"camera_on": "privacy", "camera_off": "privacy"}
    EXTRA_KEYS = frozenset({"camera_on", "motion"})

    def __init__(self, host: DeviceHost, spec: Mapping[str, Any]) -> None:
        """Create the camera."""
        super().__init__(host, spec)
        self.camera_on = p.boolean(spec, "camera_on", default=True)
        self.motion = p.boolean(spec, "motion", default=False)

    def state(self) -> dict[str, Any]:
        """Return motion and privacy state."""
        return {"motion": self.motion, "camera_on": self.camera_on}

    def _set_camera(self, on: bool) -> None:
        if on != self.camera_on:
            self.camera_on = on
            self.updated()

    def _do_camera_on(self, _client: str | None) -> None:
        self._set_camera(True)

    def _do_camera_off(self, _client: str | None) -> None:
        self._set_camera(False)

    def set_motion(self, active: bool) -> None:
        """Motion starts (reported as `motion_detected`) or stops."""
        self.require("motion")
        if active == self.motion:
            return
        self.motion = active
        if active:
            self.emit("motion_detected")
        self.updated()


class Doorbell(CameraDevice):
    """A smart doorbell: a camera with a button."""

    TYPE = "doorbell"
    MODEL = "SH-DB100"
    FIRMWARE = "1.8.0"
    DEFAULT_NAME = "Doorbell"
    DEFAULT_BATTERY = 100

    def __init__(self, host: DeviceHost, spec: Mapping[str, Any]) -> None:
        """Create the doorbell."""
        super().__init__(host, spec)
        self.last_ring: str | None = None

    def state(self) -> dict[str, Any]:
        """Return camera state and the time of the last ring."""
        return {**super().state(), "last_ring": self.last_ring}

    def ring(self) -> None:
        """Press the doorbell button."""
        self.last_ring = utc_now_iso()
        self.emit("doorbell_ring", time=self.last_ring)  # the same instant as last_ring
        self.updated()


class DoorLock(Device):
    """A digital door lock with a motor, a door contact, auto-lock and a latch."""

    TYPE = "door_lock"
    MODEL = "SH-DL200"
    FIRMWARE = "2.1.0"
    DEFAULT_NAME = "Door lock"
    DEFAULT_BATTERY = 100
    CAPABILITIES = ("lock", "unlock", "open", "auto_lock_delay", "door_contact", "activity")
    COMMANDS: ClassVar[dict[str, str | None]] = {
        "lock": "lock",
        "unlock": "unlock",
        "open": "open",
        "set_auto_lock_delay": "auto_lock_delay",
    }
    EXTRA_KEYS = frozenset({"lock_state", "door", "auto_lock_delay", "motor_time"})

    def __init__(self, host: DeviceHost, spec: Mapping[str, Any]) -> None:
        """Create the lock (at rest: locked, unlocked or jammed)."""
        super().__init__(host, spec)
        self.lock_state = p.choice(
            spec, "lock_state", ("locked", "unlocked", "jammed"), default="locked"
        )
        self.door = p.choice(spec, "door", ("open", "closed"), default="closed")
        self.auto_lock_delay = round(p.number(spec, "auto_lock_delay", 0, 30, default=2.5), 1)
        self.motor_time = p.number(spec, "motor_time", 0, 60, default=host.config.motor_time)
        self.jam_next = False

    def state(self) -> dict[str, Any]:
        """Return lock, door and auto-lock state."""
        return {
            "lock_state": self.lock_state,
            "door": self.door,
            "auto_lock_delay": self.auto_lock_delay,
        }

    @property
    def busy(self) -> bool:
        """Whether the motor is running."""
        return self.lock_state in ("locking", "unlocking")

    def _activity(self, activity: str, user: str | None) -> None:
        self.emit("lock_activity", {"activity": activity, "user": user})

    def _run_motor(self, target: str) -> None:
        """Move the bolt: report the transient state now and `target` when done."""
        self.lock_state = "locking" if target == "locked" else "unlocking"
        self.updated()
        self._later("motor", self.motor_time, lambda: self._motor_done(target))

    def _motor_done(self, target: str) -> None:
        if target == "locked" and self.jam_next:
            self.jam_next = False
            target = "jammed"
        self.lock_state = target
        self.updated()
        if target == "open":
            self._later("latch", self.host.config.latch_time, self._latch_back)

    def _latch_back(self) -> None:
        if self.lock_state == "open" and self.door == "closed":
            self.lock_state = "unlocked"
            self.updated()

    def _check_idle(self) -> None:
        if self.busy:
            raise ApiError("busy", f"{self.id} is {self.lock_state}; wait for the motor")

    @staticmethod
    def _user(client: str | None) -> str | None:
        return client[:64] if client else None

    def _do_lock(self, client: str | None) -> None:
        self._check_idle()
        if self.door == "open":
            raise ApiError("door_open", "The door is open; close it before locking.")
        if self.lock_state == "jammed":
            raise ApiError("jammed", "The lock is jammed; unlock it first.")
        self._cancel("auto_lock")
        if self.lock_state == "locked":
            return
        self._cancel("latch")
        self._run_motor("locked")
        self._activity("remote", self._user(client))

    def _do_unlock(self, client: str | None) -> None:
        self._check_idle()
        self._cancel("auto_lock")
        if self.lock_state == "unlocked":
            return
        if self.lock_state == "open":
            self._cancel("latch")
            self.lock_state = "unlocked"
            self.updated()
        else:
            self._run_motor("unlocked")
        self._activity("remote", self._user(client))

    def _do_open(self, client: str | None) -> None:
        self._check_idle()
        if self.lock_state == "jammed":
            raise ApiError("jammed", "The lock is jammed; unlock it first.")
        self._cancel("auto_lock")
        if self.lock_state == "open":
            if self.door == "closed":
                self._later("latch", self.host.config.latch_time, self._latch_back)
            return
        self._run_motor("open")
        self._activity("remote", self._user(client))

    @staticmethod
    def _parse_set_auto_lock_delay(params: Mapping[str, Any]) -> dict[str, Any]:
        return {"seconds": round(p.number(params, "seconds", 0, 30), 1)}

    def _do_set_auto_lock_delay(self, _client: str | None, seconds: float) -> None:
        if seconds != self.auto_lock_delay:
            self.auto_lock_delay = seconds
            self.updated()

    # --- physical changes ------------------------------------------------------------

    def set_door(self, door: str) -> None:
        """Open or close the door; closing it arms the auto-lock.

        A locked door opens only by force: the bolt stays thrown (`locked`), the door
        contact reports it open, and the lock reports `forced_entry`, as a lock with a
        bolt sensor and a door contact does.
        """
        self.require("door_contact")
        if door == self.door:
            return
        forced = door == "open" and self.lock_state == "locked"
        self.door = door
        if door == "open":
            self._cancel("auto_lock")
            self._cancel("latch")
            self.updated()
            if forced:
                self._activity("forced_entry", None)
            return
        if self.lock_state == "open":
            self.lock_state = "unlocked"
        self.updated()
        if self.lock_state == "unlocked":
            if self.auto_lock_delay == 0:
                self._auto_lock()
            else:
                self._later("auto_lock", self.auto_lock_delay, self._auto_lock)

    def _auto_lock(self) -> None:
        if self.door == "closed" and self.lock_state == "unlocked":
            self._run_motor("locked")
            self._activity("auto_lock", None)

    def physical_activity(self, activity: str, user: str | None) -> None:
        """Someone uses the lock by hand; the unlocking kinds unlock it."""
        self.require("activity")
        self._activity(activity, user)
        if activity in UNLOCKING_ACTIVITIES and self.lock_state in ("locked", "jammed", "locking"):
            self._cancel("auto_lock")
            self._run_motor("unlocked")

    def set_jam(self, jam: bool) -> None:
        """Make the next lock attempt jam (or not)."""
        self.jam_next = jam


class EmergencyBell(Device):
    """A voice-recognition emergency bell with a button and a siren.

    Its siren mode says whether an emergency sounds the siren at once (`immediate`), only
    when Home Assistant escalates (`escalation`) or never (`silent`). A bell without the
    `siren_mode` capability (an older hub) reports no mode and sounds it at once.
    """

    TYPE = "emergency_bell"
    MODEL = "SH-EB100"
    FIRMWARE = "1.2.3"
    DEFAULT_NAME = "Emergency bell"
    DEFAULT_BATTERY = 100
    CAPABILITIES = ("siren", "emergency", "voice", "siren_mode")
    COMMANDS: ClassVar[dict[str, str | None]] = {
        "siren_on": "siren",
        "siren_off": "siren",
        "trigger_emergency": "emergency",
        "cancel_emergency": "emergency",
        "set_siren_mode": "siren_mode",
    }
    EXTRA_KEYS = frozenset({"siren_mode"})

    def __init__(self, host: DeviceHost, spec: Mapping[str, Any]) -> None:
        """Create the bell (quiet, no emergency)."""
        super().__init__(host, spec)
        self.emergency = False
        self.emergency_source: str | None = None
        self.emergency_since: str | None = None
        # The hub's device that raised the emergency when it was not the bell (API 2.1).
        self.emergency_device: str | None = None
        self.siren = False
        self.siren_mode = p.choice(spec, "siren_mode", SIREN_MODES, default="immediate")

    def state(self) -> dict[str, Any]:
        """Return emergency and siren state (and the siren mode, if the bell has one)."""
        state: dict[str, Any] = {
            "emergency": self.emergency,
            "emergency_source": self.emergency_source,
            "emergency_since": self.emergency_since,
            "siren": self.siren,
        }
        if self.has("siren_mode"):
            state["siren_mode"] = self.siren_mode
        if self.emergency_device is not None:
            state["emergency_device"] = self.emergency_device
        return state

    @property
    def sounds_at_once(self) -> bool:
        """Whether an emergency sounds the siren the moment it is raised."""
        return not self.has("siren_mode") or self.siren_mode == "immediate"

    def _sound(self, duration: float) -> None:
        self.siren = True
        self._later("siren", duration, self._siren_timeout)

    def _siren_timeout(self) -> None:
        self.siren = False
        self.updated()

    def _silence(self) -> None:
        self._cancel("siren")
        self.siren = False

    def trigger(self, source: str, keyword: str | None = None, device: str | None = None) -> bool:
        """Raise an emergency; return False if one is already active.

        `device` is the hub's other device that raised it (a pulled personal alarm): the
        source is then `button`, as a 2.0 client knows it, and `device` names it.
        """
        if self.emergency:
            return False
        self.emergency = True
        self.emergency_source = source
        self.emergency_since = utc_now_iso()
        self.emergency_device = device
        if self.has("siren") and self.sounds_at_once:
            self._sound(self.host.config.siren_duration)
        data: dict[str, Any] = {"source": source, "keyword": keyword}
        if device is not None:
            data["device"] = device
        self.emit("emergency_triggered", data)
        self.updated()
        return True

    def cancel(self, source: str) -> bool:
        """Cancel the emergency and silence the siren; return whether one was active."""
        was_active, was_sounding = self.emergency, self.siren
        self._silence()
        if not was_active:
            if was_sounding:
                self.updated()
            return False
        self.emergency = False
        self.emergency_source = None
        self.emergency_since = None
        self.emergency_device = None
        self.emit("emergency_cancelled", {"source": source})
        self.updated()
        return True

    def press(self) -> None:
        """Press the button: raise an emergency, or cancel the active one."""
        self.require("emergency")
        if self.emergency:
            self.cancel("button")
        else:
            self.trigger("button")

    def hear(self, phrase: str) -> str | None:
        """Hear a phrase; return the recognised keyword, if any."""
        self.require("voice")
        keyword = recognise(phrase)
        if keyword is not None:
            self.trigger("voice", keyword)
        return keyword

    @staticmethod
    def _parse_siren_on(params: Mapping[str, Any]) -> dict[str, Any]:
        return {"duration": p.integer(params, "duration", 1, 600, default=None)}

    def _do_siren_on(self, _client: str | None, duration: int | None) -> None:
        self._sound(duration or self.host.config.siren_duration)
        self.updated()

    def _do_siren_off(self, _client: str | None) -> None:
        if self.siren:
            self._silence()
            self.updated()

    @staticmethod
    def _parse_trigger_emergency(params: Mapping[str, Any]) -> dict[str, Any]:
        source = p.choice(params, "source", EMERGENCY_SOURCES, default="phone")
        # The words that raised it (a voice assistant in the home heard them), API 2.1.
        keyword = p.text(params, "keyword", max_length=64, default=None)
        return {"source": source, "keyword": (keyword or "").strip() or None}

    def _do_trigger_emergency(self, _client: str | None, source: str, keyword: str | None) -> None:
        self.trigger(source, keyword if source == "voice" else None)

    def _do_cancel_emergency(self, _client: str | None) -> None:
        self.cancel("phone")

    @staticmethod
    def _parse_set_siren_mode(params: Mapping[str, Any]) -> dict[str, Any]:
        return {"mode": p.choice(params, "mode", SIREN_MODES)}

    def _do_set_siren_mode(self, _client: str | None, mode: str) -> None:
        # From the next emergency: a siren that sounds now is left as it is.
        if mode != self.siren_mode:
            self.siren_mode = mode
            self.updated()
