"""Away-mode recording with a monitoring-centre link: a break-in while nobody is home is
also reported to the control centre (SIA DC-09), received by a real pysiaalarm receiver."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from control_centre_emulator import ControlCentre
from tests.blueprints.common import Clock, Phone, async_create_automations
from tests.blueprints.test_away_mode_recording import (
    AWAY_MODE,
    BLUEPRINT,
    LOCK_ACTIVITY,
    _door,
    _inputs,
    _set_away_mode,
)
from tests.conftest import Control
from tests.integration.common import until
from tests.integration.test_monitoring_centre import ACCOUNT, add_link


async def test_a_break_in_while_away_is_reported_to_the_centre(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    centre: ControlCentre,
    clock: Clock,
) -> None:
    """Forcing the locked door while away: burglary (BA), acknowledged by the centre;
    tampering: TA. Ordinary use of the lock reports nothing."""
    link = await add_link(hass, centre.port)
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
                monitoring_centre=link.entry_id,
            ),
        },
    )
    await _set_away_mode(hass, True)
    await _door(hass, control, "open")  # the door is locked: this is forcing it
    report = (await centre.wait_for_reports(1))[0]
    assert (report.code, report.account, report.reply) == ("BA", ACCOUNT, "ACK")
    assert report.text == "away forced_entry"

    await clock.advance(60)
    await control.post("/devices/lock-1/activity", {"activity": "tamper", "user": None})
    await until(lambda: len(centre.reports) == 2)
    assert centre.reports[-1].code == "TA"

    await control.post("/devices/lock-1/activity", {"activity": "keypad", "user": "민지"})
    await until(lambda: hass.states.get(LOCK_ACTIVITY).attributes.get("event_type") == "keypad")
    await hass.async_block_till_done()
    assert len(centre.reports) == 2
    # Home again: the automation's "left open / offline for a while" timers end with it.
    await _set_away_mode(hass, False)
    await hass.services.async_call("automation", "turn_off", {"entity_id": "all"}, blocking=True)
