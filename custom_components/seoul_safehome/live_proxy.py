"""Relay the cameras' live streams to Home Assistant's stream component, on loopback.

The stream component (ffmpeg) cannot pin the hub's certificate, so it never sees the
hub's URL or its access keys: its source is a URL of Home Assistant itself with a random
secret per camera. Each request for it fetches a fresh access key and the hub's stream
over the integration's pinned TLS, and relays the bytes until the player hangs up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import hmac
import ipaddress
import secrets

import aiohttp
from aiohttp import web
from homeassistant.components.http import HomeAssistantView
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_aiohttp_proxy_stream
from homeassistant.util.hass_dict import HassKey
from yarl import URL

from .api import SafeHomeClient, SafeHomeError, SafeHomeProtocolError
from .api.client import error_from_response
from .const import DOMAIN, LOGGER

LIVE_PATH = f"/api/{DOMAIN}/live"
# The secret's query parameter: the stream component redacts `auth` from URLs it logs.
SECRET_PARAM = "auth"
CONTENT_TYPE = "video/mp2t"

type LiveOpener = Callable[[], Awaitable[aiohttp.ClientResponse]]

DATA_LIVE_SOURCES: HassKey[dict[tuple[str, str], LiveSource]] = HassKey(f"{DOMAIN}_live")


async def async_open_live_stream(client: SafeHomeClient, device_id: str) -> aiohttp.ClientResponse:
    """Open a camera's live stream on the hub with a fresh access key, over pinned TLS.

    The caller reads the response and must close it. Errors never carry the key.
    """
    info = await client.stream_info(device_id)
    try:
        url = URL(info.url) if info.url else None
    except ValueError:
        url = None
    if url is None or url.scheme != "https" or not url.host:
        # An RTSP or plain HTTP URL could not be pinned: its key would cross the network.
        raise SafeHomeProtocolError("The hub offers no HTTPS live stream for this camera")
    tls = client.pinned_ssl()
    try:
        response = await client.session.get(
            url,
            ssl=tls,
            allow_redirects=False,
            raise_for_status=False,
            timeout=aiohttp.ClientTimeout(
                total=None,
                sock_connect=client.request_timeout,
                sock_read=client.request_timeout,
            ),
        )
        if response.status == 200:
            return response
        try:
            raw = await response.read()
        finally:
            response.release()
    except aiohttp.InvalidURL:
        raise SafeHomeProtocolError("The hub's live stream URL is invalid") from None
    except (TimeoutError, aiohttp.ClientError, OSError) as err:
        raise client.transport_error(err) from err
    raise error_from_response(response.status, raw, response.headers)


class LiveSource:
    """One camera's loopback stream source: its secret and the relays it runs."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, device_id: str, opener: LiveOpener
    ) -> None:
        """Bind to a camera; a new source has a new secret."""
        self._hass = hass
        self.key = (entry_id, device_id)
        self._opener = opener
        self._secret = secrets.token_urlsafe(32)
        self._upstreams: set[aiohttp.ClientResponse] = set()
        self._removed = False

    @property
    def url(self) -> str:
        """The stream source URL on this machine (a secret: it carries the camera's key)."""
        http = self._hass.http
        return str(
            URL.build(
                scheme="https" if http.ssl_certificate else "http",
                host=local_host(http.server_host),
                port=http.server_port,
                path=f"{LIVE_PATH}/{self.key[0]}/{self.key[1]}",
                query={SECRET_PARAM: self._secret},
            )
        )

    def accepts(self, secret: str) -> bool:
        """Return True if `secret` is this camera's (in constant time)."""
        return not self._removed and hmac.compare_digest(secret.encode(), self._secret.encode())

    async def async_relay(self, request: web.Request) -> web.StreamResponse:
        """Relay the hub's live stream to `request` until either side ends it."""
        try:
            upstream = await self._opener()
        except SafeHomeError as err:
            LOGGER.debug("Cannot open the live stream of %s: %s", self.key[1], err)
            raise web.HTTPBadGateway from None
        if self._removed:
            upstream.close()
            raise web.HTTPNotFound
        self._upstreams.add(upstream)
        try:
            return await async_aiohttp_proxy_stream(
                self._hass, request, upstream.content, CONTENT_TYPE
            )
        finally:
            self._upstreams.discard(upstream)
            upstream.close()

    @callback
    def async_remove(self) -> None:
        """Forget the secret and end the relays running (the camera is going away)."""
        self._removed = True
        sources = self._hass.data.get(DATA_LIVE_SOURCES, {})
        if sources.get(self.key) is self:
            del sources[self.key]
        for upstream in list(self._upstreams):
            upstream.close()


class LiveStreamView(HomeAssistantView):
    """The cameras' loopback stream sources (no login: ffmpeg cannot log in; a secret)."""

    url = LIVE_PATH + "/{entry_id}/{device_id}"
    name = f"api:{DOMAIN}:live"
    requires_auth = False

    def __init__(self, hass: HomeAssistant, sources: dict[tuple[str, str], LiveSource]) -> None:
        """Serve the sources registered in `sources`."""
        self._hass = hass
        self._sources = sources

    async def get(self, request: web.Request, entry_id: str, device_id: str) -> web.StreamResponse:
        """Relay a camera's live stream to this machine's player that knows its secret.

        Anyone else, and anything from another machine (the URL leaked to a log or a
        player elsewhere), gets a plain 404.
        """
        source = self._sources.get((entry_id, device_id))
        if (
            source is None
            or not from_this_machine(request.remote, self._hass.http.server_host)
            or not source.accepts(request.query.get(SECRET_PARAM, ""))
        ):
            raise web.HTTPNotFound
        return await source.async_relay(request)


def from_this_machine(remote: str | None, server_host: list[str] | None) -> bool:
    """Return whether a request comes from this machine.

    That is loopback, or the address the stream sources name when Home Assistant
    listens on one address only.
    """
    if remote is None:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if address.is_loopback:
        return True
    return str(address) == local_host(server_host)


@callback
def async_register_live_source(
    hass: HomeAssistant, entry_id: str, device_id: str, opener: LiveOpener
) -> LiveSource:
    """Give a camera a loopback stream source with a new secret.

    The first registration adds the view to Home Assistant's web server.
    """
    if (sources := hass.data.get(DATA_LIVE_SOURCES)) is None:
        sources = hass.data[DATA_LIVE_SOURCES] = {}
        hass.http.register_view(LiveStreamView(hass, sources))
    source = sources[(entry_id, device_id)] = LiveSource(hass, entry_id, device_id, opener)
    return source


def local_host(server_host: list[str] | None) -> str:
    """Return the address where this machine reaches Home Assistant's web server.

    Loopback when the server listens on all addresses or on loopback; else the first
    address it listens on (one of this machine's own: the traffic stays inside it).
    """
    for host in server_host or ["0.0.0.0"]:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            continue
        if address.is_loopback:
            return str(address)
        if address.is_unspecified:
            return "127.0.0.1" if address.version == 4 else "::1"
    return server_host[0] if server_host else "127.0.0.1"
