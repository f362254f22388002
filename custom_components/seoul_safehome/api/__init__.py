"""Async client for the SafeHome Local API 2.0 (aiohttp, stdlib, `cryptography`, `spake2`).

No Home Assistant import: it could be published on its own.
"""

from __future__ import annotations

from .client import SafeHomeClient
from .const import API_VERSION, DEFAULT_PORT, ZEROCONF_TYPE
from .events import SafeHomeEventStream
from .exceptions import (
    SafeHomeAuthenticationError,
    SafeHomeCommandError,
    SafeHomeConnectionError,
    SafeHomeError,
    SafeHomeIdentityError,
    SafeHomePairingClosedError,
    SafeHomeProtocolError,
    SafeHomeRateLimitedError,
    SafeHomeTlsError,
)
from .models import (
    CameraState,
    Device,
    DeviceState,
    DeviceType,
    DoorbellState,
    DoorLockState,
    DoorState,
    EmergencyBellState,
    EmergencySource,
    Event,
    EventName,
    Hub,
    Info,
    LockActivity,
    LockState,
    PairResult,
    SirenMode,
    StreamInfo,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_PORT",
    "ZEROCONF_TYPE",
    "CameraState",
    "Device",
    "DeviceState",
    "DeviceType",
    "DoorLockState",
    "DoorState",
    "DoorbellState",
    "EmergencyBellState",
    "EmergencySource",
    "Event",
    "EventName",
    "Hub",
    "Info",
    "LockActivity",
    "LockState",
    "PairResult",
    "SafeHomeAuthenticationError",
    "SafeHomeClient",
    "SafeHomeCommandError",
    "SafeHomeConnectionError",
    "SafeHomeError",
    "SafeHomeEventStream",
    "SafeHomeIdentityError",
    "SafeHomePairingClosedError",
    "SafeHomeProtocolError",
    "SafeHomeRateLimitedError",
    "SafeHomeTlsError",
    "SirenMode",
    "StreamInfo",
]
