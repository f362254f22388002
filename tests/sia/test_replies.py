"""Reading a receiver's answers: what counts as delivery, what is refused, what is garbage.

The answers are written here from DC-09 (and in the forms pysiaalarm sends), framed with
the test's reference CRC. Only an ACK that names our account (and, encrypted, decrypts
with our key) confirms delivery; anything doubtful is a protocol error, so the caller
repeats the message rather than believing it delivered.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.seoul_safehome.sia import SiaLink, SiaProtocolError, parse_reply

from . import reference

KEY = bytes(range(16))
PLAIN = SiaLink("1234")
SEALED = SiaLink("1234", key=KEY)
STAMP = "_10:11:12,02-03-2026"
STAMP_TIME = datetime(2026, 2, 3, 10, 11, 12, tzinfo=UTC)


def sealed_ack(seq: str, content: bytes, key: bytes = KEY, account: str = "1234") -> bytes:
    """An encrypted ACK whose block (before encryption) is `content`."""
    hexed = reference.aes_cbc(key, content, decrypt=False).hex().upper()
    return reference.wrap(f'"*ACK"{seq}R0L0#{account}[{hexed}')


def test_plain_ack() -> None:
    reply = parse_reply(reference.wrap('"ACK"0042R0L0#1234[]'), PLAIN)
    assert (reply.kind, reply.seq, reply.account, reply.encrypted) == ("ACK", 42, "1234", False)
    assert reply.timestamp is None


def test_encrypted_ack_standard_layout() -> None:
    # DC-09: pad (no "|", "[" or "]") + "|" + "]" + timestamp, a multiple of 16 bytes.
    content = b"\x01\x02\xff\x00\x7e" * 2 + b"|]" + STAMP.encode()
    reply = parse_reply(sealed_ack("0042", content), SEALED)
    assert (reply.kind, reply.seq, reply.encrypted, reply.timestamp) == (
        "ACK",
        42,
        True,
        STAMP_TIME,
    )


def test_encrypted_ack_pysiaalarm_layout() -> None:
    # pysiaalarm pads with "0" characters and leaves the "|" out.
    content = b"0" * 11 + b"]" + STAMP.encode()
    assert parse_reply(sealed_ack("0001", content), SEALED).timestamp == STAMP_TIME


def test_nak_forms() -> None:
    standard = parse_reply(reference.wrap(f'"NAK"0000R0L0A0[]{STAMP}'), SEALED)
    assert (standard.kind, standard.seq, standard.timestamp) == ("NAK", None, STAMP_TIME)
    swapped = parse_reply(reference.wrap(f'"NAK"0000L0R0A0[]{STAMP}'), SEALED)  # pysiaalarm
    assert (swapped.kind, swapped.timestamp) == ("NAK", STAMP_TIME)
    bare = parse_reply(b'"NAK"', PLAIN)  # pysiaalarm, for an unknown account
    assert (bare.kind, bare.seq) == ("NAK", None)


def test_duh() -> None:
    reply = parse_reply(reference.wrap('"DUH"0042R0L0#1234[]'), SEALED)
    assert (reply.kind, reply.seq) == ("DUH", 42)
    assert parse_reply(b'"DUH"', PLAIN).kind == "DUH"


@pytest.mark.parametrize(
    ("data", "link", "why"),
    [
        (reference.wrap('"ACK"0042R0L0#9999[]'), PLAIN, "another account"),
        (reference.wrap('"ACK"0042R0L0[]'), PLAIN, "another account"),
        (reference.wrap('"ACK"0000R0L0#1234[]'), PLAIN, "sequence"),
        (reference.wrap('"ACK"0042R0L0#1234[]'), SEALED, "unencrypted ACK"),
        (reference.wrap('"ACK"0042R0L0#1234[garbage'), PLAIN, "malformed"),
        (reference.wrap('"*ACK"0042R0L0#1234[00'), PLAIN, "unencrypted link"),
        (reference.wrap('"*ACK"0042R0L0#1234[0011'), SEALED, "whole AES blocks"),
        (reference.wrap('"*ACK"0042R0L0#1234[XYZ'), SEALED, "hexadecimal"),
        (reference.wrap('"*ACK"0042R0L0#1234[00 11'), SEALED, "hexadecimal"),
        (reference.wrap('"HELLO"0042R0L0#1234[]'), PLAIN, "not an ACK"),
        (b'\n00000014"ACK"0042R0L0#1234[]\r', PLAIN, "CRC"),
        (b"\nABCD\r", PLAIN, "header"),
        (b"", PLAIN, "header"),
        (b'"ACK"', PLAIN, "header"),  # a bare ACK confirms nothing
        (reference.wrap('"ACK"0042R0L0#1234[]_99:99:99,99-99-2026'), PLAIN, "date"),
        (reference.wrap(b'"ACK"0042R0L0#1234[]\xff'), PLAIN, "ASCII"),
        (b"\n" + b"A" * 5000 + b"\r", PLAIN, "too long"),
    ],
)
def test_doubtful_answers_are_protocol_errors(data: bytes, link: SiaLink, why: str) -> None:
    with pytest.raises(SiaProtocolError, match=why):
        parse_reply(data, link)


def test_length_field_must_be_exact() -> None:
    good = reference.wrap('"ACK"0042R0L0#1234[]')
    for length in (b"0013", b"0015", b"0000"):  # the body is 0x14 bytes
        with pytest.raises(SiaProtocolError, match="length"):
            parse_reply(good[:5] + length + good[9:], PLAIN)


def test_encrypted_ack_with_another_key_is_rejected() -> None:
    """Only the holder of the key can confirm an encrypted report."""
    content = b"\x05" * 10 + b"|]" + STAMP.encode()
    assert parse_reply(sealed_ack("0042", content), SEALED).kind == "ACK"
    with pytest.raises(SiaProtocolError, match="decrypt"):
        parse_reply(sealed_ack("0042", content, key=bytes(16)), SEALED)
    with pytest.raises(SiaProtocolError, match="another account"):
        parse_reply(sealed_ack("0042", content, account="9999"), SEALED)
