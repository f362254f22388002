"""Config flow for Seoul SafeHome: a hub, or a link to a monitoring centre.

A hub: find it, pair with its code, keep the pairing working. A monitoring centre: the
alarm receiver's address and this home's account there, checked with a test report.
"""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_CODE, CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import callback
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import voluptuous as vol

from .api import (
    Info,
    PairResult,
    SafeHomeAuthenticationError,
    SafeHomeClient,
    SafeHomeError,
    SafeHomeIdentityError,
    SafeHomePairingClosedError,
    SafeHomeProtocolError,
    SafeHomeRateLimitedError,
    SafeHomeTlsError,
)
from .const import (
    CLIENT_NAME,
    CONF_FINGERPRINT,
    CONF_KEY,
    CONF_UNLOCK_CODE,
    DEFAULT_PORT,
    DOMAIN,
    MIN_API_VERSION,
)
from .data import is_monitoring_entry
from .monitoring_config import async_test_link
from .monitoring_flow import (
    MonitoringOptionsFlow,
    centre_schema,
    centre_title,
    centre_unique_id,
    read_centre_input,
    read_options,
)
from .monitoring_queue import ReportQueue
from .unlock_code import CODE_RE, async_check_code, hash_code

CONF_REMOVE_UNLOCK_CODE = "remove_unlock_code"
CONF_CURRENT_UNLOCK_CODE = "current_unlock_code"

PAIR_SCHEMA = vol.Schema(
    {vol.Required(CONF_CODE): TextSelector(TextSelectorConfig(autocomplete="one-time-code"))}
)


def _address_schema(host: str | None, port: int) -> vol.Schema:
    """Return the form asking where the hub is."""
    return vol.Schema(
        {
            vol.Required(CONF_HOST, default=host or vol.UNDEFINED): TextSelector(
                TextSelectorConfig(autocomplete="off")
            ),
            vol.Required(CONF_PORT, default=port): vol.All(
                NumberSelector(
                    NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
                ),
                vol.Coerce(int),
            ),
        }
    )


def _abort_if_api_unsupported(info: Info) -> None:
    """Stop the flow if the hub speaks an API version this integration cannot use."""
    if not info.api_supported:
        raise AbortFlow(
            "unsupported_api_version",
            description_placeholders={
                "version": info.api_version,
                "required": ".".join(map(str, MIN_API_VERSION)),
            },
        )


class SafeHomeConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a SafeHome hub: address (typed or discovered), then its pairing code."""

    VERSION = 1
    MINOR_VERSION = 1

    _host: str
    _port: int
    _hub_id: str
    _name: str

    def _client(
        self, host: str | None = None, port: int | None = None, fingerprint: str | None = None
    ) -> SafeHomeClient:
        """Return a client (without a token) for the hub being set up."""
        return SafeHomeClient(
            host or self._host,
            port or self._port,
            async_get_clientsession(self.hass),
            fingerprint=fingerprint,
        )

    async def _async_fetch_info(
        self, user_input: dict[str, Any], errors: dict[str, str], fingerprint: str | None = None
    ) -> Info | None:
        """Ask the address the user typed who it is; fill `errors` if that fails.

        With the fingerprint of a paired hub, only that hub's certificate is accepted.
        """
        client = self._client(user_input[CONF_HOST], user_input[CONF_PORT], fingerprint)
        try:
            return await client.info()
        except SafeHomeIdentityError:
            errors[CONF_HOST] = "identity_mismatch"
        except SafeHomeTlsError:
            errors[CONF_HOST] = "not_secure"
        except SafeHomeProtocolError:
            errors[CONF_HOST] = "not_a_hub"
        except SafeHomeError:  # unreachable, or a hub answering 503 while it restarts
            errors[CONF_HOST] = "cannot_connect"
        return None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask what to set up: a SafeHome hub, or a link to a monitoring centre."""
        return self.async_show_menu(step_id="user", menu_options=["hub", "monitoring_centre"])

    async def async_step_hub(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the hub's address."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_HOST] = user_input[CONF_HOST].strip()
            if info := await self._async_fetch_info(user_input, errors):
                _abort_if_api_unsupported(info)
                await self.async_set_unique_id(info.id, raise_on_progress=False)
                self._abort_if_unique_id_configured(
                    updates={CONF_HOST: user_input[CONF_HOST], CONF_PORT: user_input[CONF_PORT]}
                )
                self._host, self._port = user_input[CONF_HOST], user_input[CONF_PORT]
                self._hub_id, self._name = info.id, info.name
                return await self.async_step_pair()
        else:
            user_input = {}

        return self.async_show_form(
            step_id="hub",
            data_schema=_address_schema(
                user_input.get(CONF_HOST), user_input.get(CONF_PORT, DEFAULT_PORT)
            ),
            errors=errors,
        )

    def _centre_configured(self, unique_id: str, entry_id: str | None = None) -> bool:
        """Whether another entry already links this account at this receiver."""
        return any(
            entry.unique_id == unique_id and entry.entry_id != entry_id
            for entry in self._async_current_entries(include_ignore=False)
        )

    async def async_step_monitoring_centre(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask where the centre's receiver is; send it a test report, which it must ACK."""
        errors: dict[str, str] = {}
        if user_input is not None and (data := read_centre_input(user_input, errors)):
            unique_id = centre_unique_id(data)
            if self._centre_configured(unique_id):
                return self.async_abort(reason="centre_already_configured")
            if error := await async_test_link(data):
                errors["base"] = error
            else:
                await self.async_set_unique_id(unique_id, raise_on_progress=False)
                return self.async_create_entry(
                    title=centre_title(data), data=data, options=read_options(user_input)
                )
        return self.async_show_form(
            step_id="monitoring_centre",
            data_schema=centre_schema(user_input or {}),
            errors=errors,
        )

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """Handle a hub announcing itself on the network."""
        if not (hub_id := discovery_info.properties.get("id")):
            return self.async_abort(reason="invalid_discovery_info")
        self._host = discovery_info.host
        self._port = discovery_info.port or DEFAULT_PORT
        await self.async_set_unique_id(hub_id)
        # A hub that is already set up may have moved: follow it, but only once the new
        # address has shown the certificate paired with (an announcement is easy to fake).
        await self._async_follow_moved_hub(hub_id)
        try:
            info = await self._client().info()
        except SafeHomeError:
            return self.async_abort(reason="cannot_connect")
        _abort_if_api_unsupported(info)
        self._hub_id, self._name = hub_id, info.name
        self.context["title_placeholders"] = {"name": info.name}
        return await self.async_step_pair()

    async def _async_follow_moved_hub(self, hub_id: str) -> None:
        """Abort for a hub that is set up; move its entry if the new address proves it."""
        entry = next(
            (e for e in self._async_current_entries(include_ignore=False) if e.unique_id == hub_id),
            None,
        )
        if entry is None:
            return
        moved = (entry.data.get(CONF_HOST), entry.data.get(CONF_PORT)) != (self._host, self._port)
        fingerprint = entry.data.get(CONF_FINGERPRINT)
        if moved and fingerprint:
            try:
                info = await self._client(fingerprint=fingerprint).info()
            except SafeHomeError:
                info = None
            if info is None or info.id != hub_id:
                # Not the paired hub (or not reachable as it): the entry stays where it is.
                raise AbortFlow("already_configured")
        self._abort_if_unique_id_configured(updates={CONF_HOST: self._host, CONF_PORT: self._port})

    async def _async_pair(
        self, user_input: dict[str, Any], errors: dict[str, str], placeholders: dict[str, str]
    ) -> PairResult | None:
        """Pair (SPAKE2) with the code the user typed; fill `errors` if that fails."""
        try:
            # The client drops spaces and dashes, and refuses a malformed code itself
            # (so a typo does not count towards the hub's attempt limit).
            result = await self._client().pair(user_input[CONF_CODE], CLIENT_NAME)
        except SafeHomeRateLimitedError as err:
            errors["base"] = "rate_limited"
            placeholders["retry_after"] = str(max(1, math.ceil(err.retry_after)))
        except SafeHomePairingClosedError:
            errors["base"] = "pairing_closed"
        except SafeHomeIdentityError:
            # The answer did not prove the hub knows the code: someone in the middle.
            errors["base"] = "identity_not_verified"
        except SafeHomeAuthenticationError as err:
            attempts_left = getattr(err, "attempts_left", None)
            if attempts_left == 0:
                errors["base"] = "pairing_attempts_used"
            else:
                errors[CONF_CODE] = "invalid_code"
        except SafeHomeError:
            errors["base"] = "cannot_connect"
        else:
            if result.hub.id != self._hub_id:
                raise AbortFlow("wrong_hub")
            return result
        return None

    def _pair_placeholders(self) -> dict[str, str]:
        """Name and address of the hub, for the pairing forms."""
        return {"name": self._name, "host": self._host}

    async def async_step_pair(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pair with a new hub using the code it shows after its pairing button is pressed."""
        errors: dict[str, str] = {}
        placeholders = self._pair_placeholders()
        if user_input is not None and (
            result := await self._async_pair(user_input, errors, placeholders)
        ):
            return self.async_create_entry(
                title=result.hub.name,
                data={
                    CONF_HOST: self._host,
                    CONF_PORT: self._port,
                    CONF_TOKEN: result.token,
                    CONF_FINGERPRINT: result.fingerprint,
                },
            )
        return self.async_show_form(
            step_id="pair",
            data_schema=PAIR_SCHEMA,
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start pairing again after the hub refused Home Assistant's token."""
        entry = self._get_reauth_entry()
        self._host, self._port = entry_data[CONF_HOST], entry_data[CONF_PORT]
        self._hub_id, self._name = str(entry.unique_id), entry.title
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the hub's pairing code again."""
        errors: dict[str, str] = {}
        placeholders = self._pair_placeholders()
        if user_input is not None and (
            result := await self._async_pair(user_input, errors, placeholders)
        ):
            return self.async_update_reload_and_abort(
                self._get_reauth_entry(),
                data_updates={CONF_TOKEN: result.token, CONF_FINGERPRINT: result.fingerprint},
            )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=PAIR_SCHEMA,
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address of a hub that is set up; its pairing stays."""
        entry = self._get_reconfigure_entry()
        if is_monitoring_entry(entry):
            return await self.async_step_reconfigure_centre()
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_HOST] = user_input[CONF_HOST].strip()
            fingerprint = entry.data.get(CONF_FINGERPRINT)
            if info := await self._async_fetch_info(user_input, errors, fingerprint):
                # Only this hub may ever receive the entry's token.
                await self.async_set_unique_id(info.id, raise_on_progress=False)
                self._abort_if_unique_id_mismatch(reason="wrong_hub")
                _abort_if_api_unsupported(info)
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_HOST: user_input[CONF_HOST],
                        CONF_PORT: user_input[CONF_PORT],
                    },
                )
        else:
            user_input = dict(entry.data)

        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_address_schema(user_input[CONF_HOST], user_input[CONF_PORT]),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    async def async_step_reconfigure_centre(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change a monitoring-centre link's receiver or account; its queued reports stay."""
        entry = self._get_reconfigure_entry()
        current_key = entry.data.get(CONF_KEY)
        errors: dict[str, str] = {}
        if user_input is not None and (data := read_centre_input(user_input, errors, current_key)):
            unique_id = centre_unique_id(data)
            if self._centre_configured(unique_id, entry.entry_id):
                return self.async_abort(reason="centre_already_configured")
            # The test takes the link's next sequence number: the centre never sees a
            # number twice for different messages.
            if is_monitoring_entry(entry) and entry.state is ConfigEntryState.LOADED:
                queue = entry.runtime_data.link.queue
            else:
                queue = ReportQueue(self.hass, entry.entry_id)
                await queue.async_load()
            if error := await async_test_link(data, await queue.async_take_sequence()):
                errors["base"] = error
            else:
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=unique_id,
                    title=centre_title(data),
                    data=data,
                    reason="centre_reconfigured",
                )
        return self.async_show_form(
            step_id="reconfigure_centre",
            data_schema=centre_schema(
                user_input or entry.data, with_options=False, has_key=bool(current_key)
            ),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: ConfigEntry,
    ) -> SafeHomeOptionsFlow | MonitoringOptionsFlow:
        """Return the options flow: a hub's unlock code, or a link's supervision and phones."""
        if is_monitoring_entry(config_entry):
            return MonitoringOptionsFlow()
        return SafeHomeOptionsFlow()


class SafeHomeOptionsFlow(OptionsFlowWithReload):
    """Set, change or remove the code asked for before unlocking from Home Assistant."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for a new unlock code (never shows the current one)."""
        errors: dict[str, str] = {}
        options = dict(self.config_entry.options)
        has_code = CONF_UNLOCK_CODE in options
        if user_input is not None:
            code = str(user_input.get(CONF_UNLOCK_CODE) or "").strip()
            changing = bool(code) or bool(user_input.get(CONF_REMOVE_UNLOCK_CODE))
            if has_code and changing:
                # Changing or removing the code needs the current one (same guard as
                # the locks: wrong ones count towards the lockout).
                current = str(user_input.get(CONF_CURRENT_UNLOCK_CODE) or "").strip()
                result = await async_check_code(
                    self.hass, self.config_entry.entry_id, options[CONF_UNLOCK_CODE], current
                )
                if result is not True:
                    errors[CONF_CURRENT_UNLOCK_CODE] = (
                        "unlock_code_wrong" if result is False else "unlock_code_locked_out"
                    )
            if errors:
                pass  # the form again, with the error
            elif has_code and user_input.get(CONF_REMOVE_UNLOCK_CODE):
                options.pop(CONF_UNLOCK_CODE)
                return self.async_create_entry(data=options)
            elif code and not CODE_RE.match(code):
                errors[CONF_UNLOCK_CODE] = "invalid_unlock_code"
            elif code:
                options[CONF_UNLOCK_CODE] = await self.hass.async_add_executor_job(hash_code, code)
                return self.async_create_entry(data=options)
            else:
                return self.async_create_entry(data=options)
        fields: dict[vol.Marker, Any] = {
            vol.Optional(CONF_UNLOCK_CODE): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="new-password")
            )
        }
        if has_code:
            fields = {
                vol.Optional(CONF_CURRENT_UNLOCK_CODE): TextSelector(
                    TextSelectorConfig(
                        type=TextSelectorType.PASSWORD, autocomplete="current-password"
                    )
                ),
                **fields,
                vol.Optional(CONF_REMOVE_UNLOCK_CODE, default=False): BooleanSelector(),
            }
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(fields),
            errors=errors,
        )
