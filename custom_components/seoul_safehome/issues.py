"""Repair issues: an unsupported hub API, a pairing that must be renewed, a changed hub."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import issue_registry as ir

from .api import Info
from .const import (
    DOMAIN,
    ISSUE_API_VERSION,
    ISSUE_IDENTITY_CHANGED,
    ISSUE_SECURE_LINK,
    MIN_API_VERSION,
    SUPPORTED_API_MAJOR,
)
from .data import SafeHomeConfigEntry

if TYPE_CHECKING:
    from .coordinator import SafeHomeCoordinator

MIN_API_VERSION_TEXT = ".".join(str(part) for part in MIN_API_VERSION)


def api_version_issue_id(entry: SafeHomeConfigEntry) -> str:
    """Return the id of an entry's API version issue."""
    return f"{ISSUE_API_VERSION}_{entry.entry_id}"


@callback
def async_check_api_version(hass: HomeAssistant, entry: SafeHomeConfigEntry, hub: Info) -> None:
    """Raise ConfigEntryError and open a repair issue if the hub's API is unsupported.

    A hub older than MIN_API_VERSION needs a firmware update; one of another major version
    (newer) needs a newer integration. Retrying cannot fix either, so setup fails for good
    (no retry every few minutes against a hub that will answer the same); the issue tells
    the user what to update, and the reload or restart that follows deletes it.
    """
    issue_id = api_version_issue_id(entry)
    version = hub.api_version_tuple
    if version[0] == SUPPORTED_API_MAJOR and version >= MIN_API_VERSION:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    key = "api_version_too_old" if version < MIN_API_VERSION else "api_version_unsupported"
    placeholders = {
        "name": entry.title,
        "version": hub.api_version,
        "min_version": MIN_API_VERSION_TEXT,
        "major": str(SUPPORTED_API_MAJOR),
    }
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=key,
        translation_placeholders=placeholders,
    )
    raise ConfigEntryError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


@callback
def async_watch_api_version(
    hass: HomeAssistant, entry: SafeHomeConfigEntry, coordinator: SafeHomeCoordinator
) -> CALLBACK_TYPE:
    """Reload the entry when the hub reports another API version (new firmware).

    The reload checks the version again, so a hub that now speaks an unsupported API
    gets its repair issue, and one that was updated simply carries on.
    """
    version = coordinator.data.hub.api_version

    @callback
    def check() -> None:
        if coordinator.data.hub.api_version != version:
            hass.config_entries.async_schedule_reload(entry.entry_id)

    return coordinator.async_add_listener(check)


def _pairing_issue_id(kind: str, entry: SafeHomeConfigEntry) -> str:
    return f"{kind}_{entry.entry_id}"


@callback
def _async_report_pairing_issue(
    hass: HomeAssistant, entry: SafeHomeConfigEntry, kind: str, severity: ir.IssueSeverity
) -> None:
    """Open a pairing issue (it names the hub; the reauth flow is its fix)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        _pairing_issue_id(kind, entry),
        is_fixable=False,
        severity=severity,
        translation_key=kind,
        translation_placeholders={"name": entry.title},
    )


@callback
def async_report_secure_link_required(hass: HomeAssistant, entry: SafeHomeConfigEntry) -> None:
    """Tell the user that a hub paired over the old plain-HTTP link must be paired again."""
    _async_report_pairing_issue(hass, entry, ISSUE_SECURE_LINK, ir.IssueSeverity.ERROR)


@callback
def async_report_identity_changed(hass: HomeAssistant, entry: SafeHomeConfigEntry) -> None:
    """Tell the user that the hub's certificate is not the one paired with."""
    _async_report_pairing_issue(hass, entry, ISSUE_IDENTITY_CHANGED, ir.IssueSeverity.CRITICAL)


@callback
def async_delete_pairing_issues(hass: HomeAssistant, entry: SafeHomeConfigEntry) -> None:
    """Delete the pairing issues (the hub was reached with the pairing kept)."""
    for kind in (ISSUE_SECURE_LINK, ISSUE_IDENTITY_CHANGED):
        ir.async_delete_issue(hass, DOMAIN, _pairing_issue_id(kind, entry))


@callback
def async_delete_issues(hass: HomeAssistant, entry: SafeHomeConfigEntry) -> None:
    """Delete an entry's repair issues (the entry is being removed)."""
    ir.async_delete_issue(hass, DOMAIN, api_version_issue_id(entry))
    async_delete_pairing_issues(hass, entry)
