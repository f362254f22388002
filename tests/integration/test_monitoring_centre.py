"""A link to a monitoring centre, against a real receiver (pysiaalarm) on loopback.

The centre is the control-centre emulator: pysiaalarm's receiver, which parses, decrypts
and acknowledges DC-09 messages as Home Assistant's own `sia` integration does, with
switches to go down, stay silent or refuse. What a resident (and the centre) notices is
checked: the centre got the report, once, with its code, zone, text and account; the
link's sensors; the repair and the critical alert on the phones when it cannot be
reached; nothing lost across a restart; no key in diagnostics or logs. Only the phones
are faked (a mobile_app device and its notify action). Retry pauses are shortened.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import json
import logging
import re
import socket
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.loader import async_get_integration
from homeassistant.util import slugify
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from control_centre_emulator import ControlCentre, Report
from custom_components.seoul_safehome import monitoring, monitoring_config
from custom_components.seoul_safehome.const import (
    CONF_ACCOUNT,
    CONF_ENTRY_TYPE,
    CONF_KEY,
    CONF_LINE,
    CONF_PHONES,
    CONF_PROTOCOL,
    CONF_RECEIVER,
    CONF_SUPERVISION,
    DOMAIN,
    ENTRY_TYPE_MONITORING,
)
from custom_components.seoul_safehome.monitoring_queue import ReportQueue, storage_key
from custom_components.seoul_safehome.sia import SiaEvent
from tests.blueprints.common import Phone
from tests.integration.common import until
from tests.integration.test_config_flow import assert_readable
from tests.sia.skew import set_clock_off

HOST = "127.0.0.1"
ACCOUNT = "12AB"
KEY_128 = bytes.fromhex("00112233445566778899aabbccddeeff")
KEY_256 = bytes(range(32))
ADDRESS = "400 World Cup-ro, Mapo-gu, 301"

LINK = "binary_sensor.monitoring_centre_link"
LAST_REPORT = "sensor.monitoring_centre_last_report"
LAST_ACK = "sensor.monitoring_centre_last_acknowledgement"
QUEUED = "sensor.monitoring_centre_queued_reports"


@pytest.fixture(autouse=True)
def short_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry, alert and answer times in fractions of a second instead of minutes."""
    monkeypatch.setattr(monitoring, "ATTEMPT_TIMEOUT", 0.5)
    monkeypatch.setattr(monitoring, "BACKOFF_FIRST", 0.05)
    monkeypatch.setattr(monitoring, "BACKOFF_MAX", 0.2)
    monkeypatch.setattr(monitoring, "ALERT_AFTER", 1.0)
    monkeypatch.setattr(monitoring, "SLOW_RETRY", 0.3)
    monkeypatch.setattr(monitoring, "REPORT_WAIT", 2.0)
    monkeypatch.setattr(monitoring_config, "TEST_TIMEOUT", 0.5)


@pytest.fixture
async def centre(socket_enabled: None) -> AsyncIterator[ControlCentre]:
    """The monitoring centre's receiver for account 12AB, unencrypted, TCP and UDP."""
    async with ControlCentre(ACCOUNT, page_port=None) as running:
        yield running


@pytest.fixture
async def secure_centre(socket_enabled: None) -> AsyncIterator[ControlCentre]:
    """The receiver for account 12AB with an AES-128 key: it refuses unencrypted messages."""
    async with ControlCentre(ACCOUNT, KEY_128, page_port=None) as running:
        yield running


def closed_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def link_data(port: int, **overrides: Any) -> dict[str, Any]:
    """A link's entry data."""
    return {
        CONF_ENTRY_TYPE: ENTRY_TYPE_MONITORING,
        CONF_HOST: HOST,
        CONF_PORT: port,
        CONF_PROTOCOL: "tcp",
        CONF_ACCOUNT: ACCOUNT,
        CONF_RECEIVER: 0,
        CONF_LINE: 0,
        CONF_KEY: None,
    } | overrides


async def add_link(
    hass: HomeAssistant, port: int, *, options: dict[str, Any] | None = None, **data: Any
) -> MockConfigEntry:
    """Set a link up from stored settings (the flow is tested on its own)."""
    settings = link_data(port, **data)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"{settings[CONF_ACCOUNT]} @ {HOST}:{port}",
        unique_id=f"{HOST}:{port}:{settings[CONF_ACCOUNT]}",
        data=settings,
        options={CONF_SUPERVISION: 0, CONF_PHONES: []} | (options or {}),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def add_phone(hass: HomeAssistant, name: str, manufacturer: str) -> Phone:
    """A phone with the Companion app: a mobile_app device and its notify action."""
    entry = MockConfigEntry(domain="mobile_app", title=name, data={"device_name": name})
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("mobile_app", slugify(name))},
        name=name,
        manufacturer=manufacturer,
        model="phone",
    )
    service = f"mobile_app_{slugify(name)}"
    return Phone(device.id, name, f"notify.{service}", async_mock_service(hass, "notify", service))


async def report_alarm(
    hass: HomeAssistant, entry: MockConfigEntry, code: str, **fields: Any
) -> dict[str, Any]:
    """Call seoul_safehome.report_alarm as an automation does; return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        "report_alarm",
        {"config_entry_id": entry.entry_id, "code": code, **fields},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


def alarms(centre: ControlCentre, code: str = "PA") -> list[Report]:
    """The reports of `code` the centre listed (a repetition of one is not listed again)."""
    return [report for report in centre.reports if report.code == code]


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


# --- the config flow


async def start_centre_flow(hass: HomeAssistant) -> FlowResult:
    """Open "Add integration" and choose the monitoring centre in the menu."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert_readable(result)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["hub", "monitoring_centre"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "monitoring_centre"}
    )
    assert_readable(result)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "monitoring_centre"
    return result


async def submit(hass: HomeAssistant, result: FlowResult, user_input: dict[str, Any]) -> FlowResult:
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert_readable(result)
    return result


def form(port: int, **fields: Any) -> dict[str, Any]:
    """What the user types in the monitoring centre form."""
    return {
        CONF_HOST: f" {HOST} ",
        CONF_PORT: port,
        CONF_PROTOCOL: "tcp",
        CONF_ACCOUNT: "12ab",
        CONF_RECEIVER: 0,
        CONF_LINE: 0,
        CONF_SUPERVISION: 3600,
        CONF_PHONES: [],
    } | fields


def reconfigure_form(port: int, **fields: Any) -> dict[str, Any]:
    """What the user types in the form that changes a link (no options there)."""
    typed = form(port, **fields)
    del typed[CONF_SUPERVISION], typed[CONF_PHONES]
    return typed


async def test_user_connects_a_monitoring_centre(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    """Menu, form, a test report the receiver acknowledges: the link is set up and on."""
    result = await start_centre_flow(hass)
    defaults = result["data_schema"]({CONF_HOST: HOST, CONF_PORT: 1, CONF_ACCOUNT: "123"})
    assert defaults[CONF_PROTOCOL] == "tcp"
    assert defaults[CONF_SUPERVISION] == 3600
    assert (defaults[CONF_RECEIVER], defaults[CONF_LINE]) == (0, 0)

    result = await submit(hass, result, form(centre.port, **{CONF_RECEIVER: 2, CONF_LINE: 3}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.title == f"12AB @ {HOST}:{centre.port}"
    assert entry.unique_id == f"{HOST}:{centre.port}:12AB"
    assert entry.data == link_data(centre.port, **{CONF_RECEIVER: 2, CONF_LINE: 3})
    assert entry.options == {CONF_SUPERVISION: 3600, CONF_PHONES: []}

    # The receiver got the set-up test, and acknowledged it.
    (test,) = centre.reports
    assert (test.code, test.account, test.sequence, test.reply) == ("RP", ACCOUNT, 1, "ACK")

    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    # A test at start-up shows the link's health at once (the next number: 2).
    await until(lambda: state(hass, LINK) == "on")
    assert [r.sequence for r in centre.reports] == [1, 2]
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert device.identifiers == {(DOMAIN, f"monitoring_centre_{entry.entry_id}")}
    assert device.name == "Monitoring centre"
    assert device.model == "SIA DC-09"


async def test_encrypted_link_over_udp(hass: HomeAssistant, secure_centre: ControlCentre) -> None:
    key = KEY_128.hex().upper()
    spaced = " ".join(key[i : i + 4] for i in range(0, len(key), 4))
    result = await start_centre_flow(hass)
    result = await submit(
        hass, result, form(secure_centre.port, **{CONF_PROTOCOL: "udp", CONF_KEY: spaced})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_KEY] == KEY_128.hex()
    (test,) = secure_centre.reports
    assert (test.transport, test.encrypted, test.reply) == ("udp", True, "ACK")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({CONF_KEY: bytes(16).hex()}, "centre_refused"),  # another key
        ({}, "centre_refused"),  # no key: the centre refuses clear text for this account
        ({CONF_ACCOUNT: "9999", CONF_KEY: KEY_128.hex()}, "centre_refused"),  # unknown account
    ],
)
async def test_refused_test_report_is_explained(
    hass: HomeAssistant, secure_centre: ControlCentre, fields: dict[str, Any], error: str
) -> None:
    result = await start_centre_flow(hass)
    result = await submit(hass, result, form(secure_centre.port, **fields))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    # What the user typed is kept, except the key (never sent back to the browser).
    assert result["data_schema"]({})[CONF_PORT] == secure_centre.port
    assert CONF_KEY not in result["data_schema"]({})

    result = await submit(hass, result, form(secure_centre.port, **{CONF_KEY: KEY_128.hex()}))
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_unreachable_or_silent_receiver_is_explained(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    result = await start_centre_flow(hass)
    result = await submit(hass, result, form(closed_port()))
    assert result["errors"] == {"base": "centre_unreachable"}

    centre.mute = True
    result = await submit(hass, result, form(centre.port))
    assert result["errors"] == {"base": "centre_timeout"}

    centre.mute = False
    result = await submit(hass, result, form(centre.port))
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_mistyped_account_and_key_are_caught_before_sending(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    result = await start_centre_flow(hass)
    result = await submit(hass, result, form(centre.port, **{CONF_ACCOUNT: "12G4"}))
    assert result["errors"] == {CONF_ACCOUNT: "invalid_account"}
    result = await submit(hass, result, form(centre.port, **{CONF_KEY: "abcd"}))
    assert result["errors"] == {CONF_KEY: "invalid_key"}
    assert centre.reports == []


async def test_the_same_account_cannot_be_added_twice(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    await add_link(hass, centre.port)
    result = await start_centre_flow(hass)
    result = await submit(hass, result, form(centre.port))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "centre_already_configured"


async def test_options_change_supervision_and_phones(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    phone = add_phone(hass, "Galaxy S24", "samsung")
    entry = await add_link(hass, centre.port)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "monitoring_centre"
    assert result["data_schema"]({}) == {CONF_SUPERVISION: 0, CONF_PHONES: []}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SUPERVISION: 600, CONF_PHONES: [phone.device_id]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {CONF_SUPERVISION: 600, CONF_PHONES: [phone.device_id]}
    assert entry.state is ConfigEntryState.LOADED
    # With supervision on, the reloaded link tests itself at once.
    await until(lambda: state(hass, LINK) == "on")


async def test_reconfigure_moves_the_link_and_keeps_the_key(
    hass: HomeAssistant, secure_centre: ControlCentre, socket_enabled: None
) -> None:
    entry = await add_link(hass, closed_port(), **{CONF_KEY: KEY_128.hex()})
    result = await entry.start_reconfigure_flow(hass)
    assert_readable(result)
    assert result["step_id"] == "reconfigure_centre"
    assert CONF_KEY not in result["data_schema"]({})  # never shown again

    result = await submit(
        hass, result, {**reconfigure_form(secure_centre.port), "remove_key": False}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "centre_reconfigured"
    assert entry.data[CONF_PORT] == secure_centre.port
    assert entry.data[CONF_KEY] == KEY_128.hex()
    assert entry.unique_id == f"{HOST}:{secure_centre.port}:12AB"
    assert secure_centre.reports[0].encrypted


# --- reporting alarms


async def test_report_reaches_the_centre(hass: HomeAssistant, centre: ControlCentre) -> None:
    entry = await add_link(hass, centre.port)
    response = await report_alarm(hass, entry, "pa", zone=3, text=ADDRESS)
    assert response == {"seq": 2, "delivered": True}

    (report,) = centre.reports
    assert (report.account, report.code, report.zone, report.text) == ("12AB", "PA", 3, ADDRESS)
    assert (report.sequence, report.reply, report.encrypted) == (2, "ACK", False)

    assert state(hass, LINK) == "on"
    assert state(hass, QUEUED) == "0"
    last = hass.states.get(LAST_REPORT)
    assert last is not None
    assert last.attributes["code"] == "PA"
    assert last.attributes["zone"] == 3
    assert last.attributes["sequence"] == 2
    assert last.attributes["delivered"] is True
    assert state(hass, LAST_ACK) not in ("unknown", "unavailable")

    # The next report gets the next number.
    assert (await report_alarm(hass, entry, "PR", zone=3))["seq"] == 3


async def test_korean_address_reaches_the_centre_romanized(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    """DC-09 carries no Hangul: the address goes romanized rather than holding the alarm."""
    entry = await add_link(hass, centre.port)
    text = "서울특별시 마포구 월드컵북로 400, 301호 [사람 살려]"
    assert (await report_alarm(hass, entry, "QA", text=text))["delivered"] is True
    (report,) = centre.reports
    assert report.text == "seoulteukbyeolsi mapogu woldeukeopbukro 400, 301ho (saram salrye"  # 64
    # Nothing left to carry: the report goes without text.
    assert (await report_alarm(hass, entry, "QR", text="🚨"))["delivered"] is True
    assert centre.reports[1].text is None


@pytest.mark.parametrize(
    ("protocol", "key"), [("tcp", KEY_128), ("udp", KEY_256), ("tcp", bytes(range(24)))]
)
async def test_encrypted_report(
    hass: HomeAssistant, socket_enabled: None, protocol: str, key: bytes
) -> None:
    async with ControlCentre(ACCOUNT, key, page_port=None) as centre:
        entry = await add_link(hass, centre.port, **{CONF_PROTOCOL: protocol, CONF_KEY: key.hex()})
        response = await report_alarm(hass, entry, "QA", zone=1, text=ADDRESS)
        assert response["delivered"] is True
        (report,) = centre.reports
        assert (report.code, report.zone, report.text, report.account) == (
            "QA",
            1,
            ADDRESS,
            ACCOUNT,
        )
        assert (report.transport, report.encrypted) == (protocol, True)
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_report_survives_receiver_down_and_back(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    """Sent again (same number) until the centre is back; it lists the report once."""
    entry = await add_link(hass, centre.port)
    await centre.go_down()
    response = await report_alarm(hass, entry, "BA", zone=7)
    assert response == {"seq": 2, "delivered": False}
    assert state(hass, LINK) == "off"
    assert state(hass, QUEUED) == "1"

    await centre.go_up()
    await until(lambda: state(hass, QUEUED) == "0")
    (report,) = alarms(centre, "BA")
    assert (report.sequence, report.zone, report.repeats) == (2, 7, 0)
    assert state(hass, LINK) == "on"
    last = hass.states.get(LAST_REPORT)
    assert last is not None
    assert last.attributes["delivered"] is True


async def test_a_badly_set_clock_does_not_keep_a_report_from_the_centre(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    centre: ControlCentre,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Home Assistant's clock 5 minutes slow: the centre refuses the report's time once.

    Its NAK carries its own time; the report goes again at once, stamped with the centre's
    clock, and so does every later one.
    """
    set_clock_off(monkeypatch, timedelta(minutes=-5))
    entry = await add_link(hass, centre.port)
    assert await report_alarm(hass, entry, "PA", zone=3) == {"seq": 2, "delivered": True}
    stale, taken = centre.reports
    assert (stale.reply, taken.reply, taken.code, taken.sequence) == ("NAK", "ACK", "PA", 2)
    assert taken.sent_at is not None
    assert abs(taken.sent_at - datetime.now(UTC)) < timedelta(seconds=3)
    assert state(hass, LINK) == "on"
    assert re.search(r"\+(299|300|301) s off the clock here", caplog.text)  # whole seconds

    assert await report_alarm(hass, entry, "PR", zone=3) == {"seq": 3, "delivered": True}
    assert [report.reply for report in centre.reports] == ["NAK", "ACK", "ACK"]
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert abs(diagnostics["link"]["receiver_clock_offset_s"] - 300) < 3

    # Learnt from an unsigned NAK, the offset is used for a while only, then learnt anew.
    monkeypatch.setattr(monitoring, "CLOCK_OFFSET_KEPT", 0.0)
    assert await report_alarm(hass, entry, "PA", zone=3) == {"seq": 4, "delivered": True}
    assert [report.reply for report in centre.reports] == ["NAK", "ACK", "ACK", "NAK", "ACK"]


async def test_a_badly_set_clock_still_lets_the_centre_be_added(
    hass: HomeAssistant, centre: ControlCentre, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_clock_off(monkeypatch, timedelta(minutes=4))
    result = await start_centre_flow(hass)
    result = await submit(hass, result, form(centre.port))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert [report.reply for report in centre.reports] == ["NAK", "ACK"]


async def test_reports_keep_their_order(hass: HomeAssistant, centre: ControlCentre) -> None:
    entry = await add_link(hass, centre.port)
    await centre.go_down()
    await report_alarm(hass, entry, "PA")
    await report_alarm(hass, entry, "QA")
    await report_alarm(hass, entry, "PR")
    await centre.go_up()
    await until(lambda: state(hass, QUEUED) == "0")
    assert [(r.code, r.sequence) for r in centre.reports] == [("PA", 2), ("QA", 3), ("PR", 4)]


async def test_refused_report_raises_repair_and_critical_alert(
    hass: HomeAssistant, secure_centre: ControlCentre
) -> None:
    """A wrong key: NAK after NAK. The resident hears of it, fixes the key, the report goes."""
    iphone = add_phone(hass, "지우의 iPhone", "Apple")
    galaxy = add_phone(hass, "Galaxy S24", "samsung")
    entry = await add_link(
        hass,
        secure_centre.port,
        options={CONF_PHONES: [iphone.device_id, galaxy.device_id]},
        **{CONF_KEY: bytes(16).hex()},
    )
    response = await report_alarm(hass, entry, "PA", zone=1)
    assert response == {"seq": 2, "delivered": False}
    issue_id = f"monitoring_centre_unreachable_{entry.entry_id}"
    await until(lambda: iphone.calls and galaxy.calls, timeout=10)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.CRITICAL
    assert issue.translation_placeholders == {"name": entry.title, "host": HOST}

    alert = iphone.last
    assert alert["title"] == "The monitoring centre could not be reached"
    assert "PA (#0002)" in alert["message"]
    assert alert["data"]["push"]["interruption-level"] == "critical"
    assert alert["data"]["push"]["sound"]["critical"] == 1
    android = galaxy.last["data"]
    assert (android["channel"], android["priority"], android["ttl"]) == ("alarm_stream", "high", 0)
    assert galaxy.last["data"]["tag"] == alert["data"]["tag"]
    # Still retrying slowly, and every try was refused.
    refused = len(secure_centre.reports)
    await until(lambda: len(secure_centre.reports) > refused, timeout=5)
    # (With a wrong key the receiver mostly answers NAK; now and then the garbage it
    # decrypts parses, and it answers DUH. Never ACK.)
    assert {r.reply for r in secure_centre.reports} <= {"NAK", "DUH"}
    assert len(iphone.calls) == 1  # alerted once per report

    # The resident enters the right key: the same report goes through, once.
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result, reconfigure_form(secure_centre.port, key=KEY_128.hex()))
    assert result["reason"] == "centre_reconfigured"
    await hass.async_block_till_done()
    await until(lambda: [r for r in secure_centre.reports if r.reply == "ACK" and r.code == "PA"])
    (delivered,) = [r for r in secure_centre.reports if r.reply == "ACK" and r.code == "PA"]
    assert delivered.sequence == 2
    await until(lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None)
    # The phones hear that it got through (replacing the alert, not critical).
    await until(lambda: len(iphone.calls) == 2 and len(galaxy.calls) == 2)
    assert "PA (#0002)" in iphone.last["message"]
    assert "push" not in iphone.last["data"]
    assert iphone.last["data"]["tag"] == alert["data"]["tag"]


async def test_a_code_the_centre_does_not_know_is_refused_and_holds_back_nothing(
    hass: HomeAssistant, centre: ControlCentre, hass_storage: dict[str, Any]
) -> None:
    """DUH is about one message: tried a few times, then dropped with a critical alert.

    The action only takes codes the standard knows; a report stored by an earlier
    version with a code the centre does not know ("AC") must not hold back the others,
    keep the link "off" or stop the supervision tests.
    """
    phone = add_phone(hass, "Galaxy S24", "samsung")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"{ACCOUNT} @ {HOST}:{centre.port}",
        data=link_data(centre.port),
        options={CONF_SUPERVISION: 1, CONF_PHONES: [phone.device_id]},
    )
    entry.add_to_hass(hass)
    queued = "2026-01-01T00:00:00+00:00"
    hass_storage[storage_key(entry.entry_id)] = {
        "version": 1,
        "key": storage_key(entry.entry_id),
        "data": {
            "next_seq": 3,
            "pending": [{"seq": 2, "code": "AC", "zone": 0, "text": None, "queued": queued}],
            "last_ack": None,
            "last_report": None,
        },
    }
    assert await hass.config_entries.async_setup(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await report_alarm(hass, entry, "AC")
    assert err.value.translation_key == "unknown_sia_code"
    assert await report_alarm(hass, entry, "PA") == {"seq": 3, "delivered": True}
    await until(lambda: state(hass, QUEUED) == "0", timeout=10)
    assert [r.reply for r in alarms(centre, "AC")] == ["DUH"] * 3
    assert state(hass, LINK) == "on"
    issue_id = f"monitoring_centre_refused_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.CRITICAL
    await until(lambda: phone.calls)
    (alert,) = phone.calls
    assert "AC (#0002)" in alert.data["message"]
    assert "refused" in alert.data["message"]
    assert alert.data["data"]["channel"] == "alarm_stream"
    # Dropped: never sent again.
    await until(lambda: len(alarms(centre, "RP")) >= 2, timeout=4)
    assert len(alarms(centre, "AC")) == 3


async def test_an_acknowledgement_removes_only_its_own_report(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """After the numbers wrap, two queued reports can share one: the ACK'd one goes."""
    queue = ReportQueue(hass, "wrapped")
    first = await queue.async_add(SiaEvent("BA"))
    queue._state.next_seq = first.seq  # the counter came round (9999 reports later)
    second = await queue.async_add(SiaEvent("PA"))
    assert first.seq == second.seq
    await queue.async_acknowledged(second)
    assert [r.code for r in queue.pending] == ["BA"]


async def test_every_overdue_report_is_alerted(hass: HomeAssistant, centre: ControlCentre) -> None:
    """The link is down: a PA queued behind a BA gets its critical alert too."""
    phone = add_phone(hass, "Galaxy S24", "samsung")
    entry = await add_link(hass, centre.port, options={CONF_PHONES: [phone.device_id]})
    await centre.go_down()
    await report_alarm(hass, entry, "BA")
    await report_alarm(hass, entry, "PA")
    alerted = lambda: " ".join(call.data["message"] for call in phone.calls)  # noqa: E731
    await until(lambda: "BA (#0002)" in alerted() and "PA (#0003)" in alerted(), timeout=10)
    await asyncio.sleep(1)
    assert alerted().count("PA (#0003)") == 1  # once per report
    assert alerted().count("BA (#0002)") == 1


async def test_a_failing_store_does_not_end_delivery(
    hass: HomeAssistant, centre: ControlCentre, caplog: pytest.LogCaptureFixture
) -> None:
    """The queue cannot be saved once: logged, the link shows it, and delivery goes on."""
    entry = await add_link(hass, centre.port)
    store = entry.runtime_data.link.queue._store
    save = store.async_save
    calls = 0

    async def flaky_save(data: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first ACK's record
            raise OSError("disk full")
        await save(data)

    links: list[str] = []
    hass.bus.async_listen(
        "state_changed",
        lambda event: links.append(event.data["new_state"].state)
        if event.data["entity_id"] == LINK
        else None,
    )
    store.async_save = flaky_save  # type: ignore[method-assign]
    await report_alarm(hass, entry, "PA")
    await until(lambda: "off" in links, timeout=4)
    assert "disk full" in caplog.text
    assert (await report_alarm(hass, entry, "QA"))["delivered"] is True
    await until(lambda: state(hass, LINK) == "on" and state(hass, QUEUED) == "0")
    assert [r.code for r in centre.reports] == ["PA", "QA"]


async def test_a_report_whose_caller_gives_up_is_still_sent(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    """The action is cancelled while the queue is being saved: the report still goes."""
    entry = await add_link(hass, centre.port)
    store = entry.runtime_data.link.queue._store
    save = store.async_save
    saving = asyncio.Event()
    release = asyncio.Event()

    async def slow_save(data: Any) -> None:
        if not release.is_set():
            saving.set()
            await release.wait()
        await save(data)

    store.async_save = slow_save  # type: ignore[method-assign]
    call = hass.async_create_task(report_alarm(hass, entry, "PA"))
    await saving.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    release.set()
    await until(lambda: alarms(centre, "PA"), timeout=4)
    await until(lambda: state(hass, QUEUED) == "0")


async def test_silent_link_raises_repair_without_alarm_alerts(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    """Supervision tests failing for long: a repair, but no alert (no alarm is waiting)."""
    phone = add_phone(hass, "Galaxy S24", "samsung")
    entry = await add_link(
        hass, centre.port, options={CONF_SUPERVISION: 1, CONF_PHONES: [phone.device_id]}
    )
    await until(lambda: state(hass, LINK) == "on")
    await centre.go_down()
    issue_id = f"monitoring_centre_unreachable_{entry.entry_id}"
    await until(lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id), timeout=6)
    assert state(hass, LINK) == "off"
    assert phone.calls == []

    await centre.go_up()
    await until(lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None, timeout=5)
    assert state(hass, LINK) == "on"


async def test_a_phone_that_cannot_be_told_holds_back_no_other(
    hass: HomeAssistant, centre: ControlCentre, caplog: pytest.LogCaptureFixture
) -> None:
    """A removed phone, or one whose app lost its notify action, is skipped (and logged)."""
    gone = add_phone(hass, "Old phone", "samsung")
    hass.services.async_remove("notify", "mobile_app_old_phone")
    galaxy = add_phone(hass, "Galaxy S24", "samsung")
    entry = await add_link(
        hass,
        centre.port,
        options={CONF_PHONES: ["no-such-device", gone.device_id, galaxy.device_id]},
        **{CONF_ACCOUNT: "999"},  # an account the centre does not serve: NAK
    )
    await report_alarm(hass, entry, "PA")
    await until(lambda: galaxy.calls, timeout=10)
    assert "is not a Companion app phone" in caplog.text
    assert "notify.mobile_app_old_phone does not exist" in caplog.text


async def test_restart_mid_retry_loses_and_repeats_nothing(
    hass: HomeAssistant, centre: ControlCentre, hass_storage: dict[str, Any]
) -> None:
    """Home Assistant stops while a report waits: after the restart it goes, same number."""
    entry = await add_link(hass, centre.port)
    await centre.go_down()
    response = await report_alarm(hass, entry, "HA", zone=2, text=ADDRESS)
    assert response == {"seq": 2, "delivered": False}
    stored = hass_storage[storage_key(entry.entry_id)]["data"]
    assert [(r["seq"], r["code"]) for r in stored["pending"]] == [(2, "HA")]

    assert await hass.config_entries.async_unload(entry.entry_id)
    await centre.go_up()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await until(lambda: state(hass, QUEUED) == "0")
    (report,) = alarms(centre, "HA")
    assert (report.sequence, report.text, report.repeats) == (2, ADDRESS, 0)
    assert hass_storage[storage_key(entry.entry_id)]["data"]["pending"] == []
    # Numbers carry on after the restart: none is used twice.
    assert (await report_alarm(hass, entry, "HR"))["seq"] == 3


async def test_supervision_keeps_the_link_honest(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    entry = await add_link(hass, centre.port, options={CONF_SUPERVISION: 1})
    await until(lambda: state(hass, LINK) == "on")
    await until(lambda: len(alarms(centre, "RP")) >= 2, timeout=4)

    centre.mute = True  # the receiver reads but no longer acknowledges
    await until(lambda: state(hass, LINK) == "off", timeout=4)
    centre.mute = False
    await until(lambda: state(hass, LINK) == "on", timeout=4)
    assert entry.state is ConfigEntryState.LOADED


async def test_link_without_supervision_waits_for_a_report(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    await add_link(hass, centre.port)
    assert state(hass, LINK) == "unknown"
    assert centre.reports == []


async def test_entities_are_named_and_on_their_device(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    entry = await add_link(hass, centre.port)
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    assert sorted(e.entity_id for e in entities) == sorted([LINK, LAST_REPORT, LAST_ACK, QUEUED])
    link = hass.states.get(LINK)
    assert link is not None
    assert link.attributes["device_class"] == "connectivity"
    assert link.name == "Monitoring centre Link"


async def test_removing_the_link_forgets_its_reports(
    hass: HomeAssistant, centre: ControlCentre, hass_storage: dict[str, Any]
) -> None:
    entry = await add_link(hass, centre.port)
    await centre.go_down()
    await report_alarm(hass, entry, "PA")
    assert storage_key(entry.entry_id) in hass_storage
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert storage_key(entry.entry_id) not in hass_storage
    assert not dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)


# --- the action's checks


async def test_report_alarm_is_described(hass: HomeAssistant) -> None:
    """The action offers this integration's entries and the known codes, translated."""
    integration = await async_get_integration(hass, DOMAIN)
    services = load_yaml_dict(str(integration.file_path / "services.yaml"))
    fields = services["report_alarm"]["fields"]
    assert fields["config_entry_id"]["selector"] == {"config_entry": {"integration": DOMAIN}}
    code = fields["code"]["selector"]["select"]
    assert code["custom_value"] is True
    assert {"pa", "qa", "ba", "ha", "ta", "pr", "qr", "br", "hr", "tr"} <= set(code["options"])
    prefix = f"component.{DOMAIN}"
    for lang, name, panic in (
        ("en", "Report alarm to monitoring centre", "PA: Panic alarm"),
        ("ko", "관제 센터에 경보 신고", "PA: 비상(패닉) 경보"),
    ):
        strings = await async_get_translations(hass, lang, "services", [DOMAIN])
        assert strings[f"{prefix}.services.report_alarm.name"] == name
        options = await async_get_translations(hass, lang, "selector", [DOMAIN])
        assert options[f"{prefix}.selector.sia_code.options.pa"] == panic
        assert all(f"{prefix}.selector.sia_code.options.{o}" in options for o in code["options"])


async def test_report_alarm_refuses_what_it_cannot_send(
    hass: HomeAssistant, centre: ControlCentre
) -> None:
    entry = await add_link(hass, centre.port)
    other = MockConfigEntry(domain=DOMAIN, data={CONF_HOST: HOST, CONF_PORT: 1})
    other.add_to_hass(hass)
    cases = [
        ({"config_entry_id": other.entry_id, "code": "PA"}, "not_monitoring_centre"),
        ({"config_entry_id": "nope", "code": "PA"}, "not_monitoring_centre"),
        ({"config_entry_id": entry.entry_id, "code": "P1"}, "invalid_sia_code"),
        ({"config_entry_id": entry.entry_id, "code": "PAN"}, "invalid_sia_code"),
        ({"config_entry_id": entry.entry_id, "code": "회"}, "invalid_sia_code"),
    ]
    for data, key in cases:
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN, "report_alarm", data, blocking=True, return_response=True
            )
        assert err.value.translation_key == key, data

    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "report_alarm",
            {"config_entry_id": entry.entry_id, "code": "PA"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "monitoring_centre_not_loaded"
    assert centre.reports == []


# --- no secrets


async def test_diagnostics_and_logs_hold_no_key(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    secure_centre: ControlCentre,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    entry = await add_link(hass, secure_centre.port, **{CONF_KEY: KEY_128.hex()})
    await report_alarm(hass, entry, "PA", text=ADDRESS)
    await secure_centre.go_down()
    await report_alarm(hass, entry, "QA", text=ADDRESS)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    assert diagnostics["entry"]["data"][CONF_KEY] == "**REDACTED**"
    assert diagnostics["link"]["pending"][0]["code"] == "QA"
    assert diagnostics["link"]["pending"][0]["text"] == "**REDACTED**"
    assert diagnostics["link"]["link_up"] is False
    assert diagnostics["link"]["last_error"] == "unreachable"
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.seoul_safehome")
    )
    assert "not acknowledged" in logged
    for secret in (KEY_128.hex(), KEY_128.hex().upper(), ADDRESS):
        assert secret not in text
        assert secret not in logged
