"""The secure link as an attacker on the home network meets it, through Home Assistant.

A stalker with the Wi-Fi password taps the wire; a device left on the network poses as the
hub with its own certificate. Neither learns the pairing code, the token or a command, and
neither gets a request; an entry paired over the old plain-HTTP API is never used again
until it is paired anew.
"""

from __future__ import annotations

import asyncio
import logging

from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN, SERVICE_UNLOCK, LockState
from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF, ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, CONF_CODE, CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.seoul_safehome.const import (
    CONF_FINGERPRINT,
    DOMAIN,
    ISSUE_IDENTITY_CHANGED,
    ISSUE_SECURE_LINK,
)
from safehome_emulator import Emulator
from tests.attack import HOST, ManInTheMiddle, WireTap
from tests.conftest import Control, running_emulator
from tests.integration.common import until, wait_for_state
from tests.integration.test_config_flow import discovery

LOCK = "lock.front_door_lock"


async def _add_hub_through(hass: HomeAssistant, port: int, code: str) -> dict:
    """Add the hub as a user would, typing `port` as its address's port."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "hub"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: HOST, CONF_PORT: port}
    )
    assert result["step_id"] == "pair"
    return await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_CODE: code})


def _reauth_flows(hass: HomeAssistant) -> list[dict]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == "reauth"
    ]


async def test_a_wire_tap_learns_no_code_token_or_command(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Pairing, loading, the event stream and an unlock all cross a tap in the clear-text
    sense only: no code, token, command or device state is readable on the wire."""
    async with (
        running_emulator(pairing_code=None) as hub,
        WireTap(hub.port) as tap,
    ):
        code = hub.open_pairing_window()
        result = await _add_hub_through(hass, tap.port, code)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        entry = result["result"]
        await hass.async_block_till_done()
        await until(lambda: entry.runtime_data.coordinator.in_sync)

        await hass.services.async_call(
            LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: LOCK}, blocking=True
        )
        await wait_for_state(hass, LOCK, LockState.UNLOCKED)
        token = entry.data[CONF_TOKEN]
        assert await hass.config_entries.async_unload(entry.entry_id)

    wire = tap.seen
    assert len(wire) > 2000  # the tap did see the whole conversation
    for secret in (code, token, "Bearer", '"unlock"', "lock_state", "Front door", "/api/v2"):
        assert secret.encode() not in wire, f"{secret!r} crossed the wire readable"


async def test_an_impostor_gets_no_request_from_a_paired_home_assistant(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
) -> None:
    """The hub's address now leads to an impostor with its own certificate: Home Assistant
    sends it nothing (not even a request line), marks the hub unavailable, raises a repair
    and asks to pair again."""
    entry = init_integration
    async with ManInTheMiddle(emulator.port) as impostor:
        hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_PORT: impostor.port})
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        await until(lambda: _reauth_flows(hass))
        assert bytes(impostor.plaintext) == b""
    assert entry.state is ConfigEntryState.SETUP_ERROR
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_IDENTITY_CHANGED}_{entry.entry_id}")
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.CRITICAL


async def test_an_impostor_appearing_mid_stream_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The hub is swapped for another one (same address, another certificate) while Home
    Assistant follows it: the impostor gets no request, entities go unavailable and the
    user is asked to pair again."""
    entry = init_integration
    port = emulator.port
    await emulator.stop()
    caplog.set_level(logging.DEBUG, logger="aiohttp.access")
    caplog.clear()
    async with running_emulator(port=port) as impostor:
        assert impostor.fingerprint != entry.data[CONF_FINGERPRINT]
        await wait_for_state(hass, LOCK, "unavailable", timeout=10)
        await until(lambda: _reauth_flows(hass), timeout=10)
        issue = ir.async_get(hass).async_get_issue(
            DOMAIN, f"{ISSUE_IDENTITY_CHANGED}_{entry.entry_id}"
        )
        assert issue is not None
    # Only the impostor served requests meanwhile: its access log shows none at all.
    requests = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert requests == []


async def test_pairing_through_an_impostor_fails_and_gives_nothing_away(
    hass: HomeAssistant, emulator: Emulator
) -> None:
    """An impostor relays the pairing to the real hub: the code never crosses, the sealed
    token is unreadable to it, and Home Assistant refuses the pairing."""
    issued: list[str] = []
    issue = emulator.hub.tokens.issue

    def recording_issue(client_name: str) -> str:
        issued.append(issue(client_name))
        return issued[-1]

    emulator.hub.tokens.issue = recording_issue  # type: ignore[method-assign]
    async with ManInTheMiddle(emulator.port) as impostor:
        code = emulator.open_pairing_window()
        result = await _add_hub_through(hass, impostor.port, code)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "identity_not_verified"}
    assert not hass.config_entries.async_entries(DOMAIN)
    seen = bytes(impostor.plaintext + impostor.downstream)
    assert b"/pair/start" in seen  # it did see the (public) exchange...
    assert code.encode() not in seen  # ...but not the code
    # The hub did seal a token for the exchange it saw; the impostor cannot read it.
    assert len(issued) == 1
    assert issued[0].encode() not in seen


async def test_entry_paired_over_the_old_api_is_paired_again(
    hass: HomeAssistant, emulator: Emulator, control: Control
) -> None:
    """An entry from the plain-HTTP API (a token, no certificate) is never used: its token
    is not sent anywhere; a repair explains and re-authentication pairs it securely."""
    old_token = emulator.issue_token("Home Assistant (API 1)")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="SafeHome Hub",
        unique_id="shub-demo01",
        data={CONF_HOST: HOST, CONF_PORT: emulator.port, CONF_TOKEN: old_token},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    issue_id = f"{ISSUE_SECURE_LINK}_{entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    (flow,) = _reauth_flows(hass)
    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    assert result["step_id"] == "reauth_confirm"
    code = emulator.open_pairing_window()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_CODE: code})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_FINGERPRINT] == emulator.fingerprint
    assert entry.data[CONF_TOKEN] != old_token
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize("path", ["/api/v2/devices", "/api/v1/devices"])
async def test_plain_http_with_a_valid_token_gets_nothing(
    emulator: Emulator, token: str, path: str
) -> None:
    """`curl http://hub:8765/api/v…/devices` with a valid token: no HTTP answer at all."""
    reader, writer = await asyncio.open_connection(HOST, emulator.port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    await writer.drain()
    try:
        answer = await asyncio.wait_for(reader.read(65536), 5)
    except ConnectionError:
        answer = b""
    writer.close()
    assert not answer.startswith(b"HTTP/")
    assert b"devices" not in answer


async def test_a_fake_announcement_does_not_move_the_hub(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """A device announces itself by mDNS as the paired hub at its own address: Home
    Assistant checks the certificate there first, and the entry stays with the real hub."""
    entry = init_integration
    before = dict(entry.data)
    async with ManInTheMiddle(emulator.port) as impostor:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(impostor.port)
        )
        assert bytes(impostor.plaintext) == b""
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == before
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator.in_sync
