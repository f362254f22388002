"""Emergency escalation: a critical alert at once, one escalation when nobody answers, stand-down.

Every scenario drives automations made from the bundled blueprint against the emulated
hub (or another integration's sensor), and ends with Home Assistant's log free of errors
(except those a scenario causes on purpose, such as a recipient that does not exist).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import gc
from pathlib import Path
from typing import Any

from aiohttp import web
from homeassistant.components.event import DATA_COMPONENT as EVENT_COMPONENT, EventEntity
from homeassistant.components.siren import (
    DATA_COMPONENT as SIREN_COMPONENT,
    SirenEntity,
    SirenEntityFeature,
)
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import (
    CoreState,
    Event,
    EventStateChangedData,
    HomeAssistant,
    ServiceCall,
    callback,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import yaml as yaml_util
import homeassistant.util.dt as dt_util
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service
import yaml

from custom_components.seoul_safehome.const import DOMAIN
from tests.blueprints.common import (
    BLUEPRINT_FOLDER,
    DOORBELL_CAMERA,
    EMERGENCY,
    EMERGENCY_EVENT,
    HOME_CAMERA,
    SIREN,
    Clock,
    Phone,
    assert_automations_loaded,
    async_create_automations,
    commands_named,
    device_id_of,
    log_errors,
    wait_for_commands,
)
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

BLUEPRINT = "emergency_escalation.yaml"
ADDRESS = "서울특별시 마포구 월드컵북로 400, 301호"
SAFE_PREFIX = "SAFEHOME_EMERGENCY_SAFE:"
ACK_PREFIX = "SAFEHOME_EMERGENCY_ACK:"
MAP_PREFIX = "https://map.kakao.com/link/"
OTHER_SIREN = "siren.hallway_siren"
PENDANT = "event.panic_pendant"


class ControlCentre:
    """A monitoring service's webhook on loopback, reached through a rest_command."""

    def __init__(self) -> None:
        """Start with no alerts received."""
        self.alerts: list[dict[str, Any]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        """Record one alert."""
        self.alerts.append({"path": request.path, **(await request.json())})
        return web.json_response({"ok": True})

    def named(self, path: str) -> list[dict[str, Any]]:
        """The alerts sent to one endpoint."""
        return [alert for alert in self.alerts if alert["path"] == path]


@pytest.fixture
async def control_centre(hass: HomeAssistant, socket_enabled: None) -> AsyncIterator[ControlCentre]:
    """A control centre's webhook and the rest_command that calls it."""
    centre = ControlCentre()
    app = web.Application()
    app.router.add_post("/alarm", centre.handle)
    app.router.add_post("/stand-down", centre.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    centre.url = f"http://127.0.0.1:{port}"
    payload = (
        '{"address": {{ address | tojson }}, "source": {{ source | tojson }},'
        ' "started": {{ started | tojson }}, "snapshots": {{ snapshots | tojson }},'
        ' "map": {{ map | tojson }}}'
    )
    assert await async_setup_component(
        hass,
        "rest_command",
        {
            "rest_command": {
                "control_centre_alarm": {
                    "url": f"{centre.url}/alarm",
                    "method": "post",
                    "content_type": "application/json",
                    "payload": payload,
                },
                "control_centre_stand_down": {
                    "url": f"{centre.url}/stand-down",
                    "method": "post",
                    "content_type": "application/json",
                    "payload": '{"address": {{ address | tojson }}, "by": {{ by | tojson }}}',
                },
            }
        },
    )
    try:
        yield centre
    finally:
        await runner.cleanup()


def _inputs(media_dir: Path, *phones: Phone, **extra: object) -> dict[str, Any]:
    return {
        "emergency_sensors": [EMERGENCY],
        "emergency_events": [EMERGENCY_EVENT],
        "phones": [phone.device_id for phone in phones],
        "cameras": [HOME_CAMERA, DOORBELL_CAMERA],
        "media_folder": str(media_dir),
        "escalation_delay": 30,
        "sirens": [SIREN],
        "contacts": ["notify.family_sms"],
        "home_address": ADDRESS,
        "record_seconds": 0,
        "escalation_actions": [
            {
                "action": "rest_command.control_centre_alarm",
                "data": {
                    "address": "{{ home_address }}",
                    "source": "{{ emergency_source }}",
                    "started": "{{ emergency_started }}",
                    "snapshots": "{{ snapshot_urls }}",
                    "map": "{{ map_url }}",
                },
            }
        ],
        "stand_down_actions": [
            {
                "action": "rest_command.control_centre_stand_down",
                "data": {"address": "{{ home_address }}", "by": "{{ cancelled_by }}"},
            }
        ],
        **extra,
    }


def _assert_jpeg(media_dir: Path, url: str) -> None:
    assert url.startswith("/media/local/seoul_safehome/")
    path = media_dir / url.removeprefix("/media/local/")
    with Image.open(path) as image:
        assert image.format == "JPEG"


def _action(note: dict[str, Any], title: str) -> dict[str, Any]:
    """The button with this title in a notification."""
    actions = {action["title"]: action for action in note["data"].get("actions", [])}
    assert title in actions, f"no {title!r} button in {list(actions)}"
    return actions[title]


def _tap(hass: HomeAssistant, action: str) -> None:
    """Tap a button of a Companion app notification."""
    hass.bus.async_fire("mobile_app_notification_action", {"action": action})


async def _log_clean(caplog: pytest.LogCaptureFixture, *expected: str) -> list[str]:
    """Home Assistant's log has no error (but the `expected` ones).

    Collecting garbage first brings out "Task exception was never retrieved" errors,
    which asyncio logs only when the failed task is freed. (On Python 3.14 the emulator's
    aiohttp access log cannot format its time under the test's frozen clock: that line
    is the test bench's, not Home Assistant's.)
    """
    await asyncio.sleep(0.05)
    gc.collect()
    await asyncio.sleep(0)
    caplog.records[:] = [
        record
        for record in caplog.records
        if not (record.name == "aiohttp.access" and record.getMessage() == "Error in logging")
    ]
    return log_errors(caplog, *expected)


async def _idle(hass: HomeAssistant, entity_id: str = "automation.safehome_0") -> None:
    """Wait until the automation has finished its run (and with it every request it made).

    The clock must not jump while a request to the hub is under way: its timeout would
    fall due at once.
    """
    await until(lambda: hass.states.get(entity_id).attributes.get("current") == 0)


async def _escalated(control: Control, media_dir: Path, phone: Phone, calls: int) -> None:
    """Wait until the escalation has done its requests to the hub: the siren, the cameras
    switched on, both snapshots (the phone's alert updated with the first)."""
    await wait_for_commands(control, lambda log: commands_named(log, "siren_on", "bell-1"))
    await until(lambda: len(phone.calls) >= calls and "image" in phone.last["data"])
    stem = Path(phone.last["data"]["image"]).stem
    assert stem.endswith("-sos")
    await until(
        (media_dir / "seoul_safehome" / "front_door_doorbell_camera" / f"{stem}.jpg").is_file
    )


async def _rewrite_automations(hass: HomeAssistant, change: Callable[[list[dict]], None]) -> None:
    """Edit automations.yaml as the automation editor does, then reload automations."""

    def edit() -> None:
        path = Path(hass.config.config_dir) / "automations.yaml"
        automations = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(automations)
        path.write_text(yaml.safe_dump(automations, allow_unicode=True), encoding="utf-8")

    await hass.async_add_executor_job(edit)
    await hass.services.async_call("automation", "reload", blocking=True)


async def _reload(hass: HomeAssistant, entry: MockConfigEntry, control: Control) -> None:
    """Automations are reloaded (YAML reloaded, another automation saved)."""
    await hass.services.async_call("automation", "reload", blocking=True)
    assert_automations_loaded(hass, ["safehome_0"])


async def _restart(hass: HomeAssistant, entry: MockConfigEntry, control: Control) -> None:
    """Home Assistant restarts: runs stop, the hub's entities come back, and automations
    start afresh with what Home Assistant restores (their last run) when it has started.
    """
    await hass.services.async_call(
        "automation", "turn_off", {"entity_id": "all", "stop_actions": True}, blocking=True
    )
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.set_state(CoreState.not_running)
    await hass.services.async_call("automation", "turn_on", {"entity_id": "all"}, blocking=True)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await until(lambda: entry.runtime_data.coordinator.in_sync)
    await hass.async_start()
    assert hass.state is CoreState.running


async def _reconnect(hass: HomeAssistant, entry: MockConfigEntry, control: Control) -> None:
    """The hub's event stream drops; the integration reconnects and resyncs."""
    states: list[str] = []

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] == EMERGENCY and event.data["new_state"] is not None:
            states.append(event.data["new_state"].state)

    hass.bus.async_listen(EVENT_STATE_CHANGED, _changed)
    await control.post("/stream/drop")
    await until(lambda: "unavailable" in states and states[-1] == "on", timeout=10)


Outage = Callable[[HomeAssistant, MockConfigEntry, Control], Awaitable[None]]


# --- The whole story ------------------------------------------------------------------


async def test_press_alerts_at_once_then_escalates_then_im_safe_stands_down(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    galaxy: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """Bell pressed, critical alert, no answer, one escalation, "I'm safe" stands down."""
    await async_create_automations(
        hass, {"blueprint": BLUEPRINT, "input": _inputs(media_dir, iphone, galaxy)}
    )

    await control.post("/devices/bell-1/press")
    await until(lambda: iphone.calls and galaxy.calls)

    # 1. A critical alert at once, showing the live camera; "I'm safe" only for this
    #    emergency and only on an unlocked phone; "Call 112" as each phone can dial it.
    first = {phone.name: phone.notifications[0] for phone in (iphone, galaxy)}
    for note in first.values():
        assert note["title"] == "🚨 비상 상황이 발생했어요"
        assert note["message"].startswith("비상벨 버튼이 눌렸어요. 30초 안에")
        assert [a["title"] for a in note["data"]["actions"]] == [
            "괜찮아요",
            "112 전화",
            "카메라 보기",
        ]
        safe = _action(note, "괜찮아요")
        assert safe["action"].startswith(SAFE_PREFIX)
        assert safe["authenticationRequired"] is True
        assert "/media/local/" not in str(note["data"])  # no file that may not exist yet
    ios, android = first[iphone.name]["data"], first[galaxy.name]["data"]
    assert _action(first[iphone.name], "112 전화")["uri"] == "tel:112"
    assert _action(first[galaxy.name], "112 전화")["uri"] == "deep-link://tel:112"
    assert ios["push"] == {
        "sound": {"name": "default", "critical": 1, "volume": 1.0},
        "interruption-level": "critical",
    }
    assert ios["entity_id"] == HOME_CAMERA
    assert android["channel"] == "alarm_stream"
    assert android["ttl"] == 0
    assert android["priority"] == "high"
    assert android["image"] == f"/api/camera_proxy/{HOME_CAMERA}"
    assert "push" not in android
    assert _action(first[galaxy.name], "카메라 보기")["uri"] == f"entityId:{HOME_CAMERA}"
    # Both phones answer the same emergency.
    assert _action(first[iphone.name], "괜찮아요") == _action(first[galaxy.name], "괜찮아요")

    # 2. Then the same alert (by its tag) with the fresh snapshot, once it is written.
    await until(lambda: len(iphone.calls) == 2 and len(galaxy.calls) == 2)
    for phone in (iphone, galaxy):
        update = phone.notifications[1]
        assert update["title"] == "🚨 비상 상황이 발생했어요"
        assert update["data"]["tag"] == phone.notifications[0]["data"]["tag"]
        _assert_jpeg(media_dir, update["data"]["image"])
    assert galaxy.notifications[1]["data"]["alert_once"] is True
    stamp = Path(iphone.last["data"]["image"]).stem
    await until(
        (media_dir / "seoul_safehome" / "front_door_doorbell_camera" / f"{stamp}.jpg").is_file
    )

    # Nothing escalates before the time is up.
    await control.request("DELETE", "/log")
    await clock.advance(28)
    assert contact_calls == []
    assert control_centre.alerts == []
    assert commands_named(await control.commands(), "siren_on", "bell-1") == []

    # 3. Nobody answered: the siren sounds, the contacts and the control centre hear of it.
    await clock.advance(3)
    await wait_for_commands(control, lambda log: commands_named(log, "siren_on", "bell-1"))
    await until(lambda: contact_calls and control_centre.alerts)
    contact = contact_calls[-1].data
    assert contact["title"] == f"🚨 [비상] {ADDRESS}"
    assert f"{ADDRESS}에서 비상 상황이 발생했어요. 비상벨 버튼이 눌렸어요." in contact["message"]
    assert f"지도: {MAP_PREFIX}" in contact["message"]  # an SMS gets the map as a link
    alert = control_centre.alerts[-1]
    assert alert["address"] == ADDRESS
    assert alert["source"] == "button"
    assert alert["map"].startswith(MAP_PREFIX)
    assert dt_util.parse_datetime(alert["started"]) is not None
    assert len(alert["snapshots"]) == 2
    # The phones are told too, still critically, with the same "I'm safe".
    await until(lambda: iphone.last["title"] == "📢 비상 상황을 알렸어요")
    assert iphone.last["data"]["push"]["sound"]["critical"] == 1
    assert _action(iphone.last, "괜찮아요") == _action(first[iphone.name], "괜찮아요")

    # 4. "I'm safe": the bell stands down, the siren stops, the contacts are told the
    #    emergency was cancelled and asked to call (a bell can be cancelled by anyone).
    _tap(hass, _action(first[iphone.name], "괜찮아요")["action"])
    await wait_for_commands(control, lambda log: commands_named(log, "cancel_emergency", "bell-1"))
    await wait_for_state(hass, EMERGENCY, "off")
    await until(lambda: len(contact_calls) == 2)
    device = await control.device("bell-1")
    assert device["state"]["emergency"] is False
    assert device["state"]["siren"] is False
    cancelled = contact_calls[-1].data
    assert cancelled["title"] == f"⚠️ [비상 취소] {ADDRESS}"
    assert "휴대전화에서 취소됐어요" in cancelled["message"]
    assert "꼭 직접 전화해서" in cancelled["message"]
    assert "괜찮다고" not in cancelled["message"]
    await until(lambda: iphone.last["title"] == "✅ 비상 상황이 해제됐어요")
    assert (
        iphone.last["message"]
        == "휴대전화에서 해제했어요. 보호자에게 비상 상황이 취소됐다고 알렸어요."
    )
    assert iphone.last["data"]["tag"] == first[iphone.name]["data"]["tag"]  # replaces the alert
    await until(lambda: len(control_centre.alerts) == 2)
    assert control_centre.alerts[-1] == {"path": "/stand-down", "address": ADDRESS, "by": "phone"}

    # Nothing more: no second escalation, no second stand-down.
    counts = (len(iphone.calls), len(contact_calls), len(control_centre.alerts))
    await clock.advance(120)
    assert (len(iphone.calls), len(contact_calls), len(control_centre.alerts)) == counts
    await _log_clean(caplog)


@pytest.mark.parametrize(
    ("how", "message"),
    [("bell", "비상벨에서 해제했어요."), ("action", "휴대전화에서 해제했어요.")],
)
async def test_call_for_help_cancelled_in_time_does_not_escalate(
    how: str,
    message: str,
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """A shout for help alerts the phone; cancelling in time (at the bell, or with the
    seoul_safehome.cancel_emergency action) stands down quietly."""
    await async_create_automations(
        hass, {"blueprint": BLUEPRINT, "input": _inputs(media_dir, iphone)}
    )
    await control.post("/devices/bell-1/say", {"text": "누가 좀 도와주세요, 사람 살려!"})
    await until(lambda: iphone.calls)
    assert iphone.last["title"] == "🚨 비상 상황이 발생했어요"
    assert iphone.last["message"].startswith('"')
    assert '"라는 소리를 들었어요.' in iphone.last["message"]
    tag = iphone.last["data"]["tag"]
    await until(lambda: len(iphone.calls) == 2)  # the snapshot follows
    await control.request("DELETE", "/log")

    await clock.advance(10)
    if how == "bell":
        await control.post("/devices/bell-1/press")  # a second press cancels
    else:
        await hass.services.async_call(
            DOMAIN, "cancel_emergency", {"device_id": device_id_of(hass, EMERGENCY)}, blocking=True
        )
    await wait_for_state(hass, EMERGENCY, "off")
    await until(lambda: len(iphone.calls) == 3)
    assert iphone.last["title"] == "✅ 비상 상황이 해제됐어요"
    assert iphone.last["message"] == message
    assert iphone.last["data"]["tag"] == tag

    # The deadline passes: nothing happens, nobody else was bothered.
    await clock.advance(60)
    log = await control.commands()
    assert commands_named(log, "siren_on", "bell-1") == []
    assert contact_calls == []
    assert control_centre.alerts == []
    assert len(iphone.calls) == 3
    await _log_clean(caplog)


# --- 1. Every recipient on its own -------------------------------------------------------


async def test_a_missing_first_recipient_stops_no_one(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """A mistyped contact and an old phone's action come first: everyone after them is told."""
    tablet = async_mock_service(hass, "notify", "living_room_tablet")
    dad = async_mock_service(hass, "notify", "dad_sms")
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir,
                iphone,
                contacts=["notify.famly_sms", "notify.family_sms", "dad_sms"],
                extra_notify=["notify.old_phone", "notify.living_room_tablet"],
            ),
        },
    )
    await control.post("/devices/bell-1/press")
    await until(lambda: iphone.calls and tablet)
    assert tablet[0].data["title"] == "🚨 비상 상황이 발생했어요"
    # Other notify actions get the alert without "I'm safe".
    assert "괜찮아요" not in [a["title"] for a in tablet[0].data["data"]["actions"]]

    await control.request("DELETE", "/log")
    await clock.advance(31)
    await wait_for_commands(control, lambda log: commands_named(log, "siren_on", "bell-1"))
    await until(lambda: contact_calls and dad and control_centre.alerts)
    assert contact_calls[-1].data["title"] == dad[-1].data["title"] == f"🚨 [비상] {ADDRESS}"

    # Cancelling tells everyone who can be told.
    await hass.services.async_call(
        DOMAIN, "cancel_emergency", {"device_id": device_id_of(hass, EMERGENCY)}, blocking=True
    )
    await until(lambda: len(contact_calls) == 2 and len(dad) == 2)
    await until(lambda: tablet[-1].data["title"] == "✅ 비상 상황이 해제됐어요")
    await wait_for_commands(control, lambda log: commands_named(log, "siren_off", "bell-1"))
    await until(lambda: len(control_centre.named("/stand-down")) == 1)
    # The log says what failed (and nothing else did); a repair names the actions.
    await _log_clean(caplog, "Service not found")
    issues = ir.async_get(hass).issues
    for service in ("notify.famly_sms", "notify.old_phone"):
        assert ("automation", f"automation.safehome_0_service_not_found_{service}") in issues


# --- 3. "I'm safe" answers one emergency -------------------------------------------------


@pytest.fixture
async def panic_button(hass: HomeAssistant) -> str:
    """An emergency sensor from another integration: a template sensor over a helper."""
    assert await async_setup_component(
        hass,
        "input_boolean",
        {"input_boolean": {"panic": {"initial": False}, "hallway": {"initial": False}}},
    )
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "binary_sensor": [
                        {
                            "name": "Panic button",
                            "device_class": "safety",
                            "state": "{{ is_state('input_boolean.panic', 'on') }}",
                        }
                    ],
                    "light": [
                        {
                            "name": "Hallway",
                            "state": "{{ is_state('input_boolean.hallway', 'on') }}",
                            "turn_on": {
                                "action": "input_boolean.turn_on",
                                "target": {"entity_id": "input_boolean.hallway"},
                            },
                            "turn_off": {
                                "action": "input_boolean.turn_off",
                                "target": {"entity_id": "input_boolean.hallway"},
                            },
                        }
                    ],
                }
            ]
        },
    )
    await hass.async_block_till_done()
    return "binary_sensor.panic_button"


async def _panic(hass: HomeAssistant, on: bool) -> None:
    await hass.services.async_call(
        "input_boolean", "turn_on" if on else "turn_off", {"entity_id": "input_boolean.panic"}
    )


async def test_im_safe_answers_only_its_own_emergency(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    panic_button: str,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    clock: Clock,
) -> None:
    """Two automations raised at once: one tap stands down one; an old alert's button
    never cancels a newer emergency."""
    parents = async_mock_service(hass, "notify", "parents_sms")
    await async_create_automations(
        hass,
        {"blueprint": BLUEPRINT, "input": _inputs(media_dir, iphone, escalation_actions=[])},
        {
            "blueprint": BLUEPRINT,
            "input": {
                "emergency_sensors": [panic_button],
                "phones": [iphone.device_id],
                "contacts": ["notify.parents_sms"],
                "home_address": "부모님 댁",
                "escalation_delay": 30,
            },
        },
    )
    await control.post("/devices/bell-1/press")
    await _panic(hass, True)
    await until(lambda: {c.data["title"] for c in iphone.calls} == {"🚨 비상 상황이 발생했어요"})
    await until(lambda: len({c.data["data"]["tag"] for c in iphone.calls}) == 2)
    buttons = {_action(n, "괜찮아요")["action"] for n in iphone.notifications}
    assert len(buttons) == 2  # one per automation

    # "I'm safe" on the bell's alert: only the bell's emergency stands down.
    bell_note = next(n for n in iphone.notifications if "비상벨" in n["message"])
    old_safe = _action(bell_note, "괜찮아요")["action"]
    _tap(hass, old_safe)
    await wait_for_state(hass, EMERGENCY, "off")
    # The stand-down turns the bell's siren off: let that command finish before the clock
    # jumps 31 s (a request in flight would time out at once).
    await wait_for_commands(control, lambda log: commands_named(log, "siren_off", "bell-1"))
    await asyncio.sleep(0.05)  # (the hub logs a command as it answers it)
    await clock.advance(31)
    await until(lambda: parents)
    assert parents[-1].data["title"] == "🚨 [비상] 부모님 댁"
    assert contact_calls == []  # the bell's emergency did not escalate

    # A new emergency at the bell: the old alert's button does nothing to it.
    await control.post("/devices/bell-1/press")
    await until(lambda: sum("비상벨" in n["message"] for n in iphone.notifications) >= 3)
    new_note = [n for n in iphone.notifications if "비상벨" in n["message"]][-1]
    assert _action(new_note, "괜찮아요")["action"] != old_safe
    _tap(hass, old_safe)
    await clock.advance(31)
    await until(lambda: contact_calls)
    assert hass.states.get(EMERGENCY).state == "on"
    assert contact_calls[-1].data["title"] == f"🚨 [비상] {ADDRESS}"
    await _log_clean(caplog)


# --- 4. Event-only set-ups ---------------------------------------------------------------


class PanicPendant(EventEntity):
    """Another brand's panic pendant: an event entity that only says "press"."""

    _attr_name = "Panic pendant"

    def __init__(self) -> None:
        """A pendant with one button."""
        self._attr_event_types = ["press"]

    def press(self) -> None:
        """Someone presses it."""
        self._trigger_event("press")
        self.async_write_ha_state()


@pytest.fixture
async def panic_pendant(hass: HomeAssistant) -> PanicPendant:
    """An event entity from another integration, with no "cancelled" event."""
    pendant = PanicPendant()
    assert await async_setup_component(hass, "event", {})
    await hass.data[EVENT_COMPONENT].async_add_entities([pendant])
    assert hass.states.get(PENDANT) is not None
    return pendant


async def test_event_only_a_second_emergency_alerts_again(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    clock: Clock,
) -> None:
    """Only the bell's event entity: press, "I'm safe", press again ten minutes later."""
    inputs = _inputs(media_dir, iphone, escalation_actions=[], stand_down_actions=[])
    inputs["emergency_sensors"] = []
    await async_create_automations(hass, {"blueprint": BLUEPRINT, "input": inputs})

    await control.post("/devices/bell-1/press")
    await until(lambda: len(iphone.calls) == 2)
    first = iphone.notifications[0]
    _tap(hass, _action(first, "괜찮아요")["action"])
    await wait_for_commands(control, lambda log: commands_named(log, "cancel_emergency", "bell-1"))
    await until(lambda: iphone.last["title"] == "✅ 비상 상황이 해제됐어요")

    await clock.advance(600)
    count = len(iphone.calls)
    await control.post("/devices/bell-1/press")
    await until(lambda: len(iphone.calls) == count + 2)  # the alert, then its snapshot
    second = iphone.notifications[count]
    assert second["title"] == "🚨 비상 상황이 발생했어요"
    assert _action(second, "괜찮아요")["action"] != _action(first, "괜찮아요")["action"]
    # ...and it escalates when nobody answers.
    await clock.advance(31)
    await until(lambda: contact_calls)
    assert contact_calls[-1].data["title"] == f"🚨 [비상] {ADDRESS}"
    await _log_clean(caplog)


async def test_panic_pendant_without_cancel_events(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    config_dir: Path,
    panic_pendant: PanicPendant,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    clock: Clock,
) -> None:
    """An event that only says "press": "I'm safe" ends the emergency; the same pendant
    pressed ten minutes later raises a new one, which escalates; presses during the
    answer time are the same emergency."""
    from custom_components.seoul_safehome.blueprints import async_setup_blueprints

    await async_setup_blueprints(hass)
    inputs = {
        "emergency_events": [PENDANT],
        "raise_event_types": ["press"],
        "cancel_event_types": [],
        "phones": [iphone.device_id],
        "contacts": ["family_sms"],
        "escalation_delay": 30,
        "home_address": ADDRESS,
    }
    await async_create_automations(hass, {"blueprint": BLUEPRINT, "input": inputs})
    panic_pendant.press()
    await until(lambda: iphone.calls)
    assert iphone.last["message"].startswith("비상 센서가 켜졌어요. 30초 안에")
    _tap(hass, _action(iphone.last, "괜찮아요")["action"])
    await until(lambda: iphone.last["title"] == "✅ 비상 상황이 해제됐어요")
    await clock.advance(31)  # past the deadline: nothing
    await hass.services.async_call("automation", "reload", blocking=True)
    await clock.advance(60)
    assert contact_calls == []

    await clock.advance(600)
    count = len(iphone.calls)
    panic_pendant.press()
    await until(lambda: len(iphone.calls) == count + 1)
    assert iphone.last["title"] == "🚨 비상 상황이 발생했어요"
    await clock.advance(10)
    panic_pendant.press()  # pressed again: still the same emergency, same deadline
    await clock.advance(21)
    await until(lambda: contact_calls)
    assert len(iphone.calls) == count + 2  # the alert, then "📢" (no second alert)
    assert iphone.last["title"] == "📢 비상 상황을 알렸어요"
    await _log_clean(caplog)


# --- 5. Never twice, never after "I'm safe" ---------------------------------------------


@pytest.mark.parametrize(
    "outage", [_reload, _restart, _reconnect], ids=["reload", "restart", "hub reconnect"]
)
async def test_escalated_emergency_is_never_escalated_again(
    outage: Outage,
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """After the escalation, a reload, a restart or a reconnect tells nobody anything again;
    "I'm safe" on the alert still stands it down, once."""
    await async_create_automations(
        hass, {"blueprint": BLUEPRINT, "input": _inputs(media_dir, iphone)}
    )
    await control.post("/devices/bell-1/press")
    await until(lambda: len(iphone.calls) == 2)  # the alert, then its snapshot
    safe = _action(iphone.notifications[0], "괜찮아요")["action"]
    await clock.advance(31)
    await until(lambda: contact_calls and control_centre.alerts)
    await _escalated(control, media_dir, iphone, 4)  # escalated, and its snapshot
    assert iphone.last["title"] == "📢 비상 상황을 알렸어요"
    counts = (len(iphone.calls), len(contact_calls), len(control_centre.alerts))
    await control.request("DELETE", "/log")

    await outage(hass, init_integration, control)
    await clock.advance(5)
    await clock.advance(60)
    assert hass.states.get(EMERGENCY).state == "on"
    assert (len(iphone.calls), len(contact_calls), len(control_centre.alerts)) == counts
    assert commands_named(await control.commands(), "siren_on", "bell-1") == []

    _tap(hass, safe)
    await wait_for_state(hass, EMERGENCY, "off")
    await until(lambda: len(contact_calls) == counts[1] + 1)
    assert contact_calls[-1].data["title"] == f"⚠️ [비상 취소] {ADDRESS}"
    await until(lambda: len(control_centre.named("/stand-down")) == 1)
    await clock.advance(60)
    assert len(contact_calls) == counts[1] + 1
    await _log_clean(caplog)


@pytest.mark.parametrize("outage", [_reload, _restart], ids=["reload", "restart"])
async def test_emergency_in_progress_carries_on(
    outage: Outage,
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """A reload or restart mid-emergency neither drops the escalation nor repeats the alert."""
    await async_create_automations(
        hass, {"blueprint": BLUEPRINT, "input": _inputs(media_dir, iphone)}
    )
    await control.post("/devices/bell-1/press")
    await until(lambda: len(iphone.calls) == 2)  # the alert and its snapshot
    await control.request("DELETE", "/log")

    await clock.advance(10)
    await outage(hass, init_integration, control)
    await clock.advance(15)
    assert contact_calls == []
    assert len(iphone.calls) == 2  # the critical alert is not sent again

    await clock.advance(6)  # 31 s after the press
    await wait_for_commands(control, lambda log: commands_named(log, "siren_on", "bell-1"))
    await until(lambda: contact_calls and control_centre.alerts)
    assert ADDRESS in contact_calls[-1].data["message"]
    assert len(contact_calls) == 1
    await _log_clean(caplog)


async def test_stuck_sensor_after_im_safe_never_escalates(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    config_dir: Path,
    panic_button: str,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    clock: Clock,
) -> None:
    """A sensor that stays on after "I'm safe": reloads never escalate it; once it has been
    off, it starts the next emergency."""
    from custom_components.seoul_safehome.blueprints import async_setup_blueprints

    await async_setup_blueprints(hass)
    inputs = {
        "emergency_sensors": [panic_button],
        "phones": [iphone.device_id],
        "contacts": ["family_sms"],
        "escalation_delay": 30,
        "home_address": ADDRESS,
    }
    await async_create_automations(hass, {"blueprint": BLUEPRINT, "input": inputs})
    await _panic(hass, True)
    await until(lambda: iphone.calls)
    _tap(hass, _action(iphone.last, "괜찮아요")["action"])
    await until(lambda: iphone.last["title"] == "✅ 비상 상황이 해제됐어요")

    await clock.advance(10)
    await hass.services.async_call("automation", "reload", blocking=True)
    await clock.advance(30)  # past the deadline
    await hass.services.async_call("automation", "reload", blocking=True)
    await clock.advance(60)
    assert hass.states.get(panic_button).state == "on"
    assert contact_calls == []
    assert iphone.last["title"] == "✅ 비상 상황이 해제됐어요"

    # Off, then on again: a new emergency.
    count = len(iphone.calls)
    await _panic(hass, False)
    await wait_for_state(hass, panic_button, "off")
    await _panic(hass, True)
    await until(lambda: len(iphone.calls) > count)
    assert [n["title"] for n in iphone.notifications[count:]] == ["🚨 비상 상황이 발생했어요"]
    await clock.advance(31)
    await until(lambda: contact_calls)
    await _log_clean(caplog)


# --- 6. Contacts' phones -----------------------------------------------------------------


async def test_contacts_phones_get_a_critical_alert_until_one_acknowledges(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    galaxy: Phone,
    contact_calls: list[ServiceCall],
    clock: Clock,
) -> None:
    """Mum's Android phone: a critical alert with the address, a map link and "Acknowledge"
    (never "I'm safe"), again every minute until someone acknowledges."""
    assert await async_setup_component(hass, "zone", {})
    home = hass.states.get("zone.home")
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir,
                iphone,
                contact_phones=[galaxy.device_id],
                escalation_actions=[],
                stand_down_actions=[],
            ),
        },
    )
    await control.post("/devices/bell-1/press")
    await until(lambda: len(iphone.calls) == 2)  # the alert, then its snapshot
    assert galaxy.calls == []  # contacts only hear of an escalation

    await clock.advance(31)
    await until(lambda: galaxy.calls and contact_calls)
    await _escalated(control, media_dir, iphone, 4)
    note = galaxy.last
    assert note["title"] == f"🚨 [비상] {ADDRESS}"
    assert note["message"].startswith(f"{ADDRESS}에서 비상 상황이 발생했어요.")
    data = note["data"]
    assert data["channel"] == "alarm_stream"
    assert data["priority"] == "high"
    assert data["ttl"] == 0
    assert [a["title"] for a in data["actions"]] == ["확인했어요", "지도 보기", "112 전화"]
    ack = _action(note, "확인했어요")["action"]
    assert ack.startswith(ACK_PREFIX)
    # The map shows the home zone's position, labelled with the address.
    map_url = f"{MAP_PREFIX}map/"
    assert _action(note, "지도 보기")["uri"].startswith(map_url)
    assert _action(note, "지도 보기")["uri"].endswith(
        f",{home.attributes['latitude']},{home.attributes['longitude']}"
    )
    assert data["clickAction"].startswith(MAP_PREFIX)
    assert _action(note, "112 전화")["uri"] == "deep-link://tel:112"
    assert data["image"] == f"/api/camera_proxy/{HOME_CAMERA}"

    # Again a minute later, and again, until someone acknowledges.
    await clock.advance(61)
    await until(lambda: len(galaxy.calls) == 2)
    await clock.advance(61)
    await until(lambda: len(galaxy.calls) == 3)
    assert galaxy.last == note
    _tap(hass, ack)
    await clock.advance(61)
    await clock.advance(61)
    assert len(galaxy.calls) == 3
    assert len(contact_calls) == 1  # an SMS contact is told once

    # The bell is cancelled: the contacts hear that it was cancelled, and to call.
    await control.post("/devices/bell-1/press")
    await wait_for_state(hass, EMERGENCY, "off")
    await until(lambda: len(galaxy.calls) == 4 and len(contact_calls) == 2)
    assert galaxy.last["title"] == f"⚠️ [비상 취소] {ADDRESS}"
    assert "비상벨에서 취소됐어요" in galaxy.last["message"]
    assert galaxy.last["data"]["tag"] == note["data"]["tag"]
    await _log_clean(caplog)


# --- 7. Cameras --------------------------------------------------------------------------


async def test_cameras_in_privacy_mode_are_switched_on(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    clock: Clock,
) -> None:
    """Away mode left the home camera private; an emergency at home switches it on first."""
    await hass.services.async_call("camera", "turn_off", {"entity_id": HOME_CAMERA}, blocking=True)
    assert (await control.device("cam-1"))["state"]["camera_on"] is False
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(media_dir, iphone, escalation_actions=[], stand_down_actions=[]),
        },
    )
    await control.post("/devices/bell-1/press")
    await until(lambda: len(iphone.calls) == 2)
    assert (await control.device("cam-1"))["state"]["camera_on"] is True
    _assert_jpeg(media_dir, iphone.last["data"]["image"])
    await _log_clean(caplog)


# --- The sirens stop, whatever happened before ------------------------------------------


class HallwaySiren(SirenEntity):
    """Another brand's siren (not Seoul SafeHome's)."""

    _attr_name = "Hallway siren"
    _attr_supported_features = SirenEntityFeature.TURN_ON | SirenEntityFeature.TURN_OFF

    def __init__(self) -> None:
        """Start quiet."""
        self._attr_is_on = False
        self.turned_off = 0

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Sound."""
        self._attr_is_on = True
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop sounding."""
        self._attr_is_on = False
        self.turned_off += 1
        self.async_write_ha_state()


@pytest.fixture
async def hallway_siren(hass: HomeAssistant) -> HallwaySiren:
    """A siren from another integration."""
    siren = HallwaySiren()
    assert await async_setup_component(hass, "siren", {})
    await hass.data[SIREN_COMPONENT].async_add_entities([siren])
    assert hass.states.get(OTHER_SIREN) is not None
    return siren


async def _edit(hass: HomeAssistant, entry: MockConfigEntry, control: Control) -> None:
    """The automation is edited and saved: its runs stop, it starts again."""
    await _rewrite_automations(hass, lambda automations: automations[0].update(alias="SOS"))
    assert_automations_loaded(hass, ["safehome_0"])


async def _nothing(hass: HomeAssistant, entry: MockConfigEntry, control: Control) -> None:
    """Nothing happens in the meantime."""


@pytest.mark.parametrize(
    "meanwhile", [_nothing, _reload, _edit], ids=["as is", "after a reload", "after an edit"]
)
async def test_a_sounding_siren_stops_when_cancelled_before_escalation(
    meanwhile: Outage,
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    hallway_siren: HallwaySiren,
    contact_calls: list[ServiceCall],
    clock: Clock,
) -> None:
    """Someone set the hallway siren off by hand; the emergency is cancelled in time: the
    siren is turned off all the same."""
    inputs = _inputs(media_dir, iphone, sirens=[OTHER_SIREN, SIREN], escalation_actions=[])
    await async_create_automations(hass, {"blueprint": BLUEPRINT, "input": inputs})
    await control.post("/devices/bell-1/press")
    await until(lambda: len(iphone.calls) == 2)  # the alert, then its snapshot
    await hass.services.async_call("siren", "turn_on", {"entity_id": OTHER_SIREN}, blocking=True)
    assert hass.states.get(OTHER_SIREN).state == "on"

    await clock.advance(10)
    await meanwhile(hass, init_integration, control)
    await clock.advance(5)
    await control.post("/devices/bell-1/press")  # cancelled at the bell, in time
    await wait_for_state(hass, OTHER_SIREN, "off")
    assert hallway_siren.turned_off == 1
    await until(lambda: iphone.last["title"] == "✅ 비상 상황이 해제됐어요")
    await _idle(hass)
    await clock.advance(60)
    assert contact_calls == []
    await _log_clean(caplog)


# --- Late emergencies --------------------------------------------------------------------


async def test_an_emergency_that_arrives_late_is_escalated(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """The bell was pressed while the hub could not reach Home Assistant: when the hub is
    back a minute later, the emergency is escalated at once."""
    await async_create_automations(
        hass, {"blueprint": BLUEPRINT, "input": _inputs(media_dir, iphone)}
    )
    await control.post("/restart", {"downtime": 300, "new_boot": False})
    await wait_for_state(hass, EMERGENCY, "unavailable")
    await control.post("/devices/bell-1/press")
    await clock.advance(60)
    await control.post("/restart", {"downtime": 0, "new_boot": False})
    await wait_for_state(hass, EMERGENCY, "on", timeout=15)

    await until(lambda: contact_calls and control_centre.alerts)
    assert contact_calls[-1].data["title"] == f"🚨 [비상] {ADDRESS}"
    await until(lambda: iphone.calls)
    assert iphone.notifications[0]["title"] == "📢 비상 상황을 알렸어요"
    assert _action(iphone.notifications[0], "괜찮아요")["action"].startswith(SAFE_PREFIX)
    await wait_for_commands(control, lambda log: commands_named(log, "siren_on", "bell-1"))
    if "entity_id" in iphone.notifications[0]["data"]:  # the cameras were back in time
        await until(lambda: len(iphone.calls) == 2)  # ...and the snapshot follows
    await clock.advance(60)
    assert len(contact_calls) == 1
    await _log_clean(caplog)


async def test_the_hub_out_of_reach_at_the_deadline_still_escalates(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """The hub drops off the network while nobody answers: the contacts and the control
    centre are told at the deadline all the same, and once when the hub is back."""
    await async_create_automations(
        hass, {"blueprint": BLUEPRINT, "input": _inputs(media_dir, iphone, cameras=[])}
    )
    await control.post("/devices/bell-1/press")
    await until(lambda: iphone.calls)
    safe = _action(iphone.last, "괜찮아요")["action"]
    await control.post("/restart", {"downtime": 300, "new_boot": False})
    await wait_for_state(hass, EMERGENCY, "unavailable")

    await clock.advance(31)
    await until(lambda: contact_calls and control_centre.alerts)
    await until(lambda: iphone.last["title"] == "📢 비상 상황을 알렸어요")
    assert _action(iphone.last, "괜찮아요")["action"] == safe

    await control.post("/restart", {"downtime": 0, "new_boot": False})
    await wait_for_state(hass, EMERGENCY, "on", timeout=15)
    await clock.advance(60)
    assert len(contact_calls) == 1
    assert len(control_centre.alerts) == 1
    _tap(hass, safe)
    await wait_for_state(hass, EMERGENCY, "off")
    await until(lambda: len(contact_calls) == 2)
    assert contact_calls[-1].data["title"] == f"⚠️ [비상 취소] {ADDRESS}"
    await _log_clean(caplog)


# --- Another integration's sensor, no hub ----------------------------------------------


async def test_any_emergency_sensor_and_im_safe_without_a_hub(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    config_dir: Path,
    media_dir: Path,
    panic_button: str,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    clock: Clock,
) -> None:
    """A panic button from another integration escalates too; "I'm safe" stands it down."""
    from custom_components.seoul_safehome.blueprints import async_setup_blueprints

    await async_setup_blueprints(hass)
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": {
                "emergency_sensors": [panic_button],
                "phones": [iphone.device_id],
                "contacts": ["family_sms"],  # "notify." may be left out
                "escalation_delay": 20,
                "home_address": ADDRESS,
                "lights": ["light.hallway"],
            },
        },
    )
    flashes: list[str] = []

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] == "light.hallway" and event.data["new_state"] is not None:
            flashes.append(event.data["new_state"].state)

    hass.bus.async_listen(EVENT_STATE_CHANGED, _changed)
    await _panic(hass, True)
    await until(lambda: iphone.calls)
    assert iphone.last["message"] == (
        '비상 센서가 켜졌어요. 20초 안에 "괜찮아요"를 누르지 않으면 보호자에게 알려요.'
    )
    assert "image" not in iphone.last["data"]  # no camera chosen
    assert [a["title"] for a in iphone.last["data"]["actions"]] == ["괜찮아요", "112 전화"]

    await clock.advance(21)
    await until(lambda: contact_calls)
    assert contact_calls[-1].data["title"] == f"🚨 [비상] {ADDRESS}"
    # The hallway light flashes, once a second.
    for _ in range(4):
        await clock.advance(1)
    await until(lambda: len(flashes) >= 4)
    assert flashes[:4] == ["on", "off", "on", "off"]

    _tap(hass, _action(iphone.last, "괜찮아요")["action"])
    await until(lambda: len(contact_calls) == 2)
    assert contact_calls[-1].data["title"] == f"⚠️ [비상 취소] {ADDRESS}"
    assert iphone.last["title"] == "✅ 비상 상황이 해제됐어요"
    assert iphone.last["message"].startswith("휴대전화에서 해제했어요.")
    # The flashing stops with the lights off.
    await until(lambda: flashes[-1] == "off")
    assert hass.states.get("light.hallway").state == "off"
    count = len(flashes)
    await clock.advance(5)
    assert len(flashes) == count
    await _log_clean(caplog)


# --- The blueprint's inputs --------------------------------------------------------------


def test_inputs_for_people_and_sensors() -> None:
    """My phones, contacts' phones, contacts' notify actions and other notify actions are
    separate inputs; only safety sensors can be chosen as emergency sensors."""
    blueprint = yaml_util.load_yaml_dict(BLUEPRINT_FOLDER / BLUEPRINT)
    sections = blueprint["blueprint"]["input"]
    inputs = {key: spec for section in sections.values() for key, spec in section["input"].items()}
    assert inputs["phones"]["name"] == "My phones"
    assert inputs["contact_phones"]["selector"]["device"]["filter"] == [
        {"integration": "mobile_app"}
    ]
    assert inputs["contacts"]["name"] == "Emergency contacts' notify actions"
    assert inputs["extra_notify"]["name"] == "Other notify actions"
    assert inputs["emergency_sensors"]["selector"]["entity"]["filter"] == [
        {"domain": "binary_sensor", "device_class": "safety"}
    ]
    assert inputs["home_address"]["description"].startswith(
        "Required if you have emergency contacts"
    )


def test_no_stop_step_that_a_restart_can_orphan() -> None:
    """No `stop` step: on Home Assistant 2026.10, a `stop` inside a run that the same state
    change restarts logged "Task exception was never retrieved ... _StopScript" at every
    "I'm safe". The blueprint ends its runs by finishing or by being restarted."""

    def steps(node: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        if isinstance(node, dict):
            found.append(node)
            for value in node.values():
                found.extend(steps(value))
        elif isinstance(node, list):
            for value in node:
                found.extend(steps(value))
        return found

    actions = yaml_util.load_yaml_dict(BLUEPRINT_FOLDER / BLUEPRINT)["actions"]
    assert not [step for step in steps(actions) if "stop" in step]


# --- Calls for help through Assist (the call_for_help blueprint) -------------------------


async def _assist(hass: HomeAssistant) -> None:
    """Set up Assist (the conversation agent), as every Home Assistant install has it."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})


async def _say(hass: HomeAssistant, text: str, language: str) -> str:
    """Say (type) something to Assist; return its spoken answer."""
    result = await hass.services.async_call(
        "conversation",
        "process",
        {"text": text, "language": language},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    return result["response"]["speech"]["plain"]["speech"]


def _call_for_help(hass: HomeAssistant, *phones: Phone) -> dict[str, Any]:
    return {
        "blueprint": "call_for_help.yaml",
        "id": "call_for_help",
        "alias": "Call for help",
        "input": {
            "bells": [device_id_of(hass, EMERGENCY)],
            "phones": [phone.device_id for phone in phones],
        },
    }


@pytest.mark.parametrize(
    ("said", "language", "answer"),
    [
        ("사람 살려", "ko", "비상 상황을 알렸어요"),
        ("살려주세요", "ko", "비상 상황을 알렸어요"),
        ("Help me", "en", "Emergency raised"),
    ],
)
async def test_call_for_help_through_assist_raises_alerts_and_escalates(
    said: str,
    language: str,
    answer: str,
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """Saying a call for help to Assist raises it on the bell (source voice, the words
    heard), answers once the bell has it, and the emergency automation alerts at once and
    escalates when nobody says "I'm safe"."""
    await _assist(hass)
    await async_create_automations(
        hass,
        {"blueprint": BLUEPRINT, "input": _inputs(media_dir, iphone)},
        _call_for_help(hass, iphone),
    )
    speech = await _say(hass, said, language)
    assert answer in speech
    # Assist answered only once the bell had raised it.
    assert hass.states.get(EMERGENCY).state == "on"
    bell = await control.device("bell-1")
    assert bell["state"]["emergency_source"] == "voice"
    assert hass.states.get(EMERGENCY).attributes["source"] == "voice"
    assert hass.states.get(EMERGENCY_EVENT).attributes["keyword"] == said

    await until(lambda: iphone.calls)
    assert iphone.last["title"] == "🚨 비상 상황이 발생했어요"
    assert iphone.last["message"].startswith(f'"{said}"라는 소리를 들었어요.')
    await until(lambda: len(iphone.calls) == 2)  # the snapshot follows

    await clock.advance(31)
    await until(lambda: contact_calls and control_centre.alerts)
    assert control_centre.alerts[-1]["source"] == "voice"
    await _escalated(control, media_dir, iphone, 4)
    await _log_clean(caplog)


@pytest.mark.parametrize(
    "said",
    [
        "사람살려",
        "사람 살려요",
        "누가 좀 사람 살려 주세요",
        "살려 주세요",
        "도와 주세요",
        "Help",
        "help me please",
        "please help me",
        "call for help",
    ],
)
async def test_everyday_ways_of_calling_for_help_are_heard(
    said: str,
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
) -> None:
    """Speech-to-text spaces Korean as it likes, and people add words: all raise it."""
    await _assist(hass)
    await async_create_automations(hass, _call_for_help(hass))
    speech = await _say(hass, said, "en" if said.isascii() else "ko")
    assert "비상 상황을 알렸어요" in speech or "Emergency raised" in speech
    assert (await control.device("bell-1"))["state"]["emergency"] is True


async def test_a_call_for_help_during_an_emergency_changes_nothing_in_it(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """The bell was pressed; ten seconds later someone also shouts to Assist: the
    emergency escalates on time, once, and a cancellation still stands everything down."""
    await _assist(hass)
    await async_create_automations(
        hass,
        {"blueprint": BLUEPRINT, "input": _inputs(media_dir, iphone)},
        _call_for_help(hass, iphone),
    )
    await control.post("/devices/bell-1/press")
    await until(lambda: len(iphone.calls) == 2)  # the alert and its snapshot
    await clock.advance(10)
    assert "비상 상황을 알렸어요" in await _say(hass, "사람 살려", "ko")
    assert len(iphone.calls) == 2  # no second first alert

    await clock.advance(21)  # 31 s after the press
    await until(lambda: contact_calls and control_centre.alerts)
    assert len(control_centre.named("/alarm")) == 1
    await _escalated(control, media_dir, iphone, 4)
    await control.post("/devices/bell-1/press")  # cancelled at the bell
    await until(lambda: len(control_centre.named("/stand-down")) == 1)
    await until(lambda: contact_calls[-1].data["title"].startswith("⚠️ [비상 취소]"))
    await _log_clean(caplog)


async def test_a_call_for_help_that_cannot_reach_the_bell_says_so(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    galaxy: Phone,
) -> None:
    """The bell is offline: Assist does not pretend; it says to call 112, and the phones get
    a critical alert that the call did not reach the bell (Android: the dialler link)."""
    await _assist(hass)
    await async_create_automations(hass, _call_for_help(hass, iphone, galaxy))
    await control.post("/devices/bell-1/online", {"online": False})
    await wait_for_state(hass, EMERGENCY, "unavailable")
    speech = await _say(hass, "사람 살려", "ko")
    assert "112" in speech
    assert "알렸어요" not in speech
    await until(lambda: iphone.calls and galaxy.calls)
    assert iphone.last["data"]["push"]["interruption-level"] == "critical"
    assert galaxy.last["data"]["channel"] == "alarm_stream"
    assert _action(iphone.last, "112 전화")["uri"] == "tel:112"
    assert _action(galaxy.last, "112 전화")["uri"] == "deep-link://tel:112"
    assert (await control.device("bell-1"))["state"]["emergency"] is False
    await _log_clean(caplog, "Error executing script", "offline")


async def test_an_automation_made_in_the_ui_escalates_and_stands_down(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """The automation editor gives an automation a numeric id (here 1796050346632), which
    templates turn into a number: the escalation still comes, once, and "I'm safe" still
    stands it down."""
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "id": "1796050346632",
            "alias": "Emergency",
            "input": _inputs(media_dir, iphone),
        },
    )
    await control.post("/devices/bell-1/press")
    await until(lambda: len(iphone.calls) == 2)  # the alert and its snapshot
    safe = _action(iphone.notifications[0], "괜찮아요")["action"]
    assert safe.endswith(":1796050346632")

    await clock.advance(31)
    await until(lambda: contact_calls and control_centre.alerts)
    await wait_for_commands(control, lambda log: commands_named(log, "siren_on", "bell-1"))
    assert len(control_centre.named("/alarm")) == 1

    _tap(hass, safe)
    await wait_for_state(hass, EMERGENCY, "off")
    await until(lambda: len(control_centre.named("/stand-down")) == 1)
    await _log_clean(caplog)
