"""The client's side of pairing (API 2.0 §K): SPAKE2, derived keys, confirmations, the seal.

No I/O here: `SafeHomeClient.pair` carries the messages. Everything this module holds (the
code, the SPAKE2 state, K and the keys derived from it) is secret: nothing of it is ever
logged, put in an exception or shown by repr.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from spake2 import SPAKE2_A, SPAKEError  # type: ignore[import-untyped]

from .const import (
    HKDF_INFO_CLIENT_CONFIRM,
    HKDF_INFO_HUB_CONFIRM,
    HKDF_INFO_SEAL,
    PAKE_ID_CLIENT,
    PAKE_ID_HUB,
)
from .exceptions import SafeHomeIdentityError, SafeHomeProtocolError

_KEY_LENGTH = 32
_NONCE_LENGTH = 12


def b64encode(data: bytes) -> str:
    """Encode bytes as the protocol does: standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def b64decode(value: object, where: str) -> bytes:
    """Decode a protocol base64 field, or raise SafeHomeProtocolError naming `where`."""
    if not isinstance(value, str):
        raise SafeHomeProtocolError(f"{where}: must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise SafeHomeProtocolError(f"{where}: is not valid base64") from None


def _derive(key: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 of the SPAKE2 key, no salt, 32 bytes."""
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_LENGTH, salt=None, info=info).derive(key)


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


class ClientPairing:
    """One pairing attempt, as side A of SPAKE2 (the hub is side B).

    `message` goes out in `PairStart`; `finish(hub_message, session)` derives the keys from
    the `PairChallenge`; then `client_confirm()` goes out in `PairFinish`, and
    `check_hub(confirm, fingerprint)` and `open(nonce, sealed)` verify `PairSealed`.
    """

    __slots__ = ("_k_client", "_k_hub", "_k_seal", "_spake", "_transcript", "message")

    def __init__(self, code: str) -> None:
        """Start the exchange with the 6-digit code as the SPAKE2 password."""
        self._spake = SPAKE2_A(code.encode("ascii"), idA=PAKE_ID_CLIENT, idB=PAKE_ID_HUB)
        self.message: bytes = bytes(self._spake.start())
        self._k_client = self._k_hub = self._k_seal = self._transcript = b""

    def __repr__(self) -> str:
        """Show nothing of the exchange's secrets."""
        return f"{type(self).__name__}(<secret>)"

    def finish(self, hub_message: bytes, session: str) -> None:
        """Derive K from the hub's SPAKE2 message, then the three keys and the transcript."""
        try:
            key = bytes(self._spake.finish(hub_message))
        except (SPAKEError, ValueError, TypeError, AssertionError):
            # Not a valid group element, the wrong side's message, or a reflection.
            raise SafeHomeProtocolError(
                "PairChallenge: the hub's SPAKE2 message is invalid"
            ) from None
        self._k_client = _derive(key, HKDF_INFO_CLIENT_CONFIRM)
        self._k_hub = _derive(key, HKDF_INFO_HUB_CONFIRM)
        self._k_seal = _derive(key, HKDF_INFO_SEAL)
        self._transcript = hashlib.sha256(self.message + hub_message + session.encode()).digest()

    def client_confirm(self) -> bytes:
        """Return HMAC-SHA256(k_client, "client" + T): proof that we know the code."""
        return _mac(self._k_client, b"client" + self._transcript)

    def check_hub(self, confirm: bytes, fingerprint: str) -> None:
        """Check HMAC-SHA256(k_hub, "hub" + T + fingerprint) for the certificate we saw.

        A mismatch means the hub does not know the code, or it speaks from behind another
        certificate than the one we are connected to (a man in the middle).
        """
        expected = _mac(self._k_hub, b"hub" + self._transcript + bytes.fromhex(fingerprint))
        if not hmac.compare_digest(expected, confirm):
            raise SafeHomeIdentityError(
                "The hub's pairing confirmation does not verify for the certificate it "
                "showed: the connection may be intercepted"
            )

    def open(self, nonce: bytes, sealed: bytes) -> bytes:
        """Decrypt the sealed answer (AES-256-GCM, the transcript as associated data)."""
        if len(nonce) != _NONCE_LENGTH:
            raise SafeHomeProtocolError("PairSealed: the nonce must be 12 bytes")
        try:
            return AESGCM(self._k_seal).decrypt(nonce, sealed, self._transcript)
        except InvalidTag:
            raise SafeHomeIdentityError(
                "The hub's sealed pairing answer does not open with the agreed key"
            ) from None
