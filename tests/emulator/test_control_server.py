"""The control surface's own server: off by default, loopback, plain HTTP, no cross-site use."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import pytest

from safehome_emulator import Emulator
from tests.conftest import PAIRING_CODE, Control
from tests.schema import assert_valid

from .conftest import MakeEmulator


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_control_listens_on_loopback_over_plain_http(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    assert emulator.control_url == f"http://127.0.0.1:{emulator.control_port}"
    assert emulator.control_port != emulator.port
    assert emulator._control_runner is not None
    assert emulator._control_runner.addresses == [("127.0.0.1", emulator.control_port)]
    async with session.get(f"{emulator.control_url}/control/state") as resp:
        assert resp.status == 200
    # Its routes are not on the API's port, and the API's are not on its.
    async with session.get(f"{emulator.url}/control/state") as resp:
        assert resp.status == 404
    async with session.get(f"{emulator.control_url}/api/v2/info") as resp:
        assert resp.status == 404


async def test_control_is_absent_when_off(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    port = _free_port()
    emulator = await make_emulator(control=False, control_port=port)
    with pytest.raises(RuntimeError):
        _ = emulator.control_url
    with pytest.raises(aiohttp.ClientConnectionError):
        async with session.get(f"http://127.0.0.1:{port}/control/state"):
            pass


async def test_pairing_button(emulator: Emulator, control: Control) -> None:
    assert (await control.get("/state"))["pairing"] == {
        "open": False,
        "code": None,
        "seconds_left": 0.0,
        "attempts_left": 0,
    }
    assert await control.post("/pairing") == {"ok": True, "code": PAIRING_CODE, "expires_in": 120.0}
    assert emulator.pairing_open
    state = (await control.get("/state"))["pairing"]
    assert (state["open"], state["code"], state["attempts_left"]) == (True, PAIRING_CODE, 3)
    assert await control.request("DELETE", "/pairing") == {"ok": True}
    assert not emulator.pairing_open


async def test_pairing_button_calls_the_display(emulator: Emulator, control: Control) -> None:
    shown: list[tuple[str, float]] = []
    emulator.on_pairing_window = lambda code, seconds: shown.append((code, seconds))
    await control.post("/pairing")
    assert emulator.open_pairing_window() == PAIRING_CODE
    assert shown == [(PAIRING_CODE, 120.0), (PAIRING_CODE, 120.0)]


async def _status(
    session: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str]
) -> tuple[int, Any]:
    async with session.request(method, url, headers=headers, json={"active": True}) as resp:
        body = await resp.json()
        if resp.status >= 400:
            assert_valid("Error", body)
        return resp.status, body


@pytest.mark.parametrize(
    ("method", "headers", "allowed"),
    [
        ("GET", {}, True),
        ("GET", {"Host": "localhost"}, True),
        ("POST", {"Host": "127.0.0.1"}, True),
        # DNS rebinding: a web page's own name resolving to 127.0.0.1.
        ("GET", {"Host": "attacker.example"}, False),
        ("POST", {"Host": "attacker.example:8766"}, False),
        # Cross-site requests from a web page in a local browser.
        ("POST", {"Origin": "http://attacker.example"}, False),
        ("POST", {"Origin": "null"}, False),
        ("POST", {"Sec-Fetch-Site": "cross-site"}, False),
        ("POST", {"Sec-Fetch-Site": "same-site"}, False),
        ("POST", {"Sec-Fetch-Site": "same-origin"}, True),
        ("POST", {"Sec-Fetch-Site": "none"}, True),
    ],
)
async def test_only_local_programs_and_the_page_itself(
    emulator: Emulator,
    session: aiohttp.ClientSession,
    method: str,
    headers: dict[str, str],
    allowed: bool,
) -> None:
    path = "/control/state" if method == "GET" else "/control/devices/cam-1/motion"
    status, body = await _status(session, method, f"{emulator.control_url}{path}", headers)
    if allowed:
        assert status == 200, body
    else:
        assert (status, body["error"]["code"]) == (403, "forbidden")
        assert emulator.hub.devices["cam-1"].to_dict()["state"]["motion"] is False


async def test_the_page_origin_is_its_own(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    url = f"{emulator.control_url}/control/devices/cam-1/motion"
    status, _ = await _status(session, "POST", url, {"Origin": emulator.control_url})
    assert status == 200
    localhost = emulator.control_url.replace("127.0.0.1", "localhost")
    status, _ = await _status(session, "POST", url, {"Origin": localhost})
    assert status == 403  # another origin, though the same machine
