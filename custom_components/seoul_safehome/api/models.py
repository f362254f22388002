"""Typed models of the SafeHome Local API messages, parsed defensively."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
import logging
import re
from typing import Any, Self

from .const import MIN_API_MINOR, SUPPORTED_API_MAJOR
from .exceptions import SafeHomeProtocolError

_LOGGER = logging.getLogger(__package__)
_API_VERSION_RE = re.compile(r"^([0-9]{1,9})\.([0-9]{1,9})(?![0-9])")
_FINGERPRINT_RE = re.compile(r"^[0-9a-f]{64}\Z")
_LOGGED_UNKNOWN: set[tuple[str, str]] = set()
_MAX_LOGGED_UNKNOWN = 256


def log_unknown_once(kind: str, name: str) -> None:
    """Log an unknown name (device type, event, message type) the first time it is seen."""
    key = (kind, name)
    if key in _LOGGED_UNKNOWN or len(_LOGGED_UNKNOWN) >= _MAX_LOGGED_UNKNOWN:
        return
    _LOGGED_UNKNOWN.add(key)
    _LOGGER.info("Ignoring unknown %s %r from the SafeHome hub", kind, name[:64])


class DeviceType(StrEnum):
    """Device types known to this client."""

    DOORBELL = "doorbell"
    CAMERA = "camera"
    DOOR_LOCK = "door_lock"
    EMERGENCY_BELL = "emergency_bell"
    WINDOW_LOCK = "window_lock"
    """API 2.1 (a district option)."""
    PERSONAL_ALARM = "personal_alarm"
    """API 2.1 (a district option)."""


class LockState(StrEnum):
    """State of a door lock's bolt and latch."""

    LOCKED = "locked"
    UNLOCKED = "unlocked"
    LOCKING = "locking"
    UNLOCKING = "unlocking"
    JAMMED = "jammed"
    OPEN = "open"


class DoorState(StrEnum):
    """State of a door contact."""

    OPEN = "open"
    CLOSED = "closed"


class WindowState(StrEnum):
    """State of a window contact (API 2.1)."""

    OPEN = "open"
    CLOSED = "closed"


class LatchState(StrEnum):
    """State of a window lock's latch (API 2.1)."""

    LOCKED = "locked"
    UNLOCKED = "unlocked"


class WindowActivity(StrEnum):
    """What a window lock reports (`window_activity` events, API 2.1)."""

    FORCED = "forced"
    """The window was opened while latched."""
    TAMPER = "tamper"
    """The lock's cover was pried open."""


class PersonalAlarmAction(StrEnum):
    """What a personal alarm reports (`personal_alarm` events, API 2.1)."""

    PULLED = "pulled"
    """The pin was pulled out: the alarm sounds (and the hub raises an emergency)."""
    PRESSED = "pressed"
    """Its button was pressed."""
    CLEARED = "cleared"
    """The pin was put back: the alarm is quiet again."""


class LockActivity(StrEnum):
    """How a lock was used (`lock_activity` events)."""

    KEYPAD = "keypad"
    FINGERPRINT = "fingerprint"
    CARD = "card"
    INSIDE_HANDLE = "inside_handle"
    FORCED_ENTRY = "forced_entry"
    TAMPER = "tamper"
    REMOTE = "remote"
    AUTO_LOCK = "auto_lock"


class EmergencySource(StrEnum):
    """What raised an emergency."""

    BUTTON = "button"
    VOICE = "voice"
    PHONE = "phone"


class SirenMode(StrEnum):
    """When the hub sounds an emergency bell's siren for an emergency."""

    IMMEDIATE = "immediate"
    """At once (also what a bell without the setting does)."""
    ESCALATION = "escalation"
    """Never by itself: the escalation (Home Assistant) turns the siren on."""
    SILENT = "silent"
    """Never for an emergency: a silent alarm."""


class EventName(StrEnum):
    """Event names known to this client."""

    DEVICE_UPDATED = "device_updated"
    DEVICE_ADDED = "device_added"
    DEVICE_REMOVED = "device_removed"
    HUB_UPDATED = "hub_updated"
    DOORBELL_RING = "doorbell_ring"
    MOTION_DETECTED = "motion_detected"
    LOCK_ACTIVITY = "lock_activity"
    EMERGENCY_TRIGGERED = "emergency_triggered"
    EMERGENCY_CANCELLED = "emergency_cancelled"
    WINDOW_ACTIVITY = "window_activity"
    PERSONAL_ALARM = "personal_alarm"


# --- field readers: each raises SafeHomeProtocolError naming the field, never its value.


def _fail(where: str, key: str, what: str) -> SafeHomeProtocolError:
    return SafeHomeProtocolError(f"{where}: field {key!r} {what}")


def _obj(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise SafeHomeProtocolError(f"{where}: expected a JSON object")
    return data


def _get(data: Mapping[str, Any], key: str, where: str) -> Any:
    try:
        return data[key]
    except KeyError:
        raise _fail(where, key, "is missing") from None


def _str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _get(data, key, where)
    if not isinstance(value, str):
        raise _fail(where, key, "must be a string")
    return value


def _opt_str(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = _get(data, key, where)
    if value is not None and not isinstance(value, str):
        raise _fail(where, key, "must be a string or null")
    return value


def _bool(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = _get(data, key, where)
    if not isinstance(value, bool):
        raise _fail(where, key, "must be a boolean")
    return value


def _int(data: Mapping[str, Any], key: str, where: str, minimum: int = 0) -> int:
    value = _get(data, key, where)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(where, key, f"must be an integer >= {minimum}")
    return value


def _number(data: Mapping[str, Any], key: str, where: str) -> float:
    value = _get(data, key, where)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, key, "must be a number")
    return float(value)


def _enum[E: StrEnum](data: Mapping[str, Any], key: str, where: str, enum: type[E]) -> E:
    value = _get(data, key, where)
    try:
        return enum(value)
    except (ValueError, TypeError):
        raise _fail(where, key, f"must be one of {[e.value for e in enum]}") from None


def parse_timestamp(value: Any) -> datetime:
    """Parse an ISO 8601 timestamp (UTC, `Z` suffix) into an aware datetime."""
    if not isinstance(value, str):
        raise SafeHomeProtocolError("timestamp must be a string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise SafeHomeProtocolError("timestamp is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _opt_time(data: Mapping[str, Any], key: str, where: str) -> datetime | None:
    value = _get(data, key, where)
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except SafeHomeProtocolError:
        raise _fail(where, key, "must be an ISO 8601 timestamp or null") from None


# --- models


@dataclass(frozen=True, slots=True)
class Info:
    """Hub identity (`GET /info`, also inside the sealed pairing answer)."""

    id: str
    name: str
    model: str
    manufacturer: str
    firmware: str
    api_version: str

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse an `Info` object."""
        where = cls.__name__
        obj = _obj(data, where)
        return cls(**_info_fields(obj, where))

    @property
    def api_version_tuple(self) -> tuple[int, int]:
        """The API version as `(major, minor)`."""
        match = _API_VERSION_RE.match(self.api_version)
        assert match is not None  # checked by from_dict
        return int(match[1]), int(match[2])

    @property
    def api_supported(self) -> bool:
        """Whether this client supports the hub's API version (2.x, x >= 0)."""
        major, minor = self.api_version_tuple
        return major == SUPPORTED_API_MAJOR and minor >= MIN_API_MINOR


def _info_fields(obj: Mapping[str, Any], where: str) -> dict[str, Any]:
    api_version = _str(obj, "api_version", where)
    if not _API_VERSION_RE.match(api_version):
        raise _fail(where, "api_version", "must be MAJOR.MINOR")
    return {
        "id": _str(obj, "id", where),
        "name": _str(obj, "name", where),
        "model": _str(obj, "model", where),
        "manufacturer": _str(obj, "manufacturer", where),
        "firmware": _str(obj, "firmware", where),
        "api_version": api_version,
    }


@dataclass(frozen=True, slots=True)
class Hub(Info):
    """Hub identity plus its live state (`GET /hub`)."""

    away_mode: bool
    boot_id: str
    last_seq: int

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse a `Hub` object."""
        where = cls.__name__
        obj = _obj(data, where)
        return cls(
            **_info_fields(obj, where),
            away_mode=_bool(obj, "away_mode", where),
            boot_id=_str(obj, "boot_id", where),
            last_seq=_int(obj, "last_seq", where),
        )


@dataclass(frozen=True, slots=True)
class PairResult:
    """Result of pairing: what to keep to talk to the hub from now on.

    `token` is the bearer token (a secret, hidden from repr); `fingerprint` the hub's
    certificate fingerprint to pin (SHA-256 of its DER, 64 lowercase hex); `hub` its identity.
    """

    token: str = field(repr=False)
    fingerprint: str
    hub: Info

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse a `PairSealedPlaintext` object (the opened `sealed` of `PairSealed`)."""
        where = "PairSealedPlaintext"
        obj = _obj(data, where)
        token = _str(obj, "token", where)
        if not token:
            raise _fail(where, "token", "must not be empty")
        fingerprint = _str(obj, "fingerprint", where)
        if not _FINGERPRINT_RE.match(fingerprint):
            raise _fail(where, "fingerprint", "must be 64 lowercase hex digits")
        return cls(
            token=token, fingerprint=fingerprint, hub=Info.from_dict(_get(obj, "hub", where))
        )


@dataclass(frozen=True, slots=True)
class DoorbellState:
    """State of a doorbell."""

    motion: bool
    camera_on: bool
    last_ring: datetime | None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse a `DoorbellState`."""
        where = cls.__name__
        obj = _obj(data, where)
        return cls(
            motion=_bool(obj, "motion", where),
            camera_on=_bool(obj, "camera_on", where),
            last_ring=_opt_time(obj, "last_ring", where),
        )


@dataclass(frozen=True, slots=True)
class CameraState:
    """State of a home camera (`camera_on` False is privacy mode)."""

    motion: bool
    camera_on: bool

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse a `CameraState`."""
        where = cls.__name__
        obj = _obj(data, where)
        return cls(motion=_bool(obj, "motion", where), camera_on=_bool(obj, "camera_on", where))


@dataclass(frozen=True, slots=True)
class DoorLockState:
    """State of a door lock and its door contact."""

    lock_state: LockState
    door: DoorState
    auto_lock_delay: float

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse a `DoorLockState`."""
        where = cls.__name__
        obj = _obj(data, where)
        return cls(
            lock_state=_enum(obj, "lock_state", where, LockState),
            door=_enum(obj, "door", where, DoorState),
            auto_lock_delay=_number(obj, "auto_lock_delay", where),
        )


def _opt_siren_mode(data: Mapping[str, Any], where: str) -> SirenMode | None:
    """Read the optional `siren_mode`: None if absent, or a mode this client does not know."""
    value = data.get("siren_mode")
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(where, "siren_mode", "must be a string")
    try:
        return SirenMode(value)
    except ValueError:
        log_unknown_once("siren mode", value)
        return None


def _opt_id(data: Mapping[str, Any], key: str, where: str) -> str | None:
    """Read an optional string field (absent or null: None)."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _fail(where, key, "must be a string")
    return value


@dataclass(frozen=True, slots=True)
class EmergencyBellState:
    """State of an emergency bell.

    `siren_mode` is None for a bell without the setting (it sounds the siren at once).
    `emergency_device` is the hub's other device that raised the emergency (a pulled
    personal alarm, API 2.1), else None.
    """

    emergency: bool
    emergency_source: EmergencySource | None
    emergency_since: datetime | None
    siren: bool
    siren_mode: SirenMode | None = None
    emergency_device: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse an `EmergencyBellState`."""
        where = cls.__name__
        obj = _obj(data, where)
        source = _get(obj, "emergency_source", where)
        return cls(
            emergency=_bool(obj, "emergency", where),
            emergency_source=(
                None if source is None else _enum(obj, "emergency_source", where, EmergencySource)
            ),
            emergency_since=_opt_time(obj, "emergency_since", where),
            siren=_bool(obj, "siren", where),
            siren_mode=_opt_siren_mode(obj, where),
            emergency_device=_opt_id(obj, "emergency_device", where),
        )


@dataclass(frozen=True, slots=True)
class WindowLockState:
    """State of a window lock (API 2.1); `latch` is None for a lock without one."""

    window: WindowState
    tamper: bool
    latch: LatchState | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse a `WindowLockState`."""
        where = cls.__name__
        obj = _obj(data, where)
        return cls(
            window=_enum(obj, "window", where, WindowState),
            tamper=_bool(obj, "tamper", where),
            latch=None if obj.get("latch") is None else _enum(obj, "latch", where, LatchState),
        )


@dataclass(frozen=True, slots=True)
class PersonalAlarmState:
    """State of a personal alarm (API 2.1): it sounds while its pin is out."""

    sounding: bool
    sounding_since: datetime | None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse a `PersonalAlarmState`."""
        where = cls.__name__
        obj = _obj(data, where)
        return cls(
            sounding=_bool(obj, "sounding", where),
            sounding_since=_opt_time(obj, "sounding_since", where),
        )


type DeviceState = (
    DoorbellState
    | CameraState
    | DoorLockState
    | EmergencyBellState
    | WindowLockState
    | PersonalAlarmState
)

_STATE_PARSERS: dict[DeviceType, Any] = {
    DeviceType.DOORBELL: DoorbellState.from_dict,
    DeviceType.CAMERA: CameraState.from_dict,
    DeviceType.DOOR_LOCK: DoorLockState.from_dict,
    DeviceType.EMERGENCY_BELL: EmergencyBellState.from_dict,
    DeviceType.WINDOW_LOCK: WindowLockState.from_dict,
    DeviceType.PERSONAL_ALARM: PersonalAlarmState.from_dict,
}


@dataclass(frozen=True, slots=True)
class Device:
    """A device behind the hub; `state` is None for a device type this client does not know."""

    id: str
    type: DeviceType | str
    name: str
    manufacturer: str
    model: str
    firmware: str
    online: bool
    battery: int | None
    capabilities: frozenset[str]
    state: DeviceState | None
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False)

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse a `Device`."""
        where = "Device"
        obj = _obj(data, where)
        type_name = _str(obj, "type", where)
        device_type: DeviceType | str
        try:
            device_type = DeviceType(type_name)
        except ValueError:
            device_type = type_name
            log_unknown_once("device type", type_name)
        battery = _get(obj, "battery", where)
        if battery is not None and (
            isinstance(battery, bool) or not isinstance(battery, int) or not 0 <= battery <= 100
        ):
            raise _fail(where, "battery", "must be an integer 0-100 or null")
        capabilities = _get(obj, "capabilities", where)
        if not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
            raise _fail(where, "capabilities", "must be an array of strings")
        raw_state = _obj(_get(obj, "state", where), f"{where}.state")
        state: DeviceState | None = None
        if isinstance(device_type, DeviceType):
            state = _STATE_PARSERS[device_type](raw_state)
        return cls(
            id=_str(obj, "id", where),
            type=device_type,
            name=_str(obj, "name", where),
            manufacturer=_str(obj, "manufacturer", where),
            model=_str(obj, "model", where),
            firmware=_str(obj, "firmware", where),
            online=_bool(obj, "online", where),
            battery=battery,
            capabilities=frozenset(capabilities),
            state=state,
            raw=dict(obj),
        )

    def has(self, capability: str) -> bool:
        """Return whether the device has a capability."""
        return capability in self.capabilities


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """Where to get a camera's live stream; `url` and `rtsp_url` are secrets (hidden from repr)."""

    url: str | None = field(repr=False)
    format: str
    rtsp_url: str | None = field(repr=False)

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse a `StreamInfo`."""
        where = cls.__name__
        obj = _obj(data, where)
        return cls(
            url=_opt_str(obj, "url", where),
            format=_str(obj, "format", where),
            rtsp_url=_opt_str(obj, "rtsp_url", where),
        )


@dataclass(frozen=True, slots=True)
class Event:
    """One pushed event; `event` is an `EventName` when known, else the plain string."""

    seq: int
    time: datetime
    event: EventName | str
    device_id: str | None
    data: dict[str, Any] = field(compare=False, hash=False)
    device: Device | None = None
    hub: Hub | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse an `Event` frame; `device`/`hub` are parsed for the events that carry them."""
        where = "Event"
        obj = _obj(data, where)
        seq = _int(obj, "seq", where, minimum=1)
        try:
            time = parse_timestamp(_get(obj, "time", where))
        except SafeHomeProtocolError:
            raise _fail(where, "time", "must be an ISO 8601 timestamp") from None
        name = _str(obj, "event", where)
        if not name:
            raise _fail(where, "event", "must not be empty")
        device_id = _opt_str(obj, "device_id", where)
        payload = _obj(_get(obj, "data", where), f"{where}.data")
        event: EventName | str
        try:
            event = EventName(name)
        except ValueError:
            event = name
            log_unknown_once("event", name)
        device: Device | None = None
        hub: Hub | None = None
        if event in (EventName.DEVICE_UPDATED, EventName.DEVICE_ADDED):
            device = Device.from_dict(_get(payload, "device", f"{where}.data"))
        elif event is EventName.HUB_UPDATED:
            hub = Hub.from_dict(_get(payload, "hub", f"{where}.data"))
        return cls(
            seq=seq,
            time=time,
            event=event,
            device_id=device_id,
            data=dict(payload),
            device=device,
            hub=hub,
        )
