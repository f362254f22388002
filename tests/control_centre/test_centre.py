"""The control-centre emulator: what it lists, what it answers, its switches, its JSON."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import json
import socket
import struct
from typing import Any

import aiohttp
import pytest
from yarl import URL

from control_centre_emulator import ControlCentre
from custom_components.seoul_safehome.sia import (
    SiaConnectionError,
    SiaDuhError,
    SiaEvent,
    SiaLink,
    SiaNakError,
    SiaSender,
    SiaTimeoutError,
    build_frame,
)

from .conftest import MakeCentre, report

KEY = bytes.fromhex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")


async def reports_json(
    session: aiohttp.ClientSession, centre: ControlCentre
) -> list[dict[str, Any]]:
    async with session.get(f"{centre.page_url}reports") as response:
        assert response.status == 200
        reports: list[dict[str, Any]] = (await response.json())["reports"]
        return reports


async def test_each_report_is_listed(centre: ControlCentre, session: aiohttp.ClientSession) -> None:
    await report(centre, SiaEvent("BA", 5, "Front door"), 1)
    await report(centre, SiaEvent("QA", 0, "Help"), 2, protocol="udp")
    first, second = await reports_json(session, centre)
    assert first["account"] == "1234"
    assert (first["sequence"], first["code"], first["zone"], first["text"]) == (
        1,
        "BA",
        5,
        "Front door",
    )
    assert (first["description"], first["description_ko"]) == ("Burglary Alarm", "침입 경보")
    assert (first["reply"], first["reason"], first["transport"]) == ("ACK", None, "tcp")
    assert not first["encrypted"]
    sent_at = datetime.fromisoformat(first["sent_at"])
    assert abs(sent_at - datetime.now(UTC)) < timedelta(seconds=5)
    assert (second["code"], second["description"], second["transport"]) == (
        "QA",
        "Emergency Alarm",
        "udp",
    )
    assert [r.code for r in centre.reports] == ["BA", "QA"]


async def test_delete_reports(centre: ControlCentre, session: aiohttp.ClientSession) -> None:
    await report(centre, SiaEvent("RP"), 1)
    async with session.delete(f"{centre.page_url}reports") as response:
        assert response.status == 200
    assert await reports_json(session, centre) == []
    assert centre.reports == []


async def test_a_repeated_report_is_counted_once(centre: ControlCentre) -> None:
    """A repetition (same sequence number and content, its ACK was lost) is acknowledged
    again but listed once; new content under the same number is a new report."""
    event = SiaEvent("PA", 3, "Bell")
    for protocol in ("tcp", "udp", "tcp"):
        reply = await report(centre, event, 77, protocol=protocol)
        assert (reply.kind, reply.seq) == ("ACK", 77)
    (only,) = centre.reports
    assert only.repeats == 2
    assert only.last_received is not None
    await report(centre, SiaEvent("PR", 3), 77)
    assert [(r.code, r.repeats) for r in centre.reports] == [("PA", 2), ("PR", 0)]


async def test_a_refused_report_then_delivered_is_listed_twice(centre: ControlCentre) -> None:
    centre.refuse = True
    with pytest.raises(SiaNakError):
        await report(centre, SiaEvent("FA", 2), 5)
    centre.refuse = False
    await report(centre, SiaEvent("FA", 2), 5)
    assert [(r.reply, r.reason) for r in centre.reports] == [
        ("NAK", "refused (switch)"),
        ("ACK", None),
    ]


@pytest.mark.parametrize("size", [16, 24, 32])
async def test_encrypted_centre(
    make_centre: MakeCentre, session: aiohttp.ClientSession, size: int
) -> None:
    centre = await make_centre("1234", KEY[:size])
    reply = await report(centre, SiaEvent("MA", 1), 3, key=KEY[:size])
    assert reply.encrypted
    (listed,) = await reports_json(session, centre)
    assert listed["encrypted"]
    assert listed["code"] == "MA"
    async with session.get(f"{centre.page_url}state") as response:
        state = await response.json()
    assert state["encryption"] == f"AES-{size * 8}"
    everything = json.dumps([listed, state]) + str(centre.reports)
    assert KEY[:size].hex() not in everything.lower()


async def test_why_a_report_was_refused(make_centre: MakeCentre) -> None:
    centre = await make_centre("1234", KEY[:16])
    with pytest.raises(SiaNakError):
        await report(centre, SiaEvent("BA"), 1)  # no key
    with pytest.raises(SiaNakError):
        await report(centre, SiaEvent("BA"), 2, key=bytes(16))
    with pytest.raises(SiaNakError):
        await report(centre, SiaEvent("BA"), 3, account="999", key=KEY[:16])
    stale = SiaSender("127.0.0.1", centre.port, "udp", SiaLink("1234", key=KEY[:16]))
    with pytest.raises(SiaNakError):
        await stale.send(SiaEvent("BA"), 4, when=datetime.now(UTC) - timedelta(minutes=3))
    assert [(r.account, r.sequence, r.reply, r.reason) for r in centre.reports] == [
        ("1234", 1, "NAK", "unencrypted message for an encrypted account"),
        ("1234", 2, "NAK", "cannot decrypt: wrong key?"),
        ("999", 3, "NAK", "unknown account"),
        ("1234", 4, "NAK", "time stamp outside the window"),
    ]


async def test_unknown_code_gets_duh(centre: ControlCentre) -> None:
    with pytest.raises(SiaDuhError):
        await report(centre, SiaEvent("AZ", 1), 1)
    (listed,) = centre.reports
    assert (listed.reply, listed.reason, listed.description) == ("DUH", "unknown event code", None)


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
async def test_silent_centre_is_a_timeout(centre: ControlCentre, protocol: str) -> None:
    centre.mute = True
    with pytest.raises(SiaTimeoutError):
        await report(centre, SiaEvent("BA"), 1, protocol=protocol, timeout=0.5)
    (listed,) = await centre.wait_for_reports(1)
    assert (listed.reply, listed.reason) == ("none", "silent (switch)")


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
async def test_down_and_back_up(centre: ControlCentre, protocol: str) -> None:
    port = centre.port
    await centre.go_down()
    assert not centre.up
    with pytest.raises(SiaConnectionError):
        await report(centre, SiaEvent("PA"), 9, protocol=protocol)
    await centre.go_up()
    assert centre.port == port
    assert (await report(centre, SiaEvent("PA"), 9, protocol=protocol)).kind == "ACK"
    assert [r.reply for r in centre.reports] == ["ACK"]


async def test_switches_over_http(centre: ControlCentre, session: aiohttp.ClientSession) -> None:
    async def switch(body: object) -> dict[str, Any]:
        async with session.post(f"{centre.page_url}switches", json=body) as response:
            assert response.status == 200
            state: dict[str, Any] = await response.json()
            return state

    assert (await switch({"refuse": True}))["refuse"]
    with pytest.raises(SiaNakError):
        await report(centre, SiaEvent("BA"), 1)
    state = await switch({"refuse": False, "up": False})
    assert (state["refuse"], state["up"]) == (False, False)
    with pytest.raises(SiaConnectionError):
        await report(centre, SiaEvent("BA"), 1)
    assert (await switch({"up": True}))["up"]
    assert (await switch({"mute": True}))["mute"]
    with pytest.raises(SiaTimeoutError):
        await report(centre, SiaEvent("BA"), 1, timeout=0.5)
    await switch({"mute": False})
    assert (await report(centre, SiaEvent("BA"), 1)).kind == "ACK"
    for bad in ({"refuse": "yes"}, {"explode": True}, [True]):
        async with session.post(f"{centre.page_url}switches", json=bad) as response:
            assert response.status == 400


async def test_page_refuses_cross_site_and_rebound_requests(
    centre: ControlCentre, session: aiohttp.ClientSession
) -> None:
    url = centre.page_url
    assert url is not None
    async with session.post(f"{url}switches", data="refuse=true") as response:
        assert response.status == 403  # a cross-site form cannot send JSON
    headers = {"Origin": "http://evil.example"}
    async with session.delete(f"{url}reports", headers=headers) as response:
        assert response.status == 403
    async with session.get(f"{url}reports", headers={"Host": "evil.example"}) as response:
        assert response.status == 403  # DNS rebinding
    local = {"Host": URL(url).authority.replace("127.0.0.1", "localhost")}
    async with session.get(url, headers=local) as response:
        assert response.status == 200  # the page opened as http://localhost:PORT/
    assert not centre.refuse


@pytest.mark.parametrize(("protocol", "other"), [("tcp", "udp"), ("udp", "tcp")])
async def test_one_transport_only(make_centre: MakeCentre, protocol: str, other: str) -> None:
    centre = await make_centre(protocol=protocol, page_port=None)
    assert centre.page_url is None
    assert (await report(centre, SiaEvent("RP"), 1, protocol=protocol)).kind == "ACK"
    with pytest.raises(SiaConnectionError):
        await report(centre, SiaEvent("RP"), 2, protocol=other)


def test_invalid_settings() -> None:
    with pytest.raises(ValueError, match="account"):
        ControlCentre("12")
    with pytest.raises(ValueError, match="key"):
        ControlCentre("1234", b"short")
    with pytest.raises(ValueError, match="protocol"):
        ControlCentre("1234", protocol="sctp")  # type: ignore[arg-type]


async def test_a_sender_that_resets_the_connection_breaks_nothing(centre: ControlCentre) -> None:
    """A sender that gives up (its timeout) resets the connection before the answer is
    read: the centre's connection handler ends quietly and the next report is taken."""
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    try:
        for seq in (1, 2, 3):
            frame = build_frame(SiaLink("1234"), SiaEvent("BA", 5), seq, datetime.now(UTC))
            _reader, writer = await asyncio.open_connection("127.0.0.1", centre.port)
            writer.write(frame)
            await writer.drain()
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()  # RST, the answer unread
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        assert (await report(centre, SiaEvent("BA", 5), 4)).kind == "ACK"
        assert unhandled == []
    finally:
        loop.set_exception_handler(None)
