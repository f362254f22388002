"""Constants for the Seoul SafeHome integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "seoul_safehome"
LOGGER = logging.getLogger(__package__)

DEFAULT_PORT: Final = 8765
CLIENT_NAME: Final = "Home Assistant"

# The oldest SafeHome Local API (MAJOR, MINOR) this integration works with.
MIN_API_VERSION: Final = (1, 0)
SUPPORTED_API_MAJOR: Final = 1

ISSUE_API_VERSION: Final = "api_version_unsupported"
