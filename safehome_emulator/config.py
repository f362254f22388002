"""The emulator's configuration: defaults, validation and JSON config files."""

from __future__ import annotations

from collections.abc import Mapping
import copy
import dataclasses
from dataclasses import dataclass, field
import json
from pathlib import Path
import re
from typing import Any

from .util import API_VERSION_RE, is_valid_id

PAIRING_CODE_RE = re.compile(r"^[0-9]{6}$")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

# The Seoul kit: a doorbell, a home camera, a door lock and an emergency bell.
DEFAULT_DEVICES: tuple[dict[str, Any], ...] = (
    {"id": "doorbell-1", "type": "doorbell", "name": "Front door doorbell", "battery": 95},
    {"id": "cam-1", "type": "camera", "name": "Home camera", "battery": None},
    {
        "id": "lock-1",
        "type": "door_lock",
        "name": "Front door lock",
        "battery": 86,
        "lock_state": "locked",
        "door": "closed",
        "auto_lock_delay": 2.5,
    },
    {"id": "bell-1", "type": "emergency_bell", "name": "Emergency bell", "battery": 100},
)


# The district options (API 2.1), added to the devices by `district_kit`: a window lock
# with a latch and a personal alarm.
DISTRICT_DEVICES: tuple[dict[str, Any], ...] = (
    {
        "id": "window-1",
        "type": "window_lock",
        "name": "Window lock",
        "battery": 90,
        "window": "closed",
        "latch": "locked",
    },
    {"id": "alarm-1", "type": "personal_alarm", "name": "Personal alarm", "battery": 100},
)
# The API version that has them: a hub with the district kit reports at least this.
DISTRICT_API_VERSION = (2, 1)


def default_devices() -> list[dict[str, Any]]:
    """Return a fresh copy of the default device set."""
    return copy.deepcopy(list(DEFAULT_DEVICES))


@dataclass(frozen=True, kw_only=True)
class EmulatorConfig:
    """Everything the emulator can be configured with (validated on creation)."""

    host: str = "127.0.0.1"
    port: int = 8765
    # A development setting: every pairing window uses this code (None: a fresh random one).
    pairing_code: str | None = None
    hub_id: str = "shub-demo01"
    name: str = "SafeHome Hub"
    model: str = "SH-HUB1"
    manufacturer: str = "Seoul SafeHome"
    firmware: str = "1.4.2"
    api_version: str = "2.0"
    # Where the hub keeps its TLS certificate and key (None: one per Emulator object).
    state_dir: str | None = None
    # The control surface opens doors without a token: off by default, and on loopback.
    control: bool = False
    control_host: str = "127.0.0.1"
    control_port: int = 8766
    zeroconf: bool = True
    heartbeat: float = 10.0
    replay_buffer: int = 8192
    devices: list[dict[str, Any]] = field(default_factory=default_devices)
    # Add the district options (a window lock and a personal alarm) to the devices.
    district_kit: bool = False
    motor_time: float = 0.15
    latch_time: float = 3.0
    siren_duration: int = 60
    battery_drain_interval: float = 600.0
    mjpeg_fps: float = 5.0
    video_fps: int = 10
    video_preroll: float = 2.5
    stream_key_ttl: float = 600.0
    pairing_window: float = 120.0
    pairing_attempts: int = 3
    log_level: str = "info"

    def __post_init__(self) -> None:
        """Reject invalid values with a ValueError naming the field."""
        checks: list[tuple[bool, str]] = [
            (isinstance(self.host, str) and bool(self.host), "host must be a non-empty string"),
            (_is_int(self.port) and 0 <= self.port <= 65535, "port must be 0-65535"),
            (
                self.pairing_code is None
                or (
                    isinstance(self.pairing_code, str)
                    and bool(PAIRING_CODE_RE.match(self.pairing_code))
                ),
                "pairing_code must be 6 digits (or null: a fresh code per pairing window)",
            ),
            (
                self.state_dir is None
                or (isinstance(self.state_dir, str) and bool(self.state_dir)),
                "state_dir must be a non-empty path or null",
            ),
            (
                isinstance(self.control_host, str) and bool(self.control_host),
                "control_host must be a non-empty string",
            ),
            (
                _is_int(self.control_port) and 0 <= self.control_port <= 65535,
                "control_port must be 0-65535",
            ),
            (is_valid_id(self.hub_id), "hub_id must be 1-64 characters from [A-Za-z0-9._-]"),
            (isinstance(self.name, str) and 1 <= len(self.name) <= 128, "name must be 1-128 chars"),
            (
                isinstance(self.api_version, str) and bool(API_VERSION_RE.match(self.api_version)),
                "api_version must be MAJOR.MINOR",
            ),
            (_is_num(self.heartbeat) and 0 < self.heartbeat <= 300, "heartbeat must be 0-300 s"),
            (_is_int(self.replay_buffer) and self.replay_buffer >= 1, "replay_buffer must be >= 1"),
            (_is_num(self.motor_time) and self.motor_time >= 0, "motor_time must be >= 0"),
            (_is_num(self.latch_time) and self.latch_time > 0, "latch_time must be > 0"),
            (
                _is_int(self.siren_duration) and 1 <= self.siren_duration <= 600,
                "siren_duration must be 1-600",
            ),
            (
                _is_num(self.battery_drain_interval) and self.battery_drain_interval >= 0,
                "battery_drain_interval must be >= 0 (0 = off)",
            ),
            (_is_num(self.mjpeg_fps) and 0 < self.mjpeg_fps <= 60, "mjpeg_fps must be 0-60"),
            (_is_int(self.video_fps) and 1 <= self.video_fps <= 60, "video_fps must be 1-60"),
            (
                _is_num(self.video_preroll) and 0 <= self.video_preroll <= 10,
                "video_preroll must be 0-10 s",
            ),
            (
                _is_num(self.stream_key_ttl) and self.stream_key_ttl > 0,
                "stream_key_ttl must be > 0",
            ),
            (
                _is_num(self.pairing_window) and 0 < self.pairing_window <= 3600,
                "pairing_window must be 0-3600 s",
            ),
            (
                _is_int(self.pairing_attempts) and 1 <= self.pairing_attempts <= 10,
                "pairing_attempts must be 1-10",
            ),
            (self.log_level in LOG_LEVELS, f"log_level must be one of {', '.join(LOG_LEVELS)}"),
            (isinstance(self.control, bool), "control must be true or false"),
            (isinstance(self.zeroconf, bool), "zeroconf must be true or false"),
            (isinstance(self.district_kit, bool), "district_kit must be true or false"),
            (
                all(isinstance(s, str) for s in (self.model, self.manufacturer, self.firmware)),
                "model, manufacturer and firmware must be strings",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        _check_devices(self.devices)
        if self.district_kit:
            # The district devices are API 2.1: an older 2.x version is raised to 2.1.
            major, minor = (int(part) for part in self.api_version.split(".")[:2])
            if major == DISTRICT_API_VERSION[0] and minor < DISTRICT_API_VERSION[1]:
                object.__setattr__(self, "api_version", f"{major}.{DISTRICT_API_VERSION[1]}")

    def device_specs(self) -> list[dict[str, Any]]:
        """Return the devices to create: the configured ones, then the district kit's.

        A district device whose id is configured already is left out.
        """
        specs = copy.deepcopy(self.devices)
        if self.district_kit:
            ids = {spec.get("id") for spec in specs}
            specs += [copy.deepcopy(d) for d in DISTRICT_DEVICES if d["id"] not in ids]
        return specs

    def replace(self, **changes: Any) -> EmulatorConfig:
        """Return a copy with some fields changed (and validated)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], base: EmulatorConfig | None = None
    ) -> EmulatorConfig:
        """Build a config from a mapping such as a config file (`-` in keys reads as `_`)."""
        known = {f.name for f in dataclasses.fields(cls)}
        changes: dict[str, Any] = {}
        for key, value in data.items():
            name = str(key).replace("-", "_")
            if name not in known:
                raise ValueError(f"unknown configuration key {key!r}")
            changes[name] = value
        return dataclasses.replace(base or cls(), **changes)


def load_config_file(path: str | Path, base: EmulatorConfig | None = None) -> EmulatorConfig:
    """Read a JSON config file (raises OSError or ValueError)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the configuration must be a JSON object")
    return EmulatorConfig.from_mapping(data, base)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_num(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_devices(devices: object) -> None:
    """Check the list's shape; each device is checked when it is built."""
    if not isinstance(devices, list) or not all(isinstance(d, dict) for d in devices):
        raise ValueError("devices must be a list of device objects")
    ids = [d.get("id") for d in devices]
    duplicates = sorted({str(i) for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate device ids: {', '.join(duplicates)}")
