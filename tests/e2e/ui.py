"""What the browser tests do in Home Assistant's UI, step by step, as a user does it."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from pathlib import Path
import re
from typing import Any

from playwright.sync_api import BrowserContext, Locator, Page, expect

from .conftest import USER, Emulator, HomeAssistant, Process, Screenshots, wait_until

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


def start_adding_seoul_safehome(page: Page, hass: HomeAssistant) -> Locator:
    """Settings → Devices & services → Add integration → Seoul SafeHome; return the dialog.

    Seoul SafeHome first asks what to set up: a hub or a link to a monitoring centre.
    """
    page.bring_to_front()
    page.goto(f"{hass.url}/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    search = page.get_by_role("textbox", name="Search for a brand name")
    search.fill("Seoul SafeHome")
    page.locator("ha-integration-list-item").filter(has_text="Seoul SafeHome").click()
    flow = page.locator("dialog-data-entry-flow")
    expect(flow).to_contain_text("Choose what to set up.")
    return flow


def add_integration(
    page: Page, control: Page, hass: HomeAssistant, emulator: Emulator, shots: Screenshots
) -> None:
    """Settings → Devices & services → Add integration → Seoul SafeHome → hub: host, port, code.

    The code comes from a press of the hub's pairing button on the control page, made
    when Home Assistant asks for it; a code typed before that is turned away.
    """
    flow = start_adding_seoul_safehome(page, hass)
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


def open_device(page: Page, name: str) -> None:
    """On a hub's device page, open one of its connected devices."""
    connected = page.locator("ha-card").filter(has_text="Connected devices")
    connected.get_by_text(name, exact=True).click()
    expect(page.locator("ha-config-device-page")).to_contain_text("Device info")
    expect(page.locator("hass-subpage").first).to_contain_text(name)


def open_integration_device(page: Page, hass: HomeAssistant, model: str) -> None:
    """Open a device of Seoul SafeHome's integration page by its model (`SH-EB100`)."""
    page.bring_to_front()
    page.goto(f"{hass.url}/config/integrations/integration/seoul_safehome")
    page.locator("ha-md-list-item").filter(has_text=model).first.click()
    page.wait_for_url(re.compile(r"/config/devices/device/"))
    # (A monitoring-centre link is a service: "Service info".)
    expect(page.locator("ha-config-device-page")).to_contain_text(
        re.compile(r"(Device|Service) info")
    )


def check_logs(hass: HomeAssistant, *processes: Process) -> None:
    """Fail on a process that exited, or on setup failures and integration errors in the log."""
    for process in (hass.process, *processes):
        process.check_running()
    problems = [
        line
        for line in hass.process.log.read_text(encoding="utf-8").splitlines()
        if "Setup failed for" in line
        or (" ERROR " in line and "seoul_safehome" in line)
        or "No module named" in line
    ]
    assert not problems, "Home Assistant's log:\n" + "\n".join(problems)
