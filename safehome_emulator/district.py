"""The district options (API 2.1): a window lock and a personal alarm.

Some districts add them to the Seoul kit. A window lock reports its window contact, a
tamper switch and, where it has one, a latch that can be locked from afar; a window opened
while its latch is locked was forced. A personal alarm sounds while its pin is pulled out,
and a pull raises an emergency on the hub (on its emergency bells), as the bell's own
button does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from . import params as p
from .devices import Device, DeviceHost
from .errors import ApiError
from .util import utc_now_iso

WINDOW_STATES = ("open", "closed")
LATCH_STATES = ("locked", "unlocked")
WINDOW_ACTIVITIES = ("forced", "tamper")
ALARM_ACTIONS = ("pulled", "pressed", "cleared")


class WindowLock(Device):
    """A window lock: window contact, tamper switch and (capability `latch`) a latch."""

    TYPE = "window_lock"
    MODEL = "SH-WL100"
    FIRMWARE = "1.0.4"
    DEFAULT_NAME = "Window lock"
    DEFAULT_BATTERY = 100
    CAPABILITIES = ("latch", "tamper", "activity")
    COMMANDS: ClassVar[dict[str, str | None]] = {"lock": "latch", "unlock": "latch"}
    EXTRA_KEYS = frozenset({"window", "latch", "tamper"})

    def __init__(self, host: DeviceHost, spec: Mapping[str, Any]) -> None:
        """Create the window lock (closed and latched unless configured otherwise)."""
        super().__init__(host, spec)
        self.window = p.choice(spec, "window", WINDOW_STATES, default="closed")
        default_latch = "locked" if self.window == "closed" else "unlocked"
        self.latch = p.choice(spec, "latch", LATCH_STATES, default=default_latch)
        self.tamper = p.boolean(spec, "tamper", default=False)

    def state(self) -> dict[str, Any]:
        """Return the window, the tamper switch and (with a latch) the latch."""
        state: dict[str, Any] = {"window": self.window, "tamper": self.tamper}
        if self.has("latch"):
            state["latch"] = self.latch
        return state

    def _activity(self, activity: str) -> None:
        if self.has("activity"):
            self.emit("window_activity", {"activity": activity})

    def _set_latch(self, latch: str) -> None:
        if latch == "locked" and self.window == "open":
            raise ApiError("window_open", "The window is open; close it before locking it.")
        if latch != self.latch:
            self.latch = latch
            self.updated()

    def _do_lock(self, _client: str | None) -> None:
        self._set_latch("locked")

    def _do_unlock(self, _client: str | None) -> None:
        self._set_latch("unlocked")

    # --- physical changes ------------------------------------------------------------

    def set_window(self, window: str) -> None:
        """Open or close the window; opening it while latched forces it.

        The latch stays `locked` (that is how the lock knows the window was forced), the
        contact reports the window open, then the lock reports `forced`.
        """
        if window == self.window:
            return
        forced = window == "open" and self.has("latch") and self.latch == "locked"
        self.window = window
        self.updated()
        if forced:
            self._activity("forced")

    def set_latch(self, latch: str) -> None:
        """Lock or unlock the latch by hand (an open window cannot be latched)."""
        self.require("latch")
        self._set_latch(latch)

    def set_tamper(self, active: bool) -> None:
        """Open (or close again) the lock's cover: the tamper switch trips."""
        self.require("tamper")
        if active == self.tamper:
            return
        self.tamper = active
        self.updated()
        if active:
            self._activity("tamper")


class PersonalAlarm(Device):
    """A personal alarm: it sounds while its pin is out, and a pull raises an emergency.

    Putting the pin back silences it but does not cancel the emergency (whoever holds the
    alarm may not be the one it protects); its button only reports `pressed`.
    """

    TYPE = "personal_alarm"
    MODEL = "SH-PA100"
    FIRMWARE = "1.1.0"
    DEFAULT_NAME = "Personal alarm"
    DEFAULT_BATTERY = 100
    CAPABILITIES = ("button", "emergency")

    def __init__(self, host: DeviceHost, spec: Mapping[str, Any]) -> None:
        """Create the alarm, pin in, quiet."""
        super().__init__(host, spec)
        self.sounding = False
        self.sounding_since: str | None = None

    def state(self) -> dict[str, Any]:
        """Return whether it sounds and since when."""
        return {"sounding": self.sounding, "sounding_since": self.sounding_since}

    def _action(self, action: str, time: str | None = None) -> None:
        self.emit("personal_alarm", {"action": action}, time)

    def set_pin(self, pulled: bool) -> None:
        """Pull the pin out (it sounds, the hub raises an emergency) or put it back."""
        if pulled == self.sounding:
            return
        self.sounding = pulled
        self.sounding_since = utc_now_iso() if pulled else None
        self._action("pulled" if pulled else "cleared", self.sounding_since)
        self.updated()
        # Out of the hub's reach, a pull is heard by nobody but the people around.
        if pulled and self.online and self.has("emergency"):
            self.host.raise_emergency(self.id)

    def press(self) -> None:
        """Press the alarm's button."""
        self.require("button")
        self._action("pressed")
