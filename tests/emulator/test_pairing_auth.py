"""Pairing, the pairing rate limit, and bearer-token authentication."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from safehome_emulator import Emulator
from tests.conftest import PAIRING_CODE, Control
from tests.schema import assert_valid

from .conftest import MakeEmulator, paired
from .helpers import HubClient

AUTHENTICATED = [
    ("GET", "/hub"),
    ("POST", "/hub/commands"),
    ("GET", "/devices"),
    ("GET", "/devices/lock-1"),
    ("POST", "/devices/lock-1/commands"),
    ("GET", "/devices/cam-1/snapshot"),
    ("GET", "/devices/cam-1/mjpeg"),
    ("GET", "/devices/cam-1/stream"),
    ("GET", "/events"),
]


async def test_info_needs_no_token(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    client = HubClient(session, emulator.url)
    info = await client.ok("GET", "/info", "Info")
    assert info == {
        "id": "shub-demo01",
        "name": "SafeHome Hub",
        "model": "SH-HUB1",
        "manufacturer": "Seoul SafeHome",
        "firmware": "1.4.2",
        "api_version": "1.0",
    }
    reply = await client.request("GET", "/info")
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"


async def test_pair_with_the_right_code(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    client = HubClient(session, emulator.url)
    body = await client.ok(
        "POST", "/pair", "PairResponse", json_body={"code": PAIRING_CODE, "client_name": "HA"}
    )
    assert_valid("Info", body["hub"])
    assert body["hub"]["id"] == "shub-demo01"
    # Several clients may pair; each token works.
    other = await client.pair(PAIRING_CODE, "phone")
    assert other != body["token"]
    for token in (body["token"], other):
        await client.ok("GET", "/hub", "Hub", token=token)
    # client_name is optional.
    await client.ok("POST", "/pair", "PairResponse", json_body={"code": PAIRING_CODE})


@pytest.mark.parametrize("code", ["000000", "12345", "1234567", "abcdef", ""])
async def test_pair_with_a_wrong_code(
    emulator: Emulator, session: aiohttp.ClientSession, code: str
) -> None:
    client = HubClient(session, emulator.url)
    await client.error("POST", "/pair", 401, "invalid_code", json_body={"code": code})


@pytest.mark.parametrize(
    "body",
    [
        {"client_name": "no code"},
        {"code": 123456},
        {"code": None},
        {"code": PAIRING_CODE, "client_name": 5},
        {"code": PAIRING_CODE, "client_name": "x" * 129},
        [PAIRING_CODE],
    ],
)
async def test_pair_with_a_malformed_body(
    emulator: Emulator, session: aiohttp.ClientSession, body: object
) -> None:
    client = HubClient(session, emulator.url)
    await client.error("POST", "/pair", 400, "bad_request", json_body=body)


@pytest.mark.parametrize("data", [b"", b"{not json", b"\xff\xfe", b"NaN", b'{"code": Infinity}'])
async def test_pair_with_a_body_that_is_not_json(
    emulator: Emulator, session: aiohttp.ClientSession, data: bytes
) -> None:
    client = HubClient(session, emulator.url)
    await client.error("POST", "/pair", 400, "bad_request", data=data)


async def test_pairing_rate_limit(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator = await make_emulator(pair_window=0.6)
    client = HubClient(session, emulator.url)
    for _ in range(5):
        await client.error("POST", "/pair", 401, "invalid_code", json_body={"code": "999999"})
    # Locked: right or wrong, every attempt gets 429 with retry_after.
    for code in (PAIRING_CODE, "999999"):
        reply = await client.error("POST", "/pair", 429, "rate_limited", json_body={"code": code})
        assert 0 < reply.body["error"]["retry_after"] <= 1
        assert reply.headers["Retry-After"] == "1"
    # Malformed attempts do not count; still locked until the window has passed.
    await asyncio.sleep(0.65)
    token = await client.pair(PAIRING_CODE)
    await client.ok("GET", "/hub", "Hub", token=token)


async def test_rate_limit_counts_failures_within_the_window(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator = await make_emulator(pair_window=0.3)
    client = HubClient(session, emulator.url)
    for _ in range(4):
        await client.error("POST", "/pair", 401, "invalid_code", json_body={"code": "999999"})
    await asyncio.sleep(0.35)  # the four failures leave the window
    await client.error("POST", "/pair", 401, "invalid_code", json_body={"code": "999999"})
    await client.pair(PAIRING_CODE)


async def test_default_rate_limit_retry_after(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    client = HubClient(session, emulator.url)
    for _ in range(5):
        await client.error("POST", "/pair", 401, "invalid_code", json_body={"code": "111111"})
    reply = await client.error("POST", "/pair", 429, "rate_limited", json_body={"code": "1"})
    assert 55 <= reply.body["error"]["retry_after"] <= 60
    assert 55 <= int(reply.headers["Retry-After"]) <= 60


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-token", "token"]
)
async def test_missing_or_bad_token(
    emulator: Emulator,
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    header: str | None,
) -> None:
    client = HubClient(session, emulator.url)
    headers = {} if header is None else {"Authorization": header}
    reply = await client.error(method, path, 401, "unauthorized", token=None, headers=headers)
    assert reply.headers["WWW-Authenticate"] == "Bearer"


async def test_revoked_token(client: HubClient, control: Control) -> None:
    await client.ok("GET", "/devices", "DeviceList")
    result = await control.post("/tokens/revoke")
    assert result == {"ok": True, "tokens": 1, "streams": 0}
    for method, path in AUTHENTICATED:
        await client.error(method, path, 401, "unauthorized")
    # Pairing again gives a working token.
    client.token = await client.pair(PAIRING_CODE)
    await client.ok("GET", "/devices", "DeviceList")


async def test_bearer_scheme_is_case_insensitive(client: HubClient) -> None:
    await client.ok(
        "GET", "/hub", "Hub", token=None, headers={"Authorization": f"bearer  {client.token}"}
    )


async def test_issue_token_from_python(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator, _, _ = await paired(make_emulator, session)
    client = HubClient(session, emulator.url, emulator.issue_token())
    await client.ok("GET", "/hub", "Hub")
