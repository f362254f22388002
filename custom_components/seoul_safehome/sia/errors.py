"""Exceptions raised by the SIA DC-09 sender."""

from __future__ import annotations

from datetime import datetime


class SiaError(Exception):
    """Base class of every SIA sender error: the report was not confirmed delivered."""


class SiaProtocolError(SiaError):
    """A receiver's answer does not follow DC-09 (bad frame, CRC, length or encryption)."""


class SiaNakError(SiaError):
    """The receiver refused the message (NAK): wrong key, unknown account or stale time.

    `receiver_time` is the time the NAK carried (DC-09 puts the receiver's clock in it,
    so that a sender with a wrong clock can see by how much), when there was one.
    """

    def __init__(self, message: str, receiver_time: datetime | None = None) -> None:
        """Store the receiver's time from the NAK."""
        super().__init__(message)
        self.receiver_time = receiver_time


class SiaDuhError(SiaError):
    """The receiver could not process the message (DUH), e.g. an event code it does not know."""


class SiaTimeoutError(SiaError):
    """No answer for this message within the timeout."""


class SiaConnectionError(SiaError):
    """The receiver cannot be reached, or it dropped the connection before answering."""
