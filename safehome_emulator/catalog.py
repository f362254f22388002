"""Every device type the emulator simulates, and building a device from its configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .devices import (
    CameraDevice,
    Device,
    DeviceHost,
    Doorbell,
    DoorLock,
    EmergencyBell,
    GenericDevice,
)
from .district import PersonalAlarm, WindowLock
from .errors import ApiError
from .util import is_valid_id

DEVICE_TYPES: dict[str, type[Device]] = {
    cls.TYPE: cls
    for cls in (Doorbell, CameraDevice, DoorLock, EmergencyBell, WindowLock, PersonalAlarm)
}


def build_device(host: DeviceHost, spec: Mapping[str, Any]) -> Device:
    """Create a device from its configuration; raise ValueError if it is invalid.

    A type the emulator does not simulate is served as it is configured (its `state`),
    with no commands.
    """
    if not is_valid_id(spec.get("id")):
        raise ValueError(f"device id {spec.get('id')!r} must be 1-64 chars from [A-Za-z0-9._-]")
    device_type = spec.get("type")
    if not isinstance(device_type, str) or not device_type:
        raise ValueError(f"device {spec['id']!r} needs a type")
    try:
        return DEVICE_TYPES.get(device_type, GenericDevice)(host, spec)
    except ApiError as err:
        raise ValueError(f"device {spec.get('id')!r}: {err.message}") from err
