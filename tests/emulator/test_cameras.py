"""Cameras and doorbell: ring, motion, privacy, snapshots, MJPEG and live H.264."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import aiohttp
import av
from PIL import Image
import pytest

from safehome_emulator import Emulator
from tests.conftest import Control

from .conftest import MakeEmulator, paired
from .helpers import HubClient, wait_for


async def test_doorbell_ring(client: HubClient, control: Control) -> None:
    stream = await client.connect()
    await control.post("/devices/doorbell-1/ring")
    ring = await stream.event("doorbell_ring", "doorbell-1")
    assert ring["data"] == {}
    update = await stream.event("device_updated", "doorbell-1")
    assert update["data"]["device"]["state"]["last_ring"] == ring["time"]
    assert (await client.state_of("doorbell-1"))["last_ring"] == ring["time"]
    await stream.close()


@pytest.mark.parametrize("device_id", ["doorbell-1", "cam-1"])
async def test_motion(client: HubClient, control: Control, device_id: str) -> None:
    stream = await client.connect()
    await control.post(f"/devices/{device_id}/motion", {"active": True})
    assert (await stream.event("motion_detected", device_id))["data"] == {}
    update = await stream.event("device_updated", device_id)
    assert update["data"]["device"]["state"]["motion"] is True
    await control.post(f"/devices/{device_id}/motion", {"active": True})  # still on
    await stream.quiet(0.05)
    await control.post(f"/devices/{device_id}/motion", {"active": False})
    update = await stream.event("device_updated", device_id)
    assert update["data"]["device"]["state"]["motion"] is False
    await stream.close()


async def snapshot(client: HubClient, device_id: str) -> Image.Image:
    reply = await client.request("GET", f"/devices/{device_id}/snapshot")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(reply.body))
    image.load()
    assert image.format == "JPEG"
    return image


@pytest.mark.parametrize("device_id", ["doorbell-1", "cam-1"])
async def test_snapshots_are_changing_jpegs(client: HubClient, device_id: str) -> None:
    first = await snapshot(client, device_id)
    second = await snapshot(client, device_id)
    assert first.size == (320, 240)
    assert first.tobytes() != second.tobytes()


async def test_snapshot_with_motion_and_a_korean_name(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    devices = [{"id": "cam-7", "type": "camera", "name": "거실 카메라", "motion": True}]
    _, client, _ = await paired(make_emulator, session, devices=devices)
    assert (await snapshot(client, "cam-7")).size == (320, 240)


async def test_privacy_mode(client: HubClient) -> None:
    stream = await client.connect()
    device = await client.command("cam-1", "camera_off")
    assert device["state"]["camera_on"] is False
    await stream.device_state("cam-1", "camera_on", False)
    for path in ("snapshot", "mjpeg", "stream"):
        await client.error("GET", f"/devices/cam-1/{path}", 409, "camera_off")
    await client.command("cam-1", "camera_off")  # no change
    await stream.quiet(0.05)
    await client.command("cam-1", "camera_on")
    await stream.device_state("cam-1", "camera_on", True)
    await snapshot(client, "cam-1")
    await client.command("doorbell-1", "camera_off")
    await client.error("GET", "/devices/doorbell-1/snapshot", 409, "camera_off")
    await stream.close()


async def test_offline_camera(client: HubClient, control: Control) -> None:
    await control.post("/devices/cam-1/online", {"online": False})
    for path in ("snapshot", "mjpeg", "stream"):
        await client.error("GET", f"/devices/cam-1/{path}", 503, "offline")


async def test_camera_commands_on_other_devices(client: HubClient) -> None:
    await client.command_error("lock-1", "camera_off", status=400, code="unknown_command")
    await client.error("GET", "/devices/bell-1/snapshot", 400, "unsupported")


async def read_part(resp: aiohttp.ClientResponse) -> bytes:
    assert (await resp.content.readline()) == b"--frame\r\n"
    headers: dict[str, str] = {}
    while (line := await resp.content.readline()) != b"\r\n":
        name, _, value = line.decode().partition(":")
        headers[name.lower()] = value.strip()
    assert headers["content-type"] == "image/jpeg"
    data = await resp.content.readexactly(int(headers["content-length"]))
    assert (await resp.content.readexactly(2)) == b"\r\n"
    return data


async def test_mjpeg(make_emulator: MakeEmulator, session: aiohttp.ClientSession) -> None:
    _, client, _ = await paired(make_emulator, session, mjpeg_fps=20)
    headers = {"Authorization": f"Bearer {client.token}"}
    async with session.get(f"{client.api}/devices/doorbell-1/mjpeg", headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=frame"
        parts = [await read_part(resp) for _ in range(3)]
        for data in parts:
            image = Image.open(io.BytesIO(data))
            assert (image.format, image.size) == ("JPEG", (320, 240))
        assert len(set(parts)) == 3
        # Privacy mode ends the stream.
        await client.command("doorbell-1", "camera_off")
        async with asyncio.timeout(2):
            while await resp.content.read(65536):
                pass


async def test_stream_info(client: HubClient, emulator: Emulator) -> None:
    info = await client.ok("GET", "/devices/cam-1/stream", "StreamInfo")
    assert info["format"] == "mpegts"
    assert info["rtsp_url"] is None
    assert info["url"].startswith(f"{emulator.url}/api/v2/devices/cam-1/live.ts?auth=")
    assert info["url"].startswith("https://")
    again = await client.ok("GET", "/devices/cam-1/stream", "StreamInfo")
    assert again["url"] != info["url"]


def decode(url: str, frames: int) -> list[tuple[int, int, Any]]:
    """Open a live stream with PyAV (as Home Assistant's stream does) and decode frames."""
    out: list[tuple[int, int, Any]] = []
    with av.open(url, timeout=5) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        for frame in container.decode(stream):
            out.append((frame.width, frame.height, frame.pts))
            if len(out) >= frames:
                break
    return out


@pytest.mark.parametrize("device_id", ["cam-1", "doorbell-1"])
async def test_live_h264_stream_decodes(client: HubClient, device_id: str) -> None:
    info = await client.ok("GET", f"/devices/{device_id}/stream", "StreamInfo")
    frames = await asyncio.wait_for(asyncio.to_thread(decode, info["url"], 12), 10)
    assert [(w, h) for w, h, _ in frames] == [(320, 240)] * 12
    pts = [p for _, _, p in frames]
    assert pts == sorted(pts)


async def test_live_stream_headers_and_reuse_of_the_key(
    client: HubClient, session: aiohttp.ClientSession
) -> None:
    info = await client.ok("GET", "/devices/cam-1/stream", "StreamInfo")
    for _ in range(2):  # the key may start several streams while it is valid
        async with session.get(info["url"]) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "video/mp2t"
            data = await resp.content.readexactly(188 * 4)
            assert data[0] == 0x47  # MPEG-TS sync bytes
            assert data[188] == 0x47


async def test_live_stream_ends_in_privacy_mode(
    client: HubClient, session: aiohttp.ClientSession
) -> None:
    info = await client.ok("GET", "/devices/cam-1/stream", "StreamInfo")
    async with session.get(info["url"]) as resp:
        assert resp.status == 200
        await resp.content.readexactly(188)
        await client.command("cam-1", "camera_off")
        async with asyncio.timeout(3):
            while await resp.content.read(65536):
                pass
    reply = await client.request("GET", info["url"].split("/api/v2", 1)[1], token=None)
    assert reply.status == 409
    assert reply.body["error"]["code"] == "camera_off"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda url: url.split("?")[0],
        lambda url: url + "x",
        lambda url: url.replace("auth=", "auth=x"),
        lambda url: url.replace("/cam-1/", "/doorbell-1/"),
    ],
)
async def test_live_stream_with_a_wrong_key(
    client: HubClient, session: aiohttp.ClientSession, mangle: Any
) -> None:
    info = await client.ok("GET", "/devices/cam-1/stream", "StreamInfo")
    async with session.get(mangle(info["url"])) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "unauthorized"


async def test_live_stream_key_expires(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    _, client, _ = await paired(make_emulator, session, stream_key_ttl=0.05)
    info = await client.ok("GET", "/devices/cam-1/stream", "StreamInfo")
    await asyncio.sleep(0.1)
    await client.ok("GET", "/devices/doorbell-1/stream", "StreamInfo")  # prunes old keys
    async with session.get(info["url"]) as resp:
        assert resp.status == 401


async def test_revocation_invalidates_keys_and_ends_streams(
    client: HubClient, control: Control, session: aiohttp.ClientSession
) -> None:
    info = await client.ok("GET", "/devices/cam-1/stream", "StreamInfo")
    headers = {"Authorization": f"Bearer {client.token}"}
    async with (
        session.get(info["url"]) as live,
        session.get(f"{client.api}/devices/cam-1/mjpeg", headers=headers) as mjpeg,
    ):
        await live.content.readexactly(188)
        await read_part(mjpeg)
        await control.post("/tokens/revoke")
        async with asyncio.timeout(3):
            while await live.content.read(65536):
                pass
            while await mjpeg.content.read(65536):
                pass
    async with session.get(info["url"]) as resp:
        assert resp.status == 401


async def test_live_stream_of_a_removed_camera_ends(
    client: HubClient, control: Control, session: aiohttp.ClientSession
) -> None:
    info = await client.ok("GET", "/devices/cam-1/stream", "StreamInfo")
    async with session.get(info["url"]) as resp:
        await resp.content.readexactly(188)
        await control.request("DELETE", "/devices/cam-1")
        async with asyncio.timeout(3):
            while await resp.content.read(65536):
                pass
    async with session.get(info["url"]) as resp:
        assert resp.status == 404


async def test_streams_end_when_the_emulator_stops(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator, client, _ = await paired(make_emulator, session)
    info = await client.ok("GET", "/devices/cam-1/stream", "StreamInfo")
    headers = {"Authorization": f"Bearer {client.token}"}
    async with (
        session.get(info["url"]) as live,
        session.get(f"{client.api}/devices/cam-1/mjpeg", headers=headers) as mjpeg,
    ):
        await live.content.readexactly(188)
        await read_part(mjpeg)
        await asyncio.wait_for(emulator.stop(), 5)

        async def drained() -> bool:
            try:
                return not await live.content.read(65536) and not await mjpeg.content.read(65536)
            except aiohttp.ClientError:
                return True

        await wait_for(drained)
