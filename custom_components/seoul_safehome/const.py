"""Constants for the Seoul SafeHome integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "seoul_safehome"
LOGGER = logging.getLogger(__package__)

DEFAULT_PORT: Final = 8765
CLIENT_NAME: Final = "Home Assistant"

# The oldest SafeHome Local API (MAJOR, MINOR) this integration works with.
MIN_API_VERSION: Final = (2, 0)
SUPPORTED_API_MAJOR: Final = 2

# The hub's certificate fingerprint learnt at pairing (SHA-256, hex): every request and the
# event stream are pinned to it.
CONF_FINGERPRINT: Final = "fingerprint"
# The code asked for before unlocking from Home Assistant (options; stored hashed).
CONF_UNLOCK_CODE: Final = "unlock_code"

ISSUE_API_VERSION: Final = "api_version_unsupported"
ISSUE_SECURE_LINK: Final = "secure_link_required"
ISSUE_IDENTITY_CHANGED: Final = "hub_identity_changed"

# The lock activity event of a wrong unlock code typed in Home Assistant (lock.py).
EVENT_WRONG_CODE: Final = "wrong_code"
