"""Cameras of the doorbell and the home camera against a real hub (the emulator): what a user
sees in the dashboard, in the live view and in recordings."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from http import HTTPStatus
import io
import logging
from pathlib import Path

import aiohttp
import av
from homeassistant.components.camera import (
    DOMAIN as CAMERA_DOMAIN,
    Camera,
    CameraEntityFeature,
    async_get_image,
    async_get_stream_source,
)
from homeassistant.components.camera.const import DATA_COMPONENT, StreamType
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.seoul_safehome import camera as camera_platform
from safehome_emulator import Emulator
from tests.conftest import Control, pinned
from tests.integration.common import until, wait_for_state

DOORBELL_CAMERA = "camera.front_door_doorbell_camera"
HOME_CAMERA = "camera.home_camera"
DOMAIN_LOGGER = "custom_components.seoul_safehome"
RENEWAL = timedelta(seconds=0.1)

pytestmark = pytest.mark.usefixtures("init_integration")


def camera_entity(hass: HomeAssistant, entity_id: str) -> Camera:
    """Return the live camera entity object behind an entity id."""
    entity = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert entity is not None
    return entity


def assert_jpeg(data: bytes) -> Image.Image:
    """Fail unless `data` is a complete JPEG; return it decoded."""
    assert data[:2] == b"\xff\xd8", "not a JPEG (no SOI marker)"
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "JPEG"
    return image


async def test_cameras_of_the_kit(hass: HomeAssistant) -> None:
    """The doorbell and the home camera each get a camera with live view and privacy."""
    for entity_id in (DOORBELL_CAMERA, HOME_CAMERA):
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert state.state == "idle"
        features = state.attributes["supported_features"]
        assert features & CameraEntityFeature.STREAM
        assert features & CameraEntityFeature.ON_OFF
        assert state.attributes["brand"] == "Seoul SafeHome"
        assert state.attributes["model_name"]
        assert state.attributes["motion_detection"] is True
        camera = camera_entity(hass, entity_id)
        assert camera.is_on
        # The frontend plays the live view through the stream component (HLS).
        assert camera.camera_capabilities.frontend_stream_types == {StreamType.HLS}
    assert hass.states.get(DOORBELL_CAMERA).name == "Front door doorbell Camera"
    assert hass.states.get(HOME_CAMERA).name == "Home camera"
    # Locks and bells have no camera.
    assert len(hass.states.async_entity_ids(CAMERA_DOMAIN)) == 2


async def test_snapshot_is_a_fresh_jpeg(hass: HomeAssistant) -> None:
    """A snapshot is a real JPEG of the camera, and a later one shows a later scene."""
    first = await async_get_image(hass, HOME_CAMERA)
    assert first.content_type == "image/jpeg"
    assert assert_jpeg(first.content).size == (320, 240)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while (later := (await async_get_image(hass, HOME_CAMERA)).content) == first.content:
        assert loop.time() < deadline, "the picture never changed"
        await asyncio.sleep(0.1)
    assert_jpeg(later)

    # The doorbell's camera works the same way, and Home Assistant scales on request.
    scaled = await async_get_image(hass, DOORBELL_CAMERA, width=160, height=120)
    assert assert_jpeg(scaled.content).size[0] <= 320


async def test_snapshot_through_the_camera_proxy(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """The dashboard's picture (the camera proxy) is the camera's JPEG."""
    client = await hass_client()
    resp = await client.get(f"/api/camera_proxy/{HOME_CAMERA}")
    assert resp.status == HTTPStatus.OK
    assert resp.content_type == "image/jpeg"
    assert_jpeg(await resp.read())


async def test_privacy_mode(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, control: Control
) -> None:
    """Turning the camera off puts the device in privacy mode: no pictures until it is on."""
    camera = camera_entity(hass, HOME_CAMERA)
    await hass.services.async_call(
        CAMERA_DOMAIN, "turn_off", {ATTR_ENTITY_ID: HOME_CAMERA}, blocking=True
    )
    assert (await control.device("cam-1"))["state"]["camera_on"] is False
    await until(lambda: not camera.is_on)

    client = await hass_client()
    resp = await client.get(f"/api/camera_proxy/{HOME_CAMERA}")
    assert resp.status == HTTPStatus.SERVICE_UNAVAILABLE
    resp = await client.get(f"/api/camera_proxy_stream/{HOME_CAMERA}")
    assert resp.status == HTTPStatus.SERVICE_UNAVAILABLE
    with pytest.raises(HomeAssistantError, match="Camera is off"):
        await async_get_image(hass, HOME_CAMERA)
    # An automation asking for a snapshot is told why there is none.
    with pytest.raises(HomeAssistantError) as err:
        await camera.async_camera_image()
    assert err.value.translation_key == "camera_off"
    assert str(err.value) == "The camera is in privacy mode. Turn it on first"
    # The doorbell's camera is not affected.
    assert_jpeg((await async_get_image(hass, DOORBELL_CAMERA)).content)

    await hass.services.async_call(
        CAMERA_DOMAIN, "turn_on", {ATTR_ENTITY_ID: HOME_CAMERA}, blocking=True
    )
    assert (await control.device("cam-1"))["state"]["camera_on"] is True
    await until(lambda: camera.is_on)
    assert_jpeg((await async_get_image(hass, HOME_CAMERA)).content)
    commands = [(c["device_id"], c["command"]) for c in await control.commands()]
    assert commands == [("cam-1", "camera_off"), ("cam-1", "camera_on")]


async def test_privacy_command_fails_translated(hass: HomeAssistant, control: Control) -> None:
    """A camera the hub cannot reach: turning it off fails with a clear message."""
    await control.post("/devices/cam-1/online", {"online": False})
    await wait_for_state(hass, HOME_CAMERA, STATE_UNAVAILABLE)
    camera = camera_entity(hass, HOME_CAMERA)
    with pytest.raises(HomeAssistantError) as err:
        await camera.async_turn_off()
    assert err.value.translation_key == "offline"
    with pytest.raises(HomeAssistantError) as err:
        await camera.async_camera_image()
    assert err.value.translation_key == "offline"

    await control.post("/devices/cam-1/online", {"online": True})
    await wait_for_state(hass, HOME_CAMERA, "idle")


async def test_mjpeg_live_view(hass: HomeAssistant, hass_client: ClientSessionGenerator) -> None:
    """The MJPEG live view relays the hub's stream: a sequence of JPEG frames."""
    client = await hass_client()
    resp = await client.get(f"/api/camera_proxy_stream/{DOORBELL_CAMERA}")
    assert resp.status == HTTPStatus.OK
    assert resp.content_type == "multipart/x-mixed-replace"
    boundary = resp.headers["Content-Type"].split("boundary=")[1].strip('"')
    frames = await read_mjpeg_frames(resp.content, boundary, 3)
    resp.close()
    for frame in frames:
        assert assert_jpeg(frame).size == (320, 240)
    assert len(set(frames)) > 1, "the live view does not move"


async def read_mjpeg_frames(
    content: aiohttp.StreamReader, boundary: str, count: int
) -> list[bytes]:
    """Read `count` JPEG parts of a multipart/x-mixed-replace body."""
    marker = f"--{boundary}".encode()
    buffer = b""
    frames: list[bytes] = []
    async with asyncio.timeout(10):
        while len(frames) < count:
            buffer += await content.readany()
            while True:
                start = buffer.find(marker)
                if start < 0:
                    break
                end = buffer.find(marker, start + len(marker))
                if end < 0:
                    break
                part = buffer[start + len(marker) : end]
                buffer = buffer[end:]
                _headers, _, body = part.partition(b"\r\n\r\n")
                if body:
                    frames.append(body.rstrip(b"\r\n"))
    return frames[:count]


async def test_mjpeg_live_view_from_snapshots(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, control: Control
) -> None:
    """A camera without MJPEG still has a live view, built from its snapshots."""
    await control.post(
        "/devices",
        {
            "id": "cam-2",
            "type": "camera",
            "name": "Kitchen camera",
            "capabilities": ["snapshot", "privacy"],
        },
    )
    await wait_for_state(hass, "camera.kitchen_camera", "idle")
    state = hass.states.get("camera.kitchen_camera")
    assert not state.attributes["supported_features"] & CameraEntityFeature.STREAM
    assert await async_get_stream_source(hass, "camera.kitchen_camera") is None

    client = await hass_client()
    resp = await client.get("/api/camera_proxy_stream/camera.kitchen_camera")
    assert resp.status == HTTPStatus.OK
    frames = await read_mjpeg_frames(resp.content, "frameboundary", 1)
    resp.close()
    assert_jpeg(frames[0])


async def test_mjpeg_live_view_hub_unreachable(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, control: Control
) -> None:
    """If the hub cannot open the live view, the dashboard gets a gateway error."""
    await control.post("/devices/doorbell-1/online", {"online": False})
    await wait_for_state(hass, DOORBELL_CAMERA, STATE_UNAVAILABLE)
    client = await hass_client()
    resp = await client.get(f"/api/camera_proxy_stream/{DOORBELL_CAMERA}")
    assert resp.status == HTTPStatus.BAD_GATEWAY


async def test_stream_source_is_the_devices_live_stream(
    hass: HomeAssistant, emulator: Emulator
) -> None:
    """The stream source is the hub's H.264 stream of that camera, which plays without a token."""
    source = await async_get_stream_source(hass, HOME_CAMERA)
    assert source is not None
    url = URL(source)
    assert url.host == "127.0.0.1"
    assert url.port == emulator.port
    assert url.path == "/api/v2/devices/cam-1/live.ts"
    async with (
        aiohttp.ClientSession() as session,
        session.get(source, ssl=pinned(emulator)) as resp,
    ):
        assert resp.status == HTTPStatus.OK
        assert resp.content_type == "video/mp2t"
        chunk = await resp.content.readexactly(188 * 4)
    assert chunk[0] == 0x47  # MPEG-TS sync byte


async def test_record_live_stream(
    hass: HomeAssistant, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Recording the live view writes a playable MP4 of the camera's H.264 stream."""
    caplog.set_level(logging.DEBUG)
    assert await async_setup_component(hass, "stream", {})
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    video = tmp_path / "doorbell.mp4"
    await hass.services.async_call(
        CAMERA_DOMAIN,
        "record",
        {ATTR_ENTITY_ID: DOORBELL_CAMERA, "filename": str(video), "duration": 3, "lookback": 0},
        blocking=True,
    )
    await until(video.exists, timeout=15)

    def count_frames() -> tuple[int, tuple[int, int]]:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            size = (stream.codec_context.width, stream.codec_context.height)
            return sum(1 for _ in container.decode(stream)), size

    frames, size = await hass.async_add_executor_job(count_frames)
    assert frames > 0
    assert size == (320, 240)
    camera = camera_entity(hass, DOORBELL_CAMERA)
    assert camera.stream is not None
    await camera.stream.stop()
    # The stream component logged the stream's URL, but without its access key.
    assert "live.ts" in caplog.text
    assert URL(camera.stream.source).query["auth"] not in caplog.text


@pytest.fixture
async def fast_renewal(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, init_integration: MockConfigEntry
) -> None:
    """Renew stream keys every 0.1 s instead of every few minutes (reloads the entry)."""
    monkeypatch.setattr(camera_platform, "STREAM_SOURCE_REFRESH", RENEWAL)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert await async_setup_component(hass, "stream", {})


@pytest.mark.usefixtures("fast_renewal")
async def test_stream_access_key_is_renewed(
    hass: HomeAssistant, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A live stream keeps a valid access key, so it can always restart."""
    caplog.set_level(logging.DEBUG)
    camera = camera_entity(hass, HOME_CAMERA)
    stream = await camera.async_create_stream()
    assert stream is not None
    first = stream.source
    await until(lambda: stream.source != first)
    assert URL(stream.source).path == URL(first).path
    async with (
        aiohttp.ClientSession() as session,
        session.get(stream.source, ssl=pinned(emulator)) as resp,
    ):
        assert resp.status == HTTPStatus.OK
    # Our own code never logs the stream's URLs.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(DOMAIN_LOGGER))
    assert "live.ts" not in ours


async def test_stream_access_key_renewed_after_hub_restart(
    hass: HomeAssistant, emulator: Emulator, control: Control
) -> None:
    """A rebooted hub forgets stream keys: the live stream gets a new one when it is back."""
    assert await async_setup_component(hass, "stream", {})
    camera = camera_entity(hass, HOME_CAMERA)
    stream = await camera.async_create_stream()
    assert stream is not None
    first = stream.source
    await control.post("/restart", {"downtime": 0.5})
    await wait_for_state(hass, HOME_CAMERA, STATE_UNAVAILABLE)
    await wait_for_state(hass, HOME_CAMERA, "idle", timeout=10)
    await until(lambda: stream.source != first)
    async with aiohttp.ClientSession() as session:
        async with session.get(first, ssl=pinned(emulator)) as resp:
            assert resp.status == HTTPStatus.UNAUTHORIZED
        async with session.get(stream.source, ssl=pinned(emulator)) as resp:
            assert resp.status == HTTPStatus.OK


@pytest.mark.usefixtures("fast_renewal")
async def test_stream_access_key_not_renewed(
    hass: HomeAssistant, emulator: Emulator, control: Control
) -> None:
    """Without a live stream, while private, or if the hub refuses, the source stays as is."""
    camera = camera_entity(hass, HOME_CAMERA)
    # No stream yet: nothing to renew.
    await asyncio.sleep(3 * RENEWAL.total_seconds())
    assert camera.stream is None

    stream = await camera.async_create_stream()
    assert stream is not None

    # The hub stops offering the live stream: the last source is kept.
    emulator.hub.device("cam-1").capabilities.remove("stream")
    await asyncio.sleep(RENEWAL.total_seconds())
    first = stream.source
    await asyncio.sleep(3 * RENEWAL.total_seconds())
    assert stream.source == first

    # Private: no renewal either.
    emulator.hub.device("cam-1").capabilities.append("stream")
    await hass.services.async_call(
        CAMERA_DOMAIN, "turn_off", {ATTR_ENTITY_ID: HOME_CAMERA}, blocking=True
    )
    await until(lambda: not camera.is_on)
    first = stream.source
    await asyncio.sleep(3 * RENEWAL.total_seconds())
    assert stream.source == first
    assert (await control.device("cam-1"))["state"]["camera_on"] is False
