"""Live H.264 video in MPEG-TS, encoded with PyAV's libx264 (blocking: use a thread)."""

from __future__ import annotations

from fractions import Fraction
import threading

import av
from PIL import Image

from .render import HEIGHT, WIDTH


class _Sink:
    """A write-only file object collecting the muxer's output."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


class TsEncoder:
    """Encode frames to low-latency H.264 (1 s GOP) muxed as MPEG-TS, frame by frame."""

    def __init__(self, fps: int, width: int = WIDTH, height: int = HEIGHT) -> None:
        """Open the encoder and the muxer."""
        self._lock = threading.Lock()
        self._sink = _Sink()
        self._time_base = Fraction(1, fps)
        self._pts = 0
        self._container = av.open(
            self._sink, mode="w", format="mpegts", container_options={"flush_packets": "1"}
        )
        stream = self._container.add_stream("libx264", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "g": str(fps),
            "keyint_min": str(fps),
            "x264-params": "scenecut=0:repeat-headers=1",
        }
        self._stream = stream

    def encode(self, image: Image.Image) -> bytes:
        """Encode one frame; return the MPEG-TS bytes it produced."""
        with self._lock:
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            frame.pts = self._pts
            frame.time_base = self._time_base
            self._pts += 1
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
            return self._sink.take()

    def close(self) -> bytes:
        """Flush and close; return the last bytes."""
        with self._lock:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
            return self._sink.take()
