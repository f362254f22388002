"""The live view's relay: only Home Assistant's own player gets the stream, only from the hub.

Home Assistant reaches the hub through `HubAddress`, the hub's address on the home network,
which an attacker on the Wi-Fi can take over.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from http import HTTPStatus

import aiohttp
from homeassistant.components.camera import async_get_stream_source
from homeassistant.const import CONF_PORT
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.seoul_safehome.api import (
    SafeHomeAuthenticationError,
    SafeHomeClient,
    SafeHomeConnectionError,
    SafeHomeProtocolError,
)
from custom_components.seoul_safehome.live_proxy import (
    async_open_live_stream,
    from_this_machine,
    local_host,
)
from safehome_emulator import Emulator
from tests.api.fakehub import FakeHub, pinned_client, running_fake_hub
from tests.attack import ManInTheMiddle
from tests.integration.common import until
from tests.integration.loopback import HubAddress, serve_home_assistant

HOME_CAMERA = "camera.home_camera"
DOORBELL_CAMERA = "camera.front_door_doorbell_camera"
TS_SYNC = 0x47


@pytest.fixture
async def hub_address(emulator: Emulator) -> AsyncIterator[HubAddress]:
    """The hub's address on the home network (forwards to the emulator until taken over)."""
    async with HubAddress(emulator.port) as address:
        yield address


@pytest.fixture
def mock_config_entry(
    mock_config_entry: MockConfigEntry, hub_address: HubAddress
) -> MockConfigEntry:
    """The paired entry, reaching the hub through its address on the network."""
    return MockConfigEntry(
        domain=mock_config_entry.domain,
        title=mock_config_entry.title,
        unique_id=mock_config_entry.unique_id,
        data={**mock_config_entry.data, CONF_PORT: hub_address.port},
    )


@pytest.fixture
async def served(
    hass: HomeAssistant, aiohttp_client: ClientSessionGenerator, init_integration: MockConfigEntry
) -> None:
    """The entry is loaded and Home Assistant's web server listens on loopback."""
    await serve_home_assistant(hass, aiohttp_client)


async def get(url: str | URL) -> tuple[int, bytes]:
    """GET a URL like ffmpeg (no login); return the status and up to 4 KiB of the body."""
    async with aiohttp.ClientSession() as session, session.get(url, ssl=False) as resp:
        body = await resp.content.read(4096)
        return resp.status, body


@pytest.mark.usefixtures("served")
async def test_the_source_needs_its_camera_key(hass: HomeAssistant) -> None:
    """Without the camera's own key, the relay serves nothing and says nothing."""
    source = URL(await async_get_stream_source(hass, HOME_CAMERA))
    other = URL(await async_get_stream_source(hass, DOORBELL_CAMERA))
    entry_id = source.path.split("/")[-2]
    status, body = await get(source)
    assert status == HTTPStatus.OK
    assert body[0] == TS_SYNC

    refused = [
        source.with_query(None),
        source.with_query(auth=""),
        source.with_query(auth=source.query["auth"][:-1]),
        source.with_query(auth=source.query["auth"] + "A"),
        source.with_query(auth="한국어"),
        source.with_query(auth=other.query["auth"]),  # another camera's key
        other.with_query(auth=source.query["auth"]),
        source.with_path(f"{source.path[: -len('cam-1')]}cam-9"),  # no such camera
        source.with_path(source.path.replace(entry_id, "0" * len(entry_id))),  # no such hub
    ]
    for url in refused:
        status, body = await get(url)
        assert status == HTTPStatus.NOT_FOUND, url.path
        assert TS_SYNC not in body[:1]


@pytest.mark.usefixtures("served")
async def test_keys_change_when_the_entry_reloads(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Reloading the hub's entry gives new keys: old sources and relays running end."""
    source = await async_get_stream_source(hass, HOME_CAMERA)
    assert source is not None
    async with aiohttp.ClientSession() as session, session.get(source) as running:
        assert running.status == HTTPStatus.OK
        await running.content.readexactly(188)

        assert await hass.config_entries.async_reload(init_integration.entry_id)
        await hass.async_block_till_done()
        async with asyncio.timeout(5):
            while await running.content.read(65536):
                pass  # the relay ends

    status, _ = await get(source)
    assert status == HTTPStatus.NOT_FOUND
    fresh = await async_get_stream_source(hass, HOME_CAMERA)
    assert fresh is not None
    assert fresh != source
    assert URL(fresh).path == URL(source).path
    status, body = await get(fresh)
    assert status == HTTPStatus.OK
    assert body[0] == TS_SYNC

    # Unloaded: no source at all.
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    status, _ = await get(fresh)
    assert status == HTTPStatus.NOT_FOUND


@pytest.mark.usefixtures("served")
async def test_impostor_gets_no_stream_key(
    hass: HomeAssistant, emulator: Emulator, hub_address: HubAddress
) -> None:
    """Someone on the Wi-Fi who takes over the hub's address when a stream starts gets nothing.

    The relay asks for the stream over TLS pinned to the hub's certificate: the impostor's
    certificate is refused before a byte is sent, and the live view fails.
    """
    source = await async_get_stream_source(hass, HOME_CAMERA)
    assert source is not None
    async with ManInTheMiddle(emulator.port) as impostor:
        await hub_address.take_over(impostor.port)
        status, body = await get(source)
        assert impostor.connections >= 1
    assert status == HTTPStatus.BAD_GATEWAY
    assert TS_SYNC not in body[:1]
    # Neither the token nor an access key (nor any request at all) reached the impostor.
    assert bytes(impostor.plaintext) == b""


@pytest.mark.parametrize(
    ("server_host", "expected"),
    [
        (None, "127.0.0.1"),
        (["0.0.0.0", "::"], "127.0.0.1"),
        (["::", "0.0.0.0"], "::1"),
        (["::1"], "::1"),
        (["127.0.0.2"], "127.0.0.2"),
        (["homeassistant.local", "192.168.1.20"], "homeassistant.local"),
        (["192.168.1.20"], "192.168.1.20"),
    ],
)
def test_local_host(server_host: list[str] | None, expected: str) -> None:
    """The source points where Home Assistant listens on this machine, loopback if it can."""
    assert local_host(server_host) == expected


@pytest.fixture
async def fake_hub(socket_enabled: None) -> AsyncIterator[FakeHub]:
    """A scripted hub on loopback (HTTPS with its own certificate)."""
    async with running_fake_hub() as fake:
        yield fake


@pytest.fixture
async def fake_client(fake_hub: FakeHub) -> AsyncIterator[SafeHomeClient]:
    """A client paired with the scripted hub."""
    async with aiohttp.ClientSession() as session:
        yield pinned_client(fake_hub, session, request_timeout=1)


def stream_info(url: str | None, rtsp_url: str | None = None) -> dict[str, str | None]:
    return {"url": url, "format": "mpegts", "rtsp_url": rtsp_url}


@pytest.mark.parametrize(
    "info",
    [
        stream_info(None, "rtsp://admin:secret@127.0.0.1/live"),
        stream_info("http://127.0.0.1/api/v2/devices/cam-1/live.ts?auth=k"),
        stream_info("https:///api/v2/devices/cam-1/live.ts?auth=k"),
        stream_info("https://[::1/live.ts?auth=k"),
    ],
    ids=["rtsp", "plain http", "no host", "garbage"],
)
async def test_relay_uses_only_a_pinned_https_stream(
    fake_hub: FakeHub, fake_client: SafeHomeClient, info: dict[str, str | None]
) -> None:
    """A stream URL that pinned TLS cannot protect is never opened: its key would leak."""
    fake_hub.json("/devices/cam-1/stream", info)
    with pytest.raises(SafeHomeProtocolError) as err:
        await async_open_live_stream(fake_client, "cam-1")
    assert "secret" not in str(err.value)
    assert "auth=k" not in str(err.value)
    assert [seen.path for seen in fake_hub.seen] == ["/api/v2/devices/cam-1/stream"]


async def test_relay_reports_the_hubs_refusal(
    fake_hub: FakeHub, fake_client: SafeHomeClient
) -> None:
    """An expired key or a hub that drops the stream is an error that names no key."""
    url = f"https://127.0.0.1:{fake_hub.port}/api/v2/devices/cam-1/live.ts?auth=k"
    fake_hub.json("/devices/cam-1/stream", stream_info(url))
    fake_hub.json(
        "/devices/cam-1/live.ts",
        {"error": {"code": "unauthorized", "message": "expired stream access key"}},
        status=401,
    )
    with pytest.raises(SafeHomeAuthenticationError) as err:
        await async_open_live_stream(fake_client, "cam-1")
    assert "auth=k" not in str(err.value)

    fake_hub.stall("/devices/cam-1/live.ts")
    with pytest.raises(SafeHomeConnectionError) as err:
        await async_open_live_stream(fake_client, "cam-1")
    assert "auth=k" not in str(err.value)
    await until(lambda: len(fake_hub.seen) == 4)


@pytest.mark.parametrize(
    ("remote", "server_host", "local"),
    [
        ("127.0.0.1", None, True),
        ("::1", None, True),
        ("127.0.0.5", ["0.0.0.0"], True),
        ("192.168.0.20", None, False),  # another machine on the LAN, with a leaked URL
        ("192.168.0.20", ["0.0.0.0", "::"], False),
        ("192.168.0.7", ["192.168.0.7"], True),  # Home Assistant listens there only
        ("192.168.0.20", ["192.168.0.7"], False),
        ("fe80::1%eth0", None, False),
        (None, None, False),
        ("not an address", None, False),
    ],
)
def test_only_this_machine_may_play_the_relay(
    remote: str | None, server_host: list[str] | None, local: bool
) -> None:
    """The relay answers only this machine's player: a URL that leaked (a log, a player
    elsewhere) is of no use from another machine, even with the right key."""
    assert from_this_machine(remote, server_host) is local
