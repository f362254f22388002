"""REST client of the SafeHome Local API 2.0 (HTTPS pinned to the paired hub's certificate)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
import hmac
import json
import logging
import math
import re
from typing import TYPE_CHECKING, Any, Literal

import aiohttp

from .const import (
    API_PATH,
    AUTO_LOCK_DELAY_MAX,
    DEFAULT_REQUEST_TIMEOUT,
    ERROR_INVALID_CODE,
    ERROR_INVALID_PARAMS,
    ERROR_NOT_FOUND,
    ERROR_OFFLINE,
    ERROR_PAIRING_CLOSED,
    ERROR_RATE_LIMITED,
    ERROR_UNAUTHORIZED,
    EVENTS_PATH,
    PAIR_FINISH_PATH,
    PAIR_START_PATH,
    RATE_LIMIT_WINDOW,
    SIREN_DURATION_MAX,
    SIREN_DURATION_MIN,
)
from .exceptions import (
    SafeHomeAuthenticationError,
    SafeHomeCommandError,
    SafeHomeConnectionError,
    SafeHomeError,
    SafeHomeIdentityError,
    SafeHomePairingClosedError,
    SafeHomeProtocolError,
    SafeHomeRateLimitedError,
    SafeHomeTlsError,
)
from .models import Device, EmergencySource, Hub, Info, PairResult, SirenMode, StreamInfo
from .pairing import ClientPairing, b64decode, b64encode
from .tls import CertificateRecorder, normalize_fingerprint, pinned

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy  # aiohttp's header type

_LOGGER = logging.getLogger(__package__)

_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_CODE_SEPARATORS_RE = re.compile(r"[\s-]")
_PAIRING_CODE_RE = re.compile(r"^[0-9]{6}\Z")
_SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")
_JSON_CONTENT_TYPE = "application/json; charset=utf-8"
_MAX_MESSAGE_LEN = 200


@dataclass(frozen=True, slots=True)
class _Response:
    """A fully read HTTP answer."""

    status: int
    body: bytes
    content_type: str
    headers: CIMultiDictProxy[str]


type _SSL = aiohttp.Fingerprint | Literal[False]


def _url_host(host: str) -> str:
    """Bracket an IPv6 literal for use in a URL."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _path_id(device_id: str) -> str:
    """Return a device id that is safe in a URL path, or fail like the hub would."""
    if not isinstance(device_id, str) or not _ID_RE.match(device_id) or device_id in (".", ".."):
        raise SafeHomeCommandError("Invalid device id", code=ERROR_NOT_FOUND)
    return device_id


def _invalid_params(message: str) -> SafeHomeCommandError:
    """Build the error a hub would give for a bad parameter (raised before sending)."""
    return SafeHomeCommandError(message, code=ERROR_INVALID_PARAMS)


def error_from_response(
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    device_request: bool = True,
) -> SafeHomeError:
    """Map a non-2xx answer to the client's exception (docs/client.md, "Errors").

    `offline` means a device does not answer: a SafeHomeCommandError for a device's
    request; on a hub-wide request (`device_request` False) it means the hub itself is
    unavailable (e.g. restarting) and maps by HTTP status like any other code.
    """
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    attempts_left: int | None = None
    try:
        parsed = json.loads(body) if body else None
    except (ValueError, RecursionError):
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        if isinstance(error.get("code"), str):
            code = error["code"]
        if isinstance(error.get("message"), str):
            message = error["message"][:_MAX_MESSAGE_LEN]
        retry_after = _seconds(error.get("retry_after"))
        attempts_left = _count(error.get("attempts_left"))
    text = f"{code}: {message}" if code and message else (code or f"HTTP {status}")

    if status == 429 or code == ERROR_RATE_LIMITED:
        if retry_after is None and headers is not None:
            retry_after = _parse_retry_after(headers.get("Retry-After"))
        return SafeHomeRateLimitedError(
            text,
            retry_after=RATE_LIMIT_WINDOW if retry_after is None else retry_after,
            code=code or ERROR_RATE_LIMITED,
            status=status,
        )
    if code == ERROR_PAIRING_CLOSED:
        return SafeHomePairingClosedError(text, code=code, status=status)
    if status == 401 or code in (ERROR_UNAUTHORIZED, ERROR_INVALID_CODE):
        return SafeHomeAuthenticationError(
            text,
            code=code or ERROR_UNAUTHORIZED,
            status=status,
            attempts_left=attempts_left if code == ERROR_INVALID_CODE else None,
        )
    if code == ERROR_OFFLINE and device_request:
        return SafeHomeCommandError(text, code=code, status=status)
    if status >= 500:
        return SafeHomeConnectionError(f"The hub answered {text}", code=code, status=status)
    if 400 <= status < 500 and code is not None:
        return SafeHomeCommandError(text, code=code, status=status)
    return SafeHomeProtocolError(
        f"Unexpected HTTP {status} without an error body", code=code, status=status
    )


def _seconds(value: object) -> float | None:
    """Return a JSON number of seconds to wait, if it is one (finite, not negative)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _count(value: object) -> int | None:
    """Return a JSON count (an integer >= 0), if it is one."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _json_object(response: _Response, what: str) -> dict[str, Any]:
    """Return the JSON object a 2xx answer carries."""
    try:
        parsed = json.loads(response.body)
    except (ValueError, RecursionError):
        raise SafeHomeProtocolError(f"{what}: the answer is not JSON") from None
    if not isinstance(parsed, dict):
        raise SafeHomeProtocolError(f"{what}: the answer is not a JSON object")
    return parsed


def _parse_retry_after(value: str | None) -> float | None:
    """Parse a `Retry-After` header given in seconds."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class SafeHomeClient:
    """Async client of one SafeHome hub's REST API; never logs the token.

    Every request goes over HTTPS pinned to the hub's certificate fingerprint (learnt at
    pairing): a hub that shows another certificate is refused before anything is sent
    (SafeHomeIdentityError). Without a fingerprint only `info()` and `pair()` can be used;
    a token is never sent unpinned.
    """

    def __init__(
        self,
        host: str,
        port: int,
        session: aiohttp.ClientSession,
        token: str | None = None,
        fingerprint: str | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        """Bind to a hub; the session is the caller's and is never closed here.

        `fingerprint` is the hub certificate's SHA-256 (hex, as `PairResult.fingerprint`);
        a malformed one raises ValueError.
        """
        self._host = host
        self._port = port
        self._session = session
        self._token = token
        self._fingerprint: str | None = None
        self._pin: aiohttp.Fingerprint | None = None
        self.fingerprint = fingerprint
        self._request_timeout = request_timeout
        self._base_url = f"https://{_url_host(host)}:{port}{API_PATH}"

    def __repr__(self) -> str:
        """Describe the client without its token."""
        token = "<set>" if self._token else None
        return (
            f"{type(self).__name__}(base_url={self._base_url!r}, "
            f"fingerprint={self._fingerprint!r}, token={token})"
        )

    @property
    def host(self) -> str:
        """The hub's host name or address."""
        return self._host

    @property
    def port(self) -> int:
        """The hub's TCP port."""
        return self._port

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session used for every request."""
        return self._session

    @property
    def request_timeout(self) -> float:
        """Timeout of each REST call, in seconds."""
        return self._request_timeout

    @property
    def token(self) -> str | None:
        """The bearer token (a secret), or None before pairing."""
        return self._token

    @token.setter
    def token(self, token: str | None) -> None:
        self._token = token

    @property
    def fingerprint(self) -> str | None:
        """The pinned certificate fingerprint (64 lowercase hex digits), or None before pairing."""
        return self._fingerprint

    @fingerprint.setter
    def fingerprint(self, fingerprint: str | None) -> None:
        if fingerprint is None:
            self._fingerprint = self._pin = None
            return
        normalized = normalize_fingerprint(fingerprint)
        if normalized != self._fingerprint:
            # One Fingerprint object per certificate: aiohttp pools connections by it.
            self._fingerprint, self._pin = normalized, pinned(normalized)

    @property
    def base_url(self) -> str:
        """The API base URL, e.g. `https://host:port/api/v2`."""
        return self._base_url

    @property
    def events_url(self) -> str:
        """The event stream's WebSocket URL (`wss://host:port/api/v2/events`)."""
        return f"wss://{_url_host(self._host)}:{self._port}{API_PATH}{EVENTS_PATH}"

    def auth_headers(self) -> dict[str, str]:
        """Return the Authorization header for the current token (empty without one)."""
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def pinned_ssl(self) -> aiohttp.Fingerprint:
        """Return the `ssl=` argument that accepts only the paired hub's certificate.

        Raises SafeHomeAuthenticationError (nothing may be sent) when no fingerprint is
        pinned: the hub must be paired (again).
        """
        if self._pin is None:
            raise SafeHomeAuthenticationError(
                "No pinned certificate for the SafeHome hub: pair with it again",
                code=ERROR_UNAUTHORIZED,
            )
        return self._pin

    # --- transport

    def transport_error(self, err: BaseException) -> SafeHomeError:
        """Map a transport failure: another certificate is an identity error, else a link error."""
        where = f"the SafeHome hub at {self._host}:{self._port}"
        if isinstance(err, aiohttp.ServerFingerprintMismatch):
            return SafeHomeIdentityError(
                f"{where} shows a TLS certificate other than the paired one "
                f"(SHA-256 {err.got.hex()}); pair with it again if it was replaced",
            )
        if isinstance(err, TimeoutError):
            return SafeHomeConnectionError(f"Timed out talking to {where}")
        if isinstance(err, aiohttp.ClientSSLError):
            reason = err.os_error if isinstance(err, aiohttp.ClientConnectorError) else err
            return SafeHomeTlsError(
                f"TLS with {where} failed (is it a SafeHome API 2.0 hub?): {reason}"
            )
        return SafeHomeConnectionError(f"Cannot talk to {where}: {type(err).__name__}: {err}")

    def _ssl(self, ssl: _SSL | None, auth: bool) -> _SSL:
        """Choose the TLS check of a request.

        The token goes only to the pinned certificate. A request without it (`info`,
        pairing) is pinned when a fingerprint is known, unless told otherwise by `ssl`.
        """
        if auth:
            return self.pinned_ssl()
        if ssl is None:
            return self._pin or False
        return ssl

    def _headers(self, body: Any, auth: bool) -> dict[str, str]:
        headers = self.auth_headers() if auth else {}
        if body is not None:
            headers["Content-Type"] = _JSON_CONTENT_TYPE
        return headers

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        auth: bool = True,
        ssl: _SSL | None = None,
    ) -> _Response:
        """Send one request and read the whole answer; raise the mapped error on non-2xx.

        With `auth` it is pinned to the hub's fingerprint, or nothing is sent; else `ssl`
        (None: pinned when a fingerprint is known, unpinned before pairing).
        """
        tls = self._ssl(ssl, auth)
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        try:
            async with (
                asyncio.timeout(self._request_timeout),
                self._session.request(
                    method,
                    self._base_url + path,
                    data=data,
                    headers=self._headers(body, auth),
                    ssl=tls,
                    allow_redirects=False,
                    raise_for_status=False,
                ) as resp,
            ):
                raw = await resp.read()
                response = _Response(resp.status, raw, resp.content_type, resp.headers)
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            raise self.transport_error(err) from err
        _LOGGER.debug("%s %s -> %s", method, path, response.status)
        if not 200 <= response.status < 300:
            raise error_from_response(
                response.status,
                response.body,
                response.headers,
                device_request=path.startswith("/devices/"),
            )
        return response

    async def _request_json(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        auth: bool = True,
        ssl: _SSL | None = None,
    ) -> dict[str, Any]:
        """Send one request and return its JSON object answer."""
        response = await self._request(method, path, body=body, auth=auth, ssl=ssl)
        return _json_object(response, f"{method} {path}")

    # --- hub and pairing

    async def info(self) -> Info:
        """Return the hub's identity (no token; unpinned only while no fingerprint is known)."""
        return Info.from_dict(await self._request_json("GET", "/info", auth=False))

    async def pair(self, code: str, client_name: str = "Home Assistant") -> PairResult:
        """Pair with the hub by the code its pairing window shows (SPAKE2, API 2.0 §K).

        Learns the hub's certificate on the way (whatever fingerprint was pinned before)
        and proves, through the code, that no one sits in between; then keeps the token
        and the fingerprint and returns them. Raises SafeHomePairingClosedError (window
        not open), SafeHomeAuthenticationError `invalid_code` (`attempts_left`),
        SafeHomeRateLimitedError, SafeHomeIdentityError (the confirmation does not
        verify: nothing is kept), or a connection or protocol error.
        """
        code = _CODE_SEPARATORS_RE.sub("", code)
        if not _PAIRING_CODE_RE.match(code):
            # A hub would refuse it; do not spend one of the window's attempts.
            raise SafeHomeAuthenticationError(
                "The pairing code must be 6 digits", code=ERROR_INVALID_CODE
            )
        exchange = ClientPairing(code)
        del code
        # Whatever certificate the hub shows now is learnt on the start's connection; the
        # exchange then proves that the hub behind it knows the code.
        recorder = CertificateRecorder()
        start = await self._request(
            "POST",
            PAIR_START_PATH,
            body={"client_name": client_name[:128], "pake": b64encode(exchange.message)},
            auth=False,
            ssl=recorder,
        )
        seen = recorder.seen
        if seen is None:  # pragma: no cover - a TLS connection always shows a certificate
            raise SafeHomeProtocolError("The hub's pairing answer came without a certificate")
        challenge = _json_object(start, f"POST {PAIR_START_PATH}")
        session_id = challenge.get("session")
        if not isinstance(session_id, str) or not _SESSION_RE.match(session_id):
            raise SafeHomeProtocolError("PairChallenge: 'session' must be 16-64 [A-Za-z0-9_-]")
        exchange.finish(b64decode(challenge.get("pake"), "PairChallenge.pake"), session_id)

        sealed = await self._request_json(
            "POST",
            PAIR_FINISH_PATH,
            body={"session": session_id, "confirm": b64encode(exchange.client_confirm())},
            auth=False,
            ssl=pinned(seen),  # the same hub as `start`, or nothing is sent
        )
        exchange.check_hub(b64decode(sealed.get("confirm"), "PairSealed.confirm"), seen)
        plaintext = exchange.open(
            b64decode(sealed.get("nonce"), "PairSealed.nonce"),
            b64decode(sealed.get("sealed"), "PairSealed.sealed"),
        )
        try:
            result = PairResult.from_dict(json.loads(plaintext))
        except (ValueError, RecursionError):
            raise SafeHomeProtocolError("PairSealedPlaintext: not a JSON object") from None
        if not hmac.compare_digest(result.fingerprint, seen):
            raise SafeHomeIdentityError(
                "The hub sealed another certificate fingerprint than the one it showed"
            )
        self._token = result.token
        self.fingerprint = seen
        return result

    async def hub(self) -> Hub:
        """Return the hub with its live state."""
        return Hub.from_dict(await self._request_json("GET", "/hub"))

    async def hub_command(self, command: str, params: dict[str, Any] | None = None) -> Hub:
        """Send a hub command and return the hub as it is then."""
        return Hub.from_dict(
            await self._request_json("POST", "/hub/commands", body=_command_body(command, params))
        )

    async def set_away_mode(self, enabled: bool) -> Hub:
        """Switch the hub's away mode."""
        return await self.hub_command("set_away_mode", {"enabled": bool(enabled)})

    # --- devices

    async def devices(self) -> list[Device]:
        """Return every device behind the hub."""
        data = await self._request_json("GET", "/devices")
        devices = data.get("devices")
        if not isinstance(devices, list):
            raise SafeHomeProtocolError("DeviceList: field 'devices' must be an array")
        return [Device.from_dict(item) for item in devices]

    async def device(self, device_id: str) -> Device:
        """Return one device."""
        return Device.from_dict(await self._request_json("GET", f"/devices/{_path_id(device_id)}"))

    async def command(
        self, device_id: str, command: str, params: dict[str, Any] | None = None
    ) -> Device:
        """Send a device command; the answer is the device as soon as the hub accepted it."""
        path = f"/devices/{_path_id(device_id)}/commands"
        return Device.from_dict(
            await self._request_json("POST", path, body=_command_body(command, params))
        )

    async def lock(self, device_id: str) -> Device:
        """Lock a door lock (`door_open` if the door is open)."""
        return await self.command(device_id, "lock")

    async def unlock(self, device_id: str) -> Device:
        """Unlock a door lock."""
        return await self.command(device_id, "unlock")

    async def open_latch(self, device_id: str) -> Device:
        """Release a door lock's latch (`open` command)."""
        return await self.command(device_id, "open")

    async def set_auto_lock_delay(self, device_id: str, seconds: float) -> Device:
        """Set a lock's relock delay after the door closes, 0-30 s in steps of 0.1 s."""
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 <= seconds <= AUTO_LOCK_DELAY_MAX
        ):
            raise _invalid_params(f"seconds must be between 0 and {AUTO_LOCK_DELAY_MAX:g}")
        value = round(float(seconds), 1)
        return await self.command(device_id, "set_auto_lock_delay", {"seconds": value})

    async def camera_on(self, device_id: str) -> Device:
        """Switch a camera on (leave privacy mode)."""
        return await self.command(device_id, "camera_on")

    async def camera_off(self, device_id: str) -> Device:
        """Switch a camera off (privacy mode)."""
        return await self.command(device_id, "camera_off")

    async def siren_on(self, device_id: str, duration: int | None = None) -> Device:
        """Sound an emergency bell's siren, for `duration` seconds (hub default 60)."""
        if duration is None:
            return await self.command(device_id, "siren_on")
        if (
            isinstance(duration, bool)
            or not isinstance(duration, int)
            or not SIREN_DURATION_MIN <= duration <= SIREN_DURATION_MAX
        ):
            raise _invalid_params(
                f"duration must be an integer {SIREN_DURATION_MIN}-{SIREN_DURATION_MAX}"
            )
        return await self.command(device_id, "siren_on", {"duration": duration})

    async def siren_off(self, device_id: str) -> Device:
        """Silence an emergency bell's siren."""
        return await self.command(device_id, "siren_off")

    async def trigger_emergency(
        self,
        device_id: str,
        source: EmergencySource | str = EmergencySource.PHONE,
        keyword: str | None = None,
    ) -> Device:
        """Raise an emergency on an emergency bell (with the words heard, for `voice`)."""
        try:
            value = EmergencySource(source)
        except ValueError:
            raise _invalid_params("source must be button, voice or phone") from None
        params: dict[str, Any] = {"source": value.value}
        if keyword is not None and value is EmergencySource.VOICE:
            keyword = keyword.strip()
            if not 1 <= len(keyword) <= 64:
                raise _invalid_params("keyword must be 1-64 characters")
            params["keyword"] = keyword
        return await self.command(device_id, "trigger_emergency", params)

    async def cancel_emergency(self, device_id: str) -> Device:
        """Cancel an emergency (also silences the siren)."""
        return await self.command(device_id, "cancel_emergency")

    async def set_siren_mode(self, device_id: str, mode: SirenMode | str) -> Device:
        """Set when an emergency bell sounds its siren for an emergency.

        Needs the bell's `siren_mode` capability: a bell without it answers `unsupported`
        (or, on an older hub, `unknown_command`).
        """
        try:
            value = SirenMode(mode)
        except ValueError:
            raise _invalid_params("mode must be immediate, escalation or silent") from None
        return await self.command(device_id, "set_siren_mode", {"mode": value.value})

    # --- camera media

    async def snapshot(self, device_id: str) -> bytes:
        """Return a fresh JPEG from a doorbell or camera."""
        response = await self._request("GET", f"/devices/{_path_id(device_id)}/snapshot")
        if not response.content_type.startswith("image/") or not response.body:
            raise SafeHomeProtocolError("snapshot: the answer is not an image")
        return response.body

    async def stream_info(self, device_id: str) -> StreamInfo:
        """Return where to get the live stream (its URLs are secrets: never log them)."""
        return StreamInfo.from_dict(
            await self._request_json("GET", f"/devices/{_path_id(device_id)}/stream")
        )

    async def mjpeg(self, device_id: str) -> aiohttp.ClientResponse:
        """Open the MJPEG stream; the caller reads and must release the response."""
        path = f"/devices/{_path_id(device_id)}/mjpeg"
        tls = self.pinned_ssl()
        try:
            async with asyncio.timeout(self._request_timeout):
                resp = await self._session.request(
                    "GET",
                    self._base_url + path,
                    headers=self.auth_headers(),
                    ssl=tls,
                    allow_redirects=False,
                    raise_for_status=False,
                    timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._request_timeout),
                )
                if resp.status == 200:
                    return resp
                try:
                    raw = await resp.read()
                finally:
                    resp.release()
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            raise self.transport_error(err) from err
        raise error_from_response(resp.status, raw, resp.headers)


def _command_body(command: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """Build a `CommandRequest` (params omitted when empty)."""
    if not isinstance(command, str) or not 1 <= len(command) <= 64:
        raise _invalid_params("command must be a string of 1-64 characters")
    body: dict[str, Any] = {"command": command}
    if params:
        body["params"] = params
    return body
