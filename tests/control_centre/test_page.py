"""The centre's page (English and Korean, live in a browser) and its command line."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import time

import aiohttp
from playwright.sync_api import expect, sync_playwright
import pytest
import requests

from control_centre_emulator import ControlCentre
from custom_components.seoul_safehome.sia import SiaEvent, SiaLink, SiaNakError, SiaSender
from tests.browser import CHROMIUM_ARGS, chromium_or_skip

ROOT = Path(__file__).parent.parent.parent
KEY_HEX = "00112233445566778899aabbccddeeff"


async def test_page_in_english_and_korean(
    centre: ControlCentre, session: aiohttp.ClientSession
) -> None:
    assert centre.page_url is not None
    async with session.get(centre.page_url) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
    for english, korean in [
        ("Control-centre emulator", "관제센터 에뮬레이터"),
        ("Time", "시각"),
        ("Account", "계정"),
        ("Code", "코드"),
        ("Zone", "구역"),
        ("Text", "내용"),
        ("Answer sent", "보낸 응답"),
        ("Refuse every report (NAK)", "모든 보고 거부"),
        ("No reports yet", "아직 받은 보고가 없습니다"),
    ]:
        assert english in page
        assert korean in page
    assert "http://" not in page.replace('href="data:,"', "")  # nothing loaded from elsewhere


@pytest.fixture
def cli(socket_enabled: None) -> Iterator[tuple[subprocess.Popen[str], int, str]]:
    """Run `python -m control_centre_emulator` with a key on free ports."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "control_centre_emulator",
            "--port",
            "0",
            "--page-port",
            "0",
            "--key",
            KEY_HEX,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    banner = proc.stdout.readline()
    page = proc.stdout.readline()
    match = re.search(r"on 127\.0\.0\.1:(\d+) \(TCP and UDP\), account 1234, AES-128", banner)
    assert match, banner
    assert KEY_HEX not in banner.lower()
    url = page.split(": ", 1)[1].strip()
    try:
        yield proc, int(match[1]), url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()


def send(port: int, event: SiaEvent, seq: int, key: bytes | None) -> str:
    """Send one report from this (synchronous) test; return the answer's kind."""
    link = SiaLink("1234", key=key)

    async def run() -> str:
        try:
            return (await SiaSender("127.0.0.1", port, "tcp", link, 5).send(event, seq)).kind
        except SiaNakError:
            return "NAK"

    # In a thread of its own: Playwright runs a loop in this one, and the main thread's
    # loop settings stay as Home Assistant's test plugin expects them.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, run()).result(30)


def test_command_line(cli: tuple[subprocess.Popen[str], int, str]) -> None:
    proc, port, url = cli
    assert send(port, SiaEvent("BA", 5, "Front door"), 1, bytes.fromhex(KEY_HEX)) == "ACK"
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "report #1 TCP encrypted: account 1234 seq 0001 BA Burglary Alarm zone 5" in line
    assert line.rstrip().endswith("-> ACK")
    listed = requests.get(f"{url}reports", timeout=5).json()["reports"]
    assert [(r["code"], r["zone"], r["text"]) for r in listed] == [("BA", 5, "Front door")]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 0


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--key", "00112233"], "32, 48 or 64 hexadecimal digits"),
        (["--key", "zz" * 16], "hexadecimal digits"),
        (["--account", "12"], "account"),
    ],
)
def test_command_line_refuses_bad_settings(args: list[str], error: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "control_centre_emulator", "--no-page", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert error in done.stderr


def test_page_shows_reports_live_in_a_browser(
    cli: tuple[subprocess.Popen[str], int, str],
) -> None:
    _proc, port, url = cli
    executable = chromium_or_skip()  # before Playwright's driver starts
    key = bytes.fromhex(KEY_HEX)
    expect.set_options(timeout=15_000)  # a loaded machine (the page polls every 0.7 s)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)
            expect(page.get_by_test_id("reports-empty")).to_be_visible()
            expect(page.get_by_test_id("centre-encryption")).to_have_text("AES-128")
            expect(page.get_by_test_id("centre-state")).to_have_attribute("data-value", "up")

            assert send(port, SiaEvent("BA", 5, "Front door"), 1, key) == "ACK"
            row = page.get_by_test_id("report-1")
            expect(row).to_be_visible()  # without reloading the page
            expect(page.get_by_test_id("report-1-account")).to_have_text("1234")
            expect(page.get_by_test_id("report-1-code")).to_have_text("BA")
            description = page.get_by_test_id("report-1-description")
            expect(description).to_contain_text("Burglary Alarm")
            expect(description).to_contain_text("침입 경보")
            expect(page.get_by_test_id("report-1-zone")).to_have_text("5")
            expect(page.get_by_test_id("report-1-text")).to_have_text("Front door")
            expect(page.get_by_test_id("report-1-reply")).to_have_attribute("data-value", "ACK")
            expect(page.get_by_test_id("report-1-transport")).to_contain_text("TCP")

            assert send(port, SiaEvent("BA", 5, "Front door"), 1, key) == "ACK"  # repeated
            expect(page.get_by_test_id("report-1-reply")).to_contain_text("×2")

            page.get_by_test_id("switch-refuse").click()
            expect(page.get_by_test_id("centre-state")).to_have_attribute("data-value", "refusing")
            deadline = time.monotonic() + 5
            while requests.get(f"{url}state", timeout=5).json()["refuse"] is not True:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert send(port, SiaEvent("PA", 2), 2, key) == "NAK"
            expect(page.get_by_test_id("report-2-reply")).to_have_attribute("data-value", "NAK")
            expect(page.get_by_test_id("report-2-reply")).to_contain_text("거부 (스위치)")
            assert errors == []
        finally:
            browser.close()
            expect.set_options(timeout=5_000)  # Playwright's default, for other tests
