"""Run a command on the SafeHome hub and turn its failures into translated errors."""

from __future__ import annotations

from collections.abc import Awaitable

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api import (
    SafeHomeAuthenticationError,
    SafeHomeCommandError,
    SafeHomeConnectionError,
    SafeHomeError,
)
from .const import DOMAIN

# Hub error codes (docs/protocol.md §6) with a message of their own in `exceptions`.
# The device's state refused the command: the user may retry once it changed.
STATE_ERRORS: frozenset[str] = frozenset(
    {"door_open", "window_open", "jammed", "busy", "camera_off", "offline"}
)
# The request itself was wrong: a ServiceValidationError, not a device fault.
VALIDATION_ERRORS: frozenset[str] = frozenset(
    {"invalid_params", "unsupported", "unknown_command", "not_found"}
)


def command_error(err: SafeHomeError) -> HomeAssistantError:
    """Return the translated Home Assistant error for a failed hub request."""
    if isinstance(err, SafeHomeCommandError) and err.code in VALIDATION_ERRORS:
        return ServiceValidationError(translation_domain=DOMAIN, translation_key=err.code)
    if isinstance(err, SafeHomeCommandError) and err.code in STATE_ERRORS:
        return HomeAssistantError(translation_domain=DOMAIN, translation_key=err.code)
    if isinstance(err, SafeHomeCommandError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_failed",
            translation_placeholders={"code": str(err.code or err.status or "unknown")},
        )
    if isinstance(err, SafeHomeAuthenticationError):
        return HomeAssistantError(translation_domain=DOMAIN, translation_key="command_unauthorized")
    if isinstance(err, SafeHomeConnectionError):
        return HomeAssistantError(
            translation_domain=DOMAIN, translation_key="command_cannot_connect"
        )
    return HomeAssistantError(translation_domain=DOMAIN, translation_key="command_invalid_answer")


async def async_run[T](coro: Awaitable[T]) -> T:
    """Await a client call; raise a translated HomeAssistantError if the hub refuses it.

    The hub's own message is never shown: it may be English only, and error texts are
    kept free of anything secret (tokens, stream access keys).
    """
    try:
        return await coro
    except SafeHomeError as err:
        raise command_error(err) from err
