"""Certificate pinning: the hub's fingerprint, and the aiohttp check that pins it."""

from __future__ import annotations

import asyncio
import hashlib
import re

import aiohttp

_FINGERPRINT_RE = re.compile(r"^[0-9a-f]{64}\Z")


def normalize_fingerprint(value: str) -> str:
    """Return a SHA-256 fingerprint as 64 lowercase hex digits (`:` separators allowed).

    Raises ValueError for anything else.
    """
    if not isinstance(value, str):
        raise ValueError("a certificate fingerprint must be a string")
    fingerprint = value.strip().replace(":", "").lower()
    if not _FINGERPRINT_RE.match(fingerprint):
        raise ValueError("a certificate fingerprint must be 64 hex digits (SHA-256)")
    return fingerprint


def certificate_fingerprint(der: bytes) -> str:
    """Return the fingerprint of a DER certificate: SHA-256, 64 lowercase hex digits."""
    return hashlib.sha256(der).hexdigest()


def pinned(fingerprint: str) -> aiohttp.Fingerprint:
    """Return the aiohttp `ssl=` value that accepts only the certificate with `fingerprint`."""
    return aiohttp.Fingerprint(bytes.fromhex(fingerprint))


class CertificateRecorder(aiohttp.Fingerprint):
    """An `ssl=` value that accepts any certificate and remembers the one the hub showed.

    aiohttp calls `check` on each new TLS connection made with it (one object, one
    connection: aiohttp pools connections by this object). Only for the start of pairing,
    whose exchange then authenticates exactly this certificate.
    """

    def __init__(self) -> None:
        """Record nothing yet."""
        super().__init__(bytes(32))
        self.seen: str | None = None

    def check(self, transport: asyncio.Transport) -> None:
        """Accept the connection; note its certificate's fingerprint."""
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        self.seen = certificate_fingerprint(der) if der else None
