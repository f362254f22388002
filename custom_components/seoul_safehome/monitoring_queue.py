"""The monitoring-centre link's memory: reports not yet acknowledged, and the sequence counter.

Everything is written to storage before it is acted on: a report is stored with its
sequence number before its first transmission and removed only after the receiver's ACK.
After a restart the stored reports are sent again with the same numbers, so the centre
neither misses one nor gets one twice under two numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypedDict

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
import homeassistant.util.dt as dt_util

from .const import DOMAIN, ENTRY_TYPE_MONITORING
from .sia import SEQUENCE_MIN, SiaEvent, next_sequence

STORAGE_VERSION: Final = 1
# The set-up test (the config flow's supervision report) used sequence number 1.
FIRST_SEQUENCE: Final = next_sequence(SEQUENCE_MIN)


def storage_key(entry_id: str) -> str:
    """Return the storage file name of an entry's link."""
    return f"{DOMAIN}.{ENTRY_TYPE_MONITORING}.{entry_id}"


@dataclass(slots=True)
class QueuedReport:
    """A report waiting for the receiver's ACK, with the sequence number it keeps."""

    seq: int
    code: str
    zone: int
    text: str | None
    queued: datetime
    # Whether the phones were told it could not be delivered.
    alerted: bool = False

    @property
    def event(self) -> SiaEvent:
        """The event to send."""
        return SiaEvent(self.code, self.zone, self.text)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as stored."""
        return {
            "seq": self.seq,
            "code": self.code,
            "zone": self.zone,
            "text": self.text,
            "queued": self.queued.isoformat(),
            "alerted": self.alerted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueuedReport:
        """Read a stored report."""
        queued = dt_util.parse_datetime(data["queued"]) or dt_util.utcnow()
        return cls(
            seq=int(data["seq"]),
            code=str(data["code"]),
            zone=int(data["zone"]),
            text=data.get("text"),
            queued=queued,
            alerted=bool(data.get("alerted", False)),
        )


@dataclass(slots=True)
class LastReport:
    """The newest alarm report raised, and when the receiver acknowledged it."""

    seq: int
    code: str
    zone: int
    queued: datetime
    delivered: datetime | None = None


class _Stored(TypedDict):
    next_seq: int
    pending: list[dict[str, Any]]
    last_ack: str | None
    last_report: dict[str, Any] | None


def _time(text: str | None) -> datetime | None:
    return dt_util.parse_datetime(text) if text else None


@dataclass(slots=True)
class _State:
    next_seq: int = FIRST_SEQUENCE
    pending: list[QueuedReport] = field(default_factory=list)
    last_ack: datetime | None = None
    last_report: LastReport | None = None


class ReportQueue:
    """Reports in the order they were raised, kept in storage with the sequence counter."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Bind the queue to an entry's storage file (nothing is read yet)."""
        # Private: a report's text may be the home's address.
        self._store: Store[_Stored] = Store(
            hass, STORAGE_VERSION, storage_key(entry_id), private=True, atomic_writes=True
        )
        self._state = _State()

    @property
    def pending(self) -> list[QueuedReport]:
        """The reports not yet acknowledged, oldest first (a copy)."""
        return list(self._state.pending)

    @property
    def next_seq(self) -> int:
        """The sequence number the next message will get."""
        return self._state.next_seq

    @property
    def last_ack(self) -> datetime | None:
        """When the receiver last acknowledged a message (report or test)."""
        return self._state.last_ack

    @property
    def last_report(self) -> LastReport | None:
        """The newest alarm report raised."""
        return self._state.last_report

    async def async_load(self) -> None:
        """Read the stored state (a new entry starts after the set-up test's number)."""
        if (data := await self._store.async_load()) is None:
            return
        last = data.get("last_report")
        self._state = _State(
            next_seq=int(data.get("next_seq", FIRST_SEQUENCE)),
            pending=[QueuedReport.from_dict(item) for item in data.get("pending", [])],
            last_ack=_time(data.get("last_ack")),
            last_report=LastReport(
                seq=int(last["seq"]),
                code=str(last["code"]),
                zone=int(last["zone"]),
                queued=_time(last["queued"]) or dt_util.utcnow(),
                delivered=_time(last.get("delivered")),
            )
            if last
            else None,
        )

    async def async_remove(self) -> None:
        """Delete the storage file (the entry is removed)."""
        await self._store.async_remove()

    async def async_save(self) -> None:
        """Write the whole state to storage."""
        state = self._state
        last = state.last_report
        await self._store.async_save(
            {
                "next_seq": state.next_seq,
                "pending": [report.as_dict() for report in state.pending],
                "last_ack": state.last_ack.isoformat() if state.last_ack else None,
                "last_report": {
                    "seq": last.seq,
                    "code": last.code,
                    "zone": last.zone,
                    "queued": last.queued.isoformat(),
                    "delivered": last.delivered.isoformat() if last.delivered else None,
                }
                if last
                else None,
            }
        )

    def _take_sequence(self) -> int:
        seq = self._state.next_seq
        self._state.next_seq = next_sequence(seq)
        return seq

    def add(self, event: SiaEvent) -> QueuedReport:
        """Queue an alarm report under the next sequence number (not stored yet)."""
        now = dt_util.utcnow()
        report = QueuedReport(self._take_sequence(), event.code, event.zone, event.text, now)
        self._state.pending.append(report)
        self._state.last_report = LastReport(report.seq, report.code, report.zone, now)
        return report

    async def async_add(self, event: SiaEvent) -> QueuedReport:
        """Queue an alarm report under the next sequence number; stored before returning."""
        report = self.add(event)
        await self.async_save()
        return report

    def _drop(self, report: QueuedReport) -> None:
        """Remove exactly this report (another may share its number after a wrap)."""
        self._state.pending = [r for r in self._state.pending if r is not report]

    async def async_take_sequence(self) -> int:
        """Return a sequence number for a supervision test (stored as used)."""
        seq = self._take_sequence()
        await self.async_save()
        return seq

    async def async_acknowledged(self, report: QueuedReport | None = None) -> None:
        """Record an ACK: of the pending `report` (removed), or of a test (None)."""
        now = dt_util.utcnow()
        self._state.last_ack = now
        if report is not None:
            self._drop(report)
            last = self._state.last_report
            if last is not None and (last.seq, last.code, last.queued) == (
                report.seq,
                report.code,
                report.queued,
            ):
                last.delivered = now
        await self.async_save()

    async def async_rejected(self, report: QueuedReport) -> None:
        """Drop a report the receiver keeps refusing to process (DUH): it never will."""
        self._drop(report)
        await self.async_save()

    async def async_mark_alerted(self, reports: list[QueuedReport]) -> None:
        """Remember that the phones were told these reports are not delivered."""
        for report in self._state.pending:
            if any(report is told for told in reports):
                report.alerted = True
        await self.async_save()
