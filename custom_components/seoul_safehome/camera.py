"""Cameras of the doorbell and the home camera: snapshots, live view and privacy."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import hdrs, web
from homeassistant.components.camera import (
    Camera,
    CameraEntityDescription,
    CameraEntityFeature,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_aiohttp_proxy_stream
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_interval

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

# Commands go straight to the hub, which serialises them itself.
PARALLEL_UPDATES = 0

# A stream URL's access key is valid for 10 minutes to start a stream: renew it well
# before that, so that a stream worker that restarts always has a valid key.
STREAM_SOURCE_REFRESH = timedelta(minutes=4)

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
        self._was_available = self.available

    async def async_added_to_hass(self) -> None:
        """Keep the live stream's access key fresh while the entity exists."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_track_time_interval(
                self.hass,
                self._async_refresh_stream_source,
                STREAM_SOURCE_REFRESH,
                name=f"{self.entity_id} stream source refresh",
            )
        )

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state; a hub that was away (restarted) forgot the stream's access key."""
        was_available, self._was_available = self._was_available, self.available
        super()._handle_coordinator_update()
        if self.stream is not None and self._was_available and not was_available:
            self.hass.async_create_task(
                self._async_refresh_stream_source(), f"{self.entity_id} stream source"
            )

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
        """Return the device's live stream URL (a secret: it carries an access key)."""
        if not self.device.has(CAP_STREAM):
            return None
        info = await async_run(self.coordinator.client.stream_info(self._device_id))
        return info.url or info.rtsp_url

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

    async def _async_refresh_stream_source(self, _now: datetime | None = None) -> None:
        """Give an existing live stream a URL with a fresh access key.

        The stream worker reads its source each time it (re)connects: an open stream is
        not interrupted, and a restart after a network error finds a valid key.
        """
        if (stream := self.stream) is None or not self.available or not self.is_on:
            return
        try:
            source = await self.stream_source()
        except HomeAssistantError as err:
            LOGGER.debug("Cannot renew the stream source of %s: %s", self.entity_id, err)
            return
        if source:
            stream.source = source
