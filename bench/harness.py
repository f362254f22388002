"""Plumbing of the benchmark: processes, Home Assistant's APIs, the fake phone, statistics.

Everything talks to 127.0.0.1 only. Every wait is bounded in time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
import json
import math
import os
from pathlib import Path
import re
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PAIRING_CODE = "123456"
HUB_ID = "shub-bench01"
DOMAIN = "seoul_safehome"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BenchError(Exception):
    """The benchmark cannot go on."""


# --- statistics ----------------------------------------------------------------------


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(values: Iterable[float]) -> dict[str, float | int]:
    """Return n, mean, p50, p90, p99 and max of a sample (in its own unit)."""
    data = sorted(values)
    if not data:
        return {"n": 0}
    return {
        "n": len(data),
        "mean": sum(data) / len(data),
        "min": data[0],
        "p50": percentile(data, 50),
        "p90": percentile(data, 90),
        "p99": percentile(data, 99),
        "max": data[-1],
    }


class Clock:
    """Converts Home Assistant's wall-clock timestamps to this machine's monotonic clock.

    CLOCK_MONOTONIC is shared by every process on the machine, so the emulator's `t`
    values and the bench's own `time.monotonic_ns()` compare directly; Home Assistant's
    `last_changed` is wall-clock time, converted with the offset measured here.
    """

    def __init__(self) -> None:
        self.offset_ns = 0
        self.calibrate()

    def calibrate(self) -> None:
        samples = []
        for _ in range(15):
            a = time.monotonic_ns()
            w = time.time_ns()
            b = time.monotonic_ns()
            samples.append((b - a, w - (a + b) // 2))
        self.offset_ns = min(samples)[1]

    def wall_to_mono(self, iso: str) -> int:
        delta = datetime.fromisoformat(iso) - EPOCH
        ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
        return ns - self.offset_ns

    def mono_to_wall_ns(self, mono_ns: int) -> int:
        return mono_ns + self.offset_ns


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- processes -----------------------------------------------------------------------


@dataclass
class Process:
    """A child process in its own process group, with its output in a file."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, name: str, argv: list[str], log: Path, cwd: Path, nice: int = 0) -> Process:
        out = log.open("wb")
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                # Set before exec, so that every thread the process starts inherits it.
                preexec_fn=(lambda: os.nice(nice)) if nice else None,
            )
        finally:
            out.close()
        return cls(name, proc, log)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the process group, then SIGKILL it if it does not end in time."""
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


@dataclass(frozen=True)
class HubAddress:
    """Where a started emulator listens, and the certificate its API shows."""

    port: int
    """The API's HTTPS port."""
    control_port: int
    """The control surface's plain-HTTP port (loopback)."""
    fingerprint: str
    """SHA-256 of the hub's certificate, 64 lowercase hex digits."""

    @property
    def api_url(self) -> str:
        return f"https://127.0.0.1:{self.port}/api/v2"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    @cached_property
    def ssl(self) -> aiohttp.Fingerprint:
        """The `ssl=` argument that accepts only this hub's certificate (one object: aiohttp
        pools connections by it)."""
        return aiohttp.Fingerprint(bytes.fromhex(self.fingerprint))


# What the emulator prints once it serves (the control line comes last).
EMULATOR_PORT_RE = re.compile(r"listening on https://127\.0\.0\.1:(\d+)")
EMULATOR_FINGERPRINT_RE = re.compile(r"Certificate fingerprint \(SHA-256\): ([0-9a-f]{64})")
EMULATOR_CONTROL_RE = re.compile(r"Control surface: http://127\.0\.0\.1:(\d+)/control")


def start_emulator(
    workdir: Path, settings: dict[str, Any], nice: int = 0, pairing_code: str = PAIRING_CODE
) -> tuple[Process, HubAddress]:
    """Start the emulator; return it and where it listens.

    The API on a free HTTPS port, the control surface on its own free loopback port (never
    the default 8766, which another emulator may hold), `--no-zeroconf`, the certificate
    kept in `<workdir>/emulator-state`, and `pairing_code` for every pairing window (which
    still has to be opened: `Emulator.open_pairing`).
    """
    config = workdir / "emulator.json"
    config.write_text(json.dumps({"hub_id": HUB_ID, **settings}))
    argv = [
        str(VENV_BIN / "python"),
        "-m",
        "safehome_emulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--state-dir",
        str(workdir / "emulator-state"),
        "--dev-fixed-pairing-code",
        pairing_code,
        "--config",
        str(config),
        "--control",
        "--control-host",
        "127.0.0.1",
        "--control-port",
        "0",
        "--no-zeroconf",
        "--log-level",
        "warning",
    ]
    process = Process.start("emulator", argv, workdir / "emulator.log", ROOT, nice)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not process.alive():
            raise BenchError(f"the emulator exited:\n{process.tail()}")
        text = process.log.read_text(errors="replace")
        if control := EMULATOR_CONTROL_RE.search(text):
            port = EMULATOR_PORT_RE.search(text)
            fingerprint = EMULATOR_FINGERPRINT_RE.search(text)
            if port is None or fingerprint is None:
                process.stop()
                raise BenchError(f"unexpected emulator output:\n{process.tail()}")
            address = HubAddress(int(port[1]), int(control[1]), fingerprint[1])
            return process, address
        time.sleep(0.05)
    process.stop()
    raise BenchError(f"the emulator did not start:\n{process.tail()}")


HA_CONFIGURATION = """\
# Written by bench/run.py: scripts/dev_configuration.yaml without frontend/my (and with
# what the benchmark needs: onboarding, diagnostics, two input_booleans, the snapshot dir).
homeassistant:
  name: SafeHome Bench
  unit_system: metric
  time_zone: Asia/Seoul
  country: KR
  language: en
  latitude: 37.5665
  longitude: 126.9780
  elevation: 38
  currency: KRW
  allowlist_external_dirs:
    - {snapshots}

http:
  server_host: 127.0.0.1
  server_port: {port}

onboarding:
config:
api:
diagnostics:
automation: !include automations.yaml
script: !include scripts.yaml
scene: !include scenes.yaml
blueprint:
history:
logbook:
person:
zone:
sun:
mobile_app:
media_source:
stream:
webhook:
system_health:

input_boolean:
  bench_a:
    name: bench a
  bench_b:
    name: bench b

logger:
  default: warning
"""


def start_home_assistant(
    workdir: Path,
    port: int,
    *,
    recorder: bool = True,
    nice: int = 0,
    log_levels: dict[str, str] | None = None,
    snapshots_as_media: bool = False,
) -> tuple[Process, Path]:
    """Write a config dir (integration symlinked in) and start `hass -c` on it.

    `log_levels` adds `logger: logs:` entries (e.g. the integration at `debug`).
    `snapshots_as_media` makes the snapshot dir Home Assistant's local media folder
    (`media_dirs: local:`), so that `/media/local/...` URLs name files in it (by default
    a Docker container's media folder is the machine-wide /media).
    """
    config = workdir / "ha"
    snapshots = workdir / "snapshots"
    (config / "custom_components").mkdir(parents=True)
    snapshots.mkdir()
    (config / "custom_components" / "seoul_safehome").symlink_to(
        ROOT / "custom_components" / "seoul_safehome"
    )
    text = HA_CONFIGURATION.format(port=port, snapshots=snapshots)
    if snapshots_as_media:
        text = text.replace(
            "  allowlist_external_dirs:\n",
            f"  media_dirs:\n    local: {snapshots}\n  allowlist_external_dirs:\n",
        )
    if not recorder:  # history and logbook need the recorder
        text = text.replace("history:\n", "").replace("logbook:\n", "")
    if log_levels:
        text += "  logs:\n" + "".join(
            f"    {name}: {level}\n" for name, level in log_levels.items()
        )
    (config / "configuration.yaml").write_text(text)
    for name in ("automations.yaml", "scripts.yaml", "scenes.yaml"):
        (config / name).write_text("[]\n" if name == "automations.yaml" else "{}\n")
    argv = [str(VENV_BIN / "hass"), "-c", str(config), "--skip-pip"]
    return Process.start("home-assistant", argv, workdir / "hass.out", workdir, nice), snapshots


def restart_home_assistant(workdir: Path, run: int, nice: int = 0) -> Process:
    """Start `hass -c` again on the config dir `start_home_assistant` wrote.

    Its output goes to `hass.<run>.out`.
    """
    argv = [str(VENV_BIN / "hass"), "-c", str(workdir / "ha"), "--skip-pip"]
    return Process.start("home-assistant", argv, workdir / f"hass.{run}.out", workdir, nice)


# --- Home Assistant's REST and websocket APIs -----------------------------------------


@dataclass
class StateEntry:
    """The newest state of an entity as the bench saw it, and when it arrived."""

    state: dict[str, Any]
    arrived: int


@dataclass
class Waiter:
    predicate: Callable[[], bool]
    future: asyncio.Future[int]


@dataclass
class HomeAssistant:
    """A logged-in client of one Home Assistant instance (REST + one websocket)."""

    session: aiohttp.ClientSession
    base: str
    token: str = ""
    states: dict[str, StateEntry] = field(default_factory=dict)
    listeners: list[Callable[[dict[str, Any], int], None]] = field(default_factory=list)
    _ws: aiohttp.ClientWebSocketResponse | None = None
    _reader: asyncio.Task[None] | None = None
    _next_id: int = 1
    _results: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    _waiters: list[Waiter] = field(default_factory=list)
    ws_closed: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def wait_started(self, process: Process, limit: float = 120) -> float:
        """Wait until the HTTP API answers; return how long that took."""
        start = time.monotonic()
        while time.monotonic() - start < limit:
            if not process.alive():
                raise BenchError(f"Home Assistant exited:\n{process.tail()}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with (
                    asyncio.timeout(2),
                    self.session.get(f"{self.base}/api/onboarding") as resp,
                ):
                    if resp.status == 200:
                        return time.monotonic() - start
            await asyncio.sleep(0.2)
        raise BenchError(f"Home Assistant did not start in {limit} s:\n{process.tail()}")

    async def onboard(self) -> None:
        """Create the owner through onboarding and log in (authorization code grant)."""
        client_id = f"{self.base}/"
        user = {
            "client_id": client_id,
            "name": "Bench",
            "username": "bench",
            "password": "bench-password-123",
            "language": "en",
        }
        async with self.session.post(f"{self.base}/api/onboarding/users", json=user) as resp:
            if resp.status != 200:
                raise BenchError(f"onboarding failed: {resp.status} {await resp.text()}")
            code = (await resp.json())["auth_code"]
        form = {"grant_type": "authorization_code", "code": code, "client_id": client_id}
        async with self.session.post(f"{self.base}/auth/token", data=form) as resp:
            if resp.status != 200:
                raise BenchError(f"login failed: {resp.status} {await resp.text()}")
            self.token = (await resp.json())["access_token"]

    async def rest(self, method: str, path: str, body: Any = None, limit: float = 30) -> Any:
        async with (
            asyncio.timeout(limit),
            self.session.request(
                method, f"{self.base}{path}", json=body, headers=self.headers
            ) as resp,
        ):
            text = await resp.text()
            if resp.status >= 300:
                raise BenchError(f"{method} {path} -> {resp.status}: {text[:500]}")
            return json.loads(text) if text else None

    async def call(self, domain: str, service: str, data: dict[str, Any] | None = None) -> Any:
        """Call an action through the REST API (returns when it has run)."""
        return await self.rest("POST", f"/api/services/{domain}/{service}", data or {})

    # --- websocket

    async def connect_ws(self) -> None:
        ws = await self.session.ws_connect(
            f"{self.base}/api/websocket", max_msg_size=0, autoping=True
        )
        if (await ws.receive_json())["type"] != "auth_required":
            raise BenchError("unexpected websocket greeting")
        await ws.send_json({"type": "auth", "access_token": self.token})
        if (reply := await ws.receive_json())["type"] != "auth_ok":
            raise BenchError(f"websocket auth failed: {reply}")
        self._ws = ws
        self._reader = asyncio.create_task(self._read())
        await self.ws_call({"type": "supported_features", "features": {"coalesce_messages": 1}})
        await self.ws_call({"type": "subscribe_events", "event_type": "state_changed"})
        now = time.monotonic_ns()
        for state in await self.ws_call({"type": "get_states"}):
            self.states.setdefault(state["entity_id"], StateEntry(state, now))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._ws is not None:
            await self._ws.close()

    async def ws_call(self, message: dict[str, Any], limit: float = 30) -> Any:
        assert self._ws is not None
        msg_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._results[msg_id] = future
        await self._ws.send_str(json.dumps({"id": msg_id, **message}))
        async with asyncio.timeout(limit):
            return await future

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for msg in self._ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                arrived = time.monotonic_ns()
                data = json.loads(msg.data)
                for item in data if isinstance(data, list) else (data,):
                    self._handle(item, arrived)
                self._check_waiters(arrived)
        finally:
            self.ws_closed = f"closed ({self._ws.close_code})"
            for future in self._results.values():
                if not future.done():
                    future.set_exception(BenchError("websocket closed"))

    def _handle(self, item: dict[str, Any], arrived: int) -> None:
        if item.get("type") == "event":
            event = item["event"]
            if event.get("event_type") == "state_changed":
                data = event["data"]
                new = data.get("new_state")
                if new is None:
                    self.states.pop(data["entity_id"], None)
                else:
                    self.states[data["entity_id"]] = StateEntry(new, arrived)
                for listener in self.listeners:
                    listener(data, arrived)
            return
        if item.get("type") == "result" and (future := self._results.pop(item["id"], None)):
            if future.done():
                return
            if item.get("success"):
                future.set_result(item.get("result"))
            else:
                future.set_exception(BenchError(f"websocket call failed: {item.get('error')}"))

    def _check_waiters(self, arrived: int) -> None:
        for waiter in tuple(self._waiters):
            if waiter.future.done():
                self._waiters.remove(waiter)
            elif waiter.predicate():
                waiter.future.set_result(arrived)
                self._waiters.remove(waiter)

    def state(self, entity_id: str) -> str | None:
        entry = self.states.get(entity_id)
        return entry.state["state"] if entry else None

    def attr(self, entity_id: str, name: str) -> Any:
        entry = self.states.get(entity_id)
        return entry.state["attributes"].get(name) if entry else None

    async def wait_for(self, predicate: Callable[[], bool], seconds: float, what: str) -> int:
        """Wait until `predicate()` holds on the state cache; return the arrival time (ns).

        The time is that of the websocket frame after which it held (or now, if it
        already held).
        """
        if predicate():
            return time.monotonic_ns()
        if self.ws_closed:
            raise BenchError(f"Home Assistant's websocket {self.ws_closed}")
        waiter = Waiter(predicate, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(seconds):
                return await waiter.future
        except TimeoutError:
            raise BenchError(f"timed out after {seconds} s waiting for {what}") from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)


# --- the fake phone ------------------------------------------------------------------


@dataclass
class Notification:
    arrived: int
    body: dict[str, Any]


class Phone:
    """A push gateway on 127.0.0.1: mobile_app posts the phone's notifications here."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Notification] = asyncio.Queue()
        self.count = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/push", self._push)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/push"

    async def _push(self, request: web.Request) -> web.Response:
        arrived = time.monotonic_ns()
        body = await request.json()
        self.count += 1
        self.queue.put_nowait(Notification(arrived, body))
        return web.json_response({}, status=201)

    def drain(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()

    async def next(self, seconds: float) -> Notification:
        try:
            async with asyncio.timeout(seconds):
                return await self.queue.get()
        except TimeoutError:
            raise BenchError(f"no notification within {seconds} s") from None


# --- the emulator's control surface ---------------------------------------------------


@dataclass
class Emulator:
    """A client of the emulator's control server (plain HTTP, loopback, no token)."""

    session: aiohttp.ClientSession
    base: str
    """The control server's root URL (`HubAddress.control_url`); routes are `/control/…`."""

    async def control(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        async with (
            asyncio.timeout(10),
            self.session.request(method, f"{self.base}/control{path}", json=body) as resp,
        ):
            data = await resp.json()
            if resp.status >= 300:
                raise BenchError(f"{method} /control{path} -> {resp.status}: {data}")
            return data

    async def post(self, path: str, body: Any = None) -> dict[str, Any]:
        return await self.control("POST", path, body)

    async def open_pairing(self) -> str:
        """Press the hub's pairing button: open a pairing window; return its code."""
        return (await self.post("/pairing"))["code"]

    async def log(self) -> list[dict[str, Any]]:
        return (await self.control("GET", "/log"))["commands"]

    async def clear_log(self) -> None:
        await self.control("DELETE", "/log")

    async def device(self, device_id: str) -> dict[str, Any]:
        state = await self.control("GET", "/state")
        return next(d for d in state["devices"] if d["id"] == device_id)

    async def hub(self) -> dict[str, Any]:
        return (await self.control("GET", "/state"))["hub"]

    async def state(self) -> dict[str, Any]:
        """The hub and every device: `{"hub": Hub, "devices": [Device]}`."""
        return await self.control("GET", "/state")

    async def events(self, after: int = 0, names: Iterable[str] = ()) -> dict[str, Any]:
        """The journal of numbered events after a cursor: `{"events": [...], "last_index"}`."""
        query = f"?after={after}" + (f"&event={','.join(names)}" if names else "")
        return await self.control("GET", f"/events{query}")


async def add_integration(
    ha: HomeAssistant, emu: Emulator, hub: HubAddress, code: str = PAIRING_CODE
) -> str:
    """Add the hub through the real config flow; return the entry id.

    The `user` menu (choose "SafeHome hub"), the `hub` step with host and port, then, as a
    user would, the hub's pairing button (a window on the control server) and the `pair`
    step with its code: the integration pairs (SPAKE2) and keeps the token and the
    certificate's fingerprint in the entry.
    """
    flow = await ha.rest("POST", "/api/config/config_entries/flow", {"handler": DOMAIN})
    if flow.get("type") != "menu" or "hub" not in flow.get("menu_options", []):
        raise BenchError(f"unexpected first step: {flow}")
    path = f"/api/config/config_entries/flow/{flow['flow_id']}"
    form = await ha.rest("POST", path, {"next_step_id": "hub"})
    if form.get("step_id") != "hub":
        raise BenchError(f"unexpected step after the menu: {form}")
    step = await ha.rest("POST", path, {"host": "127.0.0.1", "port": hub.port})
    if step.get("step_id") != "pair":
        raise BenchError(f"unexpected step after hub: {step}")
    await emu.open_pairing()
    done = await ha.rest("POST", path, {"code": code})
    if done.get("type") != "create_entry":
        raise BenchError(f"pairing did not create the entry: {done}")
    return done["result"]["entry_id"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def run_queue_wait_ms(pid: int) -> float:
    """Time the process's main thread has spent runnable but waiting for a CPU so far."""
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        return int(f.read().split()[1]) / 1e6


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()
