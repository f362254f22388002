"""Test helpers: a schema-checking HTTP client and event-stream reader for the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import json
import time
from typing import Any

import aiohttp

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

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str | None = None) -> None:
        self.session = session
        self.url = url
        self.api = f"{url}/api/v1"
        self.token = token

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
        """Send a request to `/api/v1{path}`; every error body must be a valid `Error`."""
        headers = dict(headers or {})
        token = self.token if token is _DEFAULT else token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"headers": headers}
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

    async def pair(self, code: str, client_name: str = "pytest") -> str:
        """Pair and return the token."""
        body = await self.ok(
            "POST", "/pair", "PairResponse", json_body={"code": code, "client_name": client_name}
        )
        return body["token"]

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
            f"{self.api}/events", headers={"Authorization": f"Bearer {token}"}
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
