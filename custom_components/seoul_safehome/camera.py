"""Cameras of the doorbell and the home camera: snapshots, live view and privacy."""

from __future__ import annotations

import aiohttp
from aiohttp import hdrs, web
from homeassistant.components.camera import (
    Camera,
    CameraEntityDescription,
    CameraEntityFeature,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_aiohttp_proxy_stream
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import (
    CameraState as SafeHomeCameraState,
    Device,
    DeviceType,
    DoorbellState,
    SafeHomeError,
)
from .api.const import CAP_MJPEG, CAP_MOTION, CAP_PRIVACY, CAP_STREAM
from .commands import async_run
from .const import DOMAIN, LOGGER
from .coordinator import SafeHomeCoordinator
from .data import SafeHomeConfigEntry
from .entity import SafeHomeEntity, async_add_device_entities
from .live_proxy import LiveSource, async_open_live_stream, async_register_live_source

# Commands go straight to the hub, which serialises them itself.
PARALLEL_UPDATES = 0

CAMERA_DESCRIPTIONS: dict[str, CameraEntityDescription] = {
    # The doorbell's camera is one of its features: "Front door doorbell Camera".
    DeviceType.DOORBELL: CameraEntityDescription(key="camera", translation_key="camera"),
    # A home camera is the camera: the entity takes the device's name.
    DeviceType.CAMERA: CameraEntityDescription(key="camera", name=None),
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SafeHomeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a camera entity for every doorbell and home camera, now and later."""

    def create(coordinator: SafeHomeCoordinator, device: Device) -> list[SafeHomeCamera]:
        if (description := CAMERA_DESCRIPTIONS.get(device.type)) is None:
            return []
        return [SafeHomeCamera(coordinator, device, description)]

    async_add_device_entities(entry, async_add_entities, create)


class SafeHomeCamera(SafeHomeEntity, Camera):
    """The camera of a doorbell or home camera; off means privacy mode."""

    entity_description: CameraEntityDescription

    def __init__(
        self,
        coordinator: SafeHomeCoordinator,
        device: Device,
        description: CameraEntityDescription,
    ) -> None:
        """Bind the camera to its device."""
        Camera.__init__(self)
        super().__init__(coordinator, device, description)
        self._live: LiveSource | None = None

    async def async_added_to_hass(self) -> None:
        """Give the camera its loopback stream source (a new secret each time it is added)."""
        await super().async_added_to_hass()
        self._live = async_register_live_source(
            self.hass,
            self.coordinator.config_entry.entry_id,
            self._device_id,
            self._async_open_live_stream,
        )
        self.async_on_remove(self._live.async_remove)

    @property
    def supported_features(self) -> CameraEntityFeature:
        """Live view through the stream component if the device streams; on/off = privacy."""
        features = CameraEntityFeature(0)
        if self.device.has(CAP_STREAM):
            features |= CameraEntityFeature.STREAM
        if self.device.has(CAP_PRIVACY):
            features |= CameraEntityFeature.ON_OFF
        return features

    @property
    def is_on(self) -> bool:
        """Return False while the camera is in privacy mode."""
        state = self.device.state
        return not isinstance(state, DoorbellState | SafeHomeCameraState) or state.camera_on

    @property
    def brand(self) -> str:
        """Return the camera's manufacturer."""
        return self.device.manufacturer

    @property
    def model(self) -> str:
        """Return the camera's model."""
        return self.device.model

    @property
    def motion_detection_enabled(self) -> bool:
        """Return True if the camera detects motion (it always does when it can)."""
        return self.device.has(CAP_MOTION)

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return a fresh JPEG from the hub (Home Assistant scales it if asked)."""
        if not self.is_on:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="camera_off")
        return await async_run(self.coordinator.client.snapshot(self._device_id))

    async def stream_source(self) -> str | None:
        """Return the live stream's source: a relay of the hub's stream on this machine.

        A secret (it carries the camera's relay key, never the hub's access key). Every
        connection to it gets a fresh access key from the hub over the pinned TLS, so a
        stream worker that restarts (hub restart, expired key) needs no new source.
        """
        if not self.device.has(CAP_STREAM) or self._live is None:
            return None
        return self._live.url

    async def _async_open_live_stream(self) -> aiohttp.ClientResponse:
        """Open the device's live stream on the hub (for the relay)."""
        return await async_open_live_stream(self.coordinator.client, self._device_id)

    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse | None:
        """Proxy the hub's MJPEG stream, or build one from snapshots if it has none."""
        if not self.device.has(CAP_MJPEG):
            return await super().handle_async_mjpeg_stream(request)
        try:
            response = await self.coordinator.client.mjpeg(self._device_id)
        except SafeHomeError as err:
            LOGGER.debug("Cannot open the MJPEG stream of %s: %s", self.entity_id, err)
            return None
        try:
            return await async_aiohttp_proxy_stream(
                self.hass, request, response.content, response.headers.get(hdrs.CONTENT_TYPE)
            )
        finally:
            response.close()

    async def async_turn_on(self) -> None:
        """Leave privacy mode."""
        await async_run(self.coordinator.client.camera_on(self._device_id))

    async def async_turn_off(self) -> None:
        """Enter privacy mode: the camera stops serving pictures and video."""
        await async_run(self.coordinator.client.camera_off(self._device_id))
