"""Fixtures for the blueprint tests: a real hub (the emulator), the integration, and phones.

The automations under test are created from the bundled blueprints exactly as a user
would create them (`use_blueprint`), run in Home Assistant, and act on the integration's
entities, which the emulator feeds over loopback. Only the phone is faked: a mobile_app
device in the device registry and a `notify.mobile_app_<name>` action that records what
it was asked to send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
import time
from typing import Any

from freezegun import freeze_time
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.util import slugify
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from control_centre_emulator import ControlCentre
from tests.blueprints.common import Clock, Phone
from tests.integration.common import until
from tests.integration.conftest import (  # noqa: F401 (fixtures used by these tests)
    auto_enable_custom_integrations,
    hub_info,
    mock_config_entry,
    token,
)
from tests.integration.loopback import serve_home_assistant
from tests.integration.test_monitoring_centre import ACCOUNT


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """The default Seoul kit, with a slow heartbeat so tests can move the clock minutes ahead.

    Tests advance Home Assistant's clock instead of sleeping; a heartbeat of 300 s keeps
    the link's watchdog (2 x heartbeat + 5 s) from firing when they do.
    """
    return {"heartbeat": 300}


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    config_dir: Path,
    mock_config_entry: MockConfigEntry,  # noqa: F811 (the fixture imported above)
) -> MockConfigEntry:
    """Set the integration up against the emulator, in sync, with its blueprints installed."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await until(lambda: mock_config_entry.runtime_data.coordinator.in_sync)
    await hass.async_block_till_done()  # the blueprint installation job too
    return mock_config_entry


def _add_phone(hass: HomeAssistant, name: str, manufacturer: str, model: str) -> Phone:
    entry = MockConfigEntry(domain="mobile_app", title=name, data={"device_name": name})
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("mobile_app", slugify(name))},
        name=name,
        manufacturer=manufacturer,
        model=model,
    )
    # The Companion app's notify action is named after the phone's name.
    service = f"mobile_app_{slugify(name)}"
    return Phone(device.id, name, f"notify.{service}", async_mock_service(hass, "notify", service))


@pytest.fixture
def iphone(hass: HomeAssistant) -> Phone:
    """The resident's iPhone (named in Korean, as a Seoul resident would)."""
    return _add_phone(hass, "지우의 iPhone", "Apple", "iPhone16,2")


@pytest.fixture
def galaxy(hass: HomeAssistant) -> Phone:
    """An Android phone."""
    return _add_phone(hass, "Galaxy S24", "samsung", "SM-S921N")


@pytest.fixture
def contact_calls(hass: HomeAssistant) -> list[ServiceCall]:
    """An emergency contact's notify action (e.g. a family member's SMS gateway)."""
    return async_mock_service(hass, "notify", "family_sms")


@pytest.fixture
def clock(hass: HomeAssistant) -> Iterator[Clock]:
    """Home Assistant's clocks, which the test moves forward instead of sleeping.

    The wall clock (state times, `now()` in templates) runs on from the real time and
    jumps when the test advances it; the event loop's clock stays real, so the hub's
    sockets and timers keep working, and the timers that fall due in a jump are run.
    """
    loop = hass.loop
    real_monotonic = time.monotonic  # freezegun replaces time.monotonic below
    with freeze_time(dt_util.utcnow(), tick=True) as frozen:
        # The event loop keeps the real monotonic clock (an instance attribute shadows
        # BaseEventLoop.time), so its timers and the sockets' timeouts are unaffected.
        loop.time = real_monotonic  # type: ignore[method-assign]
        try:
            yield Clock(hass, frozen)
        finally:
            del loop.time


@pytest.fixture
async def served(
    hass: HomeAssistant, aiohttp_client: ClientSessionGenerator, init_integration: MockConfigEntry
) -> None:
    """Home Assistant's web server listens on loopback: recordings read the cameras' live
    relay there, as in a running Home Assistant."""
    await serve_home_assistant(hass, aiohttp_client)


@pytest.fixture
async def centre(socket_enabled: None) -> AsyncIterator[ControlCentre]:
    """The district's control centre (account 12AB, unencrypted): a pysiaalarm receiver."""
    async with ControlCentre(ACCOUNT, page_port=None) as running:
        yield running
