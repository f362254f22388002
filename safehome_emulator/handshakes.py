"""Failed TLS handshakes are the client's business: log them at debug, not as loop errors.

A browser, `curl http://…` or a port scanner that reaches the HTTPS port without speaking
TLS makes asyncio report "Error on transport creation for incoming connection" (Python
3.14) through the event loop's exception handler, which a host such as Home Assistant logs
as an error. The hub refuses such connections, which is all there is to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
import ssl
from typing import Any

_LOGGER = logging.getLogger(__name__)

_HANDSHAKE_MESSAGES = (
    "Error on transport creation for incoming connection",
    "SSL handshake failed",
)


def quiet_failed_handshakes(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Filter failed incoming handshakes out of `loop`'s exception handler; return an undo."""
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        error = context.get("exception")
        if message.startswith(_HANDSHAKE_MESSAGES) and isinstance(
            error, (ssl.SSLError, ConnectionError)
        ):
            _LOGGER.debug("refused a connection that is not TLS: %s", error)
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)

    def undo() -> None:
        if loop.get_exception_handler() is handler:
            loop.set_exception_handler(previous)

    return undo
