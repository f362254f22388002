"""The hub's side of pairing (API 2.0 §K) for the scripted hub, with switches to misbehave.

Written from the spec for these tests (the client and the emulator share no code, and
neither is used here): SPAKE2 side B, HKDF keys, the transcript, the hub's confirmation
and the sealed answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from spake2 import SPAKE2_B

from .fakehub import FakeHub, info


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _key(k: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(k)


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def _error(status: int, code: str, **extra: Any) -> web.Response:
    body = {"error": {"code": code, "message": code.replace("_", " "), **extra}}
    return web.json_response(body, status=status)


class FakePairing:
    """A pairing window on the scripted hub: `install()` serves /pair/start and /pair/finish.

    Switches: `confirm_fingerprint` (confirm another certificate than the one served, as a
    hub behind a man in the middle does), `sealed_fingerprint` (seal another fingerprint),
    `tamper_seal` (flip a bit of the sealed answer), `wrong_key` (confirm with a key not
    derived from the code: a hub that does not know it), `plaintext` (seal these bytes
    instead of the JSON answer), `nonce_length`.
    """

    def __init__(self, hub: FakeHub, code: str = "246810", attempts: int = 3) -> None:
        self.hub = hub
        self.code = code
        self.token = secrets.token_urlsafe(32)
        self.attempts = attempts
        self.open = True
        self.confirm_fingerprint: str | None = None
        self.sealed_fingerprint: str | None = None
        self.tamper_seal = False
        self.wrong_key = False
        self.plaintext: bytes | None = None
        self.nonce_length = 12
        self.starts: list[dict[str, Any]] = []
        self.finishes: list[dict[str, Any]] = []
        self._pending: dict[str, tuple[bytes, bytes, bytes]] = {}  # session → (msgA, msgB, K)

    def install(self) -> FakePairing:
        self.hub.rest["/pair/start"] = self._start
        self.hub.rest["/pair/finish"] = self._finish
        return self

    def _closed(self) -> web.Response:
        return _error(403, "pairing_closed")

    async def _start(self, request: web.Request) -> web.Response:
        if not self.open:
            return self._closed()
        body = await request.json()
        self.starts.append(body)
        self.attempts -= 1
        msg_a = base64.b64decode(body["pake"], validate=True)
        spake = SPAKE2_B(self.code.encode(), idA=b"safehome-client", idB=b"safehome-hub")
        msg_b = spake.start()
        key = spake.finish(msg_a)
        session = secrets.token_urlsafe(24)
        self._pending = {session: (msg_a, msg_b, key)}
        return web.json_response({"session": session, "pake": _b64(msg_b)})

    async def _finish(self, request: web.Request) -> web.Response:
        if not self.open:
            return self._closed()
        body = await request.json()
        self.finishes.append(body)
        pending = self._pending.pop(body["session"], None)
        if pending is not None:
            msg_a, msg_b, key = pending
            transcript = hashlib.sha256(msg_a + msg_b + body["session"].encode()).digest()
            expected = _mac(_key(key, b"safehome-v2 client confirm"), b"client" + transcript)
            if hmac.compare_digest(expected, base64.b64decode(body["confirm"])):
                self.open = False
                return web.json_response(self._sealed(key, transcript))
        if self.attempts <= 0:
            self.open = False
        return _error(401, "invalid_code", attempts_left=max(self.attempts, 0))

    def _sealed(self, key: bytes, transcript: bytes) -> dict[str, str]:
        if self.wrong_key:
            key = os.urandom(32)
        fingerprint = self.confirm_fingerprint or self.hub.fingerprint
        confirm = _mac(
            _key(key, b"safehome-v2 hub confirm"),
            b"hub" + transcript + bytes.fromhex(fingerprint),
        )
        plaintext = (
            self.plaintext
            or json.dumps(
                {
                    "token": self.token,
                    "fingerprint": self.sealed_fingerprint or self.hub.fingerprint,
                    "hub": info(),
                }
            ).encode()
        )
        nonce = os.urandom(self.nonce_length)
        sealed = AESGCM(_key(key, b"safehome-v2 seal")).encrypt(nonce, plaintext, transcript)
        if self.tamper_seal:
            sealed = bytes([sealed[0] ^ 1]) + sealed[1:]
        return {"confirm": _b64(confirm), "nonce": _b64(nonce), "sealed": _b64(sealed)}
