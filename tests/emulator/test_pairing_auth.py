"""Pairing (window, SPAKE2, sealed token) and bearer-token authentication, over real TLS."""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

import aiohttp
from cryptography.exceptions import InvalidTag
import pytest

from safehome_emulator import Emulator
from tests.conftest import PAIRING_CODE, Control
from tests.schema import assert_valid

from .conftest import MakeEmulator, pair_client, paired
from .helpers import HubClient, PakeClient, b64, peer_fingerprint

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
WRONG_CODE = "000000"


async def start(client: HubClient, pake: PakeClient) -> dict[str, Any]:
    """Start an attempt that the hub accepts; return its `PairChallenge`."""
    challenge, _ = await client.pair_start(pake)
    return challenge


async def finish_fails(
    client: HubClient, body: dict[str, Any], attempts_left: int
) -> dict[str, Any]:
    """Send a `PairFinish` the hub must refuse (401 `invalid_code`)."""
    reply = await client.error("POST", "/pair/finish", 401, "invalid_code", json_body=body)
    assert reply.body["error"]["attempts_left"] == attempts_left
    assert reply.headers["WWW-Authenticate"] == "Bearer"
    return reply.body


async def window(control: Control) -> dict[str, Any]:
    """The pairing window as the control surface shows it."""
    return (await control.get("/state"))["pairing"]


async def closed(client: HubClient, path: str = "/pair/start", body: Any = None) -> None:
    """Expect 403 `pairing_closed`."""
    if body is None:
        body = PakeClient(PAIRING_CODE).start_body()
    reply = await client.error("POST", path, 403, "pairing_closed", json_body=body, token=None)
    assert reply.body["error"]["message"] == "press the pairing button on the hub"


# --- info and the pairing window --------------------------------------------------------


async def test_info_needs_no_token(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    client = HubClient(session, emulator.url)
    info = await client.ok("GET", "/info", "Info")
    assert info == {
        "id": "shub-demo01",
        "name": "SafeHome Hub",
        "model": "SH-HUB1",
        "manufacturer": "Seoul SafeHome",
        "firmware": "1.4.2",
        "api_version": "2.0",
    }
    reply = await client.request("GET", "/info")
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"


async def test_pairing_needs_the_window(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    client = HubClient(session, emulator.url)
    await closed(client)
    await closed(client, "/pair/finish", {"session": "s" * 32, "confirm": b64(b"x" * 32)})
    # Nor does the window open by itself; a malformed body changes nothing.
    await closed(client, body={})
    assert not emulator.pairing_open


async def test_the_v1_pairing_is_gone(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    emulator.open_pairing_window()
    for path in ("/api/v1/pair", "/api/v2/pair"):
        async with session.post(f"{emulator.url}{path}", json={"code": PAIRING_CODE}) as resp:
            assert resp.status == 404
            assert (await resp.json())["error"]["code"] == "not_found"
    assert emulator.pairing_open  # none of that was an attempt


async def test_pair_with_the_right_code(
    emulator: Emulator, session: aiohttp.ClientSession, control: Control
) -> None:
    pressed = await control.post("/pairing")
    assert pressed == {"ok": True, "code": PAIRING_CODE, "expires_in": 120.0}
    state = await window(control)
    assert state["open"] is True
    assert state["code"] == PAIRING_CODE
    assert 119 < state["seconds_left"] <= 120
    assert state["attempts_left"] == 3
    client = HubClient(session, emulator.url)
    pake = PakeClient(PAIRING_CODE, "Home Assistant")
    challenge, seen = await client.pair_start(pake)
    assert seen == emulator.fingerprint
    assert (await window(control))["attempts_left"] == 2
    sealed = await client.ok(
        "POST", "/pair/finish", "PairSealed", json_body=pake.finish_body(challenge)
    )
    assert len(base64.b64decode(sealed["nonce"])) == 12
    # The hub proves it knows the code *and* that this is its certificate.
    assert pake.hub_confirmed(sealed, emulator.fingerprint)
    content = pake.open(sealed)
    assert content["fingerprint"] == emulator.fingerprint
    assert content["hub"] == await client.ok("GET", "/info", "Info")
    # The token works as a bearer token, pinned to the certificate.
    client.token = content["token"]
    await client.ok("GET", "/hub", "Hub")
    # Success closes the window: the next client needs another press.
    assert (await window(control)) == {
        "open": False,
        "code": None,
        "seconds_left": 0.0,
        "attempts_left": 0,
    }
    await closed(client)


async def test_several_clients_pair_in_turn(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    first = await pair_client(emulator, session, "Home Assistant")
    second = await pair_client(emulator, session, "phone")
    assert first.token != second.token
    for client in (first, second):
        await client.ok("GET", "/hub", "Hub")


async def test_each_window_has_a_fresh_code(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator, _, control = await paired(make_emulator, session, pairing_code=None)
    codes = {(await control.post("/pairing"))["code"] for _ in range(8)}
    assert len(codes) >= 7  # 6 random digits each time (a repeat is a 1-in-10^6 chance)
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    # The previous window's code is no longer valid.
    old = (await control.post("/pairing"))["code"]
    new = emulator.open_pairing_window()
    if old != new:
        client = HubClient(session, emulator.url)
        pake = PakeClient(old)
        await finish_fails(client, pake.finish_body(await start(client, pake)), 2)
    await pair_client(emulator, session)


async def test_window_closes_after_its_time(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator = await make_emulator(pairing_window=0.4)
    control = Control(session, emulator.control_url)
    assert (await control.post("/pairing"))["expires_in"] == 0.4
    client = HubClient(session, emulator.url)
    pake = PakeClient(PAIRING_CODE)
    challenge = await start(client, pake)
    clock = emulator.hub.pairing.clock
    emulator.hub.pairing.clock = lambda: clock() + 0.4  # the window's time is up
    await closed(client, "/pair/finish", pake.finish_body(challenge))
    await closed(client)
    assert (await window(control))["open"] is False
    assert emulator.hub.tokens.revoke_all() == 0  # nobody was paired


async def test_window_closes_in_real_time(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator = await make_emulator(pairing_window=0.2)
    emulator.open_pairing_window()
    client = HubClient(session, emulator.url)
    assert emulator.pairing_open
    await asyncio.sleep(0.25)
    assert not emulator.pairing_open
    await closed(client)


async def test_three_wrong_codes_close_the_window(
    emulator: Emulator, session: aiohttp.ClientSession, control: Control
) -> None:
    """A brute force gets 3 guesses per press of the button, then nothing."""
    await control.post("/pairing")
    client = HubClient(session, emulator.url)
    for left in (2, 1, 0):
        pake = PakeClient(WRONG_CODE)
        await finish_fails(client, pake.finish_body(await start(client, pake)), left)
    assert (await window(control))["open"] is False
    await closed(client)  # the 4th attempt is refused, right code or not
    assert emulator.hub.tokens.revoke_all() == 0


async def test_wrong_codes_then_the_right_one(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    emulator.open_pairing_window()
    client = HubClient(session, emulator.url)
    for left in (2, 1):
        pake = PakeClient(WRONG_CODE)
        await finish_fails(client, pake.finish_body(await start(client, pake)), left)
    client.token = await client.pair(PAIRING_CODE)
    await client.ok("GET", "/hub", "Hub")


async def test_a_new_start_replaces_the_pending_attempt(
    emulator: Emulator, session: aiohttp.ClientSession, control: Control
) -> None:
    emulator.open_pairing_window()
    client = HubClient(session, emulator.url)
    first, second = PakeClient(PAIRING_CODE), PakeClient(PAIRING_CODE)
    first_challenge = await start(client, first)
    await start(client, second)  # the first attempt is over (failed)
    assert (await window(control))["attempts_left"] == 1
    # Finishing the replaced attempt fails (it is no longer the pending one).
    await finish_fails(client, first.finish_body(first_challenge), 1)
    last = PakeClient(PAIRING_CODE)
    sealed = await client.ok(
        "POST", "/pair/finish", "PairSealed", json_body=last.finish_body(await start(client, last))
    )
    assert last.open(sealed)["fingerprint"] == emulator.fingerprint


async def test_a_finish_for_another_session_leaves_the_pending_attempt_alone(
    emulator: Emulator, session: aiohttp.ClientSession, control: Control
) -> None:
    """Someone on the network sends `finish` with guessed sessions: the resident's pairing,
    whose session travels inside TLS, goes on and no attempt is used up."""
    emulator.open_pairing_window()
    client = HubClient(session, emulator.url)
    pake = PakeClient(PAIRING_CODE)
    challenge = await start(client, pake)
    body = pake.finish_body(challenge)
    for _ in range(5):
        await finish_fails(client, dict(body, session="x" * 22), 2)
    sealed = await client.ok("POST", "/pair/finish", "PairSealed", json_body=body)
    assert pake.open(sealed)["fingerprint"] == emulator.fingerprint


async def test_pending_attempt_expires_after_30_s(
    emulator: Emulator, session: aiohttp.ClientSession, control: Control
) -> None:
    emulator.open_pairing_window()
    client = HubClient(session, emulator.url)
    pake = PakeClient(PAIRING_CODE)
    challenge = await start(client, pake)
    clock = emulator.hub.pairing.clock
    emulator.hub.pairing.clock = lambda: clock() + 30
    assert (await window(control))["open"] is True  # the window has 90 s more
    await finish_fails(client, pake.finish_body(challenge), 2)


async def test_expiry_of_the_last_attempt_closes_the_window(
    emulator: Emulator, session: aiohttp.ClientSession, control: Control
) -> None:
    emulator.open_pairing_window()
    client = HubClient(session, emulator.url)
    for _ in range(3):
        await start(client, PakeClient(PAIRING_CODE))
    assert (await window(control))["open"] is True  # the last attempt is pending
    clock = emulator.hub.pairing.clock
    emulator.hub.pairing.clock = lambda: clock() + 31
    assert (await window(control))["open"] is False


async def test_a_replayed_pairing_gets_no_token(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    """Someone who recorded a whole pairing (and knows the fixed code is reused) replays it."""
    client = HubClient(session, emulator.url)
    emulator.open_pairing_window()
    pake = PakeClient(PAIRING_CODE)
    recorded_start = pake.start_body()
    challenge = await start(client, pake)
    recorded_finish = pake.finish_body(challenge)
    recorded_sealed = await client.ok(
        "POST", "/pair/finish", "PairSealed", json_body=recorded_finish
    )
    pake.open(recorded_sealed)
    # A new window with the same code: the hub answers the old message afresh.
    emulator.open_pairing_window()
    attacker = HubClient(session, emulator.url)
    reply = await attacker.request("POST", "/pair/start", json_body=recorded_start)
    assert reply.status == 200
    assert_valid("PairChallenge", reply.body)
    assert reply.body["session"] != challenge["session"]
    assert reply.body["pake"] != challenge["pake"]
    await finish_fails(attacker, recorded_finish, 2)
    # With the new session named, the old confirmation still does not match.
    reply = await attacker.request("POST", "/pair/start", json_body=recorded_start)
    await finish_fails(attacker, {**recorded_finish, "session": reply.body["session"]}, 1)
    # The recorded answer opens only with the keys of the exchange it came from.
    guess = PakeClient(PAIRING_CODE)
    guess.finish_body(challenge)
    with pytest.raises(InvalidTag):
        guess.open(recorded_sealed)
    assert emulator.hub.tokens.revoke_all() == 1  # only the real pairing


async def test_the_hub_confirmation_is_bound_to_its_certificate(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    """A man in the middle presents another certificate: the confirmation gives it away."""
    hub = await make_emulator()
    other = await make_emulator()
    assert other.fingerprint != hub.fingerprint
    hub.open_pairing_window()
    client = HubClient(session, hub.url)
    pake = PakeClient(PAIRING_CODE)
    sealed = await client.ok(
        "POST", "/pair/finish", "PairSealed", json_body=pake.finish_body(await start(client, pake))
    )
    assert pake.hub_confirmed(sealed, hub.fingerprint)
    assert not pake.hub_confirmed(sealed, other.fingerprint)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"client_name": "no pake"},
        {"pake": 5},
        {"pake": None},
        {"pake": "not base64!"},
        {"pake": "QUJD"},  # base64, but not a SPAKE2 message
        {"pake": b64(b"A" + b"\xff" * 32)},  # not a point of the group
        {"pake": b64(b"A" + bytes(32))},
        {"pake": b64(b"B" + bytes(32))},  # the hub's own side
        {"pake": b64(b"A" + bytes(40))},  # too long
        {"pake": "QUJD" * 200},
        {"pake": "PLACEHOLDER", "client_name": 5},
        {"pake": "PLACEHOLDER", "client_name": "x" * 129},
        [PAIRING_CODE],
    ],
)
async def test_malformed_start_uses_an_attempt(
    emulator: Emulator, session: aiohttp.ClientSession, control: Control, body: Any
) -> None:
    if isinstance(body, dict) and body.get("pake") == "PLACEHOLDER":
        body = {**body, "pake": PakeClient(PAIRING_CODE).start_body()["pake"]}
    emulator.open_pairing_window()
    client = HubClient(session, emulator.url)
    await client.error("POST", "/pair/start", 400, "bad_request", json_body=body)
    assert (await window(control))["attempts_left"] == 2


@pytest.mark.parametrize("data", [b"", b"{not json", b"\xff\xfe", b"NaN", b'{"pake": Infinity}'])
async def test_start_with_a_body_that_is_not_json(
    emulator: Emulator, session: aiohttp.ClientSession, data: bytes
) -> None:
    emulator.open_pairing_window()
    client = HubClient(session, emulator.url)
    await client.error("POST", "/pair/start", 400, "bad_request", data=data)


async def test_malformed_finish(
    emulator: Emulator, session: aiohttp.ClientSession, control: Control
) -> None:
    emulator.open_pairing_window()
    client = HubClient(session, emulator.url)
    pake = PakeClient(PAIRING_CODE)
    good = pake.finish_body(await start(client, pake))
    # The wrong shape is refused without touching the pending attempt...
    for body in ({}, {"session": good["session"]}, {**good, "confirm": 5}, {**good, "session": 1}):
        await client.error("POST", "/pair/finish", 400, "bad_request", json_body=body)
    assert (await window(control))["attempts_left"] == 2
    # ...a confirmation that is not base64 is a wrong one.
    await finish_fails(client, {**good, "confirm": "?" * 44}, 2)
    await finish_fails(client, good, 2)  # that attempt is over


async def test_secrets_are_never_logged(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator = await make_emulator(pairing_code=None)
    code = emulator.open_pairing_window()
    client = HubClient(session, emulator.url)
    client.token = await client.pair(code, "Home Assistant")
    info = await client.ok("GET", "/devices/cam-1/stream", "StreamInfo")
    text = caplog.text
    assert "Home Assistant" in text  # pairing was logged...
    for secret in (code, client.token, info["url"].split("auth=")[1]):
        assert secret not in text  # ...without a secret


# --- bearer tokens ---------------------------------------------------------------------


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


async def test_revoked_token(client: HubClient, control: Control, emulator: Emulator) -> None:
    await client.ok("GET", "/devices", "DeviceList")
    result = await control.post("/tokens/revoke")
    assert result == {"ok": True, "tokens": 1, "streams": 0}
    for method, path in AUTHENTICATED:
        await client.error(method, path, 401, "unauthorized")
    # Pairing again (another press of the button) gives a working token.
    client.token = await client.pair(emulator.open_pairing_window())
    await client.ok("GET", "/devices", "DeviceList")


async def test_bearer_scheme_is_case_insensitive(client: HubClient) -> None:
    await client.ok(
        "GET", "/hub", "Hub", token=None, headers={"Authorization": f"bearer  {client.token}"}
    )


async def test_issue_token_from_python(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    assert await peer_fingerprint(emulator.url) == emulator.fingerprint
    client = HubClient(session, emulator.url, emulator.issue_token(), emulator.fingerprint)
    await client.ok("GET", "/hub", "Hub")
    assert not emulator.pairing_open
