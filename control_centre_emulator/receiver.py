"""pysiaalarm's TCP and UDP servers, with every message passed to the centre to judge.

pysiaalarm parses, decrypts and checks each message and picks the answer (ACK, NAK, DUH);
it calls back only for acknowledged events. The centre needs to see every message and to
override the answer (refuse, stay silent), so its servers route each parsed message
through a `Judge`: it gets the raw bytes and pysiaalarm's verdict and returns the event to
answer with (None: send nothing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
import re
from typing import Any

from pysiaalarm.account import SIAAccount
from pysiaalarm.aio.server import SIAServerTCP, SIAServerUDP
from pysiaalarm.base_server import BaseSIAServer
from pysiaalarm.event import EventsType, NAKEvent, SIAEvent
from pysiaalarm.utils.counter import Counter
from pysiaalarm.utils.enums import ResponseType

from .reports import Reply, Transport, split_message

_LOGGER = logging.getLogger(__name__)

Judge = Callable[[bytes, EventsType | None, Transport], EventsType | None]

# The DC-09 header, to name the account of a message pysiaalarm could not read.
_HEADER = re.compile(
    r'"(?P<star>\*?)(?:SIA-DCS|ADM-CID|NULL)"(?P<seq>\d{4})(?:R[0-9A-F]{1,6})?'
    r"L[0-9A-F]{1,6}#(?P<account>[0-9A-F]{3,16})\[",
    re.IGNORECASE,
)


async def _acknowledged(_event: SIAEvent) -> None:
    """Ignore acknowledged events (pysiaalarm's callback): the judge has seen them."""


class _Judged(BaseSIAServer):
    judge: Judge
    transport_name: Transport

    def parse_and_check_event(self, data: bytes) -> EventsType | None:
        """Let pysiaalarm read the message, then let the centre decide the answer."""
        return self.judge(data, super().parse_and_check_event(data), self.transport_name)


class JudgedTCP(_Judged, SIAServerTCP):
    """pysiaalarm's asyncio TCP server, judged; it keeps its connections' tasks."""

    def __init__(self, accounts: dict[str, SIAAccount], judge: Judge) -> None:
        """Serve `accounts`; `judge` decides each answer."""
        SIAServerTCP.__init__(self, accounts, _acknowledged, Counter())
        self.judge = judge
        self.transport_name = "tcp"
        self.connections: set[asyncio.Task[Any]] = set()

    async def handle_line(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection (pysiaalarm), remembering its task until it ends."""
        task = asyncio.current_task()
        if task is not None:
            self.connections.add(task)
        try:
            await super().handle_line(reader, writer)
        except (ConnectionResetError, BrokenPipeError) as err:
            # The sender gave up and reset the connection (its timeout): nothing to answer.
            _LOGGER.debug("SIA connection ended by the sender: %s", err)
        finally:
            self.connections.discard(task)


class JudgedUDP(_Judged, SIAServerUDP):
    """pysiaalarm's asyncio UDP server (a DatagramProtocol), judged."""

    def __init__(self, accounts: dict[str, SIAAccount], judge: Judge) -> None:
        """Serve `accounts`; `judge` decides each answer."""
        SIAServerUDP.__init__(self, accounts, _acknowledged, Counter())
        self.judge = judge
        self.transport_name = "udp"


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def verdict(event: EventsType) -> Reply:
    """Return the answer pysiaalarm chose ("none": its empty answer to a bad CRC)."""
    response = event.response
    if response is None:
        return "none"
    if response is ResponseType.DUH:
        return "DUH"
    return "NAK" if response is ResponseType.NAK else "ACK"


def read_message(data: bytes, event: EventsType, accounts: dict[str, SIAAccount]) -> dict[str, Any]:
    """Return what a report shows of a message, and why it was not acknowledged."""
    if isinstance(event, NAKEvent):  # pysiaalarm could not read it
        header = _HEADER.search(data.decode("ascii", "replace"))
        if header is None:
            return {"reason": "unreadable message"}
        account = header["account"].upper()
        known = accounts.get(account)
        encrypted = bool(header["star"])
        if known is None:
            reason = "unknown account"
        elif encrypted and known.key_b:
            reason = "cannot decrypt: wrong key?"
        elif encrypted:
            reason = "encrypted, but this account has no key"
        else:
            reason = "unreadable message"
        return {
            "account": account,
            "sequence": _int(header["seq"]),
            "encrypted": encrypted,
            "reason": reason,
        }
    zone, text = split_message(event.message)
    fields: dict[str, Any] = {
        "account": event.account.upper() if event.account else None,
        "sequence": _int(event.sequence),
        "code": event.code,
        "zone": zone,
        "area": _int(event.ri),
        "text": text,
        "encrypted": bool(event.encrypted),
        "sent_at": event.timestamp if not isinstance(event.timestamp, str) else None,
    }
    reply = verdict(event)
    if reply == "none":
        fields["reason"] = "CRC mismatch"
    elif reply == "DUH":
        fields["reason"] = "unknown event code"
    elif reply == "NAK":
        fields["reason"] = (
            "unknown account" if event.sia_account is None else "time stamp outside the window"
        )
    return fields
