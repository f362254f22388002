"""The sender against pysiaalarm as the receiving centre, over real loopback TCP and UDP.

pysiaalarm is what Home Assistant's own `sia` integration receives with. An HA user types
the key as 16, 24 or 32 characters and pysiaalarm uses those characters' bytes as the AES
key; the tests use such keys, so they also show which SiaLink key an HA receiver expects.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
from zoneinfo import ZoneInfo

from pysiaalarm.account import SIAAccount
import pytest

from custom_components.seoul_safehome.sia import (
    SiaConnectionError,
    SiaDuhError,
    SiaEvent,
    SiaLink,
    SiaNakError,
    SiaSender,
    next_sequence,
)

from .conftest import StartReceiver
from .skew import set_clock_off

pytestmark = pytest.mark.parametrize("protocol", ["tcp", "udp"])

# Keys as a Home Assistant `sia` user types them (pysiaalarm: their ASCII bytes).
TEXT_KEYS = ["0123456789ABCDEF", "0123456789ABCDEF01234567", "0123456789ABCDEF0123456789ABCDEF"]
TIMEOUT = 5.0


def sender(protocol: str, port: int, link: SiaLink) -> SiaSender:
    """A sender to the local receiver."""
    return SiaSender("127.0.0.1", port, protocol, link, timeout=TIMEOUT)  # type: ignore[arg-type]


async def test_plain_report_is_acknowledged(protocol: str, start_receiver: StartReceiver) -> None:
    receiver = await start_receiver(protocol, [SIAAccount("1234")])
    link = SiaLink("1234")
    before = datetime.now(UTC).replace(microsecond=0)
    reply = await sender(protocol, receiver.port, link).send(SiaEvent("BA", 5, "Front door"), 42)
    assert (reply.kind, reply.seq, reply.account, reply.encrypted) == ("ACK", 42, "1234", False)
    (event,) = await receiver.wait_for_events(1)
    assert event.valid_message  # pysiaalarm's own CRC check
    assert not event.encrypted
    assert (event.account, event.sequence, event.code) == ("1234", "0042", "BA")
    assert event.message == "5|AFront door"  # zone 5, then the ASCII block
    assert isinstance(event.timestamp, datetime)
    assert before <= event.timestamp <= datetime.now(UTC)


@pytest.mark.parametrize("text_key", TEXT_KEYS, ids=["AES-128", "AES-192", "AES-256"])
async def test_encrypted_report_is_acknowledged(
    protocol: str, text_key: str, start_receiver: StartReceiver
) -> None:
    receiver = await start_receiver(protocol, [SIAAccount("1234", key=text_key)])
    link = SiaLink("1234", key=text_key.encode("ascii"))
    reply = await sender(protocol, receiver.port, link).send(SiaEvent("PA", 3, "Bell"), 7)
    # The receiver's ACK came encrypted, and decrypted with our key.
    assert (reply.kind, reply.seq, reply.encrypted) == ("ACK", 7, True)
    assert reply.timestamp is not None
    assert abs(reply.timestamp - datetime.now(UTC)) < timedelta(seconds=5)
    (event,) = await receiver.wait_for_events(1)
    assert event.encrypted
    assert (event.account, event.sequence, event.code, event.message) == (
        "1234",
        "0007",
        "PA",
        "3|ABell",
    )


async def test_binary_key(protocol: str, start_receiver: StartReceiver) -> None:
    """A key of arbitrary bytes (a receiver that takes the key as hex digits)."""
    key = bytes(range(0xE0, 0x100))  # 32 bytes, none of them ASCII
    account = SIAAccount("1234")
    account.key_b = key
    receiver = await start_receiver(protocol, [account])
    reply = await sender(protocol, receiver.port, SiaLink("1234", key=key)).send(SiaEvent("QA"), 1)
    assert (reply.kind, reply.encrypted) == ("ACK", True)
    (event,) = await receiver.wait_for_events(1)
    assert event.code == "QA"


async def test_bad_key_is_refused(protocol: str, start_receiver: StartReceiver) -> None:
    receiver = await start_receiver(protocol, [SIAAccount("1234", key=TEXT_KEYS[0])])
    link = SiaLink("1234", key=b"FEDCBA9876543210")
    with pytest.raises(SiaNakError):
        await sender(protocol, receiver.port, link).send(SiaEvent("BA", 1), 1)
    assert receiver.events == []


@pytest.mark.parametrize("key", [None, TEXT_KEYS[0]])
async def test_wrong_account_is_refused(
    protocol: str, key: str | None, start_receiver: StartReceiver
) -> None:
    receiver = await start_receiver(protocol, [SIAAccount("1234", key=key)])
    link = SiaLink("9999", key=key.encode() if key else None)
    with pytest.raises(SiaNakError):
        await sender(protocol, receiver.port, link).send(SiaEvent("BA", 1), 1)
    assert receiver.events == []


async def test_unknown_code_gets_duh(protocol: str, start_receiver: StartReceiver) -> None:
    receiver = await start_receiver(protocol, [SIAAccount("1234")])
    with pytest.raises(SiaDuhError):
        await sender(protocol, receiver.port, SiaLink("1234")).send(SiaEvent("AZ"), 1)


async def test_stale_message_is_refused_with_the_receivers_time(
    protocol: str, start_receiver: StartReceiver
) -> None:
    """A message whose time is off by minutes is refused; the NAK says the receiver's time."""
    receiver = await start_receiver(protocol, [SIAAccount("1234", key=TEXT_KEYS[2])])
    link = SiaLink("1234", key=TEXT_KEYS[2].encode())
    stale = datetime.now(UTC) - timedelta(minutes=5)
    with pytest.raises(SiaNakError) as refused:
        await sender(protocol, receiver.port, link).send(SiaEvent("BA"), 1, when=stale)
    assert refused.value.receiver_time is not None
    assert abs(refused.value.receiver_time - datetime.now(UTC)) < timedelta(seconds=5)
    assert receiver.events == []


SEOUL = ZoneInfo("Asia/Seoul")


@pytest.mark.parametrize(
    ("skew", "receiver_zone", "our_zone"),
    [
        (timedelta(minutes=-5), None, None),
        (timedelta(minutes=3), None, None),
        (timedelta(minutes=-5), SEOUL, SEOUL),
        (timedelta(minutes=3), SEOUL, SEOUL),
        (timedelta(hours=-5), None, SEOUL),
        (timedelta(days=-2), None, SEOUL),
        (timedelta(hours=9), None, None),
    ],
    ids=[
        "behind",
        "ahead",
        "behind-receiver-stamps-seoul-time",
        "ahead-receiver-stamps-seoul-time",
        "5-hours-behind",
        "2-days-behind",
        "local-time-as-utc",
    ],
)
async def test_a_badly_set_clock_is_corrected_from_the_nak(
    protocol: str,
    skew: timedelta,
    receiver_zone: ZoneInfo | None,
    our_zone: ZoneInfo | None,
    start_receiver: StartReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stamped minutes, hours or days off (a board without a clock, one set to local time),
    a report is refused, then stamped with the centre's time, whichever reading of it the
    receiver takes (pysiaalarm with a time zone stamps its NAK with that zone's wall clock).
    """
    account = SIAAccount("1234", key=TEXT_KEYS[0], device_timezone=receiver_zone or UTC)
    receiver = await start_receiver(protocol, [account])
    set_clock_off(monkeypatch, skew)
    link = SiaLink("1234", key=TEXT_KEYS[0].encode())
    to_centre = SiaSender("127.0.0.1", receiver.port, protocol, link, TIMEOUT, our_zone)  # type: ignore[arg-type]
    with pytest.raises(SiaNakError):  # as before: a single attempt is refused
        await to_centre.send(SiaEvent("PA", 3), 1)

    reply, offset = await to_centre.send_on_receiver_time(SiaEvent("PA", 3), 2)
    assert (reply.kind, reply.seq) == ("ACK", 2)
    assert abs(offset + skew) < timedelta(seconds=3)
    (event,) = await receiver.wait_for_events(1)
    assert event.code == "PA"
    assert abs(event.timestamp - datetime.now(UTC)) < timedelta(seconds=3)
    # The next report, stamped with the learnt offset, is taken at once.
    reply, again = await to_centre.send_on_receiver_time(SiaEvent("PR", 3), 3, offset)
    assert (reply.kind, again) == ("ACK", offset)


async def test_a_refusal_for_the_key_is_not_taken_for_a_clock(
    protocol: str, start_receiver: StartReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = await start_receiver(protocol, [SIAAccount("1234", key=TEXT_KEYS[0])])
    wrong_key = SiaLink("1234", key=b"FEDCBA9876543210")
    sent: list[datetime | None] = []
    send = SiaSender.send

    async def counted(self: SiaSender, event: SiaEvent, seq: int, when: datetime | None = None):  # type: ignore[no-untyped-def]
        sent.append(when)
        return await send(self, event, seq, when)

    monkeypatch.setattr(SiaSender, "send", counted)
    with pytest.raises(SiaNakError):
        await sender(protocol, receiver.port, wrong_key).send_on_receiver_time(SiaEvent("BA"), 1)
    assert receiver.events == []
    assert len(sent) == 1  # the clocks agree: not sent again at another time


async def test_supervision_report(protocol: str, start_receiver: StartReceiver) -> None:
    receiver = await start_receiver(protocol, [SIAAccount("1234")])
    reply = await sender(protocol, receiver.port, SiaLink("1234")).send(SiaEvent("RP"), 9999)
    assert reply.seq == 9999
    reply = await sender(protocol, receiver.port, SiaLink("1234")).send(
        SiaEvent("RP"), next_sequence(9999)
    )
    assert reply.seq == 1
    events = await receiver.wait_for_events(2)
    assert [(e.code, e.sequence) for e in events] == [("RP", "9999"), ("RP", "0001")]


async def test_receiver_down_then_back(protocol: str, start_receiver: StartReceiver) -> None:
    receiver = await start_receiver(protocol, [SIAAccount("1234", key=TEXT_KEYS[0])])
    link = SiaLink("1234", key=TEXT_KEYS[0].encode())
    send = sender(protocol, receiver.port, link)
    await receiver.stop()
    with pytest.raises(SiaConnectionError):  # TCP: refused; UDP: ICMP port unreachable
        await send.send(SiaEvent("PA", 2), 11)
    await receiver.start()  # same port
    reply = await send.send(SiaEvent("PA", 2), 11)  # the same message, repeated
    assert (reply.kind, reply.seq) == ("ACK", 11)
    (event,) = await receiver.wait_for_events(1)
    assert (event.code, event.sequence) == ("PA", "0011")


async def test_repeated_sequence_number_is_acknowledged_again(
    protocol: str, start_receiver: StartReceiver
) -> None:
    """A repetition (its ACK was lost) carries the same sequence number; the receiver
    acknowledges it again, and can tell it is the same message (the control-centre
    emulator counts it once: tests/control_centre)."""
    receiver = await start_receiver(protocol, [SIAAccount("1234", key=TEXT_KEYS[1])])
    send = sender(protocol, receiver.port, SiaLink("1234", key=TEXT_KEYS[1].encode()))
    first = await send.send(SiaEvent("FA", 4), 123)
    again = await send.send(SiaEvent("FA", 4), 123)
    assert first.seq == again.seq == 123
    events = await receiver.wait_for_events(2)
    assert {(e.sequence, e.code, e.message) for e in events} == {("0123", "FA", "4")}


async def test_key_is_not_logged(
    protocol: str, start_receiver: StartReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = TEXT_KEYS[2]
    receiver = await start_receiver(protocol, [SIAAccount("1234", key=key)])
    await sender(protocol, receiver.port, SiaLink("1234", key=key.encode())).send(SiaEvent("BA"), 1)
    assert key not in caplog.text
    assert key.encode().hex() not in caplog.text.lower()
