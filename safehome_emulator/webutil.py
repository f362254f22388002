"""HTTP plumbing: JSON responses, bounded JSON bodies and the error middleware."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import logging
import time
from typing import Any

from aiohttp import web

from .errors import ApiError
from .util import dumps, loads

_LOGGER = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_CODES = {404: "not_found", 413: "payload_too_large"}
# Bodies up to 64 KiB are read; the application refuses larger ones with 413.
CLIENT_MAX_SIZE = MAX_BODY + 1
# Where a request's arrival time is kept: a typed request key on aiohttp >= 3.14 (plain
# string keys warn there), a string before it.
_REQUEST_KEY: Any = getattr(web, "RequestKey", None)
ARRIVAL_NS: Any = _REQUEST_KEY("t_ns", int) if _REQUEST_KEY is not None else "t_ns"


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Answer with a JSON body (`application/json; charset=utf-8`)."""
    return web.Response(
        text=dumps(data),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def error_response(err: ApiError) -> web.Response:
    """Answer with an `Error` body (and `Retry-After` / `WWW-Authenticate` where due)."""
    headers: dict[str, str] = {}
    if "retry_after" in err.extra:
        headers["Retry-After"] = str(err.extra["retry_after"])
    if err.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return json_response(err.body(), err.status, headers)


async def read_json(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """Read a JSON object body (an empty one is `{}` if `optional`).

    Bodies over 64 KiB are refused by the application's `client_max_size` while reading
    (413); a declared length over it is refused before reading.
    """
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError("payload_too_large", "the request body is larger than 64 KiB")
    body = await request.read()
    if len(body) > MAX_BODY:  # a chunked body, where aiohttp's own limit is inclusive
        raise ApiError("payload_too_large", "the request body is larger than 64 KiB")
    if not body.strip():
        if optional:
            return {}
        raise ApiError("bad_request", "the request needs a JSON body")
    try:
        data = loads(body)
    except ValueError as err:
        raise ApiError("bad_request", f"the body is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ApiError("bad_request", "the body must be a JSON object")
    return data


def error_middleware(is_down: Callable[[], bool]) -> Any:
    """Turn every failure into an `Error` answer; answer 503 while the hub is down.

    The arrival time (`time.monotonic_ns()`) is stored in `request[ARRIVAL_NS]` first thing.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[ARRIVAL_NS] = time.monotonic_ns()
        try:
            if is_down() and request.path.startswith("/api/"):
                raise ApiError("offline", "the hub is restarting")
            return await handler(request)
        except ApiError as err:
            return error_response(err)
        except web.HTTPException as exc:  # from aiohttp itself: 404, 405, 413, ...
            code = _HTTP_CODES.get(exc.status, "bad_request" if exc.status < 500 else "internal")
            return error_response(ApiError(code, exc.reason, status=exc.status))
        except (asyncio.CancelledError, ConnectionError):
            raise
        except Exception:
            _LOGGER.exception("unexpected error handling %s %s", request.method, request.path)
            return error_response(ApiError("internal", "internal hub error"))

    return middleware
