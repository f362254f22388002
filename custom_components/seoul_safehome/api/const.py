"""Constants of the SafeHome Local API (docs/protocol.md)."""

from __future__ import annotations

from typing import Final

API_VERSION: Final = "2.1"
"""The API version this client implements (2.0: the secure link, TLS and SPAKE2 pairing)."""
SUPPORTED_API_MAJOR: Final = 2
MIN_API_MINOR: Final = 0

DEFAULT_PORT: Final = 8765
API_PATH: Final = "/api/v2"
EVENTS_PATH: Final = "/events"
PAIR_START_PATH: Final = "/pair/start"
PAIR_FINISH_PATH: Final = "/pair/finish"
ZEROCONF_TYPE: Final = "_safehome._tcp.local."

DEFAULT_REQUEST_TIMEOUT: Final = 10.0
MAX_FRAME_SIZE: Final = 64 * 1024
"""Largest WebSocket frame (and request body) the protocol allows, in bytes."""
WS_MAX_MESSAGE_SIZE: Final = 16 * 1024 * 1024
"""Frames above MAX_FRAME_SIZE are skipped; only beyond this is the link dropped."""

DEFAULT_BACKOFF_MIN: Final = 0.5
DEFAULT_BACKOFF_MAX: Final = 30.0
DEFAULT_BACKOFF_JITTER: Final = 0.2
FAST_RETRY_WINDOW: Final = 60.0
"""For this long after a link is lost, retries come at least every FAST_RETRY_MAX s."""
FAST_RETRY_MAX: Final = 1.0
"""After the quick window and until FAST_RETRY_WINDOW, retry about once a second."""
QUICK_RETRY_WINDOW: Final = 10.0
"""A rebooting hub is usually back within seconds: for this long retry very often..."""
QUICK_RETRY_MAX: Final = 0.1
"""...every 0.1 s (a refused TCP connection costs the hub next to nothing)."""
DEFAULT_HEARTBEAT_INTERVAL: Final = 10.0
WATCHDOG_FACTOR: Final = 2.0
WATCHDOG_GRACE: Final = 5.0

AUTO_LOCK_DELAY_MAX: Final = 30.0
SIREN_DURATION_MIN: Final = 1
SIREN_DURATION_MAX: Final = 600
RATE_LIMIT_WINDOW: Final = 60.0
"""Fallback `retry_after` when a 429 carries none (the hub's rate-limit window)."""

CLOSE_CODE_UNAUTHORIZED: Final = 4001

# Pairing (API 2.0 §K): SPAKE2 identities and the HKDF `info` of each derived key.
PAKE_ID_CLIENT: Final = b"safehome-client"
PAKE_ID_HUB: Final = b"safehome-hub"
HKDF_INFO_CLIENT_CONFIRM: Final = b"safehome-v2 client confirm"
HKDF_INFO_HUB_CONFIRM: Final = b"safehome-v2 hub confirm"
HKDF_INFO_SEAL: Final = b"safehome-v2 seal"

# Error codes (docs/protocol.md §6).
ERROR_BAD_REQUEST: Final = "bad_request"
ERROR_INVALID_PARAMS: Final = "invalid_params"
ERROR_UNKNOWN_COMMAND: Final = "unknown_command"
ERROR_UNSUPPORTED: Final = "unsupported"
ERROR_UNAUTHORIZED: Final = "unauthorized"
ERROR_INVALID_CODE: Final = "invalid_code"
ERROR_PAIRING_CLOSED: Final = "pairing_closed"
ERROR_NOT_FOUND: Final = "not_found"
ERROR_DOOR_OPEN: Final = "door_open"
ERROR_JAMMED: Final = "jammed"
ERROR_BUSY: Final = "busy"
ERROR_CAMERA_OFF: Final = "camera_off"
ERROR_PAYLOAD_TOO_LARGE: Final = "payload_too_large"
ERROR_RATE_LIMITED: Final = "rate_limited"
ERROR_INTERNAL: Final = "internal"
ERROR_OFFLINE: Final = "offline"

# Capabilities (docs/protocol.md §4).
CAP_SNAPSHOT: Final = "snapshot"
CAP_MJPEG: Final = "mjpeg"
CAP_STREAM: Final = "stream"
CAP_PRIVACY: Final = "privacy"
CAP_MOTION: Final = "motion"
CAP_LOCK: Final = "lock"
CAP_UNLOCK: Final = "unlock"
CAP_OPEN: Final = "open"
CAP_AUTO_LOCK_DELAY: Final = "auto_lock_delay"
CAP_DOOR_CONTACT: Final = "door_contact"
CAP_ACTIVITY: Final = "activity"
CAP_SIREN: Final = "siren"
CAP_EMERGENCY: Final = "emergency"
CAP_VOICE: Final = "voice"
CAP_SIREN_MODE: Final = "siren_mode"
