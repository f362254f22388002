"""Zeroconf advertising (on loopback only: nothing leaves the machine)."""

from __future__ import annotations

import aiohttp
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from safehome_emulator import EmulatorConfig
from safehome_emulator.discovery import SERVICE_TYPE, advertised_addresses, service_info

from .conftest import MakeEmulator


def test_service_info() -> None:
    info = service_info(EmulatorConfig(), 8765)
    assert info.type == SERVICE_TYPE
    assert info.name == f"SafeHome Hub shub-demo01.{SERVICE_TYPE}"
    assert info.port == 8765
    assert info.server == "shub-demo01.local."
    assert info.parsed_addresses() == ["127.0.0.1"]
    assert info.decoded_properties == {
        "id": "shub-demo01",
        "model": "SH-HUB1",
        "fw": "1.4.2",
        "api": "2.0",
        "name": "SafeHome Hub",
        "path": "/api/v2",
        "tls": "1",
    }


def test_long_names_are_truncated_safely() -> None:
    config = EmulatorConfig(name="안전한집" * 32, hub_id="shub-0001")
    info = service_info(config, 1)
    instance = info.name.removesuffix(f".{SERVICE_TYPE}")
    assert len(instance.encode()) <= 63
    assert instance.startswith("안전한집")
    assert instance.endswith(" shub-0001")
    assert len(info.properties[b"name"]) <= 250
    assert info.decoded_properties["name"].startswith("안전한집")
    # With a very long id, the id alone (cut to 63 bytes) is the instance name.
    info = service_info(EmulatorConfig(hub_id="h" * 64), 1)
    assert info.name == f"{'h' * 63}.{SERVICE_TYPE}"
    assert info.decoded_properties["id"] == "h" * 64


def test_advertised_addresses() -> None:
    assert advertised_addresses("localhost") == ["127.0.0.1"]
    assert advertised_addresses("127.0.0.1") == ["127.0.0.1"]


async def test_advertisement_on_loopback(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator = await make_emulator(zeroconf=True, hub_id="shub-zc1", name="Test Hub")
    browser = AsyncZeroconf(interfaces=["127.0.0.1"])
    try:
        info = AsyncServiceInfo(SERVICE_TYPE, f"Test Hub shub-zc1.{SERVICE_TYPE}")
        assert await info.async_request(browser.zeroconf, 3000)
    finally:
        await browser.async_close()
    assert info.port == emulator.port
    assert info.parsed_addresses() == ["127.0.0.1"]
    assert info.decoded_properties["id"] == "shub-zc1"
    assert info.decoded_properties["path"] == "/api/v2"
    assert info.decoded_properties["tls"] == "1"
    # Never a secret, nor the certificate's fingerprint.
    pairing_code = emulator.open_pairing_window()
    advertised = b"".join(k + (v or b"") for k, v in info.properties.items())
    for secret in (pairing_code, emulator.fingerprint):
        assert secret.encode() not in advertised
    # The advertised address and port lead to the hub, over HTTPS.
    url = f"https://{info.parsed_addresses()[0]}:{info.port}{info.decoded_properties['path']}"
    async with session.get(f"{url}/info") as resp:
        assert (await resp.json())["id"] == "shub-zc1"
    await emulator.stop()
