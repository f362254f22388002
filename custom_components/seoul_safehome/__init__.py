"""The Seoul SafeHome integration: the city's home-safety kit in Home Assistant.

Two kinds of config entry: a SafeHome hub, and a link to a monitoring centre's alarm
receiver (SIA DC-09), which works with or without a hub.
"""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.typing import ConfigType
from homeassistant.util.hass_dict import HassKey

from .api import SafeHomeClient
from .blueprints import async_setup_blueprints
from .const import CONF_FINGERPRINT, DOMAIN
from .coordinator import SafeHomeCoordinator, StreamPosition
from .data import (
    AnyConfigEntry,
    MonitoringConfigEntry,
    MonitoringData,
    SafeHomeConfigEntry,
    SafeHomeData,
    is_monitoring_entry,
)
from .entity import device_identifier, hub_device_info
from .issues import (
    async_check_api_version,
    async_delete_issues,
    async_delete_pairing_issues,
    async_report_secure_link_required,
    async_watch_api_version,
)
from .monitoring import async_create_link
from .monitoring_alert import async_clear_unreachable
from .monitoring_queue import ReportQueue
from .services import async_setup_services

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.LOCK,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SIREN,
    Platform.SWITCH,
]
# A monitoring-centre link: its health and its reports.
MONITORING_PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
# Where each unloaded hub entry's event stream stopped (and when), for its next set-up.
DATA_STREAM_RESUME: HassKey[dict[str, tuple[StreamPosition, float]]] = HassKey(
    f"{DOMAIN}_stream_resume"
)
# A set-up this soon after the unload (a reload, set-up retries) tells what happened in
# between; an entry enabled again later starts from the hub's state (nothing old fires).
RESUME_WITHIN = 300.0


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions; install the blueprints once started."""
    async_setup_services(hass)

    @callback
    def install_blueprints(hass: HomeAssistant) -> None:
        # A job of its own, after start-up: setting up never waits for the file system.
        hass.async_create_task(async_setup_blueprints(hass), f"{DOMAIN} blueprint installation")

    async_at_started(hass, install_blueprints)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: AnyConfigEntry) -> bool:
    """Set up a hub, or a monitoring-centre link."""
    if is_monitoring_entry(entry):
        return await _async_setup_monitoring_centre(hass, entry)
    return await _async_setup_hub(hass, entry)


async def _async_setup_monitoring_centre(hass: HomeAssistant, entry: MonitoringConfigEntry) -> bool:
    """Load the link's stored reports and start delivering them (the receiver may be down)."""
    link = await async_create_link(hass, entry)
    entry.runtime_data = MonitoringData(link=link)
    await hass.config_entries.async_forward_entry_setups(entry, MONITORING_PLATFORMS)
    entry.async_on_unload(link.async_stop)
    # The entry cancels the task on unload and at stop; the queue is stored all along.
    entry.async_create_background_task(
        hass, link.async_run(), f"{DOMAIN} monitoring centre {entry.title}"
    )
    return True


async def _async_setup_hub(hass: HomeAssistant, entry: SafeHomeConfigEntry) -> bool:
    """Connect to a hub, load its devices and follow its event stream."""
    if not entry.data.get(CONF_FINGERPRINT):
        # Paired over the old plain-HTTP API: its token must never cross the network
        # again. Pair anew (re-authentication) over the secure link.
        async_report_secure_link_required(hass, entry)
        raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="secure_link")
    client = SafeHomeClient(
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        async_get_clientsession(hass),
        token=entry.data[CONF_TOKEN],
        fingerprint=entry.data[CONF_FINGERPRINT],
    )
    coordinator = SafeHomeCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    async_delete_pairing_issues(hass, entry)
    async_check_api_version(hass, entry, coordinator.data.hub)
    entry.async_on_unload(async_watch_api_version(hass, entry, coordinator))
    entry.runtime_data = SafeHomeData(client=client, coordinator=coordinator)

    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **hub_device_info(coordinator.data.hub)
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # The entities are listening: follow the hub from the state loaded above (the hub
    # replays what happened since). The entry cancels the task on unload and at stop.
    resume: StreamPosition | None = None
    if stopped := hass.data.get(DATA_STREAM_RESUME, {}).pop(entry.entry_id, None):
        position, when = stopped
        resume = position if hass.loop.time() - when <= RESUME_WITHIN else None
    entry.async_create_background_task(
        hass, coordinator.async_follow_stream(resume), f"{DOMAIN} event stream {entry.title}"
    )
    return True


async def async_unload_entry(hass: HomeAssistant, entry: AnyConfigEntry) -> bool:
    """Unload the platforms; the entry cancels the link's task.

    A hub's event stream stops first (nothing may change the entities while they are
    taken down), and its place is kept for the next set-up (a reload loses no event).
    """
    if is_monitoring_entry(entry):
        return await hass.config_entries.async_unload_platforms(entry, MONITORING_PLATFORMS)
    coordinator = entry.runtime_data.coordinator
    position = await coordinator.async_stop_following()
    unloaded = False
    try:
        unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    finally:
        if not unloaded:
            # The entities stay: keep them in step with the hub, from where it stopped.
            entry.async_create_background_task(
                hass, coordinator.async_follow_stream(position), f"{DOMAIN} event stream"
            )
        elif position is not None:
            stopped = (position, hass.loop.time())
            hass.data.setdefault(DATA_STREAM_RESUME, {})[entry.entry_id] = stopped
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: AnyConfigEntry) -> None:
    """Delete the entry's repair issues (and a link's stored reports) when it is removed."""
    if is_monitoring_entry(entry):
        async_clear_unreachable(hass, entry)
        await ReportQueue(hass, entry.entry_id).async_remove()
        return
    hass.data.get(DATA_STREAM_RESUME, {}).pop(entry.entry_id, None)
    async_delete_issues(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: AnyConfigEntry, device_entry: dr.DeviceEntry
) -> bool:
    """Allow deleting a device the hub no longer has (never the hub, nor a link's device)."""
    if is_monitoring_entry(entry):
        return False
    state = entry.runtime_data.coordinator.data
    current = {(DOMAIN, state.hub.id)} | {
        device_identifier(state.hub.id, device_id) for device_id in state.devices
    }
    return not device_entry.identifiers & current
