"""The hub's half of the password-authenticated pairing (SPAKE2, protocol.md §3).

The client is side A, the hub side B, the password the window's 6 digits. From the shared
key K come three keys (HKDF-SHA256): the client's confirmation, the hub's confirmation
and the seal that encrypts the token (AES-GCM). Everything is bound to the transcript
`T = SHA256(msgA || msgB || session)`, and the hub's confirmation also to its certificate.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
import hashlib
import hmac
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from spake2 import SPAKE2_B  # type: ignore[import-untyped]

from .util import dumps

ID_CLIENT = b"safehome-client"
ID_HUB = b"safehome-hub"
INFO_CLIENT = b"safehome-v2 client confirm"
INFO_HUB = b"safehome-v2 hub confirm"
INFO_SEAL = b"safehome-v2 seal"
# A SPAKE2 message in the Ed25519 group: the side (b"A" or b"B") and a 32-byte element.
MESSAGE_SIZE = 33
NONCE_SIZE = 12


class PakeError(ValueError):
    """The client's SPAKE2 message is not one."""


def b64encode(data: bytes) -> str:
    """Encode standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode strict standard base64; raise ValueError otherwise."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("not base64") from None


def derive(key: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 without salt, 32 bytes."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


def transcript(msg_a: bytes, msg_b: bytes, session: str) -> bytes:
    """`T = SHA256(msgA || msgB || session)`."""
    return hashlib.sha256(msg_a + msg_b + session.encode()).digest()


def mac(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256."""
    return hmac.new(key, data, hashlib.sha256).digest()


@dataclass(frozen=True)
class HubPake:
    """One pairing attempt on the hub: its answer to the client and the keys it shares."""

    msg_b: bytes
    transcript: bytes
    k_client: bytes
    k_hub: bytes
    k_seal: bytes

    @classmethod
    def respond(cls, code: str, msg_a: bytes, session: str) -> HubPake:
        """Answer the client's message (CPU-bound: run it in a thread).

        Raises PakeError if `msg_a` is not a side-A message of the right group.
        """
        if len(msg_a) != MESSAGE_SIZE or msg_a[:1] != b"A":
            raise PakeError("not a SPAKE2 side-A message")
        spake = SPAKE2_B(code.encode("ascii"), idA=ID_CLIENT, idB=ID_HUB)
        msg_b: bytes = spake.start()
        try:
            key: bytes = spake.finish(msg_a)
        except Exception as err:  # the library raises ValueError and its own error types
            raise PakeError("not a valid SPAKE2 element") from err
        return cls(
            msg_b=msg_b,
            transcript=transcript(msg_a, msg_b, session),
            k_client=derive(key, INFO_CLIENT),
            k_hub=derive(key, INFO_HUB),
            k_seal=derive(key, INFO_SEAL),
        )

    def client_confirmed(self, confirm: bytes) -> bool:
        """Check the client's `HMAC(k_client, "client" || T)` in constant time."""
        return hmac.compare_digest(confirm, mac(self.k_client, b"client" + self.transcript))

    def sealed(self, fingerprint: str, plaintext: dict[str, Any]) -> dict[str, str]:
        """Return the `PairSealed` answer: the hub's confirmation and the sealed JSON."""
        nonce = os.urandom(NONCE_SIZE)
        confirm = mac(self.k_hub, b"hub" + self.transcript + bytes.fromhex(fingerprint))
        sealed = AESGCM(self.k_seal).encrypt(nonce, dumps(plaintext).encode(), self.transcript)
        return {
            "confirm": b64encode(confirm),
            "nonce": b64encode(nonce),
            "sealed": b64encode(sealed),
        }
