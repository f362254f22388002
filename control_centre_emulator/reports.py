"""What the control centre shows for each message it received: the `Report`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import re
from typing import Any, Literal

from pysiaalarm.data.sia_codes import SIA_CODES

Transport = Literal["tcp", "udp"]
Reply = Literal["ACK", "NAK", "DUH", "none"]

# Korean names of the codes a home-safety kit reports (the page shows both languages).
CODES_KO: dict[str, str] = {
    "AR": "교류 전원 복구",
    "AT": "교류 전원 이상",
    "BA": "침입 경보",
    "BR": "침입 경보 복구",
    "CL": "경비 설정",
    "FA": "화재 경보",
    "FR": "화재 경보 복구",
    "GA": "가스 경보",
    "GR": "가스 경보 복구",
    "HA": "강도(협박) 경보",
    "HR": "강도 경보 복구",
    "KA": "고온 경보",
    "KR": "고온 경보 복구",
    "MA": "의료 응급 경보",
    "MR": "의료 응급 복구",
    "OP": "경비 해제",
    "PA": "비상(패닉) 경보",
    "PR": "비상 경보 복구",
    "QA": "긴급 구조 요청",
    "QR": "긴급 구조 요청 복구",
    "RP": "자동 통신 점검",
    "RX": "수동 통신 점검",
    "TA": "기기 훼손(탬퍼) 경보",
    "TR": "기기 훼손 복구",
    "WA": "누수 경보",
    "WR": "누수 경보 복구",
    "YR": "배터리 복구",
    "YT": "배터리 이상",
}

# After the event code: the zone digits, then an ASCII block (`|Atext`) or `^text^`.
_ADDRESS = re.compile(
    r"(?P<zone>\d{1,9})?(?:\|A(?P<ablock>[^|]*)|\^(?P<caret>[^^]*)\^?)?(?P<rest>.*)"
)


def describe(code: str | None) -> tuple[str | None, str | None]:
    """Return the English (SIA code list) and Korean names of an event code."""
    if code is None:
        return None, None
    known = SIA_CODES.get(code)
    return (known.type if known else None), CODES_KO.get(code)


def split_message(message: str | None) -> tuple[int | None, str | None]:
    """Split what follows the event code into the zone number and the text."""
    if not message:
        return None, None
    match = _ADDRESS.fullmatch(message)
    assert match is not None  # every group is optional
    zone = int(match["zone"]) if match["zone"] else None
    text = match["ablock"] or match["caret"] or match["rest"].strip("|/ ") or None
    return zone, text


@dataclass(slots=True)
class Report:
    """One message as the centre received it, and what it answered.

    `reply` is what the centre sent back ("none" when it stayed silent); `reason` says
    why it did not acknowledge. `repeats` counts retransmissions of an acknowledged
    report (same account, sequence number and content): they are acknowledged again but
    counted once.
    """

    id: int
    received: datetime
    transport: Transport
    reply: Reply
    account: str | None = None
    sequence: int | None = None
    code: str | None = None
    zone: int | None = None
    area: int | None = None
    text: str | None = None
    encrypted: bool = False
    sent_at: datetime | None = None
    reason: str | None = None
    repeats: int = 0
    last_received: datetime | None = None

    @property
    def description(self) -> str | None:
        """The event's English name from the SIA code list."""
        return describe(self.code)[0]

    @property
    def description_ko(self) -> str | None:
        """The event's Korean name, for the codes the kit reports."""
        return describe(self.code)[1]

    def same_delivery(self, other: Report) -> bool:
        """Whether `other` is a retransmission of this (acknowledged) report."""
        return (
            self.account,
            self.sequence,
            self.code,
            self.zone,
            self.area,
            self.text,
        ) == (other.account, other.sequence, other.code, other.zone, other.area, other.text)

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (what `GET /reports` lists)."""
        return {
            "id": self.id,
            "received": self.received.isoformat(),
            "last_received": self.last_received.isoformat() if self.last_received else None,
            "transport": self.transport,
            "account": self.account,
            "sequence": self.sequence,
            "code": self.code,
            "description": self.description,
            "description_ko": self.description_ko,
            "zone": self.zone,
            "area": self.area,
            "text": self.text,
            "encrypted": self.encrypted,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "reply": self.reply,
            "reason": self.reason,
            "repeats": self.repeats,
        }

    def summary(self) -> str:
        """One line for the terminal."""
        what = " ".join(
            part
            for part in (
                self.account and f"account {self.account}",
                (self.sequence is not None and f"seq {self.sequence:04d}") or "",
                self.code,
                self.description,
                (self.zone is not None and f"zone {self.zone}") or "",
                self.text and repr(self.text),
            )
            if part
        )
        reply = self.reply + (f" ({self.reason})" if self.reason else "")
        lock = " encrypted" if self.encrypted else ""
        again = f", repeated {self.repeats}x" if self.repeats else ""
        return (
            f"#{self.id} {self.transport.upper()}{lock}: {what or 'unreadable message'}"
            f" -> {reply}{again}"
        )
