"""Camera media: JPEG snapshots, MJPEG, and live H.264 MPEG-TS behind access keys.

Pictures are rendered and encoded in worker threads; a stream renders and encodes only
while a client is connected, and ends when the camera goes private, offline or away,
when the hub restarts, or when the emulator stops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import itertools
import logging
import time

from aiohttp import web

from .api import API, authorize
from .devices import CameraDevice, Device
from .errors import ApiError
from .hub import Hub
from .render import render, snapshot
from .util import new_secret
from .video import TsEncoder
from .webutil import json_response

_LOGGER = logging.getLogger(__name__)

BOUNDARY = "frame"
NO_CACHE = {"Cache-Control": "no-cache, no-store"}


@dataclass(frozen=True)
class AccessKey:
    """A short-lived key that lets a player without headers start one camera's stream."""

    device_id: str
    token: str
    expires: float


class Media:
    """HTTP handlers for camera media, and the registry of running streams."""

    def __init__(self, hub: Hub) -> None:
        """Serve one hub's cameras."""
        self.hub = hub
        self._keys: dict[str, AccessKey] = {}
        self._stops: set[asyncio.Event] = set()
        self._frames = itertools.count(1)

    def routes(self) -> list[web.AbstractRouteDef]:
        """Return the route table."""
        base = f"{API}/devices/{{device_id}}"
        return [
            web.get(f"{base}/snapshot", self.snapshot),
            web.get(f"{base}/mjpeg", self.mjpeg),
            web.get(f"{base}/stream", self.stream_info),
            web.get(f"{base}/live.ts", self.live),
        ]

    # --- helpers ---------------------------------------------------------------------

    def _camera(self, device_id: str, capability: str) -> CameraDevice:
        """Return a camera that can deliver now, or raise the matching error."""
        device = self.hub.device(device_id)
        device.require(capability)
        if not isinstance(device, CameraDevice):  # pragma: no cover - config guards this
            raise ApiError("unsupported", f"{device_id} is not a camera")
        if not device.online:
            raise ApiError("offline", f"{device_id} does not answer")
        if not device.camera_on:
            raise ApiError("camera_off", f"{device_id} is in privacy mode")
        return device

    def _available(self, device: Device) -> bool:
        return (
            self.hub.devices.get(device.id) is device
            and isinstance(device, CameraDevice)
            and device.online
            and device.camera_on
            and not self.hub.down
        )

    @contextlib.contextmanager
    def _streaming(self) -> Iterator[asyncio.Event]:
        """Register a running stream; the event is set when it must end."""
        stop = asyncio.Event()
        self._stops.add(stop)
        try:
            yield stop
        finally:
            self._stops.discard(stop)

    @staticmethod
    async def _wait(stop: asyncio.Event, delay: float) -> bool:
        """Sleep up to `delay` seconds; return True if the stream must end."""
        if stop.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, delay)):
                await stop.wait()
        return stop.is_set()

    async def _jpeg(self, device: CameraDevice) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None,
            lambda: snapshot(device.name, next(self._frames), motion=device.motion),
        )

    def _video(self, encoder: TsEncoder, device: CameraDevice, frames: int = 1) -> bytes:
        """Render and encode the next `frames` video frames, the last one now (in a thread).

        More than one frame is the pre-roll: the recent past a camera keeps buffered, sent
        at once so that a player can probe the stream (about 2 s of it) without waiting.
        """
        now = time.time()
        fps = self.hub.config.video_fps
        return b"".join(
            encoder.encode(
                render(device.name, next(self._frames), motion=device.motion, now=now - age / fps)
            )
            for age in range(frames - 1, -1, -1)
        )

    def stop_all(self) -> None:
        """End every running stream."""
        for stop in self._stops:
            stop.set()

    def revoke_keys(self) -> None:
        """Forget every access key (tokens revoked or hub restarted)."""
        self._keys.clear()

    # --- handlers --------------------------------------------------------------------

    async def snapshot(self, request: web.Request) -> web.Response:
        """`GET /devices/{id}/snapshot`: a fresh JPEG."""
        authorize(self.hub, request)
        device = self._camera(request.match_info["device_id"], "snapshot")
        data = await self._jpeg(device)
        return web.Response(body=data, content_type="image/jpeg", headers=NO_CACHE)

    async def mjpeg(self, request: web.Request) -> web.StreamResponse:
        """`GET /devices/{id}/mjpeg`: JPEG parts at `mjpeg_fps` until the client leaves."""
        authorize(self.hub, request)
        device = self._camera(request.match_info["device_id"], "mjpeg")
        response = web.StreamResponse(
            headers={
                "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                **NO_CACHE,
            }
        )
        await response.prepare(request)
        interval = 1 / self.hub.config.mjpeg_fps
        loop = asyncio.get_running_loop()
        with self._streaming() as stop, contextlib.suppress(ConnectionError):
            next_frame = loop.time()
            while self._available(device):
                data = await self._jpeg(device)
                await response.write(
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                    + b"\r\n"
                )
                next_frame += interval
                if await self._wait(stop, next_frame - loop.time()):
                    break
        return response

    async def stream_info(self, request: web.Request) -> web.Response:
        """`GET /devices/{id}/stream`: the live stream's URL with a fresh access key."""
        token, _ = authorize(self.hub, request)
        device_id = request.match_info["device_id"]
        self._camera(device_id, "stream")
        loop = asyncio.get_running_loop()
        now = loop.time()
        for key in [k for k, v in self._keys.items() if v.expires <= now]:
            del self._keys[key]
        key = new_secret()
        self._keys[key] = AccessKey(device_id, token, now + self.hub.config.stream_key_ttl)
        url = f"{request.scheme}://{request.host}{API}/devices/{device_id}/live.ts?auth={key}"
        return json_response({"url": url, "format": "mpegts", "rtsp_url": None})

    def _check_key(self, request: web.Request) -> None:
        key = self._keys.get(request.query.get("auth", ""))
        if (
            key is None
            or key.device_id != request.match_info["device_id"]
            or key.expires <= asyncio.get_running_loop().time()
            or self.hub.tokens.client(key.token) is None
        ):
            raise ApiError("unauthorized", "missing, wrong or expired stream access key")

    async def live(self, request: web.Request) -> web.StreamResponse:
        """`GET /devices/{id}/live.ts?auth=…`: live H.264 in MPEG-TS (no Authorization)."""
        self._check_key(request)
        device = self._camera(request.match_info["device_id"], "stream")
        loop = asyncio.get_running_loop()
        fps = self.hub.config.video_fps
        encoder = await loop.run_in_executor(None, TsEncoder, fps)
        response = web.StreamResponse(headers={"Content-Type": "video/mp2t", **NO_CACHE})
        try:
            await response.prepare(request)
            with self._streaming() as stop, contextlib.suppress(ConnectionError):
                next_frame = loop.time()
                frames = max(1, round(self.hub.config.video_preroll * fps))
                while self._available(device):
                    data = await loop.run_in_executor(None, self._video, encoder, device, frames)
                    frames = 1
                    await response.write(data)
                    next_frame += 1 / fps
                    if await self._wait(stop, next_frame - loop.time()):
                        break
        finally:
            await loop.run_in_executor(None, encoder.close)
        return response
