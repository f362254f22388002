"""The command line, in process (test_page.py runs it as a real process too)."""

from __future__ import annotations

import argparse
import asyncio
from concurrent.futures import ThreadPoolExecutor
import socket

import pytest

from control_centre_emulator import ControlCentre, cli
from custom_components.seoul_safehome.sia import SiaEvent

from .conftest import report


def test_parse_key() -> None:
    assert cli.parse_key("00" * 16) == bytes(16)
    assert len(cli.parse_key("ab" * 24)) == 24
    assert len(cli.parse_key("AB" * 32)) == 32
    for bad in ("00" * 8, "00" * 17, "0" * 31, "xy" * 16, "00 " * 16):
        with pytest.raises(argparse.ArgumentTypeError):
            cli.parse_key(bad)


def test_loopback_check() -> None:
    assert cli._is_loopback("127.0.0.1")
    assert cli._is_loopback("::1")
    assert cli._is_loopback("localhost")
    assert not cli._is_loopback("0.0.0.0")
    assert not cli._is_loopback("example.org")


async def test_run_prints_each_report(
    socket_enabled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    centre = ControlCentre(port=0, page_port=0)
    stop = asyncio.Event()
    running = asyncio.create_task(cli.run(centre, stop))
    for _ in range(500):  # until it listens
        if centre.up and centre.page_url is not None:
            break
        await asyncio.sleep(0.01)
    await report(centre, SiaEvent("WA", 4, "Kitchen"), 8)
    await report(centre, SiaEvent("WA", 4, "Kitchen"), 8)
    stop.set()
    await running
    out = capsys.readouterr().out
    assert f"receiver on 127.0.0.1:{centre.port} (TCP and UDP), account 1234, unencrypted" in out
    assert "Control-centre page: http://127.0.0.1:" in out
    assert "account 1234 seq 0008 WA Water Alarm zone 4 'Kitchen' -> ACK\n" in out
    assert "-> ACK, repeated 1x" in out
    assert not centre.up


def test_main_refuses_a_bad_account(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--account", "xyz", "--no-page"])
    assert exited.value.code == 2
    assert "account" in capsys.readouterr().err


def test_main_reports_a_busy_port(socket_enabled: None, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ["--port", str(port), "--protocol", "tcp", "--no-page"]
        with ThreadPoolExecutor(1) as thread:  # main() runs its own event loop
            assert thread.submit(cli.main, args).result(30) == 1
    assert "control_centre_emulator:" in capsys.readouterr().err
