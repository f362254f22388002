"""Doorbell notification: the alert at once, the ring's snapshot right after, working buttons."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, ServiceCall
import homeassistant.util.dt as dt_util
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.blueprints.common import (
    DOORBELL,
    DOORBELL_CAMERA,
    EMERGENCY,
    HOME_CAMERA,
    LOCK,
    Clock,
    Phone,
    add_mobile_app_device,
    add_stuck_phone,
    async_create_automations,
    commands_named,
    device_id_of,
    log_errors,
    record_calls_with,
    wait_for_commands,
)
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

BLUEPRINT = "doorbell_notification.yaml"
LOCK_ACTIVITY = "event.front_door_lock_lock_activity"
IOS_CRITICAL = {
    "interruption-level": "critical",
    "sound": {"name": "default", "critical": 1, "volume": 1.0},
}


async def _setup(hass: HomeAssistant, *phones: Phone, **inputs: object) -> None:
    media_dir = Path(hass.config.media_dirs["local"])
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": {
                "doorbell_event": DOORBELL,
                "camera": DOORBELL_CAMERA,
                "phones": [phone.device_id for phone in phones],
                "media_folder": str(media_dir),
                **inputs,
            },
        },
    )


def _snapshot_on_disk(media_dir: Path, url: str, camera: str = DOORBELL_CAMERA) -> Path:
    """The file behind a /media/local/... URL, checked to be a real JPEG."""
    assert url.startswith(f"/media/local/seoul_safehome/{camera.split('.')[1]}/")
    path = media_dir / url.removeprefix("/media/local/")
    assert path.is_file(), f"{path} does not exist"
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert image.size[0] > 0
    return path


def _snapshots(media_dir: Path, camera: str = DOORBELL_CAMERA) -> list[Path]:
    return sorted((media_dir / "seoul_safehome" / camera.split(".")[1]).glob("*.jpg"))


def _titles(note: dict[str, Any]) -> list[str]:
    return [action["title"] for action in note["data"]["actions"]]


async def _ring(hass: HomeAssistant, control: Control) -> None:
    """Press the doorbell and wait until Home Assistant has seen the ring."""
    before = hass.states.get(DOORBELL).state
    await control.post("/devices/doorbell-1/ring")
    await until(lambda: hass.states.get(DOORBELL).state != before)


async def test_ring_alerts_at_once_then_adds_the_snapshot(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    galaxy: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each phone is told at once with the live camera, then gets this ring's picture."""
    await _setup(
        hass,
        iphone,
        galaxy,
        lock_entity=LOCK,
        emergency_bell=device_id_of(hass, EMERGENCY),
        cooldown=0,
    )
    folder = media_dir / "seoul_safehome" / "front_door_doorbell_camera"
    sent = record_calls_with(hass, iphone.service, folder.exists)

    await control.post("/devices/doorbell-1/ring")
    await until(lambda: len(iphone.calls) == len(galaxy.calls) == 2)
    await hass.async_block_till_done()

    # First the alert, sent before any snapshot was written ...
    assert sent[0][1] is False
    for phone in (iphone, galaxy):
        alert = dict(phone.calls[0].data)
        assert alert["title"] == "🔔 누가 초인종을 눌렀어요"
        assert "Front door doorbell Ring: 문 앞에 누군가 왔어요" in alert["message"]
        assert _titles(alert) == ["카메라 보기", "문 잠그기", "비상 호출"]
        assert "/media/local" not in str(alert)
    # ... showing the camera live: iOS renders the camera, Android loads it through the proxy.
    ios_alert, android_alert = iphone.calls[0].data["data"], galaxy.calls[0].data["data"]
    assert ios_alert["entity_id"] == DOORBELL_CAMERA
    assert ios_alert["push"]["interruption-level"] == "time-sensitive"
    assert android_alert["image"] == f"/api/camera_proxy/{DOORBELL_CAMERA}"
    assert android_alert["priority"] == "high"
    # "Open camera" opens the camera's live view, the way each platform does it.
    assert ios_alert["actions"][0]["uri"] == f"/?more-info-entity-id={DOORBELL_CAMERA}"
    assert android_alert["actions"][0]["uri"] == f"entityId:{DOORBELL_CAMERA}"

    # Then the same notification (same tag), updated with the saved picture, quietly.
    for phone in (iphone, galaxy):
        alert, photo = (dict(call.data) for call in phone.calls)
        assert photo["title"] == alert["title"]
        assert photo["data"]["tag"] == alert["data"]["tag"] == f"safehome-doorbell-{DOORBELL}"
        assert _titles(photo) == _titles(alert)
        _snapshot_on_disk(media_dir, photo["data"]["image"])
    assert iphone.last["data"]["image"] == galaxy.last["data"]["image"]
    assert iphone.last["data"]["push"] == {"interruption-level": "time-sensitive", "sound": "none"}
    assert galaxy.last["data"]["alert_once"] is True

    # The next ring brings a new picture; the first one is kept.
    first = _snapshot_on_disk(media_dir, iphone.last["data"]["image"])
    await control.post("/devices/doorbell-1/ring")
    await until(lambda: len(iphone.calls) == 4)
    second = _snapshot_on_disk(media_dir, iphone.last["data"]["image"])
    assert second != first
    assert first.is_file()
    assert log_errors(caplog) == []


async def test_a_failed_snapshot_never_points_at_a_missing_file(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    galaxy: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The camera is offline: the alert still goes out, and is never pointed at no file."""
    await _setup(hass, iphone, galaxy, camera=HOME_CAMERA, cooldown=0)
    await control.post("/devices/cam-1/online", {"online": False})
    await wait_for_state(hass, HOME_CAMERA, STATE_UNAVAILABLE)

    await _ring(hass, control)
    await until(lambda: iphone.calls and galaxy.calls)
    await hass.async_block_till_done()

    for phone in (iphone, galaxy):
        assert len(phone.calls) == 1  # the alert, never updated
        assert phone.last["title"] == "🔔 누가 초인종을 눌렀어요"
        assert "/media/local" not in str(phone.last)
    assert _snapshots(media_dir, HOME_CAMERA) == []
    assert log_errors(caplog) == []


async def test_lock_button_locks_the_door(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """'Lock the door' on the notification locks the chosen lock and confirms it."""
    await hass.services.async_call("lock", "unlock", {"entity_id": LOCK}, blocking=True)
    await wait_for_state(hass, LOCK, "unlocked")
    await _setup(hass, iphone, lock_entity=LOCK)
    await control.post("/devices/doorbell-1/ring")
    await until(lambda: len(iphone.calls) == 2)
    lock_button = next(
        action for action in iphone.last["data"]["actions"] if action["title"] == "문 잠그기"
    )
    await control.request("DELETE", "/log")

    # The phone's Companion app fires this event when the button is tapped.
    hass.bus.async_fire("mobile_app_notification_action", {"action": lock_button["action"]})

    log = await wait_for_commands(control, lambda log: commands_named(log, "lock", "lock-1"))
    assert commands_named(log, "lock", "lock-1")[0]["result"] == "accepted"
    await wait_for_state(hass, LOCK, "locked")
    await until(lambda: len(iphone.calls) == 3)
    assert iphone.last["title"] == "🔒 문을 잠갔어요"
    # It replaces the doorbell notification on the phone.
    assert iphone.last["data"]["tag"] == iphone.calls[0].data["data"]["tag"]
    assert log_errors(caplog) == []


async def test_emergency_button_raises_an_emergency_on_the_bell(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """'Emergency' raises an emergency on the SafeHome bell, from the phone."""
    await _setup(hass, iphone, emergency_bell=device_id_of(hass, EMERGENCY))
    await control.post("/devices/doorbell-1/ring")
    await until(lambda: iphone.calls)
    alert = dict(iphone.calls[0].data)
    assert _titles(alert) == ["카메라 보기", "비상 호출"]  # no lock chosen: no lock button
    emergency_button = alert["data"]["actions"][1]

    hass.bus.async_fire("mobile_app_notification_action", {"action": emergency_button["action"]})

    log = await wait_for_commands(
        control, lambda log: commands_named(log, "trigger_emergency", "bell-1")
    )
    assert commands_named(log, "trigger_emergency", "bell-1")[0]["params"] == {"source": "phone"}
    await wait_for_state(hass, EMERGENCY, "on")
    assert log_errors(caplog) == []


async def test_cooldown_holds_back_notifications_never_snapshots(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Rings within the cooldown send nothing new, but each ring's picture is saved.

    The cooldown is measured on the wall clock (it survives restarts), which Home
    Assistant's test helpers cannot move without freezing the hub's clock as well: this
    test waits one real second.
    """
    await _setup(hass, iphone, cooldown=1)
    await _ring(hass, control)
    await until(lambda: len(iphone.calls) == 2)  # the alert and its picture

    await _ring(hass, control)
    await _ring(hass, control)
    await until(lambda: len(_snapshots(media_dir)) == 3)
    await hass.async_block_till_done()
    assert len(iphone.calls) == 2

    await asyncio.sleep(1.05)
    await _ring(hass, control)
    await until(lambda: len(iphone.calls) == 4)
    assert log_errors(caplog) == []


async def test_a_late_ring_is_told_as_missed_at_its_time(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A ring the hub replays after an outage: "missed ring at HH:MM", the time it rang."""
    await _setup(hass, iphone)
    # The hub's API restarts; someone rings meanwhile; Home Assistant hears it 3 s late.
    await control.post("/restart", {"downtime": 300, "new_boot": False})
    await wait_for_state(hass, DOORBELL, STATE_UNAVAILABLE)
    await control.post("/devices/doorbell-1/ring")
    await clock.advance(3)
    await control.post("/restart", {"downtime": 0, "new_boot": False})
    await until(lambda: iphone.calls, timeout=15)

    state = hass.states.get(DOORBELL)
    assert state.attributes["delayed"] is True
    rang = dt_util.as_local(dt_util.parse_datetime(state.attributes["occurred_at"]))
    note = iphone.last
    assert note["title"] == f"🔔 {rang:%H:%M}에 놓친 초인종"
    assert note["message"].startswith(f"{rang:%H:%M} Front door doorbell Ring: 연결이 끊긴 동안")
    assert log_errors(caplog) == []


async def test_coming_back_from_an_outage_is_not_a_ring(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The doorbell shows its last ring again after an outage: nobody is told twice."""
    await _setup(hass, iphone, cooldown=0)
    await _ring(hass, control)
    await until(lambda: len(iphone.calls) == 2)
    rung = hass.states.get(DOORBELL).state

    await control.post("/restart", {"downtime": 0.5})
    await wait_for_state(hass, DOORBELL, STATE_UNAVAILABLE)
    await wait_for_state(hass, DOORBELL, rung, timeout=15)
    await hass.async_block_till_done()
    assert len(iphone.calls) == 2
    assert log_errors(caplog) == []


async def test_forced_entry_and_tampering_send_a_critical_alert_with_a_snapshot(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    galaxy: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Forced entry: critical on every phone, cooldown or not, camera on, 112 per platform."""
    await _setup(
        hass,
        iphone,
        galaxy,
        lock_entity=LOCK,
        emergency_bell=device_id_of(hass, EMERGENCY),
        lock_events=LOCK_ACTIVITY,
    )
    # A ring just before (the cooldown runs), and the door camera in privacy mode.
    await _ring(hass, control)
    await until(lambda: len(iphone.calls) == len(galaxy.calls) == 2)
    await hass.services.async_call(
        "camera", "turn_off", {"entity_id": DOORBELL_CAMERA}, blocking=True
    )
    # The lock's own uses are not alarms.
    await control.post("/devices/lock-1/activity", {"activity": "keypad", "user": "지우"})
    await wait_for_state(hass, LOCK, "unlocked")
    await control.request("DELETE", "/log")

    await control.post("/devices/lock-1/activity", {"activity": "forced_entry"})
    await until(lambda: len(iphone.calls) == len(galaxy.calls) == 4)
    await hass.async_block_till_done()

    for phone in (iphone, galaxy):
        alert, photo = (dict(call.data) for call in phone.calls[2:])
        assert alert["title"] == "🚨 문이 강제로 열렸어요"
        assert "Front door lock: 누군가 문을 강제로 열었어요" in alert["message"]
        assert alert["data"]["tag"] == f"safehome-intrusion-{LOCK_ACTIVITY}"
        assert _titles(alert) == ["카메라 보기", "비상 호출", "112 전화"]  # no "lock the door"
        assert "/media/local" not in str(alert)
        assert photo["data"]["tag"] == alert["data"]["tag"]
        _snapshot_on_disk(media_dir, photo["data"]["image"])
    # The camera was switched on for the picture.
    log = await control.commands()
    assert commands_named(log, "camera_on", "doorbell-1")
    # Critical, and "Call 112" dials on both platforms.
    ios_alert, android_alert = iphone.calls[2].data["data"], galaxy.calls[2].data["data"]
    assert ios_alert["push"] == IOS_CRITICAL
    assert ios_alert["actions"][2]["uri"] == "tel:112"
    assert android_alert["channel"] == "alarm_stream"
    assert android_alert["priority"] == "high"
    assert android_alert["ttl"] == 0
    assert android_alert["actions"][2]["uri"] == "deep-link://tel:112"

    # "Emergency" on the alert raises an emergency on the bell.
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": ios_alert["actions"][1]["action"]}
    )
    await wait_for_state(hass, EMERGENCY, "on")

    # Tampering is the same kind of alert, in its own words.
    await control.post("/devices/lock-1/activity", {"activity": "tamper"})
    await until(lambda: len(iphone.calls) == 6)
    assert iphone.calls[4].data["title"] == "🚨 누군가 도어락을 망가뜨리려 해요"
    assert iphone.calls[4].data["data"]["push"] == IOS_CRITICAL
    assert log_errors(caplog) == []


async def test_a_failing_recipient_never_stops_the_others_or_the_snapshot(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A removed phone first, a hanging one next, a typo: the rest get alert and picture."""
    removed = add_mobile_app_device(hass, "Old Galaxy")
    stuck = add_stuck_phone(hass, "Hanging phone")
    await _setup(
        hass,
        cooldown=0,
        phones=[removed, stuck.device_id, iphone.device_id],
        extra_notify=["notify.old_tablet", "family_sms"],
    )

    await control.post("/devices/doorbell-1/ring")
    await until(lambda: len(iphone.calls) == len(contact_calls) == 2)
    assert len(stuck.calls) == 1  # still hanging: it delays nobody
    _snapshot_on_disk(media_dir, iphone.last["data"]["image"])
    # A notify action of unknown platform gets both apps' settings.
    family = dict(contact_calls[-1].data)["data"]
    assert family["image"] == iphone.last["data"]["image"]
    assert family["alert_once"] is True

    stuck.release()
    await hass.async_block_till_done()
    errors = log_errors(caplog, "Service not found")
    # (The recipients' branches come first, in the order chosen; the snapshot's last.)
    assert sum("parallel 1: Repeat" in error for error in errors) == 1  # the removed phone
    assert sum("parallel 4: Repeat" in error for error in errors) == 1  # the typo
