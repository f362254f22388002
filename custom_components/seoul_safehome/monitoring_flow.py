"""The forms of a monitoring-centre link: its settings, checked fields, and its options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.selector import (
    BooleanSelector,
    DeviceFilterSelectorConfig,
    DeviceSelector,
    DeviceSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .const import (
    CONF_ACCOUNT,
    CONF_ENTRY_TYPE,
    CONF_KEY,
    CONF_LINE,
    CONF_PHONES,
    CONF_PROTOCOL,
    CONF_RECEIVER,
    CONF_SUPERVISION,
    DEFAULT_SUPERVISION,
    ENTRY_TYPE_MONITORING,
)
from .monitoring_config import PROTOCOLS, normalize_account, normalize_key

CONF_REMOVE_KEY = "remove_key"
# The largest receiver and line numbers (DC-09: up to 6 digits).
FIELD_MAX = 999_999
SUPERVISION_MAX = 7 * 24 * 3600


def _number(minimum: int, maximum: int, unit: str | None = None) -> vol.All:
    config = NumberSelectorConfig(min=minimum, max=maximum, step=1, mode=NumberSelectorMode.BOX)
    if unit:
        config["unit_of_measurement"] = unit
    return vol.All(NumberSelector(config), vol.Coerce(int))


def _default(values: Mapping[str, Any], key: str) -> Any:
    return values[key] if values.get(key) is not None else vol.UNDEFINED


def options_fields(values: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """Return the form fields of the link's options: supervision interval and phones."""
    return {
        vol.Required(
            CONF_SUPERVISION, default=values.get(CONF_SUPERVISION, DEFAULT_SUPERVISION)
        ): _number(0, SUPERVISION_MAX, "s"),
        vol.Optional(CONF_PHONES, default=list(values.get(CONF_PHONES, []))): DeviceSelector(
            DeviceSelectorConfig(
                filter=DeviceFilterSelectorConfig(integration="mobile_app"), multiple=True
            )
        ),
    }


def centre_schema(
    values: Mapping[str, Any], *, with_options: bool = True, has_key: bool = False
) -> vol.Schema:
    """Return the form asking where the receiver is and who this home is there.

    The key is never shown again; on a link that has one, leaving it empty keeps it.
    """
    fields: dict[vol.Marker, Any] = {
        vol.Required(CONF_HOST, default=_default(values, CONF_HOST)): TextSelector(
            TextSelectorConfig(autocomplete="off")
        ),
        vol.Required(CONF_PORT, default=_default(values, CONF_PORT)): _number(1, 65535),
        vol.Required(CONF_PROTOCOL, default=values.get(CONF_PROTOCOL, "tcp")): SelectSelector(
            SelectSelectorConfig(
                options=list(PROTOCOLS), translation_key=CONF_PROTOCOL, mode=SelectSelectorMode.LIST
            )
        ),
        vol.Required(CONF_ACCOUNT, default=_default(values, CONF_ACCOUNT)): TextSelector(
            TextSelectorConfig(autocomplete="off")
        ),
        vol.Required(CONF_RECEIVER, default=values.get(CONF_RECEIVER, 0)): _number(0, FIELD_MAX),
        vol.Required(CONF_LINE, default=values.get(CONF_LINE, 0)): _number(0, FIELD_MAX),
        vol.Optional(CONF_KEY): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off")
        ),
    }
    if has_key:
        fields[vol.Optional(CONF_REMOVE_KEY, default=False)] = BooleanSelector()
    if with_options:
        fields |= options_fields(values)
    return vol.Schema(fields)


def read_centre_input(
    user_input: dict[str, Any], errors: dict[str, str], current_key: str | None = None
) -> dict[str, Any] | None:
    """Return the entry data for what the user typed, or None with `errors` filled.

    `current_key` is the key of the link being changed: an empty key field keeps it.
    """
    account = normalize_account(str(user_input.get(CONF_ACCOUNT, "")))
    if account is None:
        errors[CONF_ACCOUNT] = "invalid_account"
    try:
        key = normalize_key(user_input.get(CONF_KEY))
    except ValueError:
        errors[CONF_KEY] = "invalid_key"
        key = None
    if errors:
        return None
    if not key and not user_input.get(CONF_REMOVE_KEY):
        key = current_key
    return {
        CONF_ENTRY_TYPE: ENTRY_TYPE_MONITORING,
        CONF_HOST: str(user_input[CONF_HOST]).strip(),
        CONF_PORT: int(user_input[CONF_PORT]),
        CONF_PROTOCOL: user_input[CONF_PROTOCOL],
        CONF_ACCOUNT: account,
        CONF_RECEIVER: int(user_input[CONF_RECEIVER]),
        CONF_LINE: int(user_input[CONF_LINE]),
        CONF_KEY: key or None,
    }


def read_options(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Return the link's options from a form."""
    return {
        CONF_SUPERVISION: int(user_input.get(CONF_SUPERVISION, DEFAULT_SUPERVISION)),
        CONF_PHONES: list(user_input.get(CONF_PHONES, [])),
    }


def centre_unique_id(data: Mapping[str, Any]) -> str:
    """Return a link's unique id: the receiver's address and the account there."""
    return f"{str(data[CONF_HOST]).lower()}:{data[CONF_PORT]}:{data[CONF_ACCOUNT]}"


def centre_title(data: Mapping[str, Any]) -> str:
    """Return a link's entry title: the account at the receiver's address."""
    return f"{data[CONF_ACCOUNT]} @ {data[CONF_HOST]}:{data[CONF_PORT]}"


class MonitoringOptionsFlow(OptionsFlowWithReload):
    """Change a link's supervision interval and the phones alerted when it fails."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Start with the link's options form."""
        return await self.async_step_monitoring_centre()

    async def async_step_monitoring_centre(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the supervision interval and the phones."""
        if user_input is not None:
            return self.async_create_entry(data=read_options(user_input))
        return self.async_show_form(
            step_id="monitoring_centre",
            data_schema=vol.Schema(options_fields(self.config_entry.options)),
            description_placeholders={"name": self.config_entry.title},
        )
