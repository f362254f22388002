"""Fixtures for the browser tests: the emulators and Home Assistant as processes, Chromium.

Everything listens on 127.0.0.1 and the browser is kept there: requests to any other host
are answered locally (the integration's brand images, as Home Assistant 2026.3+ serves
them from `brand/`) or refused, and Chromium resolves no host names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass, field
import os
from pathlib import Path
import re
import signal
import socket
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Route, sync_playwright
import pytest
import requests

from tests.browser import CHROMIUM_ARGS, chromium_or_skip

ROOT = Path(__file__).parent.parent.parent
INTEGRATION = ROOT / "custom_components" / "seoul_safehome"
BRAND = INTEGRATION / "brand"
DEV_CONFIGURATION = ROOT / "scripts" / "dev_configuration.yaml"
SCREENSHOTS = ROOT / "docs" / "screenshots"

USER = {"name": "Ji-woo Kim", "username": "jiwoo", "password": "safehome-e2e-password"}
START_TIMEOUT = 90.0  # a first start on a slow CI machine (recorder, frontend, ...)
# Anything that is not one of our loopback servers (or page-local data).
NOT_LOOPBACK = re.compile(r"^(?!(?:https?|wss?)://127\.0\.0\.1[:/]|data:|blob:|about:)")
BRAND_URL = re.compile(r"/seoul_safehome/((?:dark_)?(?:icon|logo)(?:@2x)?\.png)$")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until[T](
    condition: Callable[[], T | None], timeout: float, what: str, interval: float = 0.1
) -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            if result := condition():
                return result
        except (requests.RequestException, KeyError, ValueError) as err:
            last_error = err
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s: {what} ({last_error})")
        time.sleep(interval)


@dataclass
class Process:
    """A child process (its own process group) with its output in a log file."""

    name: str
    args: list[str]
    log: Path
    cwd: Path = ROOT
    env: dict[str, str] | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        """Start the process."""
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                self.args,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def check_running(self) -> None:
        """Fail if the process has exited."""
        assert self.popen is not None
        if (code := self.popen.poll()) is not None:
            raise AssertionError(f"{self.name} exited with {code}:\n{self.tail()}")

    def tail(self, lines: int = 60) -> str:
        """Return the end of the process's log."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the process group: SIGTERM, then SIGKILL after 20 s."""
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)


@dataclass
class Emulator:
    """The SafeHome emulator process: its HTTPS API and its plain-HTTP control server."""

    process: Process
    url: str = ""  # the API, https://127.0.0.1:PORT
    control_url: str = ""  # the control server, http://127.0.0.1:PORT (routes /control/...)

    @property
    def port(self) -> int:
        """The API's port (what a user types in Home Assistant)."""
        return int(self.url.rsplit(":", 1)[1])

    @property
    def control_page(self) -> str:
        """The control page's address."""
        return f"{self.control_url}/control"

    def _control(self, path: str) -> Any:
        resp = requests.get(f"{self.control_url}/control/{path}", timeout=5)
        resp.raise_for_status()
        return resp.json()

    def device(self, device_id: str) -> dict[str, Any]:
        """Return one device as the emulator sees it (`GET /control/state`)."""
        return next(d for d in self._control("state")["devices"] if d["id"] == device_id)

    def pairing(self) -> dict[str, Any]:
        """Return the pairing window's state (`GET /control/state`)."""
        return self._control("state")["pairing"]

    def commands(self) -> list[dict[str, Any]]:
        """Return the commands the hub received (`GET /control/log`)."""
        return self._control("log")["commands"]


@dataclass
class HomeAssistant:
    """A Home Assistant process with its own configuration directory."""

    process: Process
    config_dir: Path
    url: str
    token: str = ""

    def api(self, path: str) -> Any:
        """GET a REST API path with the onboarding user's token."""
        resp = requests.get(
            f"{self.url}/api/{path}", headers={"Authorization": f"Bearer {self.token}"}, timeout=10
        )
        resp.raise_for_status()
        return resp.json()

    def template(self, template: str) -> str:
        """Render a template with the REST API (`POST /api/template`)."""
        resp = requests.post(
            f"{self.url}/api/template",
            json={"template": template},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        resp.raise_for_status()
        return resp.text

    def state(self, entity_id: str) -> dict[str, Any]:
        """Return an entity's state object."""
        return self.api(f"states/{entity_id}")

    def states(self) -> list[dict[str, Any]]:
        """Return every entity's state object."""
        return self.api("states")


@dataclass
class Screenshots:
    """Where the test saves its screenshots."""

    directory: Path
    taken: list[Path] = field(default_factory=list)

    def path(self, name: str) -> Path:
        """Return the path for a screenshot called `name` (and remember it)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{name}.png"
        self.taken.append(path)
        return path


@pytest.fixture
def chromium() -> str:
    """The Chromium executable, or skip the test loudly."""
    return chromium_or_skip()


@pytest.fixture
def screenshots(tmp_path: Path) -> Screenshots:
    """Screenshots go to docs/screenshots/ with SAFEHOME_SCREENSHOTS=1, else to tmp_path."""
    if os.environ.get("SAFEHOME_SCREENSHOTS", "") not in ("", "0"):
        return Screenshots(SCREENSHOTS)
    return Screenshots(tmp_path / "screenshots")


def _run_hub(tmp_path: Path, *extra: str) -> Iterator[Emulator]:
    """Run `python -m safehome_emulator --control` on free ports (a process, as in develop).

    No fixed pairing code: as for a user, each press of the pairing button makes a new one.
    The addresses are read from what it prints at start-up (the API line comes first, the
    control server's after both listen).
    """
    process = Process(
        "the emulator",
        [
            sys.executable,
            "-m",
            "safehome_emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--state-dir",
            str(tmp_path / "emulator-state"),
            "--control",
            "--control-port",
            "0",
            "--no-zeroconf",
            *extra,
        ],
        tmp_path / "emulator.log",
    )
    process.start()
    emulator = Emulator(process)
    try:

        def listening() -> tuple[str, str] | None:
            process.check_running()
            log = process.tail()
            api = re.search(r"listening on (https://127\.0\.0\.1:\d+)", log)
            control = re.search(r"Control surface: (http://127\.0\.0\.1:\d+)/control", log)
            return (api.group(1), control.group(1)) if api and control else None

        emulator.url, emulator.control_url = wait_until(listening, 30, "the emulator to listen")
        yield emulator
    finally:
        process.stop()


@pytest.fixture
def hub_emulator(socket_enabled: None, tmp_path: Path) -> Iterator[Emulator]:
    """The hub emulator with the Seoul kit, as `scripts/develop` runs it."""
    yield from _run_hub(tmp_path)


@pytest.fixture
def district_hub_emulator(socket_enabled: None, tmp_path: Path) -> Iterator[Emulator]:
    """The hub emulator with the district options too (`--district-kit`, API 2.1)."""
    yield from _run_hub(tmp_path, "--district-kit")


@dataclass
class ControlCentre:
    """The control-centre emulator process: a SIA DC-09 receiver and its web page."""

    process: Process
    account: str
    port: int = 0  # the receiver (TCP and UDP), what a user types in Home Assistant
    page_url: str = ""  # its page, http://127.0.0.1:PORT/

    def reports(self) -> list[dict[str, Any]]:
        """Return every report the centre received, oldest first (`GET /reports`)."""
        resp = requests.get(f"{self.page_url}reports", timeout=5)
        resp.raise_for_status()
        return list(resp.json()["reports"])


@pytest.fixture
def control_centre(socket_enabled: None, tmp_path: Path) -> Iterator[ControlCentre]:
    """Run `python -m control_centre_emulator` as `scripts/develop` does, on free ports.

    Account 1234, TCP and UDP, unencrypted (develop's default); the receiver's port and
    the page's address are read from its banner.
    """
    account = "1234"
    process = Process(
        "the control centre",
        [
            sys.executable,
            "-m",
            "control_centre_emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--protocol",
            "both",
            "--account",
            account,
            "--page-port",
            "0",
        ],
        tmp_path / "control-centre.log",
    )
    process.start()
    centre = ControlCentre(process, account)
    try:

        def listening() -> tuple[int, str] | None:
            process.check_running()
            log = process.tail()
            receiver = re.search(r"SIA DC-09 receiver on 127\.0\.0\.1:(\d+)", log)
            page = re.search(r"Control-centre page: (http://127\.0\.0\.1:\d+/)", log)
            return (int(receiver.group(1)), page.group(1)) if receiver and page else None

        centre.port, centre.page_url = wait_until(listening, 30, "the control centre to listen")
        yield centre
    finally:
        process.stop()


def _configuration(port: int) -> str:
    """Return the dev configuration (scripts/dev_configuration.yaml) for this test run.

    The same integrations as `scripts/develop`, on `port`, in English (so the selectors
    and screenshots read the same everywhere).
    """
    text = DEV_CONFIGURATION.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(\s*server_port:).*$", rf"\g<1> {port}", text)
    text = re.sub(r"(?m)^(\s*language:).*$", r"\g<1> en", text)
    assert f"server_port: {port}" in text, "scripts/dev_configuration.yaml has no server_port"
    return text


@pytest.fixture
def home_assistant(socket_enabled: None, tmp_path: Path) -> Iterator[HomeAssistant]:
    """Run a fresh Home Assistant (`hass -c DIR --skip-pip`) with the integration linked in.

    `--skip-pip`: everything Home Assistant needs is pinned in requirements_test.txt, so a
    missing package fails this test instead of being installed behind its back.
    Onboarding's "core config" step is marked done in advance: finishing it through the
    API would set up the integrations onboarding adds (Met.no weather, Google Translate,
    Radio Browser), which call servers on the internet.
    """
    config = tmp_path / "ha-config"
    (config / "custom_components").mkdir(parents=True)
    (config / "custom_components" / "seoul_safehome").symlink_to(INTEGRATION)
    (config / ".storage").mkdir()
    (config / ".storage" / "onboarding").write_text(
        '{"version": 4, "minor_version": 1, "key": "onboarding",'
        ' "data": {"done": ["core_config"]}}',
        encoding="utf-8",
    )
    for name in ("automations.yaml", "scripts.yaml", "scenes.yaml"):
        (config / name).write_text("[]\n", encoding="utf-8")
    port = free_port()
    (config / "configuration.yaml").write_text(_configuration(port), encoding="utf-8")

    process = Process(
        "Home Assistant",
        [sys.executable, "-m", "homeassistant", "--config", str(config), "--skip-pip"],
        tmp_path / "home-assistant.log",
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    process.start()
    hass = HomeAssistant(process, config, f"http://127.0.0.1:{port}")
    try:

        def answering() -> bool:
            process.check_running()
            return requests.get(f"{hass.url}/api/onboarding", timeout=2).status_code == 200

        wait_until(answering, START_TIMEOUT, "Home Assistant's web server", interval=0.25)
        yield hass
    finally:
        process.stop()


def onboard(hass: HomeAssistant) -> None:
    """Create the owner and finish onboarding through Home Assistant's onboarding API."""
    client_id = f"{hass.url}/"
    resp = requests.post(
        f"{hass.url}/api/onboarding/users",
        json={"client_id": client_id, "language": "en", **USER},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    resp = requests.post(
        f"{hass.url}/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": resp.json()["auth_code"],
            "client_id": client_id,
        },
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    hass.token = resp.json()["access_token"]
    headers = {"Authorization": f"Bearer {hass.token}"}
    for step, body in (
        ("analytics", {}),
        ("integration", {"client_id": client_id, "redirect_uri": f"{client_id}?auth_callback=1"}),
    ):
        resp = requests.post(
            f"{hass.url}/api/onboarding/{step}", json=body, headers=headers, timeout=30
        )
        assert resp.status_code == 200, f"onboarding {step}: {resp.status_code} {resp.text}"
    done = requests.get(f"{hass.url}/api/onboarding", timeout=10).json()
    assert all(step["done"] for step in done), done


def _keep_local(route: Route) -> None:
    """Answer a request for another host: our brand images from brand/, nothing else."""
    found = BRAND_URL.search(urlsplit(route.request.url).path)
    if found and (BRAND / found.group(1)).is_file():
        route.fulfill(path=BRAND / found.group(1), content_type="image/png")
    else:
        route.abort("blockedbyclient")


@pytest.fixture
def browser(chromium: str) -> Iterator[BrowserContext]:
    """A headless Chromium (Debian's, driven by Playwright) that only reaches 127.0.0.1."""
    with sync_playwright() as playwright:
        chrome = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = chrome.new_context(
                viewport={"width": 1280, "height": 860},
                locale="en-US",
                timezone_id="Asia/Seoul",
                service_workers="block",
            )
            context.set_default_timeout(30_000)
            context.route(NOT_LOOPBACK, _keep_local)
            yield context
            context.close()
        finally:
            chrome.close()
