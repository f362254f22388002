"""Test helpers: a schema-checking HTTPS client, its pairing, and an event-stream reader.

The client's half of the pairing uses the `spake2` and `cryptography` libraries directly
(not the integration's client), so the hub is checked against the spec on its own.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import hashlib
import hmac
import json
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from spake2 import SPAKE2_A

from tests.schema import assert_valid

MESSAGE_DEFS = {
    "welcome": "Welcome",
    "resync": "Resync",
    "heartbeat": "Heartbeat",
    "pong": "Pong",
    "error": "StreamError",
    "event": "Event",
}
_DEFAULT: Any = object()


@dataclass
class Reply:
    """One HTTP answer."""

    status: int
    body: Any
    headers: Any


async def peer_certificate(url: str) -> bytes:
    """Return the certificate (DER) the server at an `https://` URL presents."""
    parts = urlsplit(url)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    _, writer = await asyncio.open_connection(parts.hostname, parts.port, ssl=context)
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await writer.wait_closed()
    assert der
    return der


async def peer_fingerprint(url: str) -> str:
    """Return the fingerprint of the certificate the server presents."""
    return fingerprint_of(await peer_certificate(url))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def fingerprint_of(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _hkdf(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


@dataclass
class PakeClient:
    """The client's side (SPAKE2 side A) of one pairing attempt, per protocol.md §3."""

    code: str
    client_name: str = "pytest"
    spake: Any = field(init=False)
    msg_a: bytes = field(init=False)
    transcript: bytes = b""
    k_hub: bytes = b""
    k_seal: bytes = b""

    def __post_init__(self) -> None:
        self.spake = SPAKE2_A(self.code.encode(), idA=b"safehome-client", idB=b"safehome-hub")
        self.msg_a = self.spake.start()

    def start_body(self) -> dict[str, Any]:
        body = {"client_name": self.client_name, "pake": b64(self.msg_a)}
        assert_valid("PairStart", body)
        return body

    def finish_body(self, challenge: dict[str, Any]) -> dict[str, Any]:
        """Answer the hub's `PairChallenge` with the client's confirmation."""
        msg_b = unb64(challenge["pake"])
        key = self.spake.finish(msg_b)
        session = challenge["session"].encode()
        self.transcript = hashlib.sha256(self.msg_a + msg_b + session).digest()
        self.k_hub = _hkdf(key, b"safehome-v2 hub confirm")
        self.k_seal = _hkdf(key, b"safehome-v2 seal")
        confirm = _mac(_hkdf(key, b"safehome-v2 client confirm"), b"client" + self.transcript)
        body = {"session": challenge["session"], "confirm": b64(confirm)}
        assert_valid("PairFinish", body)
        return body

    def hub_confirmed(self, sealed: dict[str, Any], fingerprint: str) -> bool:
        """Whether the hub's confirmation binds this exchange to that certificate."""
        expected = _mac(self.k_hub, b"hub" + self.transcript + bytes.fromhex(fingerprint))
        return hmac.compare_digest(unb64(sealed["confirm"]), expected)

    def open(self, sealed: dict[str, Any]) -> dict[str, Any]:
        """Decrypt the sealed JSON (raises cryptography's InvalidTag if it is not ours)."""
        plaintext = AESGCM(self.k_seal).decrypt(
            unb64(sealed["nonce"]), unb64(sealed["sealed"]), self.transcript
        )
        content = json.loads(plaintext)
        assert_valid("PairSealedPlaintext", content)
        return content


async def wait_for(
    condition: Callable[[], Awaitable[bool]], timeout: float = 3.0, interval: float = 0.01
) -> None:
    """Poll an async condition until it holds (fail after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)


class HubClient:
    """Talk to the emulator's API and check every answer against the schema."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        token: str | None = None,
        fingerprint: str | None = None,
    ) -> None:
        self.session = session
        self.url = url
        self.api = f"{url}/api/v2"
        self.token = token
        self.fingerprint = fingerprint

    @property
    def ssl(self) -> aiohttp.Fingerprint | bool:
        """Pin the hub's certificate once known (before that: TLS without verification)."""
        if self.fingerprint is None:
            return False
        return aiohttp.Fingerprint(bytes.fromhex(self.fingerprint))

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = _DEFAULT,
        data: Any = None,
        token: str | None = _DEFAULT,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send a request to `/api/v2{path}`; every error body must be a valid `Error`."""
        headers = dict(headers or {})
        token = self.token if token is _DEFAULT else token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"headers": headers, "ssl": self.ssl}
        if json_body is not _DEFAULT:
            kwargs["json"] = json_body
        elif data is not None:
            kwargs["data"] = data
        async with self.session.request(method, f"{self.api}{path}", **kwargs) as resp:
            raw = await resp.read()
            body: Any = raw
            if resp.content_type == "application/json":
                body = json.loads(raw)
            if resp.status >= 400:
                assert resp.content_type == "application/json", raw[:200]
                assert_valid("Error", body)
            return Reply(resp.status, body, resp.headers)

    async def ok(self, method: str, path: str, schema: str, **kwargs: Any) -> Any:
        """Expect 200 and a valid `schema` body."""
        reply = await self.request(method, path, **kwargs)
        assert reply.status == 200, reply.body
        assert_valid(schema, reply.body)
        return reply.body

    async def error(self, method: str, path: str, status: int, code: str, **kwargs: Any) -> Reply:
        """Expect an error of a status and code."""
        reply = await self.request(method, path, **kwargs)
        assert reply.status == status, reply.body
        assert reply.body["error"]["code"] == code, reply.body
        return reply

    async def pair_start(self, pake: PakeClient) -> tuple[dict[str, Any], str]:
        """Start pairing; return the `PairChallenge` and the fingerprint the hub presented.

        (aiohttp lets go of a response's connection once its body has arrived, so the
        certificate comes from a handshake first; the start is then pinned to it.)
        """
        self.fingerprint = await peer_fingerprint(self.url)
        reply = await self.request("POST", "/pair/start", json_body=pake.start_body(), token=None)
        assert reply.status == 200, reply.body
        assert_valid("PairChallenge", reply.body)
        return reply.body, self.fingerprint

    async def pair(self, code: str, client_name: str = "pytest") -> str:
        """Pair as a client does (in an open window): keep the fingerprint, return the token."""
        pake = PakeClient(code, client_name)
        challenge, seen = await self.pair_start(pake)
        sealed = await self.ok(
            "POST", "/pair/finish", "PairSealed", json_body=pake.finish_body(challenge), token=None
        )
        assert pake.hub_confirmed(sealed, seen), "the hub's confirmation does not verify"
        content = pake.open(sealed)
        assert content["fingerprint"] == seen
        return content["token"]

    async def device(self, device_id: str) -> dict[str, Any]:
        """GET one device."""
        return await self.ok("GET", f"/devices/{device_id}", "Device")

    async def hub(self) -> dict[str, Any]:
        """GET the hub."""
        return await self.ok("GET", "/hub", "Hub")

    async def command(
        self, device_id: str, command: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send a command that must be accepted; return the device."""
        body: dict[str, Any] = {"command": command}
        if params is not None:
            body["params"] = params
        assert_valid("CommandRequest", body)
        return await self.ok("POST", f"/devices/{device_id}/commands", "Device", json_body=body)

    async def command_error(
        self,
        device_id: str,
        command: str,
        params: Any = None,
        *,
        status: int,
        code: str,
    ) -> Reply:
        """Send a command that must fail with a status and code."""
        body: dict[str, Any] = {"command": command}
        if params is not None:
            body["params"] = params
        return await self.error(
            "POST", f"/devices/{device_id}/commands", status, code, json_body=body
        )

    async def state_of(self, device_id: str) -> dict[str, Any]:
        """Return a device's state object."""
        return (await self.device(device_id))["state"]

    async def wait_state(
        self, device_id: str, key: str, value: Any, timeout: float = 3.0
    ) -> dict[str, Any]:
        """Poll until `state[key] == value`; return the state."""
        state: dict[str, Any] = {}

        async def reached() -> bool:
            nonlocal state
            state = await self.state_of(device_id)
            return state[key] == value

        await wait_for(reached, timeout)
        return state

    async def connect(
        self,
        *,
        subscribe: bool = True,
        since: int | None = None,
        boot_id: str | None = None,
        token: str | None = _DEFAULT,
    ) -> EventStream:
        """Open the event stream (and subscribe, checking the welcome)."""
        token = self.token if token is _DEFAULT else token
        ws = await self.session.ws_connect(
            f"{self.api}/events", headers={"Authorization": f"Bearer {token}"}, ssl=self.ssl
        )
        stream = EventStream(ws)
        if subscribe:
            await stream.subscribe(since=since, boot_id=boot_id)
        return stream


class EventStream:
    """Read the event stream; every frame must be valid and events numbered without gaps."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.last_seq: int | None = None
        self.welcome: dict[str, Any] | None = None

    async def send(self, message: Any) -> None:
        """Send a JSON message."""
        await self.ws.send_str(json.dumps(message))

    async def subscribe(self, since: int | None = None, boot_id: str | None = None) -> None:
        """Subscribe and read the welcome."""
        message = {"type": "subscribe", "boot_id": boot_id, "since": since}
        assert_valid("Subscribe", message)
        await self.send(message)
        self.welcome = await self.expect("welcome")
        self.last_seq = since if since is not None else self.welcome["last_seq"]

    async def raw(self, timeout: float = 3.0) -> aiohttp.WSMessage:
        """Return the next frame as it is."""
        return await self.ws.receive(timeout=timeout)

    async def receive(self, timeout: float = 3.0) -> dict[str, Any]:
        """Return the next message, validated; events must follow each other by seq."""
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        assert len(msg.data.encode()) <= 64 * 1024
        message = json.loads(msg.data)
        if message.get("type") != "event":  # (`Event` alone is faster for floods)
            assert_valid("HubMessage", message)
        assert_valid(MESSAGE_DEFS[message["type"]], message)
        if message["type"] == "event" and self.last_seq is not None:
            assert message["seq"] == self.last_seq + 1, (message["seq"], self.last_seq)
        if message["type"] == "event":
            self.last_seq = message["seq"]
        if message["type"] == "resync":
            self.last_seq = message["last_seq"]
        return message

    async def expect(self, kind: str, timeout: float = 3.0) -> dict[str, Any]:
        """Return the next message other than a heartbeat; it must be of `kind`."""
        while True:
            message = await self.receive(timeout)
            if message["type"] != "heartbeat" or kind == "heartbeat":
                break
        assert message["type"] == kind, message
        return message

    async def event(
        self, name: str | None = None, device_id: str | None = None, timeout: float = 3.0
    ) -> dict[str, Any]:
        """Return the next event; it must have the given name (and device)."""
        message = await self.expect("event", timeout)
        if name is not None:
            assert message["event"] == name, message
        if device_id is not None:
            assert message["device_id"] == device_id, message
        return message

    async def until(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 3.0
    ) -> list[dict[str, Any]]:
        """Collect events until one matches (inclusive); return them all."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no matching event; saw {[e['event'] for e in seen]}"
            message = await self.receive(remaining)
            if message["type"] != "event":
                continue
            seen.append(message)
            if predicate(message):
                return seen

    async def device_state(
        self, device_id: str, key: str, value: Any, timeout: float = 3.0
    ) -> list[dict[str, Any]]:
        """Collect events until a `device_updated` shows `state[key] == value`."""
        return await self.until(
            lambda e: e["event"] == "device_updated"
            and e["device_id"] == device_id
            and e["data"]["device"]["state"][key] == value,
            timeout,
        )

    async def quiet(self, seconds: float) -> None:
        """Assert that no message other than heartbeats arrives for `seconds`."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = await self.receive(remaining)
            except TimeoutError:
                return
            assert message["type"] == "heartbeat", message

    async def close(self) -> None:
        """Close the stream."""
        await self.ws.close()
