"""Away-mode recording: while nobody is home, motion, rings and doors record the cameras."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
import logging
from pathlib import Path
import time
from typing import Any

import av
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.blueprints.common import (
    AWAY_MODE,
    DOOR,
    DOORBELL,
    DOORBELL_CAMERA,
    HOME_CAMERA,
    HOME_MOTION,
    Clock,
    Phone,
    async_create_automations,
    commands_named,
    wait_for_commands,
)
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

BLUEPRINT = "away_mode_recording.yaml"
TRACKER = "device_tracker.jiwoo_phone"
LOCK_ACTIVITY = "event.front_door_lock_lock_activity"
# The district options' window lock (API 2.1; the emulator's `district_kit`).
WINDOW = "binary_sensor.window_lock_window"
WINDOW_ACTIVITY = "event.window_lock_window_activity"
DISTRICT_KIT = pytest.mark.parametrize(
    "emulator_options", [{"heartbeat": 300, "district_kit": True}]
)
MEDIA = "seoul_safehome"
CRITICAL_IOS = {
    "interruption-level": "critical",
    "sound": {"name": "default", "critical": 1, "volume": 1.0},
}


@pytest.fixture(autouse=True)
def allowed_errors(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Every scenario leaves Home Assistant's log free of errors (unless a test allows one)."""
    allowed: list[str] = []
    yield allowed
    errors = [
        record.getMessage()
        for record in caplog.get_records("call")
        if record.levelno >= logging.ERROR
        and not any(text in record.getMessage() for text in allowed)
    ]
    assert errors == []


@pytest.fixture(autouse=True)
async def automations_off_before_the_hub_goes(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> AsyncIterator[None]:
    """Turn the automations off before the test's hub and integration go away.

    Otherwise their "offline for 30 s" triggers start timers while the test tears down.
    """
    yield
    if hass.states.async_entity_ids("automation"):
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "all"}, blocking=True
        )
    await hass.async_block_till_done()


def _inputs(media_dir: Path, *phones: Phone, **extra: object) -> dict[str, Any]:
    return {
        "cameras": [HOME_CAMERA, DOORBELL_CAMERA],
        "motion_sensors": [HOME_MOTION],
        "doorbells": [DOORBELL],
        "doors": [DOOR],
        "media_folder": str(media_dir),
        "phones": [phone.device_id for phone in phones],
        **extra,
    }


def _pictures(media_dir: Path, camera: str, pattern: str = "*.jpg") -> list[Path]:
    """The pictures (or videos) saved for a camera, oldest first."""
    return sorted((media_dir / MEDIA / camera.split(".")[-1]).glob(pattern))


async def _set_away_mode(hass: HomeAssistant, on: bool) -> None:
    """Switch the hub's away mode from Home Assistant, as from the dashboard."""
    await hass.services.async_call(
        "switch", "turn_on" if on else "turn_off", {"entity_id": AWAY_MODE}, blocking=True
    )
    await wait_for_state(hass, AWAY_MODE, "on" if on else "off")


async def _motion(hass: HomeAssistant, control: Control) -> None:
    """Someone moves in front of the home camera."""
    await control.post("/devices/cam-1/motion", {"active": True})
    await wait_for_state(hass, HOME_MOTION, "on")
    await control.post("/devices/cam-1/motion", {"active": False})
    await wait_for_state(hass, HOME_MOTION, "off")


async def _ring(hass: HomeAssistant, control: Control) -> None:
    """Someone presses the doorbell; Home Assistant has seen it."""
    before = hass.states.get(DOORBELL).state
    await control.post("/devices/doorbell-1/ring")
    await until(lambda: hass.states.get(DOORBELL).state != before)


async def _door(hass: HomeAssistant, control: Control, state: str) -> None:
    await control.post("/devices/lock-1/door", {"state": state})
    await wait_for_state(hass, DOOR, "on" if state == "open" else "off")


async def _track(hass: HomeAssistant, where: str, dev_id: str = "jiwoo_phone") -> None:
    """The resident's phone reports where it is (a real device_tracker)."""
    await hass.services.async_call(
        "device_tracker", "see", {"dev_id": dev_id, "location_name": where}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get(f"device_tracker.{dev_id}").state == where


async def _trackers(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "device_tracker", {})
    await hass.async_block_till_done()


def _frames(path: Path) -> tuple[int, tuple[int, int]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        size = (stream.codec_context.width, stream.codec_context.height)
        return sum(1 for _ in container.decode(stream)), size


@pytest.mark.usefixtures("served")
async def test_motion_while_away_records_a_playable_video_and_alerts_at_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
) -> None:
    """Motion with the hub in away mode: an alert with the live picture, then a recording."""
    assert await async_setup_component(hass, "stream", {})
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir, iphone, cameras=[HOME_CAMERA], away_switch=AWAY_MODE, record_seconds=3
            ),
        },
    )
    await _set_away_mode(hass, True)

    await _motion(hass, control)
    await until(lambda: iphone.calls)

    note = iphone.last
    assert note["title"] == "🚨 빈집에서 움직임이 감지됐어요"
    assert "Home camera Motion." in note["message"]
    assert "녹화하고 있어요" in note["message"]
    assert [a["title"] for a in note["data"]["actions"]] == ["카메라 보기", "112 전화"]
    assert note["data"]["actions"][1]["uri"] == "tel:112"
    # The alert does not wait for the snapshot: the app shows the camera's live picture.
    assert note["data"]["image"] == f"/api/camera_proxy/{HOME_CAMERA}"
    assert note["data"]["entity_id"] == HOME_CAMERA
    assert note["data"]["push"] == {"interruption-level": "time-sensitive"}

    # The snapshot and the recording are saved under the same moment's name.
    # (Home Assistant writes the file in place: wait until the whole JPEG is there.)
    await until(
        lambda: (pictures := _pictures(media_dir, HOME_CAMERA))
        and pictures[0].read_bytes().endswith(b"\xff\xd9")
    )
    (picture,) = _pictures(media_dir, HOME_CAMERA)
    with Image.open(picture) as image:
        assert image.format == "JPEG"
    video = picture.with_suffix(".mp4")
    await until(video.exists, timeout=30)
    frames, size = await hass.async_add_executor_job(_frames, video)
    assert frames > 0
    assert size == (320, 240)
    await hass.async_block_till_done()


async def test_nothing_happens_while_someone_is_home(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
) -> None:
    """At home (away mode off), moving around the flat records nothing and sends nothing."""
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir,
                iphone,
                away_switch=AWAY_MODE,
                record_seconds=0,
                lock_events=[LOCK_ACTIVITY],
            ),
        },
    )
    await _motion(hass, control)
    await _ring(hass, control)
    await control.post("/devices/lock-1/activity", {"activity": "tamper", "user": None})
    await until(lambda: hass.states.get(LOCK_ACTIVITY).attributes.get("event_type") == "tamper")
    await hass.async_block_till_done()
    assert iphone.calls == []
    assert not (media_dir / MEDIA).exists()


async def test_a_burglar_who_rings_and_then_opens_the_door_is_recorded_and_reported(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    galaxy: Phone,
    clock: Clock,
) -> None:
    """The cooldown is per sensor and limits alerts only; every event takes pictures.

    A ring to check whether anyone is home, the door opened a minute later: two alerts.
    The same doorbell ringing again within the cooldown takes pictures but does not alert.
    """
    await _trackers(hass)
    await _track(hass, "home")
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir, iphone, galaxy, people=[TRACKER], record_seconds=0, cooldown=120
            ),
        },
    )
    await _track(hass, "not_home")

    await _ring(hass, control)
    await until(lambda: iphone.calls and galaxy.calls)
    assert iphone.last["title"] == "🔔 빈집에 초인종이 울렸어요"
    # The doorbell's own camera is the one shown for a ring.
    assert iphone.last["data"]["image"] == f"/api/camera_proxy/{DOORBELL_CAMERA}"
    assert galaxy.last["data"]["priority"] == "high"
    assert galaxy.last["data"]["actions"][0]["uri"] == f"entityId:{DOORBELL_CAMERA}"
    assert galaxy.last["data"]["actions"][1]["uri"] == "deep-link://tel:112"
    await until(lambda: len(_pictures(media_dir, HOME_CAMERA)) == 1)
    await until(lambda: len(_pictures(media_dir, DOORBELL_CAMERA)) == 1)

    await clock.advance(60)
    await _door(hass, control, "open")
    await until(lambda: len(iphone.calls) == 2 and len(galaxy.calls) == 2)
    assert iphone.last["title"] == "🚨 빈집의 문이 열렸어요"
    assert iphone.last["data"]["tag"] != iphone.notifications[0]["data"]["tag"]
    await until(lambda: len(_pictures(media_dir, HOME_CAMERA)) == 2)
    await until(lambda: len(_pictures(media_dir, DOORBELL_CAMERA)) == 2)

    # The same doorbell again within its cooldown: pictures, no new alert.
    await clock.advance(30)
    await _ring(hass, control)
    await until(lambda: len(_pictures(media_dir, DOORBELL_CAMERA)) == 3)
    await until(lambda: len(_pictures(media_dir, HOME_CAMERA)) == 3)
    await hass.async_block_till_done()
    assert len(iphone.calls) == 2

    # Quiet for the cooldown: the doorbell alerts again.
    await clock.advance(121)
    await _ring(hass, control)
    await until(lambda: len(iphone.calls) == 3)
    assert iphone.last["title"] == "🔔 빈집에 초인종이 울렸어요"
    await hass.async_block_till_done()


async def test_switching_the_cameras_on_when_leaving_does_not_hold_back_the_first_alert(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
) -> None:
    """Leaving switches the cameras on; a ring right after that still alerts."""
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir,
                iphone,
                away_switch=AWAY_MODE,
                cameras_on_when_away=True,
                record_seconds=0,
            ),
        },
    )
    await control.request("DELETE", "/log")
    await _set_away_mode(hass, True)
    await wait_for_commands(control, lambda log: commands_named(log, "camera_on", "cam-1"))
    await hass.async_block_till_done()

    await _ring(hass, control)
    await until(lambda: iphone.calls)
    assert iphone.last["title"] == "🔔 빈집에 초인종이 울렸어요"
    await hass.async_block_till_done()


async def test_a_phone_whose_location_is_unknown_does_not_count_as_home(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
) -> None:
    """One resident is out, the other's phone has no location: nobody is home."""
    await _trackers(hass)
    await _track(hass, "not_home")
    # A person whose phone has never reported a location is `unknown`.
    assert await async_setup_component(
        hass,
        "person",
        {"person": [{"id": "minji", "name": "Minji", "device_trackers": ["device_tracker.minji"]}]},
    )
    await hass.async_block_till_done()
    assert hass.states.get("person.minji").state == "unknown"
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(media_dir, iphone, people=[TRACKER, "person.minji"], record_seconds=0),
        },
    )

    await _motion(hass, control)
    await until(lambda: iphone.calls)
    assert iphone.last["title"] == "🚨 빈집에서 움직임이 감지됐어요"
    await hass.async_block_till_done()

    # Minji comes home: now somebody is.
    await _track(hass, "home", "minji")
    assert hass.states.get("person.minji").state == "home"
    await _motion(hass, control)
    await hass.async_block_till_done()
    assert len(iphone.calls) == 1


async def test_forced_entry_and_tamper_always_record_and_alert_critically(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    galaxy: Phone,
    clock: Clock,
) -> None:
    """Forcing the locked door: a critical alert (Do Not Disturb too) and pictures, every time."""
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir,
                iphone,
                galaxy,
                away_switch=AWAY_MODE,
                doors=[],
                lock_events=[LOCK_ACTIVITY],
                record_seconds=0,
                cooldown=600,
            ),
        },
    )
    await _set_away_mode(hass, True)

    # The door is locked: opening it is forcing it.
    await _door(hass, control, "open")
    await until(lambda: iphone.calls and galaxy.calls)
    assert iphone.last["title"] == "🚨 빈집에 강제 침입이 감지됐어요"
    assert iphone.last["data"]["push"] == CRITICAL_IOS
    assert iphone.last["data"]["actions"][1]["uri"] == "tel:112"
    android = galaxy.last["data"]
    assert (android["channel"], android["priority"], android["ttl"]) == ("alarm_stream", "high", 0)
    assert android["actions"][1]["uri"] == "deep-link://tel:112"
    await until(lambda: _pictures(media_dir, HOME_CAMERA) and _pictures(media_dir, DOORBELL_CAMERA))

    # Tampering a minute later, well inside the cooldown: alerted all the same.
    await clock.advance(60)
    await control.post("/devices/lock-1/activity", {"activity": "tamper", "user": None})
    await until(lambda: len(iphone.calls) == 2)
    assert iphone.last["title"] == "🚨 빈집 도어락에서 훼손 시도가 감지됐어요"
    assert iphone.last["data"]["push"] == CRITICAL_IOS
    await until(lambda: len(_pictures(media_dir, HOME_CAMERA)) == 2)

    # An ordinary use of the lock is not an alarm.
    await control.post("/devices/lock-1/activity", {"activity": "keypad", "user": "민지"})
    await until(lambda: hass.states.get(LOCK_ACTIVITY).attributes.get("event_type") == "keypad")
    await hass.async_block_till_done()
    assert len(iphone.calls) == 2


async def test_a_camera_going_offline_while_away_alerts_once_and_the_others_record(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    clock: Clock,
) -> None:
    """Someone unplugs the home camera: after the grace period, one critical alert."""
    await _trackers(hass)
    await _track(hass, "not_home")
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir, iphone, people=[TRACKER], record_seconds=10, offline_delay=30
            ),
        },
    )
    await control.post("/devices/cam-1/online", {"online": False})
    await wait_for_state(hass, HOME_CAMERA, "unavailable")
    await clock.advance(10)
    assert iphone.calls == []  # a short drop is not an alarm

    await clock.advance(21)
    await until(lambda: iphone.calls)
    assert iphone.last["title"] == "🚨 빈집의 카메라 연결이 끊겼어요"
    assert "응답이 없어요: Home camera." in iphone.last["message"]
    assert iphone.last["data"]["push"] == CRITICAL_IOS
    # The doorbell's camera takes the pictures (every 5 s for the recording length).
    await until(lambda: _pictures(media_dir, DOORBELL_CAMERA))
    for _ in range(2):
        await clock.advance(5)
    await until(lambda: len(_pictures(media_dir, DOORBELL_CAMERA)) == 3)
    assert not _pictures(media_dir, HOME_CAMERA)
    await hass.async_block_till_done()
    assert len(iphone.calls) == 1


async def test_the_hub_going_offline_while_away_gives_one_critical_alert(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    clock: Clock,
) -> None:
    """The hub drops off (a cut cable): the away switch and both cameras, one alert."""
    await _trackers(hass)
    await _track(hass, "not_home")
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir, iphone, people=[TRACKER], away_switch=AWAY_MODE, record_seconds=0
            ),
        },
    )
    await _set_away_mode(hass, True)
    await control.post("/restart", {"downtime": 120})
    await wait_for_state(hass, AWAY_MODE, "unavailable")
    await wait_for_state(hass, HOME_CAMERA, "unavailable")
    await wait_for_state(hass, DOORBELL_CAMERA, "unavailable")

    await clock.advance(31)
    await until(lambda: iphone.calls)
    assert iphone.last["title"] == "🚨 빈집의 허브 연결이 끊겼어요"
    assert iphone.last["data"]["push"] == CRITICAL_IOS
    for name in ("Home camera", "Front door doorbell"):
        assert name in iphone.last["message"]
    await clock.advance(5)
    assert len(iphone.calls) == 1


async def test_a_mistyped_recipient_first_in_the_list_stops_nobody(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    galaxy: Phone,
    contact_calls: list[Any],
    allowed_errors: list[str],
) -> None:
    """`notify.mistyped_phone` fails on its own branch; everyone else is told, pictures taken.

    Home Assistant logs the unknown action (and raises a repair): the only errors allowed.
    """
    allowed_errors.append("Service not found")
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": {
                **_inputs(media_dir, away_switch=AWAY_MODE, record_seconds=0),
                "extra_notify": ["notify.mistyped_phone", "family_sms"],
                "phones": [iphone.device_id, galaxy.device_id],
            },
        },
    )
    await _set_away_mode(hass, True)

    await _motion(hass, control)
    await until(lambda: contact_calls and iphone.calls and galaxy.calls)
    assert contact_calls[-1].data["title"] == "🚨 빈집에서 움직임이 감지됐어요"
    # An action Home Assistant does not know: both payloads, `tel:` for the call.
    assert contact_calls[-1].data["data"]["push"] == {"interruption-level": "time-sensitive"}
    await until(lambda: _pictures(media_dir, HOME_CAMERA) and _pictures(media_dir, DOORBELL_CAMERA))
    await hass.async_block_till_done()
    issues = ir.async_get(hass).issues
    assert any("service_not_found_notify.mistyped_phone" in issue_id for _, issue_id in issues)


@pytest.mark.usefixtures("served")
async def test_a_second_event_extends_the_recording_instead_of_fighting_over_the_camera(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
) -> None:
    """A ring, then the door two seconds later: one recording, extended; no camera error.

    Recording goes on until `record_seconds` after the last event: the door opening
    inside the ring's 3 s recording makes the same run record a second part.
    """
    assert await async_setup_component(hass, "stream", {})
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir, iphone, cameras=[HOME_CAMERA], away_switch=AWAY_MODE, record_seconds=3
            ),
        },
    )
    await _set_away_mode(hass, True)
    await control.post("/devices/lock-1/activity", {"activity": "keypad", "user": "민지"})
    await wait_for_state(hass, "lock.front_door_lock", "unlocked")

    rang = time.monotonic()
    await _ring(hass, control)
    await until(lambda: _pictures(media_dir, HOME_CAMERA))
    await asyncio.sleep(max(0.0, rang + 2 - time.monotonic()))
    await _door(hass, control, "open")
    await until(lambda: len(iphone.calls) == 2)
    videos = lambda: _pictures(media_dir, HOME_CAMERA, "*.mp4")  # noqa: E731
    await until(lambda: len(videos()) == 2, timeout=40)
    first, extension = sorted(videos(), key=lambda path: len(path.name))
    assert extension.name == first.name.replace(".mp4", "-2.mp4")
    # (A second recording of the same camera would have failed: "already recording".)
    await hass.async_block_till_done()
    for video in (first, extension):
        frames, _ = await hass.async_add_executor_job(_frames, video)
        assert frames > 0


async def test_cameras_on_when_leaving_private_when_home(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
) -> None:
    """Leaving switches the cameras on; coming home switches them off for privacy.

    A hub that drops off for a moment is not "coming home": the cameras stay on.
    """
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir,
                iphone,
                away_switch=AWAY_MODE,
                cameras_on_when_away=True,
                cameras_off_when_home=True,
                record_seconds=0,
            ),
        },
    )
    await control.request("DELETE", "/log")

    await _set_away_mode(hass, True)
    await wait_for_commands(
        control,
        lambda log: commands_named(log, "camera_on", "cam-1")
        and commands_named(log, "camera_on", "doorbell-1"),
    )

    await control.post("/restart", {"downtime": 0.3, "new_boot": False})
    await wait_for_state(hass, AWAY_MODE, "unavailable")
    await wait_for_state(hass, AWAY_MODE, "on", timeout=10)
    await hass.async_block_till_done()
    assert not commands_named(await control.commands(), "camera_off", "cam-1")

    await _set_away_mode(hass, False)
    await wait_for_commands(
        control,
        lambda log: commands_named(log, "camera_off", "cam-1")
        and commands_named(log, "camera_off", "doorbell-1"),
    )
    for device in ("cam-1", "doorbell-1"):
        assert (await control.device(device))["state"]["camera_on"] is False
    assert iphone.calls == []


async def test_a_tamper_replayed_after_an_outage_still_alerts(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
) -> None:
    """The Wi-Fi drops while away and the lock is tampered with: alerted once it is back.

    The hub replays the event; the event entity comes straight from `unavailable` to the
    new event, which must count (the old event shown again after the outage must not).
    """
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir,
                iphone,
                away_switch=AWAY_MODE,
                doors=[],
                lock_events=[LOCK_ACTIVITY],
                record_seconds=0,
            ),
        },
    )
    await _set_away_mode(hass, True)
    await control.post("/stream/pause", {"seconds": 1})
    await control.post("/stream/drop")
    await wait_for_state(hass, LOCK_ACTIVITY, "unavailable")
    await control.post("/devices/lock-1/activity", {"activity": "tamper", "user": None})
    await until(lambda: iphone.calls, timeout=10)
    assert iphone.last["title"] == "🚨 빈집 도어락에서 훼손 시도가 감지됐어요"
    assert iphone.last["data"]["push"] == CRITICAL_IOS

    # A plain outage afterwards (nothing happened meanwhile) alerts nobody.
    written: list[str] = []
    hass.bus.async_listen(
        "state_changed",
        callback(
            lambda event: written.append(event.data["new_state"].state)
            if event.data["entity_id"] == LOCK_ACTIVITY
            else None
        ),
    )
    await control.post("/stream/drop")
    await until(lambda: written[-2:-1] == ["unavailable"], timeout=10)  # gone and back
    await hass.async_block_till_done()
    assert len(iphone.calls) == 1


async def _window(hass: HomeAssistant, control: Control, state: str) -> None:
    await control.post("/devices/window-1/window", {"state": state})
    await wait_for_state(hass, WINDOW, "on" if state == "open" else "off")


@DISTRICT_KIT
async def test_a_window_opened_while_away_records_and_alerts_like_a_door(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    clock: Clock,
) -> None:
    """A window sensor among the windows: opened while away, pictures and an alert.

    While someone is home, opening it does nothing; its own cooldown holds back a second
    alert, as for a door.
    """
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir, iphone, away_switch=AWAY_MODE, windows=[WINDOW], record_seconds=0
            ),
        },
    )
    await control.post("/devices/window-1/latch", {"state": "unlocked"})
    await _window(hass, control, "open")
    await _window(hass, control, "closed")
    await hass.async_block_till_done()
    assert iphone.calls == []

    await _set_away_mode(hass, True)
    await _window(hass, control, "open")
    await until(lambda: iphone.calls)
    assert iphone.last["title"] == "🚨 빈집의 창문이 열렸어요"
    assert "Window lock Window." in iphone.last["message"]
    assert iphone.last["data"]["push"] == {"interruption-level": "time-sensitive"}
    await until(lambda: _pictures(media_dir, HOME_CAMERA) and _pictures(media_dir, DOORBELL_CAMERA))

    # Again within the cooldown: pictures, no second alert.
    await _window(hass, control, "closed")
    await clock.advance(30)
    await _window(hass, control, "open")
    await until(lambda: len(_pictures(media_dir, HOME_CAMERA)) == 2)
    await hass.async_block_till_done()
    assert len(iphone.calls) == 1


@DISTRICT_KIT
async def test_a_window_forced_or_tampered_with_alerts_critically(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    clock: Clock,
) -> None:
    """The latched window forced open: its opening alerts, and the forcing critically.

    Tampering with the window lock is a critical alert of its own, even in the cooldown.
    """
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir,
                iphone,
                away_switch=AWAY_MODE,
                windows=[WINDOW],
                lock_events=[LOCK_ACTIVITY, WINDOW_ACTIVITY],
                record_seconds=0,
                cooldown=600,
            ),
        },
    )
    await _set_away_mode(hass, True)

    # The latch is locked: opening the window is forcing it.
    await _window(hass, control, "open")
    await until(lambda: len(iphone.calls) == 2)
    by_title = {note["title"]: note for note in iphone.notifications}
    assert set(by_title) == {"🚨 빈집의 창문이 열렸어요", "🚨 빈집의 창문이 강제로 열렸어요"}
    assert by_title["🚨 빈집의 창문이 강제로 열렸어요"]["data"]["push"] == CRITICAL_IOS
    await until(lambda: _pictures(media_dir, HOME_CAMERA))

    await clock.advance(60)
    await control.post("/devices/window-1/tamper", {"active": True})
    await until(lambda: len(iphone.calls) == 3)
    assert iphone.last["title"] == "🚨 빈집 창문 잠금장치에서 훼손 시도가 감지됐어요"
    assert iphone.last["data"]["push"] == CRITICAL_IOS

    # The door lock's tampering still reads as the door lock's.
    await clock.advance(60)
    await control.post("/devices/lock-1/activity", {"activity": "tamper", "user": None})
    await until(lambda: len(iphone.calls) == 4)
    assert iphone.last["title"] == "🚨 빈집 도어락에서 훼손 시도가 감지됐어요"
