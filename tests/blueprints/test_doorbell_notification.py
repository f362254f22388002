"""Doorbell notification: a ring brings a fresh snapshot to the phone, with working buttons."""

from __future__ import annotations

import asyncio
from pathlib import Path

from homeassistant.core import HomeAssistant
from PIL import Image
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.blueprints.common import (
    DOORBELL,
    DOORBELL_CAMERA,
    EMERGENCY,
    LOCK,
    Phone,
    async_create_automations,
    commands_named,
    device_id_of,
    wait_for_commands,
)
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

BLUEPRINT = "doorbell_notification.yaml"


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


def _snapshot_on_disk(media_dir: Path, url: str) -> Path:
    """The file behind a /media/local/... URL, checked to be a real JPEG."""
    assert url.startswith("/media/local/seoul_safehome/front_door_doorbell_camera/")
    path = media_dir / url.removeprefix("/media/local/")
    assert path.is_file(), f"{path} does not exist"
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert image.size[0] > 0
    return path


async def test_ring_sends_a_fresh_snapshot_with_buttons(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    galaxy: Phone,
) -> None:
    """Each phone gets the doorbell's picture of this very ring, and the three buttons."""
    await _setup(
        hass,
        iphone,
        galaxy,
        lock_entity=LOCK,
        emergency_bell=device_id_of(hass, EMERGENCY),
        cooldown=0,
    )

    await control.post("/devices/doorbell-1/ring")
    await until(lambda: iphone.calls and galaxy.calls)
    await hass.async_block_till_done()

    for phone in (iphone, galaxy):
        note = phone.last
        assert note["title"] == "🔔 누가 초인종을 눌렀어요"
        assert "Front door doorbell Ring: 문 앞에 누군가 왔어요" in note["message"]
        _snapshot_on_disk(media_dir, note["data"]["image"])
        titles = [action["title"] for action in note["data"]["actions"]]
        assert titles == ["카메라 보기", "문 잠그기", "비상 호출"]
    # Both phones show the same, fresh picture.
    assert iphone.last["data"]["image"] == galaxy.last["data"]["image"]
    # "Open camera" opens the camera's live view, the way each platform does it.
    assert iphone.last["data"]["actions"][0]["uri"] == f"/?more-info-entity-id={DOORBELL_CAMERA}"
    assert galaxy.last["data"]["actions"][0]["uri"] == f"entityId:{DOORBELL_CAMERA}"
    assert iphone.last["data"]["entity_id"] == DOORBELL_CAMERA
    assert iphone.last["data"]["push"]["interruption-level"] == "time-sensitive"
    assert galaxy.last["data"]["priority"] == "high"

    # The next ring brings a new picture; the first one is kept.
    first = _snapshot_on_disk(media_dir, iphone.last["data"]["image"])
    await control.post("/devices/doorbell-1/ring")
    await until(lambda: len(iphone.calls) == 2)
    second = _snapshot_on_disk(media_dir, iphone.last["data"]["image"])
    assert second != first
    assert first.is_file()


async def test_lock_button_locks_the_door(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
) -> None:
    """'Lock the door' on the notification locks the chosen lock and confirms it."""
    await hass.services.async_call("lock", "unlock", {"entity_id": LOCK}, blocking=True)
    await wait_for_state(hass, LOCK, "unlocked")
    await _setup(hass, iphone, lock_entity=LOCK)
    await control.post("/devices/doorbell-1/ring")
    await until(lambda: iphone.calls)
    lock_button = next(
        action for action in iphone.last["data"]["actions"] if action["title"] == "문 잠그기"
    )
    await control.request("DELETE", "/log")

    # The phone's Companion app fires this event when the button is tapped.
    hass.bus.async_fire("mobile_app_notification_action", {"action": lock_button["action"]})

    log = await wait_for_commands(control, lambda log: commands_named(log, "lock", "lock-1"))
    assert commands_named(log, "lock", "lock-1")[0]["result"] == "accepted"
    await wait_for_state(hass, LOCK, "locked")
    await until(lambda: len(iphone.calls) == 2)
    assert iphone.last["title"] == "🔒 문을 잠갔어요"
    # It replaces the doorbell notification on the phone.
    assert iphone.last["data"]["tag"] == iphone.calls[0].data["data"]["tag"]


async def test_emergency_button_raises_an_emergency_on_the_bell(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
) -> None:
    """'Emergency' raises an emergency on the SafeHome bell, from the phone."""
    await _setup(hass, iphone, emergency_bell=device_id_of(hass, EMERGENCY))
    await control.post("/devices/doorbell-1/ring")
    await until(lambda: iphone.calls)
    titles = [action["title"] for action in iphone.last["data"]["actions"]]
    assert titles == ["카메라 보기", "비상 호출"]  # no lock chosen: no lock button
    emergency_button = iphone.last["data"]["actions"][1]

    hass.bus.async_fire("mobile_app_notification_action", {"action": emergency_button["action"]})

    log = await wait_for_commands(
        control, lambda log: commands_named(log, "trigger_emergency", "bell-1")
    )
    assert commands_named(log, "trigger_emergency", "bell-1")[0]["params"] == {"source": "phone"}
    await wait_for_state(hass, EMERGENCY, "on")


async def _ring(hass: HomeAssistant, control: Control) -> None:
    """Press the doorbell and wait until Home Assistant has seen the ring."""
    before = hass.states.get(DOORBELL).state
    await control.post("/devices/doorbell-1/ring")
    await until(lambda: hass.states.get(DOORBELL).state != before)
    await hass.async_block_till_done()


async def test_cooldown(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control, iphone: Phone
) -> None:
    """Rings within the cooldown send nothing new; the next ring after it does.

    The cooldown is measured on the wall clock (it survives restarts), which Home
    Assistant's test helpers cannot move without freezing the hub's clock as well: this
    test waits one real second.
    """
    await _setup(hass, iphone, cooldown=1)
    await _ring(hass, control)
    assert len(iphone.calls) == 1

    await _ring(hass, control)
    await _ring(hass, control)
    assert len(iphone.calls) == 1

    await asyncio.sleep(1.05)
    await _ring(hass, control)
    assert len(iphone.calls) == 2
