"""Away-mode recording: while nobody is home, motion, rings and doors record the cameras."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from PIL import Image
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


def _frames(path: Path) -> tuple[int, tuple[int, int]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        size = (stream.codec_context.width, stream.codec_context.height)
        return sum(1 for _ in container.decode(stream)), size


async def test_motion_while_away_records_a_playable_video_and_sends_a_snapshot(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
) -> None:
    """Motion with the hub in away mode: a snapshot at once, then a real H.264 recording."""
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
    image = media_dir / note["data"]["image"].removeprefix("/media/local/")
    with Image.open(image) as picture:
        assert picture.format == "JPEG"

    # The recording lands next to the snapshot, named after the same moment.
    video = image.with_suffix(".mp4")
    assert video.parent == media_dir / "seoul_safehome" / "home_camera"
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
            "input": _inputs(media_dir, iphone, away_switch=AWAY_MODE, record_seconds=0),
        },
    )
    await _motion(hass, control)
    await control.post("/devices/doorbell-1/ring")
    await until(lambda: hass.states.get(DOORBELL).state != "unknown")
    await hass.async_block_till_done()
    assert iphone.calls == []
    assert not (media_dir / "seoul_safehome").exists()


async def _track(hass: HomeAssistant, where: str) -> None:
    """The resident's phone reports where it is (a real device_tracker)."""
    await hass.services.async_call(
        "device_tracker", "see", {"dev_id": "jiwoo_phone", "location_name": where}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get(TRACKER).state == where


async def test_people_away_door_and_ring_with_cooldown(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    galaxy: Phone,
    clock: Clock,
) -> None:
    """Everybody out: the door opening alerts; a ring in the cooldown does not; later it does."""
    assert await async_setup_component(hass, "device_tracker", {})
    await hass.async_block_till_done()
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

    await control.post("/devices/lock-1/door", {"state": "open"})
    await until(lambda: iphone.calls and galaxy.calls)
    assert iphone.last["title"] == "🚨 빈집의 문이 열렸어요"
    # Both cameras took a picture; the phones see one, and "Open camera" shows it live.
    stamp = iphone.last["data"]["image"].rsplit("/", 1)[-1]
    assert (media_dir / "seoul_safehome" / "home_camera" / stamp).is_file()
    await until((media_dir / "seoul_safehome" / "front_door_doorbell_camera" / stamp).is_file)
    assert galaxy.last["data"]["priority"] == "high"
    assert iphone.last["data"]["push"]["interruption-level"] == "time-sensitive"

    await clock.advance(60)
    await control.post("/devices/doorbell-1/ring")
    await until(lambda: hass.states.get(DOORBELL).state != "unknown")
    await hass.async_block_till_done()
    assert len(iphone.calls) == 1

    await clock.advance(61)
    await control.post("/devices/doorbell-1/ring")
    await until(lambda: len(iphone.calls) == 2)
    assert iphone.last["title"] == "🔔 빈집에 초인종이 울렸어요"
    # The doorbell's own camera is the one shown for a ring.
    assert "/front_door_doorbell_camera/" in iphone.last["data"]["image"]


async def test_cameras_on_when_leaving_private_when_home(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
) -> None:
    """Leaving switches the cameras on; coming home switches them off for privacy."""
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

    await _set_away_mode(hass, False)
    await wait_for_commands(
        control,
        lambda log: commands_named(log, "camera_off", "cam-1")
        and commands_named(log, "camera_off", "doorbell-1"),
    )
    for device in ("cam-1", "doorbell-1"):
        assert (await control.device(device))["state"]["camera_on"] is False
    assert iphone.calls == []


async def test_an_unreachable_phone_never_stops_the_cameras(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
) -> None:
    """A mistyped notify action fails; every camera still takes its picture."""
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(
                media_dir,
                iphone,
                away_switch=AWAY_MODE,
                record_seconds=0,
                extra_notify=["notify.mistyped_phone"],
            ),
        },
    )
    await _set_away_mode(hass, True)

    await _motion(hass, control)
    await until(lambda: iphone.calls)
    stamp = Path(iphone.last["data"]["image"]).stem
    other = media_dir / "seoul_safehome" / "front_door_doorbell_camera" / f"{stamp}.jpg"
    await until(other.is_file)
    await hass.async_block_till_done()
