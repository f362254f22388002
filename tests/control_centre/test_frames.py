"""The centre with frames other senders write: other panels' formats, and broken frames."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiohttp

from control_centre_emulator import ControlCentre, Report
from tests.sia import reference

from .conftest import MakeCentre


def now_stamp() -> str:
    return datetime.now(UTC).strftime("_%H:%M:%S,%m-%d-%Y")


async def raw(centre: ControlCentre, frame: bytes) -> bytes:
    """Send raw bytes over TCP; return whatever comes back within a short while."""
    reader, writer = await asyncio.open_connection("127.0.0.1", centre.port)
    try:
        writer.write(frame)
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.read(1000), 0.5)
        except TimeoutError:
            return b""
    finally:
        writer.close()
        await writer.wait_closed()


async def test_other_panels_formats(centre: ControlCentre) -> None:
    seen: list[Report] = []
    centre.on_report = seen.append
    stamp = now_stamp()
    await raw(centre, reference.wrap(f'"SIA-DCS"0001R0L0#1234[#1234|Nri2/BA7^Back door^]{stamp}'))
    await raw(centre, reference.wrap(f'"SIA-DCS"0002R0L0#1234[#1234|NRP]{stamp}'))
    first, second = await centre.wait_for_reports(2)
    assert (first.area, first.zone, first.text, first.reply) == (2, 7, "Back door", "ACK")
    assert (second.code, second.zone, second.text) == ("RP", None, None)
    assert seen == [first, second]


async def test_broken_frames(make_centre: MakeCentre) -> None:
    centre = await make_centre("1234", None)
    stamp = now_stamp()
    body = f'"SIA-DCS"0003R0L0#1234[#1234|NBA1]{stamp}'
    good = reference.wrap(body)
    bad_crc = b"\n" + (b"FFFF" if good[1:5] == b"0000" else b"0000") + good[5:]
    assert await raw(centre, bad_crc) == b"\n\r"  # pysiaalarm's empty answer
    assert await raw(centre, b"\nhello there\r") != b""
    sealed = reference.aes_cbc(bytes(16), b"x" * 16, decrypt=False).hex().upper()
    await raw(centre, reference.wrap(f'"*SIA-DCS"0004R0L0#1234[{sealed}'))
    crc, garbage, encrypted = await centre.wait_for_reports(3)
    assert (crc.reply, crc.reason, crc.sequence) == ("none", "CRC mismatch", 3)
    assert (garbage.reply, garbage.reason, garbage.account) == ("NAK", "unreadable message", None)
    assert (encrypted.reply, encrypted.reason) == (
        "NAK",
        "encrypted, but this account has no key",
    )
    assert (encrypted.account, encrypted.sequence, encrypted.encrypted) == ("1234", 4, True)


async def test_invalid_switches_body(centre: ControlCentre, session: aiohttp.ClientSession) -> None:
    headers = {"Content-Type": "application/json"}
    async with session.post(f"{centre.page_url}switches", data="{", headers=headers) as response:
        assert response.status == 400


async def test_start_twice_and_stop_twice(centre: ControlCentre) -> None:
    port = centre.port
    await centre.go_up()  # already up: nothing changes
    assert centre.port == port
    assert centre.encrypted is False
    await centre.stop()
    await centre.stop()
    assert not centre.up


async def test_page_port_taken(make_centre: MakeCentre, centre: ControlCentre) -> None:
    taken = int((centre.page_url or "").rsplit(":", 1)[1].strip("/"))
    other = ControlCentre(port=0, page_port=taken)
    try:
        await other.start()
    except OSError:
        assert not other.up  # the receiver it opened is closed again
    else:  # pragma: no cover - the port was free after all
        await other.stop()
        raise AssertionError("a busy page port was accepted")
