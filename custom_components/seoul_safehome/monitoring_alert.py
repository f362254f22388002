"""Tell the resident when the monitoring centre cannot be reached: a repair and a phone alert.

The repair issue stays while the link keeps failing; the phones chosen in the link's
options get a critical alert (sounding in silent and Do Not Disturb mode, like the
emergency blueprint's) for alarm reports that could not be delivered, and a quiet
follow-up, replacing it, once the centre has them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import slugify

from .compat import async_get_device_and_entry
from .const import CONF_PHONES, DOMAIN, ISSUE_CENTRE_UNREACHABLE, LOGGER
from .data import MonitoringConfigEntry
from .monitoring_queue import QueuedReport

# The repair issue of a report the centre refused to process (DUH after DUH).
ISSUE_CENTRE_REFUSED = "monitoring_centre_refused"
MOBILE_APP = "mobile_app"
NOTIFY = "notify"
# What makes the alert critical (as in the emergency blueprint): an iOS critical alert at
# full volume, and Android's alarm stream channel.
IOS_CRITICAL: dict[str, Any] = {
    "push": {
        "sound": {"name": "default", "critical": 1, "volume": 1.0},
        "interruption-level": "critical",
    }
}
ANDROID_CRITICAL: dict[str, Any] = {
    "ttl": 0,
    "priority": "high",
    "channel": "alarm_stream",
    "importance": "high",
    "persistent": True,
    "sticky": "true",
}


def issue_id(entry: MonitoringConfigEntry) -> str:
    """Return the id of an entry's "centre cannot be reached" repair issue."""
    return f"{ISSUE_CENTRE_UNREACHABLE}_{entry.entry_id}"


def refused_issue_id(entry: MonitoringConfigEntry) -> str:
    """Return the id of an entry's "the centre refused a report" repair issue."""
    return f"{ISSUE_CENTRE_REFUSED}_{entry.entry_id}"


def _placeholders(entry: MonitoringConfigEntry) -> dict[str, str]:
    return {"name": entry.title, "host": str(entry.data[CONF_HOST])}


def _listed(reports: Iterable[QueuedReport]) -> str:
    return ", ".join(f"{r.code} (#{r.seq:04d})" for r in reports)


@callback
def async_report_refused(
    hass: HomeAssistant, entry: MonitoringConfigEntry, reports: Iterable[QueuedReport]
) -> None:
    """Open the repair issue: the centre refused to process these reports (dropped)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        refused_issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.CRITICAL,
        translation_key=ISSUE_CENTRE_REFUSED,
        translation_placeholders=_placeholders(entry) | {"reports": _listed(reports)},
    )


@callback
def async_report_unreachable(hass: HomeAssistant, entry: MonitoringConfigEntry) -> None:
    """Open (or keep) the repair issue: reports or tests are not acknowledged."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.CRITICAL,
        translation_key=ISSUE_CENTRE_UNREACHABLE,
        translation_placeholders=_placeholders(entry),
    )


@callback
def async_clear_unreachable(hass: HomeAssistant, entry: MonitoringConfigEntry) -> None:
    """Delete the repair issue: the centre acknowledges again."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(entry))


def _phone_target(hass: HomeAssistant, device_id: str) -> tuple[str, bool] | None:
    """Return a phone's notify action and whether it is an iPhone (None: not a phone)."""
    device, app_entry = async_get_device_and_entry(hass, device_id, MOBILE_APP)
    if device is None or app_entry is None:
        return None
    # The Companion app's notify action is named after the name the app registered.
    name = app_entry.data.get("device_name") or device.name
    if not name:
        return None
    manufacturer = getattr(device, "manufacturer", None)
    return f"{MOBILE_APP}_{slugify(name)}", manufacturer == "Apple"


async def _async_texts(
    hass: HomeAssistant, key: str, placeholders: dict[str, str], issue: str
) -> tuple[str, str]:
    """Return the notification's title and message in Home Assistant's language."""
    language = hass.config.language
    exceptions = await async_get_translations(hass, language, "exceptions", [DOMAIN])
    issues = await async_get_translations(hass, language, "issues", [DOMAIN])
    base = f"component.{DOMAIN}"
    title = issues.get(f"{base}.issues.{issue}.title", "")
    message = exceptions.get(f"{base}.exceptions.{key}.message", key)
    return title.format(**placeholders), message.format(**placeholders)


async def _async_notify_phones(
    hass: HomeAssistant,
    entry: MonitoringConfigEntry,
    key: str,
    reports: Iterable[QueuedReport],
    critical: bool,
    issue: str = ISSUE_CENTRE_UNREACHABLE,
) -> None:
    """Send one notification about `reports` to every phone, each on its own."""
    placeholders = _placeholders(entry) | {"reports": _listed(reports)}
    title, message = await _async_texts(hass, key, placeholders, issue)
    common = {"tag": f"{DOMAIN}_{issue_id(entry)}", "group": f"{DOMAIN}_monitoring_centre"}
    for device_id in entry.options.get(CONF_PHONES, []):
        if (target := _phone_target(hass, device_id)) is None:
            LOGGER.warning("%s: device %s is not a Companion app phone", entry.title, device_id)
            continue
        action, iphone = target
        if not hass.services.has_service(NOTIFY, action):
            LOGGER.warning("%s: notify.%s does not exist", entry.title, action)
            continue
        data = dict(common)
        if critical:
            data |= IOS_CRITICAL if iphone else ANDROID_CRITICAL
        try:
            await hass.services.async_call(
                NOTIFY,
                action,
                {"title": title, "message": message, "data": data},
                blocking=True,
            )
        except HomeAssistantError as err:
            LOGGER.warning("%s: could not alert notify.%s: %s", entry.title, action, err)


async def async_alert_undelivered(
    hass: HomeAssistant, entry: MonitoringConfigEntry, reports: Iterable[QueuedReport]
) -> None:
    """Alert the phones (critically): these alarm reports have not reached the centre."""
    await _async_notify_phones(hass, entry, "centre_reports_undelivered", reports, True)


async def async_tell_delivered(
    hass: HomeAssistant, entry: MonitoringConfigEntry, reports: Iterable[QueuedReport]
) -> None:
    """Tell the phones (quietly, replacing the alert) that the centre has the reports now."""
    await _async_notify_phones(hass, entry, "centre_reports_delivered", reports, False)


async def async_alert_refused(
    hass: HomeAssistant, entry: MonitoringConfigEntry, reports: Iterable[QueuedReport]
) -> None:
    """Alert the phones (critically): the centre refused these reports; they are dropped."""
    await _async_notify_phones(
        hass, entry, "centre_reports_refused", reports, True, ISSUE_CENTRE_REFUSED
    )
