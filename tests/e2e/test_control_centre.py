"""A call for help typed into Assist reaches the control centre, all through the real UI.

README's "Try it with the emulator", done as a newcomer does it: a fresh Home Assistant
(scripts/dev_configuration.yaml), the hub added as in test_browser, then
1. the monitoring centre: Add integration → Seoul SafeHome → "Connect to a monitoring
   centre", host 127.0.0.1, the control-centre emulator's port, account 1234;
2. two automations made in the blueprint editor (so with the numeric ids the UI gives):
   emergency escalation (the bell's Emergency sensor and Emergency call, 5 s to answer,
   the monitoring centre) and call for help through Assist (the emergency bell);
3. Assist on the Overview: type "사람 살려"; nobody cancels;
4. the control-centre emulator's page, in Chromium, shows the panic alarm (PA) from
   account 1234, acknowledged, 5 s after the emergency; then "Cancel emergency" on the
   bell's device page, and the page shows the restoral (PR), acknowledged.
The hub emulator runs with the district kit (a window lock and a personal alarm), both
emulators as processes started as scripts/develop starts them.

Screenshots: docs/screenshots/ with SAFEHOME_SCREENSHOTS=1, else the test's tmp dir.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
import re
import time
from typing import Any

from playwright.sync_api import BrowserContext, Locator, Page, expect
import pytest

from .conftest import (
    ControlCentre,
    Emulator,
    HomeAssistant,
    Screenshots,
    onboard,
    wait_until,
)
from .ui import (
    add_integration,
    check_logs,
    diagnostics,
    log_in,
    open_integration_device,
    snap,
    start_adding_seoul_safehome,
)

pytestmark = pytest.mark.timeout(300)

ESCALATION_DELAY = 5  # s: "Time to answer 'I'm safe'" in the blueprint
CALL_FOR_HELP = "사람 살려"
ESCALATION = "Seoul SafeHome: emergency escalation"
CALL_FOR_HELP_BLUEPRINT = "Seoul SafeHome: call for help through Assist"


def report_row(centre_page: Page, code: str) -> Locator:
    """The control-centre page's row(s) of the reports with SIA event code `code`."""
    return centre_page.locator("tbody[data-testid=reports] tr").filter(
        has=centre_page.locator(f'td[data-testid$="-code"][data-value="{code}"]')
    )


def add_monitoring_centre(
    page: Page, hass: HomeAssistant, centre: ControlCentre, shots: Screenshots
) -> None:
    """Add integration → Seoul SafeHome → Connect to a monitoring centre: host, port, account.

    Submitting sends a test report: only the centre's ACK lets the entry be made.
    """
    flow = start_adding_seoul_safehome(page, hass)
    flow.get_by_text("Connect to a monitoring centre").click()
    expect(flow).to_contain_text("Send alarm reports")
    page.get_by_role("textbox", name="Receiver host").fill("127.0.0.1")
    page.get_by_role("spinbutton", name="Receiver port").fill(str(centre.port))
    page.get_by_role("textbox", name="Account").fill(centre.account)
    snap(page, shots, "ha-config-flow-monitoring-centre")
    page.get_by_role("button", name="Submit").click()
    expect(flow).to_contain_text("Device created")
    expect(flow).to_contain_text("SIA DC-09")
    flow.get_by_role("button", name=re.compile(r"finish", re.IGNORECASE)).click()
    expect(flow).to_be_hidden()

    def loaded() -> bool:
        entries = hass.api("config/config_entries/entry?domain=seoul_safehome")
        title = f"{centre.account} @ 127.0.0.1:{centre.port}"
        return any(e["title"] == title and e["state"] == "loaded" for e in entries)

    wait_until(loaded, 30, "the monitoring centre's entry to be loaded")


def bell_entities(hass: HomeAssistant) -> dict[str, str]:
    """Find the emergency bell's Emergency sensor and Emergency call event."""
    names = {
        "Emergency bell Emergency": "emergency",
        "Emergency bell Emergency call": "call",
    }
    found = {
        names[state["attributes"]["friendly_name"]]: state["entity_id"]
        for state in hass.states()
        if state["attributes"].get("friendly_name") in names
    }
    assert set(found) == {"emergency", "call"}, found
    return found


def pick(page: Page, setting: str, option: str) -> None:
    """In the blueprint editor, choose `option` in the picker of the input named `setting`.

    The picker lists its choices with a search box; `option` is text of the one to take.
    """
    row = page.locator("ha-settings-row").filter(has_text=setting).first
    expect(row).to_be_visible()
    row.locator("ha-selector").click()
    choice = page.locator("ha-picker-combo-box ha-combo-box-item").filter(has_text=option)
    choice.first.click()
    expect(choice).to_have_count(0)  # the list closes


def open_blueprint(page: Page, hass: HomeAssistant, name: str) -> None:
    """Settings → Automations & scenes → Blueprints → `name`: a new automation from it."""
    page.goto(f"{hass.url}/config/blueprint/dashboard")
    page.get_by_text(name, exact=True).click()
    page.wait_for_url(re.compile(r"/config/automation/edit/new"))
    expect(page.get_by_label("Blueprint to use")).to_contain_text(name)


def save_automation(page: Page, hass: HomeAssistant, name: str) -> dict[str, Any]:
    """Save the new automation under the name offered (the blueprint's); return its config.

    Made in the UI, it gets a numeric id (the time it was made), unlike hand-written ones.
    """
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("textbox", name="Name")).to_have_value(name)
    page.get_by_role("button", name="Rename").click()
    page.wait_for_url(re.compile(r"/config/automation/edit/\d+"))
    config: dict[str, Any] = hass.api(f"config/automation/config/{page.url.rsplit('/', 1)[1]}")
    state = wait_until(
        lambda: next((s for s in hass.states() if s["attributes"].get("id") == config["id"]), None),
        10,
        f"the automation {name!r} to be loaded",
    )
    assert state["state"] == "on", state
    return config


def create_escalation_automation(
    page: Page,
    hass: HomeAssistant,
    centre: ControlCentre,
    bell: dict[str, str],
    shots: Screenshots,
) -> None:
    """The emergency escalation blueprint: the bell, 5 s to answer, the monitoring centre."""
    open_blueprint(page, hass, ESCALATION)
    # Emergency: the bell's sensor and its event (each choice: entity, then device).
    pick(page, "Emergency sensors", "Emergency bell")
    pick(page, "Emergency events", "Emergency call")
    # Escalation: a short time to answer "I'm safe".
    answer = page.locator("ha-settings-row").filter(has_text="Time to answer").first
    answer.get_by_role("spinbutton").fill(str(ESCALATION_DELAY))
    answer.get_by_role("spinbutton").press("Tab")
    # Control centre (a folded section): the monitoring-centre link, named by its entry.
    link = page.locator("ha-settings-row").filter(has_text="Monitoring centre link").first
    if not link.is_visible():
        page.get_by_text("Control centre (관제 센터)").click()
    title = f"{centre.account} @ 127.0.0.1:{centre.port}"
    pick(page, "Monitoring centre link", title)
    expect(link).to_contain_text(title)
    link.evaluate("row => row.scrollIntoView({block: 'center'})")
    snap(page, shots, "ha-blueprint-emergency-escalation")

    config = save_automation(page, hass, ESCALATION)
    centre_entry = next(
        e
        for e in hass.api("config/config_entries/entry?domain=seoul_safehome")
        if e["title"] == title
    )
    assert config["use_blueprint"] == {
        "path": "seoul_safehome/emergency_escalation.yaml",
        "input": {
            "emergency_sensors": [bell["emergency"]],
            "emergency_events": [bell["call"]],
            "escalation_delay": ESCALATION_DELAY,
            "monitoring_centre": centre_entry["entry_id"],
        },
    }, config


def create_call_for_help_automation(
    page: Page, hass: HomeAssistant, bell: dict[str, str], shots: Screenshots
) -> None:
    """The call-for-help blueprint: the emergency bell (its phrases as they come)."""
    open_blueprint(page, hass, CALL_FOR_HELP_BLUEPRINT)
    pick(page, "Emergency bells", "Emergency bell")
    snap(page, shots, "ha-blueprint-call-for-help")
    config = save_automation(page, hass, CALL_FOR_HELP_BLUEPRINT)
    bell_device = hass.template(f"{{{{ device_id('{bell['emergency']}') }}}}")
    assert config["use_blueprint"] == {
        "path": "seoul_safehome/call_for_help.yaml",
        "input": {"bells": [bell_device]},
    }, config


def call_for_help(page: Page, hass: HomeAssistant, shots: Screenshots) -> None:
    """On the Overview, open Assist (the button whose tooltip says so), type the call."""
    page.goto(f"{hass.url}/")
    tooltip = page.locator("ha-tooltip").filter(has_text=re.compile(r"^\s*Assist \(A\)\s*$"))
    expect(tooltip).to_have_count(1)  # (A: its keyboard shortcut)
    page.locator(f'ha-icon-button[aria-labelledby="{tooltip.get_attribute("id")}"]').click()
    dialog = page.locator("ha-voice-command-dialog")
    request = dialog.get_by_role("textbox", name="Enter a request")
    expect(request).to_be_visible()
    request.fill(CALL_FOR_HELP)
    request.press("Enter")
    # The blueprint answers in the caller's language.
    expect(dialog).to_contain_text("비상 상황을 알렸어요")
    snap(page, shots, "ha-assist-emergency")
    page.keyboard.press("Escape")


def seconds(iso: str) -> float:
    """Return an ISO 8601 time with a zone as a POSIX timestamp."""
    return datetime.fromisoformat(iso).timestamp()


@pytest.mark.usefixtures("chromium", "socket_enabled")  # no Chromium: skip before starting
def test_call_for_help_through_assist_reaches_the_control_centre(
    district_hub_emulator: Emulator,
    control_centre: ControlCentre,
    home_assistant: HomeAssistant,
    browser: BrowserContext,
    screenshots: Screenshots,
    tmp_path: Path,
) -> None:
    """Monitoring centre, blueprint, "사람 살려" in Assist: PA on the centre's page; PR."""
    hass, emulator, centre = home_assistant, district_hub_emulator, control_centre
    started = time.monotonic()
    processes = (hass.process, emulator.process, centre.process)
    with diagnostics(browser, tmp_path, *processes):
        onboard(hass)
        assert "assist_pipeline" in hass.api("config")["components"], (
            "scripts/dev_configuration.yaml does not load Assist (assist_pipeline): the "
            "Assist dialog of README's walkthrough would not open in scripts/develop"
        )
        page = browser.new_page()
        log_in(page, hass)
        control = browser.new_page()
        control.goto(emulator.control_page)
        expect(control.get_by_test_id("connection")).to_have_attribute("data-value", "up")
        # The hub, as in test_browser (whose screenshots those are).
        add_integration(page, control, hass, emulator, Screenshots(tmp_path / "hub"))
        bell = bell_entities(hass)

        # The control centre's page: live, for account 1234, nothing received yet.
        centre_page = browser.new_page()
        page_errors: list[str] = []
        centre_page.on("pageerror", lambda error: page_errors.append(str(error)))
        centre_page.goto(centre.page_url)
        expect(centre_page.get_by_test_id("connection")).to_have_attribute("data-value", "up")
        expect(centre_page.get_by_test_id("centre-account")).to_have_text("1234")
        expect(centre_page.get_by_test_id("reports-empty")).to_be_visible()

        # 1. The monitoring centre: its test report is acknowledged, and the entry made.
        add_monitoring_centre(page, hass, centre, screenshots)
        test_report = report_row(centre_page, "RP").first
        expect(test_report).to_have_attribute("data-reply", "ACK")
        expect(test_report.locator('td[data-testid$="-description"]')).to_contain_text(
            "Automatic Test"
        )

        # 2. Two automations from the blueprints: emergency escalation, call for help.
        create_escalation_automation(page, hass, centre, bell, screenshots)
        create_call_for_help_automation(page, hass, bell, screenshots)

        # 3. "사람 살려" into Assist: the emergency is raised on the bell, by voice.
        call_for_help(page, hass, screenshots)
        raised = wait_until(
            lambda: (s := hass.state(bell["emergency"]))["state"] == "on" and s,
            15,
            "the call for help in Assist to raise the emergency on the bell",
        )
        assert raised["attributes"]["source"] == "voice", raised
        call = hass.state(bell["call"])["attributes"]
        assert (call["event_type"], call["keyword"]) == ("voice", CALL_FOR_HELP), call

        # 4. Nobody cancels: the centre's page shows the panic alarm, acknowledged.
        centre_page.bring_to_front()
        alarm = report_row(centre_page, "PA")
        # (The escalation comes ESCALATION_DELAY after the emergency; the page polls.)
        expect(alarm, "no panic alarm (PA) reached the centre: no escalation").to_have_count(
            1, timeout=(ESCALATION_DELAY + 15) * 1000
        )
        expect(alarm).to_have_attribute("data-reply", "ACK")
        expect(alarm.locator('td[data-testid$="-account"]')).to_have_text("1234")
        expect(alarm.locator('td[data-testid$="-description"]')).to_contain_text("Panic Alarm")
        # What raised it and the home's coordinates (the centre knows the address).
        expect(alarm.locator('td[data-testid$="-text"]')).to_have_text(
            re.compile(r"^voice 37\.5\d+,126\.9\d+$")
        )
        snap(centre_page, screenshots, "control-centre-pa")
        report = next(r for r in centre.reports() if r["code"] == "PA")
        waited = seconds(report["received"]) - seconds(raised["attributes"]["since"])
        assert waited >= ESCALATION_DELAY - 0.5, f"PA {waited:.1f} s after the emergency"

        # The hub emulator's page: the bell's emergency, raised by voice; the district kit.
        control.bring_to_front()
        expect(control.get_by_test_id("device-bell-1-emergency")).to_have_attribute(
            "data-value", "true"
        )
        expect(control.get_by_test_id("device-bell-1-emergency_source")).to_have_attribute(
            "data-value", "voice"
        )
        expect(control.get_by_test_id("device-bell-1-siren")).to_have_attribute(
            "data-value", "true"
        )
        expect(control.get_by_test_id("device-window-1")).to_be_visible()
        expect(control.get_by_test_id("device-alarm-1")).to_be_visible()
        snap(control, screenshots, "emulator-district-kit", full_page=True)

        # Stand down with the bell's "Cancel emergency": the restoral, acknowledged.
        open_integration_device(page, hass, "SH-EB100")
        calls = page.locator("ha-device-entities-card").filter(has_text="Emergency call")
        expect(calls).to_contain_text("Call for help heard")
        snap(page, screenshots, "ha-emergency-bell-voice")
        controls = page.locator("ha-device-entities-card").filter(has_text="Cancel emergency")
        controls.get_by_role("button", name="Press").click()
        wait_until(
            lambda: hass.state(bell["emergency"])["state"] == "off", 15, "the emergency to end"
        )
        centre_page.bring_to_front()
        restoral = report_row(centre_page, "PR")
        expect(restoral, "no restoral (PR) reached the centre").to_have_count(1, timeout=15_000)
        expect(restoral).to_have_attribute("data-reply", "ACK")
        expect(restoral.locator('td[data-testid$="-account"]')).to_have_text("1234")
        expect(restoral.locator('td[data-testid$="-description"]')).to_contain_text(
            "Panic Restoral"
        )
        snap(centre_page, screenshots, "control-centre-page")
        assert {r["reply"] for r in centre.reports()} == {"ACK"}, centre.reports()

        # The link in Home Assistant: connected, its last report acknowledged.
        open_integration_device(page, hass, "SIA DC-09")
        expect(page.locator("hass-subpage").first).to_contain_text("Monitoring centre")
        sensors = page.locator("ha-device-entities-card").filter(has_text="Link")
        expect(sensors).to_contain_text("Connected")
        expect(sensors).to_contain_text("Last report")
        expect(sensors).to_contain_text("Last acknowledgement")
        snap(page, screenshots, "ha-monitoring-centre")

        assert page_errors == [], page_errors
        check_logs(hass, emulator.process, centre.process)
    print(f"control-centre test took {time.monotonic() - started:.1f} s (after start-up)")
    print("screenshots:", *screenshots.taken, sep="\n  ")
