"""The REST half of the SafeHome Local API: info, pairing, hub, devices and commands."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from .auth import bearer_token
from .errors import ApiError
from .hub import Hub
from .pairing import closed_error
from .pake import HubPake, b64decode, b64encode
from .util import new_session_id
from .webutil import ARRIVAL_NS, json_response, read_json

_LOGGER = logging.getLogger(__name__)

API = "/api/v2"
# A SPAKE2 message is 33 bytes (44 base64 characters); anything much longer is refused.
MAX_PAKE_TEXT = 256


def authorize(hub: Hub, request: web.Request) -> tuple[str, str]:
    """Return (token, client name) of the request's bearer token or raise `unauthorized`."""
    token = bearer_token(request.headers.get("Authorization"))
    client = hub.tokens.client(token)
    if token is None or client is None:
        raise ApiError("unauthorized", "a valid bearer token is required")
    return token, client


def parse_command(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return (command, params) of a `CommandRequest` or raise `bad_request`."""
    command = body.get("command")
    if not isinstance(command, str) or not 1 <= len(command) <= 64:
        raise ApiError("bad_request", "'command' must be a string of 1-64 characters")
    params = body.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ApiError("bad_request", "'params' must be an object")
    return command, params


class RestApi:
    """HTTP handlers of the REST resources."""

    def __init__(self, hub: Hub, fingerprint: str) -> None:
        """Serve one hub, whose certificate has this fingerprint."""
        self.hub = hub
        self.fingerprint = fingerprint

    def routes(self) -> list[web.AbstractRouteDef]:
        """Return the route table."""
        return [
            web.get(f"{API}/info", self.info),
            web.post(f"{API}/pair/start", self.pair_start),
            web.post(f"{API}/pair/finish", self.pair_finish),
            web.get(f"{API}/hub", self.get_hub),
            web.post(f"{API}/hub/commands", self.hub_command),
            web.get(f"{API}/devices", self.devices),
            web.get(f"{API}/devices/{{device_id}}", self.device),
            web.post(f"{API}/devices/{{device_id}}/commands", self.device_command),
        ]

    async def info(self, _request: web.Request) -> web.Response:
        """`GET /info` (no auth)."""
        return json_response(self.hub.info())

    async def pair_start(self, request: web.Request) -> web.Response:
        """`POST /pair/start`: `PairStart` -> `PairChallenge` (uses one of the attempts)."""
        window = self.hub.pairing
        generation, code = window.begin_attempt()
        try:
            body = await read_json(request)
            client_name = body.get("client_name", "")
            message = body.get("pake")
            if not isinstance(client_name, str) or len(client_name) > 128:
                raise ApiError("bad_request", "'client_name' must be a string of at most 128 chars")
            if not isinstance(message, str) or len(message) > MAX_PAKE_TEXT:
                raise ApiError("bad_request", "'pake' must be a base64 SPAKE2 message")
            session_id = new_session_id()
            pake = await asyncio.to_thread(HubPake.respond, code, b64decode(message), session_id)
        except (ApiError, ValueError) as err:
            if window.generation == generation:
                window.fail()
            if isinstance(err, ApiError):
                raise
            raise ApiError("bad_request", "'pake' is not a base64 SPAKE2 message") from None
        window.pend(generation, session_id, client_name or "unnamed client", pake)
        return json_response({"session": session_id, "pake": b64encode(pake.msg_b)})

    async def pair_finish(self, request: web.Request) -> web.Response:
        """`POST /pair/finish`: `PairFinish` -> `PairSealed` (the token, sealed)."""
        window = self.hub.pairing
        if not window.is_open:
            raise closed_error()
        body = await read_json(request)
        session_id = body.get("session")
        confirm_text = body.get("confirm")
        if not isinstance(session_id, str) or not isinstance(confirm_text, str):
            raise ApiError("bad_request", "'session' and 'confirm' must be strings")
        session = window.take(session_id)
        if session is None:
            # Not the pending attempt: nothing to judge, and no attempt is used.
            raise ApiError(
                "invalid_code",
                "unknown or expired pairing session",
                attempts_left=window.attempts_left,
            )
        try:
            confirm = b64decode(confirm_text)
        except ValueError:
            confirm = b""
        if not session.pake.client_confirmed(confirm):
            window.fail()
            raise ApiError(
                "invalid_code",
                "wrong pairing code, or an unknown or expired session",
                attempts_left=window.attempts_left,
            )
        window.close()
        token = self.hub.tokens.issue(session.client_name)
        _LOGGER.info("paired a new client: %r", session.client_name)
        plaintext = {"token": token, "fingerprint": self.fingerprint, "hub": self.hub.info()}
        return json_response(session.pake.sealed(self.fingerprint, plaintext))

    async def get_hub(self, request: web.Request) -> web.Response:
        """`GET /hub`."""
        authorize(self.hub, request)
        return json_response(self.hub.to_dict())

    async def hub_command(self, request: web.Request) -> web.Response:
        """`POST /hub/commands`: `set_away_mode`."""
        authorize(self.hub, request)
        command: str | None = None
        params: dict[str, Any] = {}
        try:
            command, params = parse_command(await read_json(request))
            if command != "set_away_mode":
                raise ApiError("unknown_command", f"the hub has no command {command!r}")
            enabled = params.get("enabled")
            if not isinstance(enabled, bool):
                raise ApiError("invalid_params", "parameter 'enabled' must be true or false")
            self.hub.set_away_mode(enabled)
        except ApiError as err:
            self.hub.log_command(request[ARRIVAL_NS], None, command, params, err.code)
            raise
        self.hub.log_command(request[ARRIVAL_NS], None, command, params, "accepted")
        return json_response(self.hub.to_dict())

    async def devices(self, request: web.Request) -> web.Response:
        """`GET /devices`."""
        authorize(self.hub, request)
        if self.hub.failing_reads > 0:
            self.hub.failing_reads -= 1
            raise ApiError("offline", "the hub could not read its devices")
        return json_response({"devices": [d.to_dict() for d in self.hub.devices.values()]})

    async def device(self, request: web.Request) -> web.Response:
        """`GET /devices/{id}`."""
        authorize(self.hub, request)
        return json_response(self.hub.device(request.match_info["device_id"]).to_dict())

    async def device_command(self, request: web.Request) -> web.Response:
        """`POST /devices/{id}/commands`: accept a command and answer with the device."""
        _, client = authorize(self.hub, request)
        device_id = request.match_info["device_id"]
        command: str | None = None
        params: dict[str, Any] = {}
        try:
            device = self.hub.device(device_id)
            command, params = parse_command(await read_json(request))
            device.execute(command, params, client)
        except ApiError as err:
            self.hub.log_command(request[ARRIVAL_NS], device_id, command, params, err.code)
            raise
        self.hub.log_command(request[ARRIVAL_NS], device_id, command, params, "accepted")
        return json_response(device.to_dict())
