"""The whole product in a browser: Home Assistant's real UI, the emulator's control page.

A fresh Home Assistant is onboarded, the user logs in and adds Seoul SafeHome through the
UI config flow as a resident would: the hub in its menu, the address, then (after a code
typed too early is turned away because the hub is not in pairing) presses the pairing
button on the emulator's control page, reads the fresh code the page shows and types it
into Home Assistant. Then
the user opens the hub's device page, rings the doorbell on the emulator's page and sees
the ring in Home Assistant, unlocks and locks the door from Home Assistant and sees the
emulated lock follow.

Screenshots: docs/screenshots/ with SAFEHOME_SCREENSHOTS=1, else the test's tmp dir.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import BrowserContext, expect
import pytest

from .conftest import Emulator, HomeAssistant, Screenshots, onboard, wait_until
from .ui import (
    STEP,
    add_integration,
    check_logs,
    diagnostics,
    log_in,
    open_device,
    snap,
)

pytestmark = pytest.mark.timeout(300)


def entity_ids(hass: HomeAssistant) -> dict[str, str]:
    """Find the doorbell's ring event entity and the door lock among Home Assistant's states."""
    found: dict[str, str] = {}
    for state in hass.states():
        entity_id, attributes = state["entity_id"], state["attributes"]
        if entity_id.startswith("event.") and attributes.get("device_class") == "doorbell":
            found["ring"] = entity_id
        elif entity_id.startswith("lock.") and attributes.get("friendly_name") == "Front door lock":
            found["lock"] = entity_id
    assert set(found) == {"ring", "lock"}, found
    return found


@pytest.mark.usefixtures("chromium", "socket_enabled")  # no Chromium: skip before starting
def test_ring_lock_and_unlock_through_the_real_ui(
    hub_emulator: Emulator,
    home_assistant: HomeAssistant,
    browser: BrowserContext,
    screenshots: Screenshots,
) -> None:
    """Onboard, log in, add the hub, ring the doorbell, unlock and lock from the UI."""
    hass, emulator = home_assistant, hub_emulator
    started = time.monotonic()
    with diagnostics(browser, hass.process.log.parent, hass.process, emulator.process):
        onboard(hass)
        page = browser.new_page()
        log_in(page, hass)
        # The emulator's control page: the hub's pairing button and display, the devices.
        control = browser.new_page()
        page_errors: list[str] = []
        control.on("pageerror", lambda error: page_errors.append(str(error)))
        control.goto(emulator.control_page)
        expect(control.get_by_test_id("connection")).to_have_attribute("data-value", "up")
        add_integration(page, control, hass, emulator, shots=screenshots)
        entities = entity_ids(hass)

        # The integration's page, then the hub's device page with its connected devices.
        page.goto(f"{hass.url}/config/integrations/integration/seoul_safehome")
        expect(page.get_by_role("link", name="5 devices")).to_be_visible()
        snap(page, screenshots, "ha-integration")
        page.locator("ha-md-list-item").filter(has_text="SH-HUB1").first.click()
        page.wait_for_url(re.compile(r"/config/devices/device/"))
        hub_page_url = page.url
        expect(page.get_by_text("Connected devices")).to_be_visible()
        for name in ("Front door doorbell", "Home camera", "Front door lock", "Emergency bell"):
            expect(page.locator("ha-card").filter(has_text="Connected devices")).to_contain_text(
                name
            )
        expect(page.locator("ha-device-entities-card").first).to_contain_text("Away mode")
        snap(page, screenshots, "ha-hub-device")

        # Ring the doorbell on the emulator's control page; Home Assistant shows the ring.
        open_device(page, "Front door doorbell")
        events = page.locator("ha-device-entities-card").filter(has_text="Events")
        expect(events).to_contain_text("Ring")
        before = hass.state(entities["ring"])["state"]

        control.bring_to_front()
        expect(control.get_by_test_id("device-lock-1-lock_state")).to_have_attribute(
            "data-value", "locked"
        )
        control.get_by_test_id("action-doorbell-1-ring").click()
        expect(control.get_by_test_id("device-doorbell-1-last_ring")).not_to_have_attribute(
            "data-value", ""
        )
        expect(control.get_by_test_id("activity")).to_contain_text("Ring the doorbell")

        rang = wait_until(
            lambda: (s := hass.state(entities["ring"]))["state"] != before and s,
            15,
            "the doorbell's ring event in Home Assistant",
        )
        assert rang["attributes"]["event_type"] == "ring"
        page.bring_to_front()
        expect(events).to_contain_text("Doorbell rang")
        expect(page.locator("ha-logbook")).to_contain_text("detected an event")
        snap(page, screenshots, "ha-doorbell-rang")

        # Unlock and lock the door in the lock's more-info dialog; the emulated lock follows.
        page.goto(hub_page_url)
        open_device(page, "Front door lock")
        page.locator("hui-lock-entity-row state-badge").click()
        dialog = page.locator("ha-more-info-dialog")
        toggle = dialog.locator("ha-state-control-lock-toggle ha-control-switch")
        expect(dialog.get_by_text("Locked", exact=True)).to_be_visible()
        assert emulator.device("lock-1")["state"]["lock_state"] == "locked"

        toggle.click()
        wait_until(
            lambda: emulator.device("lock-1")["state"]["lock_state"] == "unlocked",
            15,
            "the emulated lock to unlock",
        )
        assert any(
            c["device_id"] == "lock-1" and c["command"] == "unlock" and c["result"] == "accepted"
            for c in emulator.commands()
        )
        expect(dialog.get_by_text("Unlocked", exact=True)).to_be_visible(timeout=STEP)
        snap(page, screenshots, "ha-lock-unlocked")
        control.bring_to_front()
        expect(control.get_by_test_id("device-lock-1-lock_state")).to_have_attribute(
            "data-value", "unlocked"
        )
        expect(control.get_by_test_id("commands")).to_contain_text("lock-1: unlock")
        snap(control, screenshots, "emulator-control-page", full_page=True)

        page.bring_to_front()
        toggle.click()
        wait_until(
            lambda: emulator.device("lock-1")["state"]["lock_state"] == "locked",
            15,
            "the emulated lock to lock",
        )
        expect(dialog.get_by_text("Locked", exact=True)).to_be_visible(timeout=STEP)
        expect(control.get_by_test_id("device-lock-1-lock_state")).to_have_attribute(
            "data-value", "locked"
        )
        assert page_errors == [], page_errors
        check_logs(hass, emulator.process)
    print(f"browser test took {time.monotonic() - started:.1f} s (after start-up)")
    print("screenshots:", *screenshots.taken, sep="\n  ")
