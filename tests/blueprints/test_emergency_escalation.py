"""Emergency escalation: a critical alert at once, escalation when nobody answers, stand-down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.seoul_safehome.const import DOMAIN
from tests.blueprints.common import (
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
    wait_for_commands,
)
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

BLUEPRINT = "emergency_escalation.yaml"
ADDRESS = "서울특별시 마포구 월드컵북로 400, 301호"
SAFE = "SAFEHOME_EMERGENCY_SAFE"


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
        ' "started": {{ started | tojson }}, "snapshots": {{ snapshots | tojson }}}'
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


async def test_press_alerts_at_once_then_escalates_then_im_safe_stands_down(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    galaxy: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """The whole story: bell pressed, critical alert, no answer, escalation, "I'm safe"."""
    await async_create_automations(
        hass, {"blueprint": BLUEPRINT, "input": _inputs(media_dir, iphone, galaxy)}
    )

    await control.post("/devices/bell-1/press")
    await until(lambda: iphone.calls and galaxy.calls)

    # 1. A critical alert that sounds through silent mode, with a fresh snapshot.
    for phone in (iphone, galaxy):
        note = phone.last
        assert note["title"] == "🚨 비상 상황이 발생했어요"
        assert note["message"].startswith("비상벨 버튼이 눌렸어요. 30초 안에")
        actions = note["data"]["actions"]
        assert [a["title"] for a in actions] == ["괜찮아요", "112 전화", "카메라 보기"]
        assert actions[0]["action"] == SAFE
        assert actions[1] == {"action": "URI", "title": "112 전화", "uri": "tel:112"}
        _assert_jpeg(media_dir, note["data"]["image"])
    assert iphone.last["data"]["push"] == {
        "sound": {"name": "default", "critical": 1, "volume": 1.0},
        "interruption-level": "critical",
    }
    android = galaxy.last["data"]
    assert android["channel"] == "alarm_stream"
    assert android["ttl"] == 0
    assert android["priority"] == "high"
    assert "push" not in android
    assert galaxy.last["data"]["actions"][2]["uri"] == f"entityId:{HOME_CAMERA}"
    # Both cameras took a picture for this alert, with names that never collide.
    stamp = Path(iphone.last["data"]["image"]).stem
    assert (media_dir / "seoul_safehome" / "home_camera" / f"{stamp}.jpg").is_file()
    # (the second one right after the alert, so as not to delay it)
    await until(
        (media_dir / "seoul_safehome" / "front_door_doorbell_camera" / f"{stamp}.jpg").is_file
    )

    # Nothing escalates before the time is up.
    await control.request("DELETE", "/log")
    await clock.advance(28)
    assert contact_calls == []
    assert control_centre.alerts == []
    assert commands_named(await control.commands(), "siren_on", "bell-1") == []

    # 2. Nobody answered: the siren sounds, the contacts and the control centre hear of it.
    await clock.advance(3)
    await wait_for_commands(control, lambda log: commands_named(log, "siren_on", "bell-1"))
    await until(lambda: contact_calls and control_centre.alerts)
    contact = contact_calls[-1].data
    assert ADDRESS in contact["title"]
    assert f"{ADDRESS}에서 비상 상황이 발생했어요. 비상벨 버튼이 눌렸어요." in contact["message"]
    _assert_jpeg(media_dir, contact["data"]["image"])
    alert = control_centre.alerts[-1]
    assert alert["address"] == ADDRESS
    assert alert["source"] == "button"
    assert dt_util.parse_datetime(alert["started"]) is not None
    assert len(alert["snapshots"]) == 2
    assert (await control.device("bell-1"))["state"]["siren"] is True
    # The phones are told too, still critically.
    assert iphone.last["title"] == "📢 비상 상황을 알렸어요"
    assert iphone.last["data"]["push"]["sound"]["critical"] == 1

    # 3. "I'm safe" on the phone: the bell stands down, the siren stops, everyone is told.
    hass.bus.async_fire("mobile_app_notification_action", {"action": SAFE})
    await wait_for_commands(control, lambda log: commands_named(log, "cancel_emergency", "bell-1"))
    await wait_for_state(hass, EMERGENCY, "off")
    await until(lambda: len(contact_calls) == 2)
    device = await control.device("bell-1")
    assert device["state"]["emergency"] is False
    assert device["state"]["siren"] is False
    assert hass.states.get(SIREN).state == "off"
    assert contact_calls[-1].data["title"] == f"✅ [해제] {ADDRESS}"
    assert "휴대전화에서 해제했어요" in contact_calls[-1].data["message"]
    assert iphone.last["title"] == "✅ 비상 상황이 해제됐어요"
    assert iphone.last["data"]["tag"] == "safehome-emergency"  # replaces the critical alert
    await until(lambda: len(control_centre.alerts) == 2)
    assert control_centre.alerts[-1] == {"path": "/stand-down", "address": ADDRESS, "by": "phone"}


@pytest.mark.parametrize(
    ("how", "message"),
    [("bell", "비상벨에서 해제했어요."), ("action", "휴대전화에서 해제했어요.")],
)
async def test_call_for_help_cancelled_in_time_does_not_escalate(
    how: str,
    message: str,
    hass: HomeAssistant,
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
    assert iphone.last["message"].startswith('비상벨이 "')
    assert "하는 소리를 들었어요." in iphone.last["message"]
    await control.request("DELETE", "/log")

    await clock.advance(10)
    if how == "bell":
        await control.post("/devices/bell-1/press")  # a second press cancels
    else:
        await hass.services.async_call(
            DOMAIN, "cancel_emergency", {"device_id": device_id_of(hass, EMERGENCY)}, blocking=True
        )
    await wait_for_state(hass, EMERGENCY, "off")
    await until(lambda: len(iphone.calls) == 2)
    assert iphone.last["title"] == "✅ 비상 상황이 해제됐어요"
    assert iphone.last["message"] == message
    assert iphone.last["data"]["tag"] == "safehome-emergency"

    # The deadline passes: nothing happens, nobody else was bothered.
    await clock.advance(60)
    await hass.async_block_till_done()
    log = await control.commands()
    assert commands_named(log, "siren_on", "bell-1") == []
    assert contact_calls == []
    assert control_centre.alerts == []
    assert len(iphone.calls) == 2


async def test_an_unreachable_phone_never_holds_back_the_siren(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """A mistyped notify action (or a phone without push) fails, and still: siren, contacts."""
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(media_dir, iphone, extra_notify=["notify.mistyped_phone"]),
        },
    )
    await control.post("/devices/bell-1/press")
    await until(lambda: iphone.calls)
    await control.request("DELETE", "/log")

    await clock.advance(31)
    await wait_for_commands(control, lambda log: commands_named(log, "siren_on", "bell-1"))
    await until(lambda: contact_calls and control_centre.alerts)
    await hass.async_block_till_done()  # the escalation run ends (with the action's error)

    # Cancelling still tells the contacts, though the mistyped action fails again.
    await hass.services.async_call(
        DOMAIN, "cancel_emergency", {"device_id": device_id_of(hass, EMERGENCY)}, blocking=True
    )
    await until(lambda: any("[해제]" in call.data["title"] for call in contact_calls))
    await wait_for_commands(control, lambda log: commands_named(log, "siren_off", "bell-1"))
    # ...and the control centre hears that it is over (the run has finished).
    await until(lambda: len(control_centre.alerts) == 2)
    await hass.async_block_till_done()


async def test_escalation_survives_an_automation_reload(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    control_centre: ControlCentre,
    clock: Clock,
) -> None:
    """Reloading automations mid-emergency neither drops the escalation nor repeats the alert."""
    await async_create_automations(
        hass, {"blueprint": BLUEPRINT, "input": _inputs(media_dir, iphone)}
    )
    await control.post("/devices/bell-1/press")
    await until(lambda: iphone.calls)
    await control.request("DELETE", "/log")

    await clock.advance(10)
    await hass.services.async_call("automation", "reload", blocking=True)
    assert_automations_loaded(hass, ["safehome_0"])
    await clock.advance(15)
    assert contact_calls == []
    assert len(iphone.calls) == 1  # the critical alert is not sent twice

    await clock.advance(6)  # 31 s after the press
    await wait_for_commands(control, lambda log: commands_named(log, "siren_on", "bell-1"))
    await until(lambda: contact_calls and control_centre.alerts)
    assert ADDRESS in contact_calls[-1].data["message"]


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


async def test_any_emergency_sensor_and_im_safe_without_a_hub(
    hass: HomeAssistant,
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
    hass.bus.async_listen(
        "state_changed",
        lambda event: flashes.append(event.data["new_state"].state)
        if event.data["entity_id"] == "light.hallway"
        else None,
    )
    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": "input_boolean.panic"})
    await until(lambda: iphone.calls)
    assert iphone.last["message"].startswith("비상 센서가 켜졌어요. 20초 안에")
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

    hass.bus.async_fire("mobile_app_notification_action", {"action": SAFE})
    await until(lambda: len(contact_calls) == 2)
    assert contact_calls[-1].data["title"] == f"✅ [해제] {ADDRESS}"
    assert iphone.last["title"] == "✅ 비상 상황이 해제됐어요"
    assert iphone.last["message"].startswith("휴대전화에서 해제했어요.")
    # The flashing stops with the lights off.
    await until(lambda: flashes[-1] == "off")
    await hass.async_block_till_done()
    assert hass.states.get("light.hallway").state == "off"
    count = len(flashes)
    await clock.advance(5)
    assert len(flashes) == count
