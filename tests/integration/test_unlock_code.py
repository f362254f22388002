"""The unlock code: set in the options, asked for before Home Assistant unlocks or opens the
door, never for locking; wrong codes are refused, rate-limited and reported as lock activity."""

from __future__ import annotations

import asyncio
import json

from homeassistant.components.lock import (
    ATTR_CODE,
    DOMAIN as LOCK_DOMAIN,
    SERVICE_LOCK,
    SERVICE_OPEN,
    SERVICE_UNLOCK,
    LockState,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.seoul_safehome.const import CONF_UNLOCK_CODE, DOMAIN
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

LOCK = "lock.front_door_lock"
ACTIVITY = "event.front_door_lock_lock_activity"
CODE = "482916"


async def _set_code(hass: HomeAssistant, entry: MockConfigEntry, code: str, **form: object) -> dict:
    """Set the unlock code through the options flow, as a user would."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    user_input = ({CONF_UNLOCK_CODE: code} if code else {}) | form
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    await until(lambda: entry.runtime_data.coordinator.in_sync)
    await hass.async_block_till_done()
    return result


async def _unlock(
    hass: HomeAssistant, code: str | None = None, service: str = SERVICE_UNLOCK
) -> None:
    data = {ATTR_ENTITY_ID: LOCK} | ({ATTR_CODE: code} if code is not None else {})
    await hass.services.async_call(LOCK_DOMAIN, service, data, blocking=True)


async def _refused(hass: HomeAssistant, code: str | None, key: str) -> ServiceValidationError:
    with pytest.raises(ServiceValidationError) as err:
        await _unlock(hass, code)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    return err.value


@pytest.fixture
async def with_code(hass: HomeAssistant, init_integration: MockConfigEntry) -> MockConfigEntry:
    """The integration with an unlock code set."""
    result = await _set_code(hass, init_integration, CODE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    return init_integration


async def test_code_is_stored_hashed_and_asked_for(
    hass: HomeAssistant, with_code: MockConfigEntry
) -> None:
    """The options hold a salted hash, never the code; the lock now asks for a code."""
    stored = with_code.options[CONF_UNLOCK_CODE]
    assert CODE not in json.dumps(dict(with_code.options))
    assert stored["scheme"] == "scrypt"
    # (A code, or none: locking never needs one.)
    assert hass.states.get(LOCK).attributes["code_format"] == r"^(\d{4,8})?$"


async def test_unlock_without_or_with_wrong_code_is_refused(
    hass: HomeAssistant,
    with_code: MockConfigEntry,
    control: Control,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No code or a wrong code: nothing reaches the lock; a wrong one is lock activity."""
    await _refused(hass, None, "unlock_code_required")
    await _refused(hass, "000000", "unlock_code_wrong")
    with pytest.raises(ServiceValidationError):
        await _unlock(hass, "999999", SERVICE_OPEN)

    assert hass.states.get(LOCK).state == LockState.LOCKED
    assert await control.commands() == []
    assert (await control.device("lock-1"))["state"]["lock_state"] == "locked"
    activity = hass.states.get(ACTIVITY)
    assert activity.attributes["event_type"] == "wrong_code"
    assert activity.attributes["user"] == "Home Assistant"
    assert "Wrong unlock code" in caplog.text
    assert "000000" not in caplog.text
    assert "999999" not in caplog.text


async def test_right_code_unlocks_and_opens_locking_needs_none(
    hass: HomeAssistant, with_code: MockConfigEntry, control: Control
) -> None:
    await _unlock(hass, CODE)
    await wait_for_state(hass, LOCK, LockState.UNLOCKED)
    await hass.services.async_call(LOCK_DOMAIN, SERVICE_LOCK, {ATTR_ENTITY_ID: LOCK}, blocking=True)
    await wait_for_state(hass, LOCK, LockState.LOCKED)
    await _unlock(hass, CODE, SERVICE_OPEN)
    await wait_for_state(hass, LOCK, LockState.OPEN)
    assert [c["command"] for c in await control.commands()] == ["unlock", "lock", "open"]


async def test_repeated_wrong_codes_lock_out_even_the_right_one(
    hass: HomeAssistant, with_code: MockConfigEntry, control: Control
) -> None:
    """After 3 wrong codes, guessing stops: the right code is refused for minutes too."""
    for guess in ("111111", "222222", "333333"):
        await _refused(hass, guess, "unlock_code_wrong")
    err = await _refused(hass, CODE, "unlock_code_locked_out")
    assert err.translation_placeholders == {"minutes": "5"}
    assert await control.commands() == []


async def test_code_can_be_changed_and_removed(
    hass: HomeAssistant, with_code: MockConfigEntry, control: Control
) -> None:
    """Changing or removing the code needs the current one; the new one works at once."""
    result = await _set_code(hass, with_code, "7391")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"current_unlock_code": "unlock_code_wrong"}
    result = await _set_code(hass, with_code, "12a4", current_unlock_code=CODE)
    assert result["errors"] == {CONF_UNLOCK_CODE: "invalid_unlock_code"}

    await _set_code(hass, with_code, "7391", current_unlock_code=CODE)
    await _refused(hass, CODE, "unlock_code_wrong")
    await _unlock(hass, "7391")
    await wait_for_state(hass, LOCK, LockState.UNLOCKED)

    result = await _set_code(hass, with_code, "", remove_unlock_code=True)
    assert result["errors"] == {"current_unlock_code": "unlock_code_wrong"}
    assert CONF_UNLOCK_CODE in with_code.options
    result = await _set_code(
        hass, with_code, "", remove_unlock_code=True, current_unlock_code="7391"
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_UNLOCK_CODE not in with_code.options
    assert "code_format" not in hass.states.get(LOCK).attributes


async def test_guessing_through_the_options_counts_too(
    hass: HomeAssistant, with_code: MockConfigEntry, control: Control
) -> None:
    """Wrong current codes in the options count towards the same lockout as the locks'."""
    for guess in ("111111", "222222", "333333"):
        result = await _set_code(
            hass, with_code, "", remove_unlock_code=True, current_unlock_code=guess
        )
    result = await _set_code(hass, with_code, "", remove_unlock_code=True, current_unlock_code=CODE)
    assert result["errors"] == {"current_unlock_code": "unlock_code_locked_out"}
    await _refused(hass, CODE, "unlock_code_locked_out")


async def test_diagnostics_hold_no_trace_of_the_code(
    hass: HomeAssistant, with_code: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, with_code)
    text = json.dumps(diagnostics)
    stored = with_code.options[CONF_UNLOCK_CODE]
    assert stored["hash"] not in text
    assert stored["salt"] not in text
    assert with_code.data["token"] not in text


async def test_codes_sent_all_at_once_are_judged_in_turn(
    hass: HomeAssistant, with_code: MockConfigEntry, control: Control
) -> None:
    """Guessing in parallel gains nothing: many wrong codes and the right one at once, and
    the lockout stops the right one too; nothing reaches the lock."""
    guesses = [f"{n:06d}" for n in range(10)] + [CODE]
    results = await asyncio.gather(*(_unlock(hass, g) for g in guesses), return_exceptions=True)
    keys = [getattr(r, "translation_key", None) for r in results]
    assert keys.count("unlock_code_wrong") == 3
    assert keys[-1] == "unlock_code_locked_out"
    assert await control.commands() == []


async def test_lockout_outlives_a_reload(
    hass: HomeAssistant, with_code: MockConfigEntry, control: Control
) -> None:
    """Reloading the integration (an options change, a reauth) does not reset the count."""
    for guess in ("111111", "222222", "333333"):
        await _refused(hass, guess, "unlock_code_wrong")
    assert await hass.config_entries.async_reload(with_code.entry_id)
    await hass.async_block_till_done()
    await until(lambda: with_code.runtime_data.coordinator.in_sync)
    await _refused(hass, CODE, "unlock_code_locked_out")
    assert await control.commands() == []


async def test_a_default_code_in_the_entity_settings_is_refused(
    hass: HomeAssistant, with_code: MockConfigEntry, control: Control
) -> None:
    """Home Assistant's own lock setting "Default code" (kept in clear, filled in by itself)
    would let anyone unlock without typing: refused while an unlock code is set."""
    registry = er.async_get(hass)
    registry.async_update_entity_options(LOCK, LOCK_DOMAIN, {"default_code": CODE})
    await hass.async_block_till_done()
    await _refused(hass, None, "unlock_code_default_code")
    assert await control.commands() == []
