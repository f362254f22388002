"""Property-based tests (Hypothesis): replies never crash the parser; every frame is DC-09.

Whatever a receiver (or anyone who can reach the sender's socket) sends, `parse_reply`
returns a reply or raises SiaProtocolError, nothing else. Every frame `build_frame` makes,
for any valid event, link and time, has the exact length, the CRC, the UTC timestamp and,
encrypted, the padded block layout (checked with the reference code). Example counts are
bounded and fixed (`derandomize`) so the suite stays fast and never depends on luck.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.seoul_safehome.sia import (
    SiaEvent,
    SiaLink,
    SiaProtocolError,
    build_frame,
    crc16_arc,
    parse_reply,
)

from . import reference

LINKS = [SiaLink("1234"), SiaLink("1234", key=bytes(range(16)))]
FIELD_CHARS = '"*ACKNAKDUH0123456789RL#[]|_:,-ABCDEF'


def fuzz(max_examples: int) -> settings:
    """Bounded, reproducible Hypothesis settings."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )


def parse_or_protocol_error(data: bytes) -> None:
    for link in LINKS:
        try:
            reply = parse_reply(data, link)
        except SiaProtocolError:
            continue
        assert reply.kind in ("ACK", "NAK", "DUH")
        assert reply.seq is None or 1 <= reply.seq <= 9999


@fuzz(400)
@given(st.binary(max_size=300))
def test_parse_reply_any_bytes(data: bytes) -> None:
    parse_or_protocol_error(data)


@fuzz(400)
@given(st.text(alphabet=FIELD_CHARS, max_size=120))
def test_parse_reply_well_framed_bodies(body: str) -> None:
    """Bodies with a valid CRC and length reach the field parsing."""
    parse_or_protocol_error(reference.wrap(body))
    parse_or_protocol_error(reference.wrap('"ACK"0001R0L0#1234[' + body))
    parse_or_protocol_error(reference.wrap('"*ACK"0001R0L0#1234[' + body))
    parse_or_protocol_error(reference.wrap('"NAK"0000R0L0A0[' + body))


@fuzz(300)
@given(st.binary(min_size=16, max_size=64).map(lambda b: b[: len(b) // 16 * 16]))
def test_parse_reply_encrypted_acks_of_random_blocks(block: bytes) -> None:
    """Random blocks under our key: an ACK only if they decrypt to the ACK layout."""
    parse_or_protocol_error(reference.wrap(f'"*ACK"0001R0L0#1234[{block.hex().upper()}'))


@fuzz(300)
@given(st.integers(0, 28), st.integers(0, 255))
def test_parse_reply_flipped_byte(position: int, value: int) -> None:
    good = bytearray(reference.wrap('"ACK"0042R0L0#1234[]'))
    good[position % len(good)] = value
    parse_or_protocol_error(bytes(good))


accounts = st.text(alphabet="0123456789ABCDEFabcdef", min_size=3, max_size=16)
keys = st.one_of(
    st.none(), st.sampled_from([16, 24, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n))
)
events = st.builds(
    SiaEvent,
    code=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    zone=st.integers(0, 9999),
    text=st.one_of(
        st.none(),
        st.text(
            alphabet=st.characters(
                min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="[]|^"
            ),
            min_size=1,
            max_size=64,
        ),
    ),
)
times = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))]),
)


@fuzz(300)
@given(accounts, keys, events, st.integers(1, 9999), times)
def test_every_frame_follows_dc09(
    account: str, key: bytes | None, event: SiaEvent, seq: int, when: datetime
) -> None:
    link = SiaLink(account, key=key)
    parts = reference.split(build_frame(link, event, seq, when))
    assert parts.length[0] == "0"
    assert int(parts.length, 16) == len(parts.body)
    assert int(parts.crc, 16) == reference.crc16_arc(parts.body) == crc16_arc(parts.body)
    stamp = when.astimezone(UTC).strftime("_%H:%M:%S,%m-%d-%Y").encode()
    data = f"#{account.upper()}|N{event.code}{event.zone}"
    if event.text is not None:
        data += f"|A{event.text}"
    head = f'"{"*" if key else ""}SIA-DCS"{seq:04d}R0L0#{account.upper()}['.encode()
    assert parts.body.startswith(head)
    rest = parts.body[len(head) :]
    if key is None:
        assert rest == data.encode() + b"]" + stamp
        return
    plain = reference.aes_cbc(key, bytes.fromhex(rest.decode()), decrypt=True)
    content = b"|" + data.encode() + b"]" + stamp
    assert plain.endswith(content)
    pad = plain[: -len(content)]
    assert 1 <= len(pad) <= 16
    assert len(plain) % 16 == 0
    assert not set(pad) & set(b"|[]")
