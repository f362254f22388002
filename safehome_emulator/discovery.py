"""Zeroconf (mDNS / DNS-SD) advertising of the hub as `_safehome._tcp.local.`.

The advertisement goes out only on the interface of the address the emulator is bound
to (on 127.0.0.1 it never leaves the machine); a wildcard address advertises on all.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from typing import Any

# (exported by zeroconf's __init__, though not listed in its __all__)
from zeroconf import InterfaceChoice, IPVersion, get_all_addresses  # type: ignore[attr-defined]
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from .config import EmulatorConfig

_LOGGER = logging.getLogger(__name__)

SERVICE_TYPE = "_safehome._tcp.local."
API_PATH = "/api/v2"
WILDCARDS = ("0.0.0.0", "", "::")


def _truncate(text: str, max_bytes: int) -> str:
    """Cut `text` to at most `max_bytes` of UTF-8 without splitting a character."""
    return text.encode()[:max_bytes].decode(errors="ignore")


def advertised_addresses(host: str) -> list[str]:
    """Return the IPv4 addresses to advertise for a bind address."""
    if host in WILDCARDS:
        return get_all_addresses()  # pragma: no cover - never on loopback-only test hosts
    if host == "localhost":
        return ["127.0.0.1"]
    return [str(ipaddress.ip_address(host))]


def service_info(config: EmulatorConfig, port: int) -> AsyncServiceInfo:
    """Build the DNS-SD record: instance `<name> <id>`, the port and the TXT records.

    Never the certificate's fingerprint or a pairing code: anyone on the LAN reads these.
    """
    # A DNS label holds 63 bytes: shorten the name first, then (rarely) the id.
    head = _truncate(config.name, max(0, 62 - len(config.hub_id))).rstrip()
    instance = f"{head} {config.hub_id}" if head else config.hub_id[:63]
    properties = {
        "id": config.hub_id,
        "model": _truncate(config.model, 200),
        "fw": _truncate(config.firmware, 200),
        "api": config.api_version,
        "name": _truncate(config.name, 250),
        "path": API_PATH,
        "tls": "1",
    }
    return AsyncServiceInfo(
        SERVICE_TYPE,
        f"{instance}.{SERVICE_TYPE}",
        port=port,
        properties=properties,
        server=f"{config.hub_id}.local.",
        parsed_addresses=advertised_addresses(config.host),
    )


class Advertiser:
    """Register the hub's service while the emulator runs."""

    def __init__(self, config: EmulatorConfig) -> None:
        """Advertise for one emulator."""
        self._config = config
        self._zeroconf: AsyncZeroconf | None = None
        self._info: AsyncServiceInfo | None = None
        self._announcing: asyncio.Future[Any] | None = None

    async def start(self, port: int) -> None:
        """Register the service (the bound port is known only now)."""
        host = self._config.host
        interfaces = InterfaceChoice.All if host in WILDCARDS else advertised_addresses(host)
        version = IPVersion.V4Only if host in WILDCARDS else None
        self._zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=version)
        self._info = service_info(self._config, port)
        # Registering returns the task that announces the service a few times.
        announcing = await self._zeroconf.async_register_service(self._info)
        self._announcing = asyncio.ensure_future(announcing)
        _LOGGER.info("advertising %s on %s", self._info.name, interfaces)

    async def stop(self) -> None:
        """Unregister the service and close zeroconf."""
        if self._zeroconf is None:
            return
        if self._announcing is not None and not self._announcing.done():
            self._announcing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._announcing
        self._announcing = None
        if self._info is not None:
            # Unregistering returns the task that sends the goodbye announcements.
            await (await self._zeroconf.async_unregister_service(self._info))
        await self._zeroconf.async_close()
        self._zeroconf = None
        self._info = None
