"""The config flow against a real hub (the emulator) on loopback: what a user sees while adding,
re-pairing and moving a SafeHome hub."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from ipaddress import ip_address
import json
from pathlib import Path
import re
import socket
from typing import Any

from aiohttp import web
from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF, ConfigEntryState
from homeassistant.const import CONF_CODE, CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import pytest_socket

from custom_components.seoul_safehome.api import SafeHomeAuthenticationError, SafeHomeClient
from custom_components.seoul_safehome.const import CONF_FINGERPRINT, DOMAIN
from safehome_emulator import Emulator
from tests.conftest import PAIRING_CODE, Control, running_emulator
from tests.integration.common import until

HOST = "127.0.0.1"
TRANSLATIONS = {
    lang: json.loads(
        (
            Path(__file__).parents[2]
            / "custom_components"
            / DOMAIN
            / "translations"
            / f"{lang}.json"
        ).read_text(encoding="utf-8")
    )["config"]
    for lang in ("en", "ko")
}
PLACEHOLDER = re.compile(r"{(\w+)}")


def assert_readable(result: FlowResult) -> None:
    """Fail if the user would see an untranslated message or a raw {placeholder}."""
    placeholders = set(result.get("description_placeholders") or {})
    for lang, config in TRANSLATIONS.items():
        if result["type"] is FlowResultType.ABORT:
            texts = [config["abort"][result["reason"]]]
        elif result["type"] is FlowResultType.MENU:
            step = config["step"][result["step_id"]]
            texts = [step["description"], step.get("title", "")]
            for option in result["menu_options"]:
                texts.append(step["menu_options"][option])
        elif result["type"] is FlowResultType.FORM:
            step = config["step"][result["step_id"]]
            texts = [step["description"], step.get("title", "")]
            texts += [config["error"][error] for error in (result["errors"] or {}).values()]
            for key in result["data_schema"].schema:
                assert str(key) in step["data"], f"{lang}: no label for {key}"
                assert str(key) in step["data_description"], f"{lang}: no help for {key}"
        else:
            continue
        for text in texts:
            missing = set(PLACEHOLDER.findall(text)) - placeholders
            assert not missing, f"{lang}: {text!r} lacks {missing}"


async def start_flow(hass: HomeAssistant, source: str, data: Any = None) -> FlowResult:
    """Start a config flow the way the frontend or discovery does."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": source}, data=data
    )
    assert_readable(result)
    return result


async def submit(hass: HomeAssistant, result: FlowResult, user_input: dict[str, Any]) -> FlowResult:
    """Submit a form the way the frontend does."""
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert_readable(result)
    return result


async def start_hub_flow(hass: HomeAssistant) -> FlowResult:
    """Start adding as a user does: the menu, then "SafeHome hub"."""
    result = await start_flow(hass, SOURCE_USER)
    assert result["type"] is FlowResultType.MENU
    return await submit(hass, result, {"next_step_id": "hub"})


def closed_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def other_emulator(**config: Any) -> AbstractAsyncContextManager[Emulator]:
    """Run a second hub next to the `emulator` fixture."""
    return running_emulator(**({"host": HOST, "control": False} | config))


def discovery(port: int, **txt: str) -> ZeroconfServiceInfo:
    """What zeroconf reports for a hub announcing itself (there is no mDNS on loopback)."""
    properties = {
        "id": "shub-demo01",
        "model": "SH-HUB1",
        "fw": "1.4.2",
        "api": "2.0",
        "name": "SafeHome Hub",
        "path": "/api/v2",
        "tls": "1",
    } | txt
    return ZeroconfServiceInfo(
        ip_address=ip_address(HOST),
        ip_addresses=[ip_address(HOST)],
        hostname="shub-demo01.local.",
        name=f"SafeHome Hub {properties['id']}._safehome._tcp.local.",
        port=port,
        type="_safehome._tcp.local.",
        properties=properties,
    )


async def token_works(hass: HomeAssistant, hub: Emulator, token: str) -> bool:
    """Whether the hub accepts a token (what the integration will use from now on)."""
    client = SafeHomeClient(
        HOST, hub.port, async_get_clientsession(hass), token=token, fingerprint=hub.fingerprint
    )
    try:
        await client.hub()
    except SafeHomeAuthenticationError:
        return False
    return True


# --- adding a hub by its address


async def test_user_adds_hub_by_address_and_pairing_code(
    hass: HomeAssistant, emulator: Emulator, hub_info: dict[str, Any]
) -> None:
    result = await start_flow(hass, SOURCE_USER)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == ["hub", "monitoring_centre"]
    result = await submit(hass, result, {"next_step_id": "hub"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hub"
    assert result["data_schema"]({CONF_HOST: HOST}) == {CONF_HOST: HOST, CONF_PORT: 8765}

    result = await submit(hass, result, {CONF_HOST: f"  {HOST} ", CONF_PORT: emulator.port})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pair"
    assert result["description_placeholders"] == {"name": "SafeHome Hub", "host": HOST}

    # The resident presses the hub's pairing button, and types the code it shows with a space.
    code = emulator.open_pairing_window()
    result = await submit(hass, result, {CONF_CODE: f"{code[:3]} {code[3:]}"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == hub_info["name"]
    entry = result["result"]
    assert entry.unique_id == hub_info["id"]
    assert entry.data[CONF_HOST] == HOST
    assert entry.data[CONF_PORT] == emulator.port
    assert CONF_CODE not in entry.data
    assert entry.data[CONF_FINGERPRINT] == emulator.fingerprint
    assert not emulator.pairing_open  # a pairing closes the window
    assert await token_works(hass, emulator, entry.data[CONF_TOKEN])

    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_unreachable_address_can_be_corrected(
    hass: HomeAssistant, emulator: Emulator
) -> None:
    result = await start_hub_flow(hass)
    result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: closed_port()})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "cannot_connect"}
    # What the user typed is kept, so only the mistake needs fixing.
    assert result["data_schema"]({})[CONF_HOST] == HOST

    result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: emulator.port})
    assert result["step_id"] == "pair"


async def test_restarting_hub_is_not_mistaken_for_something_else(
    hass: HomeAssistant, emulator: Emulator, control: Control
) -> None:
    await control.post("/restart", {"downtime": 30})
    result = await start_hub_flow(hass)
    result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: emulator.port})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "cannot_connect"}


async def test_address_of_something_else_is_refused(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """A router page (or a hub on the old plain-HTTP API) answers, but no SafeHome API 2 hub."""

    async def router_page(request: web.Request) -> web.Response:
        return web.Response(text="<html>router login</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/{path:.*}", router_page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        result = await start_hub_flow(hass)
        result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: port})
    finally:
        await runner.cleanup()
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "not_secure"}


async def test_hub_with_unsupported_api_version_is_explained(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    async with other_emulator(api_version="3.0") as hub:
        result = await start_hub_flow(hass)
        result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: hub.port})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unsupported_api_version"
    assert result["description_placeholders"] == {"version": "3.0", "required": "2.0"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_adding_a_configured_hub_again_updates_its_address(
    hass: HomeAssistant, emulator: Emulator, hub_info: dict[str, Any], token: str
) -> None:
    """The hub got a new address; adding it again fixes the entry instead of duplicating it."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=hub_info["id"],
        data={
            CONF_HOST: HOST,
            CONF_PORT: closed_port(),
            CONF_TOKEN: token,
            CONF_FINGERPRINT: emulator.fingerprint,
        },
    )
    entry.add_to_hass(hass)

    result = await start_hub_flow(hass)
    result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: emulator.port})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == {
        CONF_HOST: HOST,
        CONF_PORT: emulator.port,
        CONF_TOKEN: token,
        CONF_FINGERPRINT: emulator.fingerprint,
    }
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


# --- the pairing code


async def test_pairing_needs_the_hubs_button(hass: HomeAssistant, emulator: Emulator) -> None:
    """Until someone presses the button on the hub, no code is accepted, not even the right one."""
    result = await start_hub_flow(hass)
    result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: emulator.port})
    result = await submit(hass, result, {CONF_CODE: PAIRING_CODE})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "pairing_closed"}

    emulator.open_pairing_window()
    result = await submit(hass, result, {CONF_CODE: PAIRING_CODE})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_pairing_window_closes_by_itself(hass: HomeAssistant, socket_enabled: None) -> None:
    async with other_emulator(pairing_window=0.3) as hub:
        result = await start_hub_flow(hass)
        result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: hub.port})
        hub.open_pairing_window()
        await asyncio.sleep(0.4)
        result = await submit(hass, result, {CONF_CODE: PAIRING_CODE})
    assert result["errors"] == {"base": "pairing_closed"}


async def test_wrong_pairing_code_can_be_corrected(hass: HomeAssistant, emulator: Emulator) -> None:
    result = await start_hub_flow(hass)
    result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: emulator.port})
    emulator.open_pairing_window()

    result = await submit(hass, result, {CONF_CODE: "654321"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pair"
    assert result["errors"] == {CONF_CODE: "invalid_code"}

    result = await submit(hass, result, {CONF_CODE: PAIRING_CODE})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_typos_do_not_lock_the_user_out(hass: HomeAssistant, emulator: Emulator) -> None:
    """Codes that cannot be right never reach the hub, so they use none of its attempts."""
    result = await start_hub_flow(hass)
    result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: emulator.port})
    emulator.open_pairing_window()
    for typo in ("12345", "1234567", "12345a", "", "one two"):
        result = await submit(hass, result, {CONF_CODE: typo})
        assert result["errors"] == {CONF_CODE: "invalid_code"}

    result = await submit(hass, result, {CONF_CODE: f"{PAIRING_CODE[:3]}-{PAIRING_CODE[3:]}"})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_three_wrong_codes_close_pairing(hass: HomeAssistant, emulator: Emulator) -> None:
    """Guessing gets three tries per press of the button; then the user presses it again."""
    result = await start_hub_flow(hass)
    result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: emulator.port})
    emulator.open_pairing_window()
    for _ in range(2):
        result = await submit(hass, result, {CONF_CODE: "000000"})
        assert result["errors"] == {CONF_CODE: "invalid_code"}
    result = await submit(hass, result, {CONF_CODE: "000000"})
    assert result["errors"] == {"base": "pairing_attempts_used"}

    # Even the right code is refused now: the window is closed.
    result = await submit(hass, result, {CONF_CODE: PAIRING_CODE})
    assert result["errors"] == {"base": "pairing_closed"}

    emulator.open_pairing_window()
    result = await submit(hass, result, {CONF_CODE: PAIRING_CODE})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PORT] == emulator.port


async def test_hub_restarting_while_pairing(
    hass: HomeAssistant, emulator: Emulator, control: Control
) -> None:
    result = await start_hub_flow(hass)
    result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: emulator.port})
    emulator.open_pairing_window()

    await control.post("/restart", {"downtime": 30})
    result = await submit(hass, result, {CONF_CODE: PAIRING_CODE})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


# --- discovery


async def test_discovered_hub_is_paired_with_its_code(
    hass: HomeAssistant, emulator: Emulator, hub_info: dict[str, Any]
) -> None:
    result = await start_flow(hass, SOURCE_ZEROCONF, discovery(emulator.port))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pair"
    assert result["description_placeholders"] == {"name": "SafeHome Hub", "host": HOST}
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["title_placeholders"] == {"name": "SafeHome Hub"}

    emulator.open_pairing_window()
    result = await submit(hass, result, {CONF_CODE: PAIRING_CODE})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == hub_info["id"]
    assert result["data"][CONF_HOST] == HOST
    assert result["data"][CONF_PORT] == emulator.port
    assert await token_works(hass, emulator, result["data"][CONF_TOKEN])


async def test_discovery_follows_a_hub_that_moved(
    hass: HomeAssistant, emulator: Emulator, hub_info: dict[str, Any], token: str
) -> None:
    """A configured hub announced at a new address: the entry follows, no questions asked."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=hub_info["id"],
        data={
            CONF_HOST: "192.0.2.1",
            CONF_PORT: 8765,
            CONF_TOKEN: token,
            CONF_FINGERPRINT: emulator.fingerprint,
        },
    )
    entry.add_to_hass(hass)

    result = await start_flow(hass, SOURCE_ZEROCONF, discovery(emulator.port))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == {
        CONF_HOST: HOST,
        CONF_PORT: emulator.port,
        CONF_TOKEN: token,
        CONF_FINGERPRINT: emulator.fingerprint,
    }

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_discovery_while_adding_the_same_hub_by_hand(
    hass: HomeAssistant, emulator: Emulator
) -> None:
    """The hub shows up as discovered while the user is already typing its address."""
    result = await start_flow(hass, SOURCE_ZEROCONF, discovery(emulator.port))
    assert result["step_id"] == "pair"
    again = await start_flow(hass, SOURCE_ZEROCONF, discovery(emulator.port))
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_in_progress"

    manual = await start_hub_flow(hass)
    manual = await submit(hass, manual, {CONF_HOST: HOST, CONF_PORT: emulator.port})
    emulator.open_pairing_window()
    manual = await submit(hass, manual, {CONF_CODE: PAIRING_CODE})
    assert manual["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # The discovered flow for the same hub is gone: no second entry can be made.
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


@pytest.mark.parametrize(
    ("txt", "reason"),
    [({"id": ""}, "invalid_discovery_info"), ({"api": "3.0"}, "unsupported_api_version")],
)
async def test_discovery_of_unusable_hub_is_dropped(
    hass: HomeAssistant, socket_enabled: None, txt: dict[str, str], reason: str
) -> None:
    async with other_emulator(api_version=txt.get("api", "2.0")) as hub:
        result = await start_flow(hass, SOURCE_ZEROCONF, discovery(hub.port, **txt))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


async def test_discovered_hub_that_does_not_answer_is_dropped(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    result = await start_flow(hass, SOURCE_ZEROCONF, discovery(closed_port()))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


async def test_stale_announcement_does_not_pair_another_hub(
    hass: HomeAssistant, emulator: Emulator
) -> None:
    """An old announcement now points at a different hub: nothing is set up under the old id."""
    result = await start_flow(hass, SOURCE_ZEROCONF, discovery(emulator.port, id="shub-gone"))
    emulator.open_pairing_window()
    result = await submit(hass, result, {CONF_CODE: PAIRING_CODE})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_hub"
    assert not hass.config_entries.async_entries(DOMAIN)


# --- pairing again (re-authentication)


async def test_revoked_pairing_is_restored_with_the_code(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator, control: Control
) -> None:
    entry = init_integration
    old_token = entry.data[CONF_TOKEN]
    await control.post("/tokens/revoke")

    # Home Assistant notices by itself and asks the user to pair again.
    await until(lambda: hass.config_entries.flow.async_progress_by_handler(DOMAIN))
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == "reauth"
    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    assert_readable(result)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"] == {"name": entry.title, "host": HOST}

    emulator.open_pairing_window()
    result = await submit(hass, result, {CONF_CODE: "111111"})
    assert result["errors"] == {CONF_CODE: "invalid_code"}

    result = await submit(hass, result, {CONF_CODE: PAIRING_CODE})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    new_token = entry.data[CONF_TOKEN]
    assert new_token != old_token
    assert await token_works(hass, emulator, new_token)

    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await until(lambda: entry.runtime_data.coordinator.link_up)


async def test_reauth_refuses_a_different_hub(
    hass: HomeAssistant, emulator: Emulator, token: str
) -> None:
    """The address now belongs to another hub: its token must not replace the old one."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Old hub",
        unique_id="shub-old",
        data={
            CONF_HOST: HOST,
            CONF_PORT: emulator.port,
            CONF_TOKEN: token,
            CONF_FINGERPRINT: emulator.fingerprint,
        },
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert_readable(result)
    emulator.open_pairing_window()

    result = await submit(hass, result, {CONF_CODE: PAIRING_CODE})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_hub"
    assert entry.data[CONF_TOKEN] == token


# --- changing the address (reconfigure)


async def test_reconfigure_follows_the_hub_to_a_new_address(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """The router gave the hub another IP address: the pairing keeps working there."""
    # The hub listens on every loopback address; 127.0.0.2 plays its new IP address.
    pytest_socket.socket_allow_hosts([HOST, "127.0.0.2"])
    async with other_emulator(host="0.0.0.0") as hub:
        client = SafeHomeClient(HOST, hub.port, async_get_clientsession(hass))
        hub.open_pairing_window()
        paired = await client.pair(PAIRING_CODE)
        token = paired.token
        data = {
            CONF_HOST: HOST,
            CONF_PORT: hub.port,
            CONF_TOKEN: token,
            CONF_FINGERPRINT: paired.fingerprint,
        }
        entry = MockConfigEntry(
            domain=DOMAIN, title="SafeHome Hub", unique_id="shub-demo01", data=data
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)

        result = await entry.start_reconfigure_flow(hass)
        assert_readable(result)
        assert result["step_id"] == "reconfigure"
        # The form starts from the current address.
        assert result["data_schema"]({}) == {CONF_HOST: HOST, CONF_PORT: hub.port}

        result = await submit(hass, result, {CONF_HOST: "127.0.0.2", CONF_PORT: hub.port})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert entry.data == data | {CONF_HOST: "127.0.0.2"}

        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        assert entry.runtime_data.client.base_url.startswith("https://127.0.0.2:")
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_to_an_unreachable_address_can_be_corrected(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    entry = init_integration
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: closed_port()})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "cannot_connect"}
    assert entry.data[CONF_PORT] == emulator.port

    result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: emulator.port})
    assert result["reason"] == "reconfigure_successful"


async def test_reconfigure_refuses_another_hub(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Pointing the entry at the neighbour's hub is refused before anything is sent to it
    (its certificate is not the one paired with); the old address stays."""
    entry = init_integration
    before = dict(entry.data)
    async with other_emulator(hub_id="shub-neighbour") as neighbour:
        result = await entry.start_reconfigure_flow(hass)
        result = await submit(hass, result, {CONF_HOST: HOST, CONF_PORT: neighbour.port})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "identity_mismatch"}
    assert entry.data == before
