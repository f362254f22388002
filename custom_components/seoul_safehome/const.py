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

# The second kind of config entry: a link to a monitoring centre's SIA DC-09 receiver.
# Hub entries have no entry type in their data.
CONF_ENTRY_TYPE: Final = "entry_type"
ENTRY_TYPE_MONITORING: Final = "monitoring_centre"
CONF_PROTOCOL: Final = "protocol"
CONF_ACCOUNT: Final = "account"
CONF_RECEIVER: Final = "receiver"
CONF_LINE: Final = "line"
# The AES key as hexadecimal text (None: unencrypted); never logged or shown again.
CONF_KEY: Final = "key"
# Options: seconds between supervision test reports (0: none) and the phones to alert.
CONF_SUPERVISION: Final = "supervision"
CONF_PHONES: Final = "phones"
DEFAULT_SUPERVISION: Final = 3600

ISSUE_CENTRE_UNREACHABLE: Final = "monitoring_centre_unreachable"
