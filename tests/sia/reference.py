"""Test-side reading of DC-09 frames, written from the standard, independent of the code.

The library's frames are checked with these (and pysiaalarm's receiver), never with the
library's own parser: a bitwise CRC-16/ARC, the frame split by hand, AES-CBC straight
from `cryptography` with the all-zero IV DC-09 prescribes.
"""

from __future__ import annotations

from dataclasses import dataclass
import re

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TIMESTAMP = re.compile(r"_(\d\d):(\d\d):(\d\d),(\d\d)-(\d\d)-(\d{4})")


def crc16_arc(data: bytes) -> int:
    """CRC-16/ARC bit by bit: reflected polynomial 0xA001, initial value 0, no final XOR."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@dataclass(frozen=True)
class Frame:
    """A frame's parts: the CRC and length fields as sent, and the body they cover."""

    crc: str
    length: str
    body: bytes


def split(frame: bytes) -> Frame:
    """Split `<LF><crc><0LLL><body><CR>`, asserting the delimiters."""
    assert frame[:1] == b"\n", frame
    assert frame[-1:] == b"\r", frame
    return Frame(frame[1:5].decode(), frame[5:9].decode(), frame[9:-1])


def wrap(body: str | bytes) -> bytes:
    """Frame a body as a DC-09 receiver would (for the test's own fake receivers)."""
    raw = body.encode("ascii") if isinstance(body, str) else body
    return b"\n" + f"{crc16_arc(raw):04X}0{len(raw):03X}".encode() + raw + b"\r"


def aes_cbc(key: bytes, data: bytes, *, decrypt: bool) -> bytes:
    """AES-CBC with the all-zero initialization vector, no padding scheme."""
    cipher = Cipher(algorithms.AES(key), modes.CBC(bytes(16)))
    op = cipher.decryptor() if decrypt else cipher.encryptor()
    return op.update(data) + op.finalize()
