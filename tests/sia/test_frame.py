"""The frames the library sends, checked byte by byte against DC-09, not against pysiaalarm.

pysiaalarm acknowledges a frame whose length field is wrong, so passing it proves little
about the length, and nothing about the pad or the block layout: these tests read the
frames with the test's own reference code (reference.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from custom_components.seoul_safehome.sia import (
    KNOWN_CODES,
    SUPERVISION_CODE,
    SiaEvent,
    SiaLink,
    build_frame,
    crc16_arc,
    next_sequence,
)
from custom_components.seoul_safehome.sia.frame import frame_body

from . import reference

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
KEYS = {
    "AES-128": bytes(range(16)),
    "AES-192": bytes(range(100, 124)),
    "AES-256": bytes(range(200, 232)),
}
FORBIDDEN_PAD = set(b"|[]")


def test_crc_known_vectors() -> None:
    # The CRC-16/ARC catalogue's check value, and vectors the bitwise reference agrees on.
    assert crc16_arc(b"123456789") == 0xBB3D
    assert crc16_arc(b"") == 0x0000
    assert crc16_arc(b"A") == 0x30C0
    body = b'"SIA-DCS"0001R0L0#1234[#1234|NBA5|AFront door]_03:04:05,01-02-2026'
    assert crc16_arc(body) == reference.crc16_arc(body) == 0x1C9A


def test_plain_frame_exact_bytes() -> None:
    frame = build_frame(SiaLink("1234"), SiaEvent("BA", 5, "Front door"), 1, WHEN)
    assert frame == (
        b'\n1C9A0042"SIA-DCS"0001R0L0#1234[#1234|NBA5|AFront door]_03:04:05,01-02-2026\r'
    )


@pytest.mark.parametrize("text", [None, "x", "Front door", "A" * 64])
@pytest.mark.parametrize("key", [None, *KEYS.values()])
def test_length_field_is_the_exact_byte_count(text: str | None, key: bytes | None) -> None:
    frame = build_frame(SiaLink("12AB", key=key), SiaEvent("QA", 12, text), 42, WHEN)
    parts = reference.split(frame)
    assert parts.length[0] == "0"
    assert parts.length == parts.length.upper()
    assert int(parts.length, 16) == len(parts.body)
    assert parts.crc == parts.crc.upper()
    assert int(parts.crc, 16) == reference.crc16_arc(parts.body)


def test_timestamp_is_utc_in_dc09_format() -> None:
    seoul = timezone(timedelta(hours=9))
    when = datetime(2026, 1, 1, 8, 30, 7, tzinfo=seoul)  # 23:30:07 UTC the day before
    frame = build_frame(SiaLink("1234"), SiaEvent("RP"), 9, when)
    assert reference.split(frame).body.endswith(b"]_23:30:07,12-31-2025")


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        build_frame(SiaLink("1234"), SiaEvent("RP"), 1, datetime(2026, 1, 1))


def test_header_fields() -> None:
    link = SiaLink("abc", receiver=12, line="l3")
    body = reference.split(build_frame(link, SiaEvent("PA"), 7, WHEN)).body
    assert body.startswith(b'"SIA-DCS"0007R12L3#ABC[#ABC|NPA0]_')
    no_receiver = SiaLink("abc", receiver=None, line=0)
    body = reference.split(build_frame(no_receiver, SiaEvent("PA"), 7, WHEN)).body
    assert body.startswith(b'"SIA-DCS"0007L0#ABC[')


@pytest.mark.parametrize("name", KEYS)
def test_encrypted_block_layout(name: str) -> None:
    key = KEYS[name]
    frame = build_frame(SiaLink("1234", key=key), SiaEvent("BA", 5, "Front door"), 3, WHEN)
    body = reference.split(frame).body
    head = b'"*SIA-DCS"0003R0L0#1234['
    assert body.startswith(head)
    sealed = body[len(head) :].decode()
    assert sealed == sealed.upper()
    assert len(sealed) % 32 == 0  # whole AES blocks, as hexadecimal
    plain = reference.aes_cbc(key, bytes.fromhex(sealed), decrypt=True)
    content = b"|#1234|NBA5|AFront door]_03:04:05,01-02-2026"
    assert plain.endswith(content)
    pad = plain[: -len(content)]
    assert 1 <= len(pad) <= 16
    assert not FORBIDDEN_PAD & set(pad)
    assert len(plain) % 16 == 0


@pytest.mark.parametrize("extra", range(16))
def test_pad_fills_to_a_block_and_a_full_block_when_already_aligned(extra: int) -> None:
    key = KEYS["AES-128"]
    event = SiaEvent("BA", 1, "t" * (1 + extra))
    content = f"|#1234|NBA1|A{event.text}]_03:04:05,01-02-2026".encode()
    body = reference.split(build_frame(SiaLink("1234", key=key), event, 1, WHEN)).body
    plain = reference.aes_cbc(key, bytes.fromhex(body.split(b"[", 1)[1].decode()), decrypt=True)
    pad = len(plain) - len(content)
    assert pad == 16 - len(content) % 16  # 16 pad bytes when content is a multiple of 16
    assert plain[pad:] == content


def test_each_transmission_draws_a_new_pad() -> None:
    link = SiaLink("1234", key=KEYS["AES-256"])
    frames = {build_frame(link, SiaEvent("PA"), 5, WHEN) for _ in range(8)}
    assert len(frames) == 8  # same event, sequence and time: different ciphertexts
    for frame in frames:
        sealed = reference.split(frame).body.split(b"[", 1)[1]
        plain = reference.aes_cbc(link.key or b"", bytes.fromhex(sealed.decode()), decrypt=True)
        assert plain.endswith(b"|#1234|NPA0]_03:04:05,01-02-2026")


def test_sequence_numbers() -> None:
    link, event = SiaLink("1234"), SiaEvent("RP")
    assert reference.split(build_frame(link, event, 9999, WHEN)).body.startswith(b'"SIA-DCS"9999R0')
    for bad in (0, 10000, -1):
        with pytest.raises(ValueError, match="sequence"):
            build_frame(link, event, bad, WHEN)
    assert next_sequence(1) == 2
    assert next_sequence(9998) == 9999
    assert next_sequence(9999) == 1
    assert next_sequence(0) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"account": "12"},
        {"account": "12345678901234567"},
        {"account": "12G4"},
        {"account": "1234", "key": b"short"},
        {"account": "1234", "key": bytes(20)},
        {"account": "1234", "receiver": "R1234567"},
        {"account": "1234", "line": "LXYZ"},
        {"account": "1234", "line": -1},
    ],
)
def test_invalid_link(kwargs: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        SiaLink(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"code": "ba"},
        {"code": "BAR"},
        {"code": "B1"},
        {"code": "BA", "zone": -1},
        {"code": "BA", "zone": 10000},
        {"code": "BA", "zone": True},
        {"code": "BA", "text": ""},
        {"code": "BA", "text": "현관"},
        {"code": "BA", "text": "a]b"},
        {"code": "BA", "text": "a|b"},
        {"code": "BA", "text": "a^b"},
        {"code": "BA", "text": "line\nbreak"},
        {"code": "BA", "text": "x" * 65},
    ],
)
def test_invalid_event(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"code|zone|text"):
        SiaEvent(**kwargs)  # type: ignore[arg-type]


def test_key_is_never_shown() -> None:
    key = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    link = SiaLink("1234", key=key)
    assert "key" not in repr(link)
    assert key.hex() not in repr(link).lower()
    assert link.encrypted
    assert not SiaLink("1234").encrypted


def test_known_codes() -> None:
    assert SUPERVISION_CODE == "RP"
    assert KNOWN_CODES["RP"] == "Automatic Test"
    for code, name in KNOWN_CODES.items():
        SiaEvent(code)
        assert name


def test_length_field_limit() -> None:
    assert frame_body("x" * 0xFFF).startswith(b"\n")
    with pytest.raises(ValueError, match="too long"):
        frame_body("x" * 0x1000)


def test_link_field_types() -> None:
    with pytest.raises(TypeError, match="bytes"):
        SiaLink("1234", key="0123456789abcdef")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="number or a string"):
        SiaLink("1234", receiver=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="required"):
        SiaLink("1234", line=None)  # type: ignore[arg-type]
