"""A monitoring-centre link's settings: check what the user typed, build the sender, test it."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any, Final

from homeassistant.const import CONF_HOST, CONF_PORT
import homeassistant.util.dt as dt_util

from .const import CONF_ACCOUNT, CONF_KEY, CONF_LINE, CONF_PROTOCOL, CONF_RECEIVER
from .sia import (
    SEQUENCE_MIN,
    SUPERVISION_CODE,
    SiaConnectionError,
    SiaDuhError,
    SiaError,
    SiaEvent,
    SiaLink,
    SiaNakError,
    SiaSender,
    SiaTimeoutError,
)

PROTOCOLS: Final = ("tcp", "udp")
# Seconds the set-up test waits for the receiver's answer.
TEST_TIMEOUT: Final = 10.0

_ACCOUNT = re.compile(r"[0-9A-F]{3,16}")
_KEY = re.compile(r"(?:[0-9a-f]{32}|[0-9a-f]{48}|[0-9a-f]{64})")
_KEY_SEPARATORS = re.compile(r"[\s:-]")


def normalize_account(text: str) -> str | None:
    """Return the account in upper case, or None unless it is 3-16 hexadecimal characters."""
    account = text.strip().upper()
    return account if _ACCOUNT.fullmatch(account) else None


def normalize_key(text: str | None) -> str | None:
    """Return an AES key as lower-case hex (spaces, colons and dashes dropped).

    Empty: no key (""). Raises ValueError unless it is 16, 24 or 32 bytes in hex.
    """
    key = _KEY_SEPARATORS.sub("", text or "").lower()
    if key and not _KEY.fullmatch(key):
        raise ValueError("the key must be 32, 48 or 64 hexadecimal characters")
    return key


def build_sender(data: Mapping[str, Any], timeout: float) -> SiaSender:
    """Return the sender for a link's settings (entry data)."""
    key = data.get(CONF_KEY)
    link = SiaLink(
        data[CONF_ACCOUNT],
        receiver=int(data[CONF_RECEIVER]),
        line=int(data[CONF_LINE]),
        key=bytes.fromhex(key) if key else None,
    )
    return SiaSender(
        data[CONF_HOST],
        int(data[CONF_PORT]),
        data[CONF_PROTOCOL],
        link,
        timeout,
        # A receiver may stamp its ACKs with the local time (pysiaalarm does).
        zone=dt_util.get_default_time_zone(),
    )


async def async_test_link(data: Mapping[str, Any], seq: int = SEQUENCE_MIN) -> str | None:
    """Send one supervision test report; return None on its ACK, else the form's error key."""
    try:
        await build_sender(data, TEST_TIMEOUT).send_on_receiver_time(
            SiaEvent(SUPERVISION_CODE), seq
        )
    except (SiaNakError, SiaDuhError):
        # Every receiver knows a test report: one it cannot read was encrypted with
        # another key (decrypted garbage gets a NAK, or now and then a DUH).
        return "centre_refused"
    except SiaTimeoutError:
        return "centre_timeout"
    except SiaConnectionError:
        return "centre_unreachable"
    except SiaError:  # an answer that is not DC-09 (or does not decrypt)
        return "centre_invalid_reply"
    return None
