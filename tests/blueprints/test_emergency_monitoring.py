"""Emergency escalation with a monitoring-centre link: the escalation reports a panic
alarm (PA) to the district's control centre and the stand-down its restoral (PR), received
and acknowledged by a real pysiaalarm receiver; an emergency cancelled in time reports
nothing."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant, ServiceCall
from pytest_homeassistant_custom_component.common import MockConfigEntry

from control_centre_emulator import ControlCentre
from tests.blueprints.common import EMERGENCY, Clock, Phone, async_create_automations
from tests.blueprints.test_emergency_escalation import BLUEPRINT, _escalated, _inputs
from tests.conftest import Control
from tests.integration.common import until, wait_for_state
from tests.integration.test_monitoring_centre import ACCOUNT, add_link


async def _reporting_escalation(
    hass: HomeAssistant, centre: ControlCentre, media_dir: Path, iphone: Phone
) -> None:
    """Link `centre` and create an emergency escalation automation that reports to it."""
    link = await add_link(hass, centre.port)
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": _inputs(media_dir, iphone, monitoring_centre=link.entry_id),
        },
    )


async def test_escalation_and_stand_down_are_reported_to_the_centre(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    contact_calls: list[ServiceCall],
    centre: ControlCentre,
    clock: Clock,
) -> None:
    hass.config.latitude, hass.config.longitude = 37.5683, 126.8972
    await _reporting_escalation(hass, centre, media_dir, iphone)
    await control.post("/devices/bell-1/press")
    await until(lambda: len(iphone.calls) == 2)
    assert centre.reports == []  # nothing before the deadline

    await clock.advance(31)
    await until(lambda: contact_calls)
    report = (await centre.wait_for_reports(1))[0]
    assert (report.code, report.zone, report.account, report.reply) == ("PA", 1, ACCOUNT, "ACK")
    assert report.text is not None
    assert report.text.startswith("button")
    await _escalated(control, media_dir, iphone, 4)

    await control.post("/devices/bell-1/press")  # cancelled at the bell
    await wait_for_state(hass, EMERGENCY, "off")
    await until(lambda: len(centre.reports) == 2)
    assert centre.reports[-1].code == "PR"
    assert centre.reports[-1].reply == "ACK"


async def test_an_emergency_cancelled_in_time_reports_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    media_dir: Path,
    iphone: Phone,
    centre: ControlCentre,
    clock: Clock,
) -> None:
    await _reporting_escalation(hass, centre, media_dir, iphone)
    await control.post("/devices/bell-1/press")
    await until(lambda: len(iphone.calls) == 2)
    await clock.advance(10)
    await control.post("/devices/bell-1/press")
    await wait_for_state(hass, EMERGENCY, "off")
    await until(lambda: len(iphone.calls) == 3)  # the stand-down message
    await clock.advance(60)
    assert centre.reports == []
