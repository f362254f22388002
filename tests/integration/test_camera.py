"""Cameras of the doorbell and the home camera against a real hub (the emulator): what a user
sees in the dashboard, in the live view and in recordings."""

from __future__ import annotations

import asyncio
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

from custom_components.seoul_safehome.live_proxy import LIVE_PATH
from safehome_emulator import Emulator
from tests.conftest import Control, pinned
from tests.integration.common import until, wait_for_state
from tests.integration.loopback import serve_home_assistant

DOORBELL_CAMERA = "camera.front_door_doorbell_camera"
HOME_CAMERA = "camera.home_camera"
DOMAIN_LOGGER = "custom_components.seoul_safehome"
TS_PACKET = 188

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


@pytest.fixture
async def served(
    hass: HomeAssistant,
    aiohttp_client: ClientSessionGenerator,
    request: pytest.FixtureRequest,
    init_integration: MockConfigEntry,
) -> None:
    """Home Assistant's web server listens on loopback (HTTPS if parametrized so)."""
    https = getattr(request, "param", False)
    await serve_home_assistant(hass, aiohttp_client, https=https)


async def read_live(source: str, packets: int = 4) -> bytes:
    """Play `source` like ffmpeg does (no login, no certificate check): its first TS packets."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(source, ssl=False) as resp,
    ):
        assert resp.status == HTTPStatus.OK
        assert resp.content_type == "video/mp2t"
        data = await resp.content.readexactly(TS_PACKET * packets)
    assert data[0] == 0x47  # MPEG-TS sync byte
    return data


@pytest.mark.usefixtures("served")
async def test_stream_source_is_a_loopback_relay(hass: HomeAssistant, emulator: Emulator) -> None:
    """The stream source is Home Assistant itself on loopback, relaying the camera's H.264.

    The hub's URL and access keys never leave Home Assistant: the source's own key opens
    nothing on the hub.
    """
    source = await async_get_stream_source(hass, HOME_CAMERA)
    assert source is not None
    url = URL(source)
    assert url.scheme == "http"
    assert url.host == "127.0.0.1"
    assert url.port == hass.http.server_port != emulator.port
    assert url.path.startswith(f"{LIVE_PATH}/")
    assert url.path.endswith("/cam-1")
    assert "live.ts" not in source
    assert len(url.query["auth"]) >= 43  # 256 random bits
    await read_live(source)

    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{emulator.api_url}/devices/cam-1/live.ts",
            params={"auth": url.query["auth"]},
            ssl=pinned(emulator),
        ) as resp,
    ):
        assert resp.status == HTTPStatus.UNAUTHORIZED

    # Each camera has its own source and key.
    other = URL(await async_get_stream_source(hass, DOORBELL_CAMERA))
    assert other.path.endswith("/doorbell-1")
    assert other.query["auth"] != url.query["auth"]
    # A source is stable: it needs no renewal.
    assert await async_get_stream_source(hass, HOME_CAMERA) == source


@pytest.mark.parametrize("served", [False, True], indirect=True, ids=["http", "https"])
@pytest.mark.usefixtures("served")
async def test_record_live_stream(
    hass: HomeAssistant, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Recording the live view writes a playable MP4 of the camera's H.264 stream.

    ffmpeg plays it through the relay, over HTTPS too when Home Assistant serves HTTPS.
    """
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
    source = URL(camera.stream.source)
    await camera.stream.stop()
    assert source.host == "127.0.0.1"
    # The stream component logged its source, but without the relay's key; no one logged
    # a URL of the hub.
    assert LIVE_PATH in caplog.text
    assert source.query["auth"] not in caplog.text
    assert "live.ts" not in caplog.text


@pytest.mark.parametrize("emulator_options", [{"stream_key_ttl": 0.5}])
@pytest.mark.usefixtures("served")
async def test_live_stream_restarts_after_the_access_key_expired(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """The hub's access keys are short-lived; the source is not: it plays again much later."""
    caplog.set_level(logging.DEBUG)
    assert await async_setup_component(hass, "stream", {})
    camera = camera_entity(hass, HOME_CAMERA)
    stream = await camera.async_create_stream()
    assert stream is not None
    source = stream.source
    await read_live(source)
    await asyncio.sleep(1)  # every key the hub gave has expired
    await read_live(source)
    assert stream.source == source
    # Our own code never logs the stream's URLs or keys.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(DOMAIN_LOGGER))
    assert "live.ts" not in ours
    assert URL(source).query["auth"] not in ours


@pytest.mark.usefixtures("served")
async def test_live_stream_after_hub_restart(hass: HomeAssistant, control: Control) -> None:
    """A rebooted hub forgets its access keys: the same source plays once it is back."""
    source = await async_get_stream_source(hass, HOME_CAMERA)
    assert source is not None
    await read_live(source)
    await control.post("/restart", {"downtime": 0.5})
    await wait_for_state(hass, HOME_CAMERA, STATE_UNAVAILABLE)
    await wait_for_state(hass, HOME_CAMERA, "idle", timeout=10)
    assert await async_get_stream_source(hass, HOME_CAMERA) == source
    await read_live(source)


@pytest.mark.usefixtures("served")
async def test_no_live_stream_while_private(hass: HomeAssistant, emulator: Emulator) -> None:
    """In privacy mode, or when the hub stops streaming a camera, the source plays nothing."""
    camera = camera_entity(hass, HOME_CAMERA)
    source = await async_get_stream_source(hass, HOME_CAMERA)
    assert source is not None
    await hass.services.async_call(
        CAMERA_DOMAIN, "turn_off", {ATTR_ENTITY_ID: HOME_CAMERA}, blocking=True
    )
    await until(lambda: not camera.is_on)
    async with aiohttp.ClientSession() as session, session.get(source) as resp:
        assert resp.status == HTTPStatus.BAD_GATEWAY
        assert resp.content_type != "video/mp2t"

    await hass.services.async_call(
        CAMERA_DOMAIN, "turn_on", {ATTR_ENTITY_ID: HOME_CAMERA}, blocking=True
    )
    await until(lambda: camera.is_on)
    await read_live(source)

    # The hub stops offering the live stream: the source plays nothing either.
    emulator.hub.device("cam-1").capabilities.remove("stream")
    async with aiohttp.ClientSession() as session, session.get(source) as resp:
        assert resp.status == HTTPStatus.BAD_GATEWAY
