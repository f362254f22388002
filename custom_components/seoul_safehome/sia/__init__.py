"""SIA DC-09 sender: report alarms to a monitoring centre's receiver over TCP or UDP.

Pure Python and `cryptography`, no Home Assistant import (like `api/`). Written from
ANSI/SIA DC-09-2013 (framing, CRC, encryption) and SIA DC-03 (the data blocks).
"""

from __future__ import annotations

from .codes import KNOWN_CODES, SUPERVISION_CODE
from .crc import crc16_arc
from .errors import (
    SiaConnectionError,
    SiaDuhError,
    SiaError,
    SiaNakError,
    SiaProtocolError,
    SiaTimeoutError,
)
from .frame import build_frame, parse_reply
from .models import SEQUENCE_MAX, SEQUENCE_MIN, SiaEvent, SiaLink, SiaReply, next_sequence
from .sender import SiaSender, receiver_clock_offsets

__all__ = [
    "KNOWN_CODES",
    "SEQUENCE_MAX",
    "SEQUENCE_MIN",
    "SUPERVISION_CODE",
    "SiaConnectionError",
    "SiaDuhError",
    "SiaError",
    "SiaEvent",
    "SiaLink",
    "SiaNakError",
    "SiaProtocolError",
    "SiaReply",
    "SiaSender",
    "SiaTimeoutError",
    "build_frame",
    "crc16_arc",
    "next_sequence",
    "parse_reply",
    "receiver_clock_offsets",
]
