"""Helpers for the blueprint tests: the kit's entities, phones, automations from blueprints."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
import time
from typing import Any
from unittest.mock import patch
import weakref

from aiohttp.helpers import TimeoutHandle
from homeassistant import config as conf_util
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
from pytest_homeassistant_custom_component.common import get_scheduled_timer_handles
import yaml

from tests.conftest import Control

ROOT = Path(__file__).parents[2]
BLUEPRINT_FOLDER = ROOT / "blueprints" / "automation" / "seoul_safehome"
BUNDLED_FOLDER = ROOT / "custom_components" / "seoul_safehome" / "blueprints"

# The integration's entities for the emulator's default Seoul kit.
DOOR = "binary_sensor.front_door_lock_door"
LOCK = "lock.front_door_lock"
DOORBELL = "event.front_door_doorbell_ring"
DOORBELL_CAMERA = "camera.front_door_doorbell_camera"
DOORBELL_MOTION = "binary_sensor.front_door_doorbell_motion"
HOME_CAMERA = "camera.home_camera"
HOME_MOTION = "binary_sensor.home_camera_motion"
EMERGENCY = "binary_sensor.emergency_bell_emergency"
EMERGENCY_EVENT = "event.emergency_bell_emergency_call"
SIREN = "siren.emergency_bell_siren"
AWAY_MODE = "switch.safehome_hub_away_mode"


class Clock:
    """Moves Home Assistant's clocks forward instead of sleeping (the `clock` fixture).

    The wall clock (state times, `now()` in templates) jumps with freezegun; the event
    loop keeps real time, so the hub's sockets and timers keep working. Timers are
    measured on a virtual loop clock, `loop.time() + offset`: a timer is due once the
    virtual clock passes its deadline, counted from the offset in force when it was set.
    Timeouts guarding I/O (`asyncio.timeout`, aiohttp's) stay on real time: a request
    to the emulator takes milliseconds, so a jump must not time out one in flight.
    """

    def __init__(self, hass: HomeAssistant, frozen: Any) -> None:
        """Wrap a running freezegun clock."""
        self._hass = hass
        self._frozen = frozen
        self._offset = 0.0
        self._set_at: weakref.WeakKeyDictionary[asyncio.TimerHandle, float] = (
            weakref.WeakKeyDictionary()
        )

    async def advance(self, seconds: float) -> None:
        """Jump `seconds` ahead and run the timers that fall due, in order.

        (Not hass.async_block_till_done() afterwards: that would wait for running
        automations, such as an escalation waiting for its deadline.)
        """
        # Let work already under way schedule its timers at the current time first.
        for _ in range(5):
            await asyncio.sleep(0)
        loop = self._hass.loop
        handles = [
            handle
            for handle in get_scheduled_timer_handles(loop)
            if isinstance(handle, asyncio.TimerHandle)
            and not handle.cancelled()
            and not _guards_io(handle)
        ]
        for handle in handles:
            self._set_at.setdefault(handle, self._offset)
        self._offset += seconds
        # (freezegun's tick() would drop the real time elapsed since the last jump.)
        self._frozen.move_to(self._frozen() + timedelta(seconds=seconds))
        virtual_now = loop.time() + self._offset
        due = sorted(
            (h for h in handles if h.when() + self._set_at[h] <= virtual_now),
            key=lambda h: h.when() + self._set_at[h],
        )
        now = dt_util.utcnow()
        with (
            patch("homeassistant.helpers.event.time_tracker_utcnow", return_value=now),
            patch(
                "homeassistant.helpers.event.time_tracker_timestamp",
                return_value=now.timestamp(),
            ),
        ):
            for handle in due:
                if not handle.cancelled():
                    handle._run()
                    handle.cancel()
        await asyncio.sleep(0.05)


def _guards_io(handle: asyncio.TimerHandle) -> bool:
    """Whether a timer is the timeout of an I/O wait (a camera image, an HTTP request)."""
    callback_ = handle._callback
    owner = getattr(callback_, "__self__", callback_)
    return isinstance(owner, (asyncio.Timeout, TimeoutHandle))


@dataclass
class Phone:
    """A phone with the Companion app: a mobile_app device and its notify action."""

    device_id: str
    name: str
    service: str
    calls: list[ServiceCall]

    @property
    def notifications(self) -> list[dict[str, Any]]:
        """What the phone was asked to show, oldest first."""
        return [dict(call.data) for call in self.calls]

    @property
    def last(self) -> dict[str, Any]:
        """The newest notification."""
        assert self.calls, f"{self.name} got no notification"
        return dict(self.calls[-1].data)


async def async_create_automations(hass: HomeAssistant, *configs: dict[str, Any]) -> list[str]:
    """Create automations from blueprints as a user would, and check they are valid.

    Each config is `{"blueprint": "instant_lock.yaml", "input": {...}}` plus optional
    `id`/`alias`. They are written to automations.yaml in the configuration folder (so
    that `automation.reload` finds them again, as in a real installation) and loaded.
    Returns the automation entity ids.
    """
    automations = [
        {
            "id": config.get("id", f"safehome_{index}"),
            "alias": config.get("alias", f"SafeHome {index}"),
            "use_blueprint": {
                "path": f"seoul_safehome/{config['blueprint']}",
                "input": config["input"],
            },
        }
        for index, config in enumerate(configs)
    ]

    def write() -> None:
        config_dir = Path(hass.config.config_dir)
        (config_dir / "automations.yaml").write_text(
            yaml.safe_dump(automations, allow_unicode=True), encoding="utf-8"
        )
        (config_dir / "configuration.yaml").write_text(
            "automation: !include automations.yaml\n", encoding="utf-8"
        )

    await hass.async_add_executor_job(write)
    config = await conf_util.async_hass_config_yaml(hass)
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, config)
    await hass.async_block_till_done()
    return assert_automations_loaded(hass, [a["id"] for a in automations])


def assert_automations_loaded(hass: HomeAssistant, ids: list[str]) -> list[str]:
    """Check that the automations with these ids exist and are on (their config is valid)."""
    states = {
        state.attributes.get("id"): state for state in hass.states.async_all(AUTOMATION_DOMAIN)
    }
    entity_ids = []
    for automation_id in ids:
        state = states.get(automation_id)
        assert state is not None, f"no automation {automation_id}: {list(states)}"
        assert state.state == "on", f"{state.entity_id} is {state.state}: {state.attributes}"
        entity_ids.append(state.entity_id)
    return entity_ids


async def wait_for_commands(
    control: Control,
    predicate: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 5.0,
) -> list[dict[str, Any]]:
    """Poll the emulator's command log until `predicate(commands)` holds; return the log."""
    log: list[dict[str, Any]] = []

    async def check() -> bool:
        nonlocal log
        log = await control.commands()
        return predicate(log)

    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"emulator commands not as expected within {timeout} s: {log}")
        await asyncio.sleep(0.02)
    return log


def commands_named(log: list[dict[str, Any]], command: str, device_id: str) -> list[dict]:
    """The commands with this name sent to this device, oldest first."""
    return [c for c in log if c["command"] == command and c["device_id"] == device_id]


def device_id_of(hass: HomeAssistant, entity_id: str) -> str:
    """The device registry id of an entity's device."""
    entry = er.async_get(hass).async_get(entity_id)
    assert entry is not None
    assert entry.device_id is not None
    return entry.device_id


# --- Added for issue 9 (instant lock and doorbell tests) ------------------------------
# (Imported here, not at the top, because this part was appended in its own change.)
import logging  # noqa: E402

from homeassistant.const import EVENT_CALL_SERVICE  # noqa: E402
from homeassistant.core import Event, callback  # noqa: E402
from homeassistant.helpers import device_registry as dr  # noqa: E402
from homeassistant.util import slugify  # noqa: E402
import pytest  # noqa: E402
from pytest_homeassistant_custom_component.common import MockConfigEntry  # noqa: E402


def log_errors(caplog: pytest.LogCaptureFixture, *expected: str) -> list[str]:
    """Return the ERROR lines of Home Assistant's log; fail on any that `expected` does not name.

    A scenario that breaks something on purpose (a recipient that does not exist) names
    it in `expected`: those errors are what a user needs to find in the log.
    """
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    unexpected = [error for error in errors if not any(text in error for text in expected)]
    assert not unexpected, f"unexpected errors in the log: {unexpected}"
    return errors


def add_mobile_app_device(
    hass: HomeAssistant, name: str, manufacturer: str = "samsung", model: str = "SM-A546N"
) -> str:
    """A Companion app device whose notify action is gone (app removed, phone renamed)."""
    entry = MockConfigEntry(domain="mobile_app", title=name, data={"device_name": name})
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("mobile_app", slugify(name))},
        name=name,
        manufacturer=manufacturer,
        model=model,
    )
    return device.id


@dataclass
class StuckPhone:
    """A phone whose push never gets through until `release()`: its notify action hangs."""

    device_id: str
    service: str
    calls: list[ServiceCall]
    released: asyncio.Event

    def release(self) -> None:
        """Let the hanging deliveries finish."""
        self.released.set()


def add_stuck_phone(hass: HomeAssistant, name: str) -> StuckPhone:
    """A Companion app phone whose notify action hangs (a push server that never answers)."""
    device_id = add_mobile_app_device(hass, name)
    released = asyncio.Event()
    calls: list[ServiceCall] = []

    async def hang(call: ServiceCall) -> None:
        calls.append(call)
        await released.wait()

    service = f"mobile_app_{slugify(name)}"
    hass.services.async_register("notify", service, hang)
    return StuckPhone(device_id, f"notify.{service}", calls, released)


def record_calls_with(
    hass: HomeAssistant, service: str, probe: Callable[[], Any]
) -> list[tuple[dict[str, Any], Any]]:
    """Record each call of `service` ("notify.x") with what `probe()` said at that moment.

    The probe runs when Home Assistant starts the call, before the action itself runs:
    for example whether a snapshot file existed yet when a notification was sent.
    """
    domain, name = service.split(".", 1)
    seen: list[tuple[dict[str, Any], Any]] = []

    @callback
    def _on_call(event: Event) -> None:
        if event.data.get("domain") == domain and event.data.get("service") == name:
            seen.append((dict(event.data.get("service_data") or {}), probe()))

    hass.bus.async_listen(EVENT_CALL_SERVICE, _on_call)
    return seen
