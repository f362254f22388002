"""Actions: emergencies on the bells, alarm reports to a monitoring centre.

Raise or cancel an emergency from the phone, a widget, an NFC tag or automations; report
an alarm (panic, emergency, burglary, ...) to a monitoring centre.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .api import Device, DeviceType, EmergencySource, SafeHomeClient
from .commands import async_run
from .compat import async_get_device_and_entry
from .const import DOMAIN
from .data import MonitoringConfigEntry, SafeHomeConfigEntry, is_monitoring_entry
from .entity import device_identifier
from .report_text import carriable_text
from .sia import KNOWN_CODES, SiaEvent

SERVICE_TRIGGER_EMERGENCY = "trigger_emergency"
SERVICE_CANCEL_EMERGENCY = "cancel_emergency"

ATTR_SOURCE = "source"
ATTR_KEYWORD = "keyword"
# Who raises an emergency from Home Assistant: a phone (a widget, an NFC tag, an
# automation) or a voice assistant that heard a call for help (with the words heard).
TRIGGER_SOURCES = (EmergencySource.PHONE.value, EmergencySource.VOICE.value)

SERVICE_SCHEMA = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string], vol.Length(min=1))}
)
TRIGGER_SCHEMA = SERVICE_SCHEMA.extend(
    {
        vol.Optional(ATTR_SOURCE, default=EmergencySource.PHONE.value): vol.In(TRIGGER_SOURCES),
        vol.Optional(ATTR_KEYWORD): vol.All(cv.string, vol.Strip, vol.Length(min=1, max=64)),
    }
)

SERVICE_REPORT_ALARM = "report_alarm"
ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_CODE = "code"
ATTR_ZONE = "zone"
ATTR_TEXT = "text"
# The code, zone and text are checked by the handler, for errors a person can read.
REPORT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_CODE): cv.string,
        vol.Optional(ATTR_ZONE, default=0): vol.All(vol.Coerce(int), vol.Range(min=0, max=9999)),
        vol.Optional(ATTR_TEXT): vol.All(cv.string, vol.Strip, vol.Length(max=64)),
    }
)

type BellCommand = Callable[[SafeHomeClient, str], Awaitable[Device]]


def _not_a_bell(name: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_emergency_bell",
        translation_placeholders={"device": name},
    )


@callback
def _async_get_bell(hass: HomeAssistant, device_id: str) -> tuple[SafeHomeClient, str]:
    """Return the client of the bell's hub and the bell's id on that hub."""
    device_entry, config_entry = async_get_device_and_entry(hass, device_id, DOMAIN)
    if device_entry is None:
        raise _not_a_bell(device_id)
    name = device_entry.name_by_user or device_entry.name or device_id
    if config_entry is None:
        raise _not_a_bell(name)
    entry: SafeHomeConfigEntry = config_entry
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"device": name},
        )
    state = entry.runtime_data.coordinator.data
    for device in state.devices.values():
        if device_identifier(state.hub.id, device.id) in device_entry.identifiers:
            if device.type != DeviceType.EMERGENCY_BELL:
                break
            return entry.runtime_data.client, device.id
    raise _not_a_bell(name)


async def _async_run_on_bells(call: ServiceCall, command: BellCommand) -> None:
    """Validate every target, then send the command to all of them at once."""
    bells = [_async_get_bell(call.hass, device_id) for device_id in call.data[ATTR_DEVICE_ID]]
    results = await asyncio.gather(
        *(async_run(command(client, bell_id)) for client, bell_id in bells),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _async_trigger_emergency(call: ServiceCall) -> None:
    """Raise an emergency on the bells, from a phone or a voice assistant (with its words)."""
    source = EmergencySource(call.data[ATTR_SOURCE])
    keyword = call.data.get(ATTR_KEYWORD) if source is EmergencySource.VOICE else None
    await _async_run_on_bells(
        call, lambda client, bell_id: client.trigger_emergency(bell_id, source, keyword)
    )


async def _async_cancel_emergency(call: ServiceCall) -> None:
    """Cancel the emergency on the bells (this also silences their sirens)."""
    await _async_run_on_bells(call, lambda client, bell_id: client.cancel_emergency(bell_id))


@callback
def _async_get_link_entry(hass: HomeAssistant, entry_id: str) -> MonitoringConfigEntry:
    """Return the loaded monitoring-centre entry an action targets."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN or not is_monitoring_entry(entry):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_monitoring_centre",
            translation_placeholders={"entry": entry.title if entry else entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="monitoring_centre_not_loaded",
            translation_placeholders={"entry": entry.title},
        )
    return entry


def _event(code: str, zone: int, text: str | None) -> SiaEvent:
    """Return the event to report, or raise a readable error for a bad code.

    The text never holds a report back: it is made carriable (Korean romanized).
    """
    code = code.strip().upper()
    try:
        event = SiaEvent(code, zone, carriable_text(text))
    except ValueError:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_sia_code",
            translation_placeholders={"code": code},
        ) from None
    if code not in KNOWN_CODES:
        # A receiver answers DUH to a code it does not know: refused here, readably.
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_sia_code",
            translation_placeholders={"code": code},
        )
    return event


async def _async_report_alarm(call: ServiceCall) -> ServiceResponse:
    """Queue a report for the monitoring centre; say whether its first try was ACKed.

    A report not acknowledged yet stays queued and is retried: a link failure never
    fails the action.
    """
    entry = _async_get_link_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    event = _event(call.data[ATTR_CODE], call.data[ATTR_ZONE], call.data.get(ATTR_TEXT))
    seq, delivered = await entry.runtime_data.link.async_report(event)
    return {"seq": seq, "delivered": delivered}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    hass.services.async_register(
        DOMAIN, SERVICE_TRIGGER_EMERGENCY, _async_trigger_emergency, schema=TRIGGER_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_CANCEL_EMERGENCY, _async_cancel_emergency, schema=SERVICE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_REPORT_ALARM,
        _async_report_alarm,
        schema=REPORT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
