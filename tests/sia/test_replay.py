"""A recorded encrypted ACK played back later does not confirm a report.

An "*ACK" decrypts with the link's key, so only the centre (or a recording of it) can
make one; its time stamp tells a fresh answer from a recording. The peer here is a real
loopback receiver that answers every report with the ACK the test gives it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.seoul_safehome.sia import SiaEvent, SiaLink, SiaSender, SiaTimeoutError

from . import reference
from .test_sender import peer

KEY = bytes(range(16))
LINK = SiaLink("1234", key=KEY)
SEOUL = ZoneInfo("Asia/Seoul")


def sealed_ack(seq: int, stamped: datetime) -> bytes:
    """The centre's encrypted ACK for `seq`, stamped with `stamped`'s wall clock."""
    content = b"]" + stamped.strftime("_%H:%M:%S,%m-%d-%Y").encode()
    content = b"0" * (-len(content) % 16) + content  # pysiaalarm's padding
    hexed = reference.aes_cbc(KEY, content, decrypt=False).hex().upper()
    return reference.wrap(f'"*ACK"{seq:04d}R0L0#1234[{hexed}')


def sender(port: int, protocol: str = "tcp") -> SiaSender:
    return SiaSender("127.0.0.1", port, protocol, LINK, 0.6, zone=SEOUL)  # type: ignore[arg-type]


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
@pytest.mark.parametrize("age", [timedelta(hours=1), timedelta(days=1), -timedelta(hours=2)])
async def test_a_replayed_ack_does_not_confirm_delivery(
    protocol: str, age: timedelta, socket_enabled: None
) -> None:
    recorded = sealed_ack(7, datetime.now(UTC) - age)
    async with peer(protocol, lambda _: [recorded]) as p:
        with pytest.raises(SiaTimeoutError):
            await sender(p.port, protocol).send(SiaEvent("PA"), 7)


async def test_a_replay_followed_by_the_real_ack_is_delivered(socket_enabled: None) -> None:
    """The replay is skipped, not taken for an error: the centre's own ACK still counts."""
    async with peer(
        "tcp",
        lambda _: [
            sealed_ack(7, datetime.now(UTC) - timedelta(hours=3)),
            sealed_ack(7, datetime.now(UTC)),
        ],
    ) as p:
        assert (await sender(p.port).send(SiaEvent("PA"), 7)).seq == 7


@pytest.mark.parametrize(
    "stamped",
    [
        lambda: datetime.now(UTC) + timedelta(minutes=4),  # a receiver clock a little ahead
        lambda: datetime.now(UTC) - timedelta(minutes=9),
        lambda: datetime.now(SEOUL),  # pysiaalarm with device_timezone: local time
    ],
)
async def test_a_fresh_ack_confirms_delivery(stamped: object, socket_enabled: None) -> None:
    assert callable(stamped)
    async with peer("tcp", lambda _: [sealed_ack(7, stamped())]) as p:
        assert (await sender(p.port).send(SiaEvent("PA"), 7)).seq == 7
