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

from collections.abc import Iterator
import contextlib
from pathlib import Path
import re
import time
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect
import pytest

from .conftest import (
    USER,
    Emulator,
    HomeAssistant,
    Screenshots,
    onboard,
    wait_until,
)

pytestmark = pytest.mark.timeout(300)

STEP = 30_000  # ms: the most one UI step may take (a slow CI machine, a cold frontend)
expect.set_options(timeout=STEP)


@contextlib.contextmanager
def diagnostics(context: BrowserContext, directory: Path, *processes: Any) -> Iterator[None]:
    """On failure: screenshot every open page into `directory`, print the processes' logs."""
    try:
        yield
    except BaseException:
        for number, page in enumerate(context.pages):
            with contextlib.suppress(Exception):
                path = directory / f"failure-{number}.png"
                page.screenshot(path=path)
                print(f"failure screenshot of {page.url}: {path}")
        for process in processes:
            print(f"--- {process.name} ({process.log}) ---\n{process.tail(80)}")
        raise


def snap(page: Page, shots: Screenshots, name: str, *, full_page: bool = False) -> None:
    """Take a screenshot with the mouse parked out of the way (no hover highlights)."""
    page.mouse.move(1, page.viewport_size["height"] - 1 if page.viewport_size else 1)
    page.screenshot(path=shots.path(name), full_page=full_page, animations="disabled")


def log_in(page: Page, hass: HomeAssistant) -> None:
    """Log into Home Assistant's UI with the onboarded user."""
    page.goto(f"{hass.url}/")
    page.locator("input[name=username]").fill(USER["username"])
    page.locator("input[name=password]").fill(USER["password"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/auth/" not in url and "auth_callback" not in url)
    expect(page.locator("ha-sidebar")).to_be_visible(timeout=STEP)


def press_pairing_button(control: Page, emulator: Emulator, shots: Screenshots) -> str:
    """On the emulator's control page, press the hub's pairing button; return the code shown.

    The code is read off the page as a person reads it (`123 456`), not from the API.
    """
    control.bring_to_front()
    pairing = control.get_by_test_id("pairing")
    expect(pairing).to_have_attribute("data-open", "false")
    control.get_by_test_id("pairing-button").click()
    expect(pairing).to_have_attribute("data-open", "true")
    expect(control.get_by_test_id("pairing-status")).to_contain_text("open")
    code = control.get_by_test_id("pairing-code")
    expect(code).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    expect(control.get_by_test_id("pairing-attempts")).to_have_text("3")
    shown = code.inner_text()
    assert emulator.pairing()["code"] == shown.replace(" ", "")  # the window's own code
    snap(control, shots, "emulator-pairing")
    return shown


def add_integration(
    page: Page, control: Page, hass: HomeAssistant, emulator: Emulator, shots: Screenshots
) -> None:
    """Settings → Devices & services → Add integration → Seoul SafeHome → hub: host, port, code.

    The code comes from a press of the hub's pairing button on the control page, made
    when Home Assistant asks for it; a code typed before that is turned away.
    """
    page.bring_to_front()
    page.goto(f"{hass.url}/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    search = page.get_by_role("textbox", name="Search for a brand name")
    search.fill("Seoul SafeHome")
    page.locator("ha-integration-list-item").filter(has_text="Seoul SafeHome").click()

    # Seoul SafeHome sets up a hub or a link to a monitoring centre: choose the hub.
    flow = page.locator("dialog-data-entry-flow")
    expect(flow).to_contain_text("Choose what to set up.")
    expect(flow).to_contain_text("Connect to a monitoring centre")
    flow.get_by_text("SafeHome hub (doorbell, cameras, door lock, emergency bell)").click()

    page.get_by_role("textbox", name="Host").fill("127.0.0.1")
    page.get_by_role("spinbutton", name="Port").fill(str(emulator.port))
    expect(flow).to_contain_text("Connect your SafeHome hub")
    snap(page, shots, "ha-config-flow-address")
    page.get_by_role("button", name="Submit").click()

    expect(flow).to_contain_text("Pair with SafeHome Hub")
    expect(flow).to_contain_text("Press the pairing button on SafeHome Hub")
    code_box = page.get_by_role("textbox", name="Pairing code")
    expect(code_box).to_be_visible()
    snap(page, shots, "ha-config-flow-pairing")

    # Before the button is pressed the hub is not pairing: Home Assistant says what to do.
    code_box.fill("123456")
    page.get_by_role("button", name="Submit").click()
    expect(flow).to_contain_text("The hub is not accepting pairing. Press the pairing button")
    assert emulator.pairing()["open"] is False

    # Press the hub's pairing button, read the fresh code, type it in Home Assistant.
    shown = press_pairing_button(control, emulator, shots)
    page.bring_to_front()
    code_box.fill(shown)
    page.get_by_role("button", name="Submit").click()

    finish = page.get_by_role("button", name=re.compile(r"finish", re.IGNORECASE))
    expect(flow).to_contain_text("Devices created")
    expect(flow).to_contain_text("SH-DL200")  # the door lock (names are in text fields)
    snap(page, shots, "ha-config-flow-devices")
    finish.click()
    expect(finish).to_be_hidden()

    def loaded() -> bool:
        entries = hass.api("config/config_entries/entry?domain=seoul_safehome")
        return bool(entries) and entries[0]["state"] == "loaded"

    wait_until(loaded, 30, "the config entry to be loaded")
    entry = hass.api("config/config_entries/entry?domain=seoul_safehome")[0]
    assert entry["title"] == "SafeHome Hub"
    # A successful pairing closes the window on the hub (and on its page).
    expect(control.get_by_test_id("pairing")).to_have_attribute("data-open", "false")
    assert emulator.pairing()["code"] is None


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


def open_device(page: Page, name: str) -> None:
    """On a hub's device page, open one of its connected devices."""
    connected = page.locator("ha-card").filter(has_text="Connected devices")
    connected.get_by_text(name, exact=True).click()
    expect(page.locator("ha-config-device-page")).to_contain_text("Device info")
    expect(page.locator("hass-subpage").first).to_contain_text(name)


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
        hass.process.check_running()
        emulator.process.check_running()
        problems = [
            line
            for line in hass.process.log.read_text(encoding="utf-8").splitlines()
            if "Setup failed for" in line
            or (" ERROR " in line and "seoul_safehome" in line)
            or "No module named" in line
        ]
        assert not problems, "Home Assistant's log:\n" + "\n".join(problems)
    print(f"browser test took {time.monotonic() - started:.1f} s (after start-up)")
    print("screenshots:", *screenshots.taken, sep="\n  ")
