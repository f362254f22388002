"""DC-09 frames: build a report, parse a receiver's reply (ANSI/SIA DC-09-2013).

A frame is `<LF><crc><0LLL><"id"><seq><Rrcvr><Lpref>#<acct>[<data>]<timestamp><CR>`:

- crc: CRC-16/ARC of everything from the opening quote of the id token to the end of the
  timestamp, as 4 upper-case hexadecimal digits; 0LLL: "0" and the byte count of that
  same span in 3 hexadecimal digits;
- id: "SIA-DCS" (unencrypted) or "*SIA-DCS" (encrypted); seq: 4 decimal digits;
- data (SIA DC-03 blocks): `#<acct>|N<code><zone>` and, with text, `|A<text>`;
- timestamp: `_HH:MM:SS,MM-DD-YYYY` in UTC.

Encrypted (AES-CBC, initialization vector all zeros, key of 128/192/256 bits): what follows
"[" up to and including the timestamp is `<pad>|<data>]<timestamp>`, where pad is 1-16
pseudo-random bytes (any value but "|", "[" and "]") making the whole a multiple of 16
bytes (16 when it already was one); it is sent as upper-case hexadecimal.
"""

from __future__ import annotations

from datetime import UTC, datetime
import re
import secrets

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .crc import crc16_arc
from .errors import SiaProtocolError
from .models import SEQUENCE_MAX, SEQUENCE_MIN, ReplyKind, SiaEvent, SiaLink, SiaReply

ID_TOKEN = "SIA-DCS"
BLOCK = 16
IV = bytes(BLOCK)
LENGTH_MAX = 0xFFF
REPLY_MAX = 4096
TIMESTAMP_FORMAT = "_%H:%M:%S,%m-%d-%Y"
PAD_FORBIDDEN = frozenset(b"|[]")

_HEADER = re.compile(rb"([0-9A-Fa-f]{4})([0-9A-Fa-f]{4})")
_REPLY = re.compile(
    r'"(?P<star>\*?)(?P<kind>ACK|NAK|DUH)"(?P<seq>\d{4})'
    r"(?P<fields>(?:[RL][0-9A-F]{1,6}){0,2})(?:A0)?(?:#(?P<account>[0-9A-F]{3,16}))?"
    r"\[(?P<rest>.*)",
    re.DOTALL,
)
_TIMESTAMP = r"_\d\d:\d\d:\d\d,\d\d-\d\d-\d{4}"
# After "[" in a clear reply: "]", extended data blocks, an optional timestamp.
_CLEAR_REST = re.compile(rf"\](?:\[[^\[\]]*\])*(?P<ts>{_TIMESTAMP})?")
# An encrypted ACK, decrypted: pad (optionally ended by "|"), "]", extended data, time.
_SEALED_REST = re.compile(rb"[^|\[\]]*\|?\](?:\[[^\[\]]*\])*(?P<ts>" + _TIMESTAMP.encode() + rb")")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")
_BARE = {b'"NAK"': "NAK", b'"DUH"': "DUH"}


def format_timestamp(when: datetime) -> str:
    """Return `_HH:MM:SS,MM-DD-YYYY` for an aware datetime, in UTC."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("the time must be timezone-aware")
    return when.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Read `_HH:MM:SS,MM-DD-YYYY` as a UTC datetime (ValueError when it is not one)."""
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def event_data(link: SiaLink, event: SiaEvent) -> str:
    """Return the data of the "[...]" field: account block, event block, ASCII block."""
    data = f"#{link.account}|N{event.code}{event.zone}"
    if event.text is not None:
        data += f"|A{event.text}"
    return data


def pad_bytes(length: int) -> bytes:
    """Return `length` pseudo-random pad bytes, none of them "|", "[" or "]"."""
    pad = bytearray()
    while len(pad) < length:
        pad.extend(b for b in secrets.token_bytes(length) if b not in PAD_FORBIDDEN)
    return bytes(pad[:length])


def _cipher(key: bytes) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key), modes.CBC(IV))


def encrypt_block(key: bytes, content: bytes) -> bytes:
    """Pad `content` ("|" + data + "]" + timestamp) as DC-09 says and AES-CBC encrypt it."""
    pad = BLOCK - len(content) % BLOCK  # 1..16: a full block when already a multiple
    encryptor = _cipher(key).encryptor()
    return encryptor.update(pad_bytes(pad) + content) + encryptor.finalize()


def decrypt_block(key: bytes, sealed: bytes) -> bytes:
    """AES-CBC decrypt whole blocks (no padding is removed: DC-09 pads at the front)."""
    decryptor = _cipher(key).decryptor()
    return decryptor.update(sealed) + decryptor.finalize()


def _check_seq(seq: int) -> None:
    if isinstance(seq, bool) or not isinstance(seq, int) or not SEQUENCE_MIN <= seq <= SEQUENCE_MAX:
        raise ValueError(f"sequence number must be {SEQUENCE_MIN} to {SEQUENCE_MAX}")


def frame_body(body: str) -> bytes:
    """Wrap a body (from the id token's quote to the timestamp) as LF, CRC, 0LLL, body, CR."""
    raw = body.encode("ascii")
    if len(raw) > LENGTH_MAX:
        raise ValueError("message too long for the 0LLL length field")
    return b"\n" + f"{crc16_arc(raw):04X}0{len(raw):03X}".encode("ascii") + raw + b"\r"


def build_frame(link: SiaLink, event: SiaEvent, seq: int, when: datetime) -> bytes:
    """Return the complete DC-09 SIA-DCS frame of `event`, sequence `seq`, sent at `when`.

    Every call with a key draws a new pad, so each (re)transmission encrypts differently.
    """
    _check_seq(seq)
    timestamp = format_timestamp(when)
    data = event_data(link, event)
    header = f"{seq:04d}{link.receiver or ''}{link.line}#{link.account}["
    if link.key is None:
        body = f'"{ID_TOKEN}"{header}{data}]{timestamp}'
    else:
        sealed = encrypt_block(link.key, f"|{data}]{timestamp}".encode("ascii"))
        body = f'"*{ID_TOKEN}"{header}{sealed.hex().upper()}'
    return frame_body(body)


def _unframe(data: bytes) -> str:
    """Check LF/CR, CRC and length of a reply frame; return its body."""
    if len(data) > REPLY_MAX:
        raise SiaProtocolError("reply too long")
    raw = data.removeprefix(b"\n").removesuffix(b"\r")
    header = _HEADER.match(raw)
    if header is None:
        raise SiaProtocolError("reply without a CRC and length header")
    body = raw[header.end() :]
    if int(header[2], 16) != len(body):
        raise SiaProtocolError("reply length field does not match its length")
    if int(header[1], 16) != crc16_arc(body):
        raise SiaProtocolError("reply CRC mismatch")
    try:
        return body.decode("ascii")
    except UnicodeDecodeError as err:
        raise SiaProtocolError("reply is not ASCII") from err


def _timestamp(text: str | bytes | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_timestamp(text.decode("ascii") if isinstance(text, bytes) else text)
    except ValueError as err:
        raise SiaProtocolError("reply timestamp is not a valid date and time") from err


def _open_ack(link: SiaLink, rest: str) -> datetime | None:
    """Decrypt an encrypted ACK's block and return its timestamp; it must decrypt cleanly."""
    if link.key is None:
        raise SiaProtocolError("encrypted ACK on an unencrypted link")
    if not _HEX.fullmatch(rest):
        raise SiaProtocolError("encrypted ACK is not hexadecimal")
    sealed = bytes.fromhex(rest)
    if not sealed or len(sealed) % BLOCK:
        raise SiaProtocolError("encrypted ACK is not whole AES blocks")
    match = _SEALED_REST.fullmatch(decrypt_block(link.key, sealed))
    if match is None:
        raise SiaProtocolError("encrypted ACK does not decrypt with this key")
    return _timestamp(match["ts"])


def parse_reply(data: bytes, link: SiaLink) -> SiaReply:
    """Parse one reply frame (ACK, *ACK, NAK or DUH) for a message sent on `link`.

    An ACK must name the link's account and, on an encrypted link, be an "*ACK" that
    decrypts with the link's key; a bare `"NAK"` or `"DUH"` without a frame (which some
    receivers send for an unknown account) is read as what it says. Anything else raises
    SiaProtocolError.
    """
    bare = data.strip(b"\r\n")
    if bare in _BARE:
        kind: ReplyKind = "NAK" if _BARE[bare] == "NAK" else "DUH"
        return SiaReply(kind, None)
    match = _REPLY.fullmatch(_unframe(data))
    if match is None:
        raise SiaProtocolError("reply is not an ACK, NAK or DUH")
    seq = int(match["seq"]) or None
    account = match["account"]
    rest = match["rest"]
    if match["kind"] != "ACK":
        clear = _CLEAR_REST.fullmatch(rest)
        stamp = _timestamp(clear["ts"]) if clear else None
        kind = "NAK" if match["kind"] == "NAK" else "DUH"
        return SiaReply(kind, None if kind == "NAK" else seq, account, stamp, bool(match["star"]))
    if seq is None:
        raise SiaProtocolError("ACK without a sequence number")
    if account != link.account:
        raise SiaProtocolError("ACK for another account")
    if match["star"]:
        return SiaReply("ACK", seq, account, _open_ack(link, rest), encrypted=True)
    if link.key is not None:
        raise SiaProtocolError("unencrypted ACK to an encrypted message")
    clear = _CLEAR_REST.fullmatch(rest)
    if clear is None:
        raise SiaProtocolError("ACK has a malformed data field")
    return SiaReply("ACK", seq, account, _timestamp(clear["ts"]))
