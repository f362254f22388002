"""Fault-injection soak: a real Home Assistant, the emulator, faults, and a check after each.

    .venv/bin/python bench/soak.py [--quick] [--seed N] [--keep]

Starts the emulator and `hass -c <tmpdir>` (as bench/run.py does), adds the integration
through its config flow, and keeps physical events happening (door, lock, rings, motion,
the emergency bell, another app's commands) while it injects faults: hub restarts (0-8 s
down, with and without a new boot id), dropped links (some with the replay buffer
cleared), malformed frames in the live stream, a token revocation (re-paired through Home
Assistant's re-authentication flow) and a Home Assistant restart during an open emergency.
After every fault it waits for Home Assistant to show the hub's state and to have fired
every event the hub logged, exactly once; at the end it scans Home Assistant's log for
tracebacks and secrets and the diagnostics it downloaded for secrets. Prints a table,
writes bench/results/soak.json and exits 1 on any violation. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter, defaultdict
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import itertools
import json
import math
import os
from pathlib import Path
import platform
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # the integration's client

from harness import (
    DOMAIN,
    HUB_ID,
    ROOT,
    BenchError,
    Emulator,
    HomeAssistant,
    HubAddress,
    Process,
    add_integration,
    free_port,
    load_average,
    restart_home_assistant,
    start_emulator,
    start_home_assistant,
    summarize,
)

from custom_components.seoul_safehome.api import SafeHomeClient, SafeHomeError

BAR_S = 2.0  # consistent within 2 s of the hub being back
GIVE_UP_S = 10.0  # a fault not consistent by then is a violation; the soak moves on
NOTICE_S = 3.0  # Home Assistant shows a broken link (connectivity off) within this
POLL_S = 0.025
DELAYED_AFTER_S = 2.0  # the integration marks an event `delayed` when it is this late
DELAYED_TOLERANCE_S = 0.3
MAX_DOWNTIME_S = 8.0
FRAMES_PER_BURST = 100
CLEAR_BUFFER_EVERY = 5  # every 5th dropped link also loses the hub's replay buffer
DIAGNOSTICS_EVERY = 20  # faults between diagnostics downloads
BUDGET_S = 15 * 60
# Battery drain off: the soak sets battery levels itself.
EMULATOR_SETTINGS = {"battery_drain_interval": 0}
# Hub events that an event entity fires: hub event -> the entity's key.
MOMENTARY = {
    "doorbell_ring": "ring",
    "lock_activity": "lock_activity",
    "emergency_triggered": "emergency",
    "emergency_cancelled": "emergency",
}
# Malformed frames and how often each kind is picked (oversized frames are 68 KiB each).
GARBAGE_WEIGHTS = {
    "not_json": 2.0,
    "truncated": 2.0,
    "missing_fields": 2.0,
    "duplicate": 2.0,
    "out_of_order": 2.0,
    "unknown_type": 1.0,
    "binary": 1.0,
    "unknown_event": 0.5,
    "oversized": 0.5,
}
UNAVAILABLE = "unavailable"
AUTH_RE = re.compile(r"auth(?:=|%3[dD])(?!\*\*REDACTED|<redacted>)([^&\s\"'<>]{6,})")
BEARER_RE = re.compile(r"Bearer\s+(?!\*\*REDACTED)[A-Za-z0-9_\-.]{20,}")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
RECORD_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[.,]\d+ ", re.MULTILINE)
LIFECYCLE_RE = re.compile(
    r"still running|[Tt]imed out|was never retrieved|destroyed but it is pending|"
    r"Unclosed|after shutdown|stop.*took"
)


@dataclass(frozen=True)
class Plan:
    """How many faults of each kind a run injects."""

    restarts: int
    drops: int
    frames: int


FULL = Plan(restarts=50, drops=100, frames=10_000)
QUICK = Plan(restarts=6, drops=12, frames=1_000)


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def now_ns() -> int:
    return time.monotonic_ns()


def parse_time(value: Any) -> datetime | None:
    """Parse an ISO 8601 time (the hub's `...Z` or Home Assistant's `+00:00`)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def on_off(value: Any) -> str:
    return "on" if value else "off"


# --- what the soak tracks ---------------------------------------------------------------


@dataclass(frozen=True)
class Tracked:
    """One entity of the integration: which device (None: the hub) and which of its keys."""

    entity_id: str
    device_id: str | None
    key: str
    domain: str


@dataclass
class Fire:
    """An event entity firing in Home Assistant (its state became a new timestamp)."""

    entity_id: str
    arrived: int
    fired_at: str
    event_type: Any
    seq: int | None
    occurred_at: datetime | None
    delayed: Any

    @property
    def key(self) -> tuple[str, int, datetime] | None:
        if self.seq is None or self.occurred_at is None:
            return None
        return (self.entity_id, self.seq, self.occurred_at)


@dataclass
class HubEvent:
    """An event the hub logged that an event entity must fire exactly once."""

    index: int
    t: int
    boot_id: str
    seq: int
    time: datetime
    event: str
    device_id: str
    entity_id: str | None
    event_type: str
    fault: int
    fires: list[Fire] = field(default_factory=list)
    overdue_at: int | None = None  # when a check found it missing
    excluded: str | None = None

    @property
    def overdue(self) -> bool:
        return self.overdue_at is not None

    @property
    def key(self) -> tuple[str, int, datetime] | None:
        if self.entity_id is None:
            return None
        return (self.entity_id, self.seq, self.time)

    def describe(self) -> str:
        at = f"{self.time:%H:%M:%S.%f}"[:-3]
        return f"{self.event} {self.event_type} ({self.boot_id} #{self.seq}, {at})"


@dataclass
class Fault:
    """One injected fault and what the check after it found."""

    n: int
    kind: str
    detail: str
    t_start: int
    t_back: int = 0
    t_done: int = 0
    seconds: float | None = None
    problems: list[str] = field(default_factory=list)
    frames: int = 0
    new_boot: bool = False
    went_unavailable: bool = False

    @property
    def label(self) -> str:
        return f"#{self.n} {self.kind} {self.detail}".strip()


@dataclass
class BufferClear:
    """The hub forgot the events up to `last_seq` of `boot_id` at `t` (an injected fault)."""

    boot_id: str
    last_seq: int
    t: int


@dataclass
class Window:
    """A span in which Home Assistant could not receive events (restarting, token revoked)."""

    start: int
    end: int
    reason: str


# --- another client of the hub ---------------------------------------------------------


class HubApp:
    """Another paired client of the hub (the vendor's app): it changes things now and then.

    It pairs as a user would (the pairing button on the control server, then the code,
    SPAKE2 through the integration's client) and sends its commands over HTTPS pinned to
    the hub's certificate. Errors (the hub down, the token revoked, a busy motor) are
    ignored: the hub's state, whatever it becomes, is what Home Assistant must show.
    """

    def __init__(
        self, session: aiohttp.ClientSession, emu: Emulator, hub: HubAddress, code: str
    ) -> None:
        self.session = session
        self.emu = emu
        self.hub = hub
        self.code = code
        self.token: str | None = None
        self.sent = 0
        self.pairings = 0
        self.errors: Counter[str] = Counter()

    async def _pair(self) -> None:
        await self.emu.open_pairing()
        client = SafeHomeClient("127.0.0.1", self.hub.port, self.session, request_timeout=5)
        result = await client.pair(self.code, client_name="Soak app")
        if result.fingerprint != self.hub.fingerprint:
            raise BenchError(f"the app paired with another certificate: {result.fingerprint}")
        self.token = result.token
        self.pairings += 1

    async def _request(self, path: str, body: dict[str, Any]) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with (
            asyncio.timeout(5),
            self.session.post(
                f"{self.hub.api_url}{path}", json=body, headers=headers, ssl=self.hub.ssl
            ) as resp,
        ):
            if resp.status == 401:
                self.token = None

    async def _send(self, path: str, body: dict[str, Any]) -> None:
        try:
            if self.token is None:
                await self._pair()
            if self.token is not None:
                await self._request(path, body)
                self.sent += 1
        except (aiohttp.ClientError, TimeoutError, ValueError, SafeHomeError) as err:
            self.errors[f"{'pair' if self.token is None else 'command'}: {err}"[:120]] += 1

    async def command(self, device_id: str, command: str, params: dict[str, Any]) -> None:
        await self._send(f"/devices/{device_id}/commands", {"command": command, "params": params})

    async def away(self, enabled: bool) -> None:
        body = {"command": "set_away_mode", "params": {"enabled": enabled}}
        await self._send("/hub/commands", body)


# --- the soak ----------------------------------------------------------------------------


class Soak:
    """Drives the faults and the physical events, and checks Home Assistant after each fault."""

    def __init__(
        self,
        args: argparse.Namespace,
        rng: random.Random,
        workdir: Path,
        processes: list[Process],
        session: aiohttp.ClientSession,
        ha: HomeAssistant,
        emu: Emulator,
        hub: HubAddress,
        entry_id: str,
        code: str,
    ) -> None:
        self.args = args
        self.rng = rng
        self.workdir = workdir
        self.processes = processes
        self.session = session
        self.ha = ha
        self.emu = emu
        self.entry_id = entry_id
        self.code = code
        self.hub = hub
        self.app = HubApp(session, emu, hub, code)
        self.tracked: list[Tracked] = []
        self.by_device_key: dict[tuple[str | None, str], str] = {}
        self.event_entities: set[str] = set()
        self.connectivity: str | None = None
        self.unmapped: list[str] = []
        # Events: the hub's journal and Home Assistant's fires.
        self.cursor = 0
        self.hub_events: list[HubEvent] = []
        self.fires: list[Fire] = []
        self.fires_by_key: defaultdict[tuple[str, int, datetime], list[Fire]] = defaultdict(list)
        self.last_fire: dict[str, tuple[Any, ...]] = {}
        self.clears: list[BufferClear] = []
        self.deaf: list[Window] = []
        self.deaf_since: int | None = None
        # Faults.
        self.faults: list[Fault] = []
        self.current = 0
        self.link_off: list[int] = []
        self.unavailable_at: list[int] = []
        # Physical events.
        self.running = asyncio.Event()
        self.action_lock = asyncio.Lock()
        self.actions: Counter[str] = Counter()
        self.frame_kinds: Counter[str] = Counter()
        self.door_open = False
        self.motion: dict[str, bool] = {}
        # Secrets to look for, findings.
        self.tokens: set[str] = set()
        self.stored_fingerprint: str | None = None
        self.code_re = re.compile(rf"(?<![0-9A-Za-z.:]){re.escape(code)}(?![0-9A-Za-z])")
        self.leaks: list[str] = []
        self.diagnostics: list[str] = []
        self.problems: list[str] = []
        self.notes: dict[str, Any] = {}

    # --- setup ------------------------------------------------------------------------

    async def setup(self) -> None:
        """Find the integration's entities, prime the trackers, start the physical events."""
        snapshot = await self.emu.state()
        devices = {d["id"]: d for d in snapshot["devices"]}
        entries = await self.ha.ws_call({"type": "config/entity_registry/list"})
        for entry in entries:
            if entry.get("platform") != DOMAIN or entry.get("disabled_by"):
                continue
            entity_id = entry["entity_id"]
            domain = entity_id.split(".", 1)[0]
            rest = entry["unique_id"].removeprefix(f"{HUB_ID}_")
            device_id = next((d for d in devices if rest.startswith(f"{d}_")), None)
            key = rest[len(device_id) + 1 :] if device_id else rest
            tracked = Tracked(entity_id, device_id, key, domain)
            self.tracked.append(tracked)
            self.by_device_key[(device_id, key)] = entity_id
            if domain == "event":
                self.event_entities.add(entity_id)
            if device_id is None and key == "connectivity":
                self.connectivity = entity_id
        if not self.tracked:
            raise BenchError("the integration has no entities")
        self.unmapped = [
            t.entity_id for t in self.tracked if not self._known(t) and t.domain != "event"
        ]
        ids = [t.entity_id for t in self.tracked]
        await self.ha.wait_for(
            lambda: all(self.ha.state(e) not in (None, UNAVAILABLE) for e in ids),
            30,
            "the integration's entities",
        )
        for entity_id in self.event_entities:
            if entity_id in self.ha.states:
                self.last_fire[entity_id] = self._signature(self.ha.states[entity_id].state)
        self.ha.listeners.append(self._on_state_changed)
        self.cursor = (await self.emu.events(self.cursor, ["none"]))["last_index"]
        lock = devices["lock-1"]["state"]
        self.door_open = lock["door"] == "open"
        self.motion = {d: devices[d]["state"]["motion"] for d in ("cam-1", "doorbell-1")}
        await self._read_tokens(limit=10)
        self._check_fingerprint("paired")
        log(
            f"{len(self.tracked)} entities ({len(self.event_entities)} event entities); "
            f"unmapped: {self.unmapped or 'none'}"
        )

    @staticmethod
    def _known(t: Tracked) -> bool:
        return (t.domain, t.key) in {
            ("lock", "lock"),
            ("binary_sensor", "door"),
            ("binary_sensor", "motion"),
            ("binary_sensor", "emergency"),
            ("binary_sensor", "connectivity"),
            ("siren", "siren"),
            ("camera", "camera"),
            ("switch", "away_mode"),
            ("number", "auto_lock_delay"),
            ("sensor", "battery"),
        }

    async def _read_tokens(self, limit: float, changed_from: str | None = None) -> str | None:
        """Read the entry's token from Home Assistant's storage (it is saved with a delay)."""
        path = self.workdir / "ha" / ".storage" / "core.config_entries"
        deadline = time.monotonic() + limit
        token = None
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError, KeyError):
                data = json.loads(path.read_text())
                for entry in data["data"]["entries"]:
                    if entry["domain"] == DOMAIN and entry["data"].get("token"):
                        token = entry["data"]["token"]
                        self.tokens.add(token)
                        self.stored_fingerprint = entry["data"].get("fingerprint")
            if token is not None and token != changed_from:
                return token
            await asyncio.sleep(0.25)
        return token

    # --- Home Assistant's side -------------------------------------------------------

    def _on_state_changed(self, data: dict[str, Any], arrived: int) -> None:
        entity_id = data["entity_id"]
        new = data.get("new_state")
        if new is None:
            return
        if entity_id == self.connectivity and new["state"] == "off":
            self.link_off.append(arrived)
        if new["state"] == UNAVAILABLE and entity_id != self.connectivity:
            self.unavailable_at.append(arrived)
        if entity_id in self.event_entities:
            self._observe_event_state(entity_id, new, arrived)

    @staticmethod
    def _signature(state: dict[str, Any]) -> tuple[Any, ...]:
        attributes = state.get("attributes", {})
        return (
            state["state"],
            attributes.get("seq"),
            attributes.get("occurred_at"),
            attributes.get("event_type"),
        )

    def _observe_event_state(self, entity_id: str, new: dict[str, Any], arrived: int) -> None:
        """A fire is a new timestamp or a new event at the same one (two fires in one ms).

        Coming back from unavailable to the event shown before is not a fire.
        """
        value = new["state"]
        signature = self._signature(new)
        if value in (UNAVAILABLE, "unknown") or signature == self.last_fire.get(entity_id):
            return
        self.last_fire[entity_id] = signature
        attributes = new.get("attributes", {})
        seq = attributes.get("seq")
        fire = Fire(
            entity_id=entity_id,
            arrived=arrived,
            fired_at=value,
            event_type=attributes.get("event_type"),
            seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
            occurred_at=parse_time(attributes.get("occurred_at")),
            delayed=attributes.get("delayed"),
        )
        self.fires.append(fire)
        if (key := fire.key) is not None:
            self.fires_by_key[key].append(fire)

    async def connect_home_assistant(self, ha: HomeAssistant) -> None:
        """Follow a (re)started Home Assistant; fires missed meanwhile show as new values."""
        await ha.connect_ws()
        self.ha = ha
        ha.listeners.append(self._on_state_changed)
        arrived = now_ns()
        for entity_id in self.event_entities:
            if entity_id in ha.states:
                self._observe_event_state(entity_id, ha.states[entity_id].state, arrived)

    # --- the hub's side --------------------------------------------------------------

    async def pull_journal(self) -> None:
        """Fetch the events the hub logged since the last pull."""
        answer = await self.emu.events(self.cursor, MOMENTARY)
        for raw in answer["events"]:
            device_id = raw["device_id"]
            data = raw.get("data") or {}
            name = raw["event"]
            if name == "doorbell_ring":
                event_type = "ring"
            elif name == "lock_activity":
                event_type = str(data.get("activity"))
            elif name == "emergency_triggered":
                event_type = str(data.get("source"))
            else:
                event_type = "cancelled"
            event = HubEvent(
                index=raw["index"],
                t=raw["t"],
                boot_id=raw["boot_id"],
                seq=raw["seq"],
                time=parse_time(raw["time"]) or datetime.min,
                event=name,
                device_id=device_id,
                entity_id=self.by_device_key.get((device_id, MOMENTARY[name])),
                event_type=event_type,
                fault=self.current,
            )
            if event.entity_id is None:
                event.excluded = "no event entity"
            self.hub_events.append(event)
        self.cursor = answer["last_index"]
        self._match()

    def _match(self) -> None:
        for event in self.hub_events:
            if not event.fires and (key := event.key) in self.fires_by_key:
                event.fires = self.fires_by_key[key]

    def _forgotten(self, event: HubEvent) -> bool:
        """Whether an injected buffer clear made the (undelivered) event impossible to replay.

        Not if an earlier check had already found it missing: then it was lost before.
        """
        return any(
            c.boot_id == event.boot_id
            and event.seq <= c.last_seq
            and (event.overdue_at is None or event.overdue_at > c.t)
            for c in self.clears
        )

    def _deaf(self, event: HubEvent) -> str | None:
        windows = [*self.deaf]
        if self.deaf_since is not None:
            windows.append(Window(self.deaf_since, 2**63, "Home Assistant not listening"))
        return next((w.reason for w in windows if w.start <= event.t <= w.end), None)

    def _pending(self) -> list[HubEvent]:
        self._match()
        return [
            e
            for e in self.hub_events
            if not e.fires
            and not e.overdue
            and e.excluded is None
            and not self._forgotten(e)
            and self._deaf(e) is None
        ]

    # --- state comparison ------------------------------------------------------------

    def _expected(
        self, t: Tracked, hub: dict[str, Any], devices: dict[str, dict[str, Any]]
    ) -> tuple[str | None, float | None, dict[str, Any]]:
        """(state, number, attributes) Home Assistant must show; None state: any available."""
        if t.device_id is None:
            if t.key == "connectivity":
                return "on", None, {}
            if t.key == "away_mode":
                return on_off(hub["away_mode"]), None, {}
            return None, None, {}
        device = devices.get(t.device_id)
        if device is None or not device["online"]:
            return UNAVAILABLE, None, {}
        state = device["state"]
        match (t.domain, t.key):
            case ("lock", "lock"):
                return state["lock_state"], None, {}
            case ("binary_sensor", "door"):
                return on_off(state["door"] == "open"), None, {}
            case ("binary_sensor", "motion"):
                return on_off(state["motion"]), None, {}
            case ("binary_sensor", "emergency"):
                attributes = {
                    "source": state["emergency_source"],
                    "since": parse_time(state["emergency_since"]),
                }
                return on_off(state["emergency"]), None, attributes
            case ("siren", "siren"):
                return on_off(state["siren"]), None, {}
            # ("camera", "camera"): no state shows camera on/off (Home Assistant's camera
            # state is idle/streaming/recording): `camera_problems` asks its proxy.
            case ("switch", "away_mode"):
                return on_off(hub["away_mode"]), None, {}
            case ("number", "auto_lock_delay"):
                return None, float(state["auto_lock_delay"]), {}
            case ("sensor", "battery"):
                return None, float(device["battery"]), {}
        return None, None, {}

    def compare(self, snapshot: dict[str, Any]) -> list[str]:
        """Return how Home Assistant's states differ from the hub's (empty: consistent)."""
        hub = snapshot["hub"]
        devices = {d["id"]: d for d in snapshot["devices"]}
        problems = []
        for t in self.tracked:
            entry = self.ha.states.get(t.entity_id)
            shown = entry.state if entry else None
            if shown is None:
                problems.append(f"{t.entity_id}: missing")
                continue
            value = shown["state"]
            state, number, attributes = self._expected(t, hub, devices)
            if state == UNAVAILABLE:
                if value != UNAVAILABLE:
                    problems.append(f"{t.entity_id}: {value}, device offline")
                continue
            if value == UNAVAILABLE:
                problems.append(f"{t.entity_id}: unavailable")
                continue
            if number is not None:
                try:
                    ok = math.isclose(float(value), number, abs_tol=1e-6)
                except ValueError:
                    ok = False
                if not ok:
                    problems.append(f"{t.entity_id}: {value} != {number:g}")
                continue
            if state is not None and value != state:
                problems.append(f"{t.entity_id}: {value} != {state}")
                continue
            for name, want in attributes.items():
                got = shown["attributes"].get(name)
                if isinstance(want, datetime) or name == "since":
                    got = parse_time(got)
                if got != want:
                    problems.append(f"{t.entity_id}: {name} {got} != {want}")
        return problems

    async def camera_problems(self, snapshot: dict[str, Any]) -> list[str]:
        """Camera on/off, which no state shows: the camera proxy answers 503 while off."""
        devices = {d["id"]: d for d in snapshot["devices"]}
        problems = []
        for t in self.tracked:
            if t.domain != "camera" or t.device_id not in devices:
                continue
            device = devices[t.device_id]
            if not device["online"] or "camera_on" not in device["state"]:
                continue
            url = f"{self.ha.base}/api/camera_proxy/{t.entity_id}"
            async with (
                asyncio.timeout(10),
                self.session.get(url, headers=self.ha.headers) as resp,
            ):
                await resp.read()
                status = resp.status
            self.notes["camera_proxy_requests"] = self.notes.get("camera_proxy_requests", 0) + 1
            want = 200 if device["state"]["camera_on"] else 503
            if status != want:
                on = "on" if want == 200 else "off (privacy)"
                problems.append(f"{t.entity_id}: camera proxy {status}, the camera is {on}")
        return problems

    async def settle(self, fault: Fault, t_back: int, *, link_drop: bool = False) -> None:
        """Wait until Home Assistant shows the hub's state and fired every logged event.

        After a fault that breaks the link, Home Assistant must first show that it is down
        (the connectivity sensor off): until then its old state may still look right.
        """
        fault.t_back = t_back
        give_up = t_back + int(GIVE_UP_S * 1e9)
        if link_drop and self.connectivity:
            noticed = max(t_back, fault.t_start) + int(NOTICE_S * 1e9)
            while not any(t >= fault.t_start for t in self.link_off):
                if now_ns() > noticed:
                    fault.problems.append(
                        f"Home Assistant did not show the link down within {NOTICE_S:g} s"
                    )
                    break
                await asyncio.sleep(POLL_S / 5)
        while True:
            await self.pull_journal()
            snapshot = await self.emu.state()
            t_read = now_ns()
            problems = self.compare(snapshot)
            pending = self._pending()
            if not problems and not pending:
                problems = await self.camera_problems(snapshot)
            if not problems and not pending:
                arrivals = [self.ha.states[t.entity_id].arrived for t in self.tracked]
                arrivals += [
                    e.fires[0].arrived for e in self.hub_events if e.fires and e.t >= fault.t_start
                ]
                done = max(t_back, *arrivals)
                fault.seconds = (done - t_back) / 1e9
                break
            if t_read > give_up:
                fault.problems += problems[:8] + [f"not fired: {e.describe()}" for e in pending[:8]]
                for event in pending:
                    event.overdue_at = t_read
                break
            await asyncio.sleep(POLL_S)
        fault.t_done = now_ns()
        window = (fault.t_start, fault.t_done)
        fault.went_unavailable = any(window[0] <= t <= window[1] for t in self.unavailable_at)
        seconds = "never" if fault.seconds is None else f"{fault.seconds:.3f} s"
        slow = "" if fault.seconds is not None and fault.seconds <= BAR_S else "  <-- VIOLATION"
        log(f"{fault.label}: consistent {seconds}{slow}")
        for problem in fault.problems:
            log(f"    {problem}")

    def new_fault(self, kind: str, detail: str = "") -> Fault:
        fault = Fault(n=len(self.faults) + 1, kind=kind, detail=detail, t_start=now_ns())
        self.faults.append(fault)
        self.current = fault.n
        return fault

    # --- physical events -------------------------------------------------------------

    async def physical_events(self) -> None:
        """Keep things happening at home: about three actions a second."""
        actions = {
            "ring": (3.0, self._ring),
            "door": (4.0, self._door),
            "hand": (2.0, self._hand),
            "motion": (3.0, self._motion),
            "bell": (1.0, self._bell),
            "voice": (0.3, self._voice),
            "battery": (1.0, self._battery),
            "app": (2.5, self._app),
            "tamper": (0.3, self._tamper),
            "jam": (0.2, self._jam),
        }
        names = list(actions)
        weights = [actions[name][0] for name in names]
        while True:
            await self.running.wait()
            name = self.rng.choices(names, weights)[0]
            async with self.action_lock:
                if self.running.is_set():
                    try:
                        await actions[name][1]()
                        self.actions[name] += 1
                    except BenchError as err:
                        self.problems.append(f"physical event {name} failed: {err}")
            await asyncio.sleep(self.rng.uniform(0.08, 0.6))

    async def _ring(self) -> None:
        await self.emu.post("/devices/doorbell-1/ring")

    async def _door(self) -> None:
        self.door_open = not self.door_open
        state = "open" if self.door_open else "closed"
        await self.emu.post("/devices/lock-1/door", {"state": state})

    async def _hand(self) -> None:
        activity = self.rng.choice(("keypad", "fingerprint", "card", "inside_handle"))
        await self.emu.post("/devices/lock-1/activity", {"activity": activity, "user": "soak"})

    async def _tamper(self) -> None:
        activity = self.rng.choice(("forced_entry", "tamper"))
        await self.emu.post("/devices/lock-1/activity", {"activity": activity, "user": None})

    async def _motion(self) -> None:
        device = self.rng.choice(("cam-1", "doorbell-1"))
        self.motion[device] = not self.motion[device]
        await self.emu.post(f"/devices/{device}/motion", {"active": self.motion[device]})

    async def _bell(self) -> None:
        await self.emu.post("/devices/bell-1/press")

    async def _voice(self) -> None:
        await self.emu.post("/devices/bell-1/say", {"text": "살려주세요"})

    async def _battery(self) -> None:
        device = self.rng.choice(("doorbell-1", "lock-1", "bell-1"))
        await self.emu.post(f"/devices/{device}/battery", {"level": self.rng.randint(20, 100)})

    async def _jam(self) -> None:
        await self.emu.post("/devices/lock-1/jam", {"jam": True})

    async def _app(self) -> None:
        choice = self.rng.randrange(6)
        if choice == 0:
            await self.app.away(self.rng.random() < 0.5)
        elif choice == 1:
            camera = self.rng.choice(("cam-1", "doorbell-1"))
            await self.app.command(camera, self.rng.choice(("camera_on", "camera_off")), {})
        elif choice == 2:
            seconds = self.rng.choice((0.5, 1.0, 1.5, 2.5, 4.0))
            await self.app.command("lock-1", "set_auto_lock_delay", {"seconds": seconds})
        elif choice == 3:
            await self.app.command("bell-1", "siren_off", {})
        else:
            await self.app.command("lock-1", self.rng.choice(("lock", "unlock")), {})

    async def pause(self) -> None:
        """Stop the physical events (the one in progress finishes)."""
        self.running.clear()
        async with self.action_lock:
            pass

    def resume(self) -> None:
        self.running.set()

    async def quiesce(self) -> None:
        """Open the door: that cancels a pending auto-lock (whose `auto_lock` event would
        otherwise fire while Home Assistant cannot listen); let the motor stop."""
        self.door_open = True
        await self.emu.post("/devices/lock-1/door", {"state": "open"})
        await asyncio.sleep(0.5)

    # --- faults ----------------------------------------------------------------------

    async def restart(self, downtime: float, new_boot: bool, fail_reload: bool) -> None:
        detail = f"{downtime:.2f} s down, {'new boot' if new_boot else 'same boot'}"
        if fail_reload:
            detail += ", first reload fails"
        fault = self.new_fault("restart", detail)
        fault.new_boot = new_boot
        t0 = now_ns()
        await self.emu.post("/restart", {"downtime": downtime, "new_boot": new_boot})
        if fail_reload:  # the resync's first `GET /devices` after the reboot answers 503
            await self.emu.post("/reads/fail", {"count": 1})
        t_back = t0 + int(downtime * 1e9)
        await asyncio.sleep(max(0.0, (t_back - now_ns()) / 1e9))
        await self.settle(fault, t_back, link_drop=True)

    async def drop(self, clear: bool) -> None:
        fault = self.new_fault("drop", "replay buffer cleared" if clear else "")
        t0 = now_ns()
        await self.emu.post("/stream/drop")
        if clear:
            answer = await self.emu.post("/buffer/clear")
            self.clears.append(BufferClear(answer["boot_id"], answer["last_seq"], now_ns()))
        await self.settle(fault, t0, link_drop=True)

    async def garbage(self, frames: int) -> int:
        fault = self.new_fault("garbage", f"{frames} frames")
        kinds = list(GARBAGE_WEIGHTS)
        picked = Counter(self.rng.choices(kinds, [GARBAGE_WEIGHTS[k] for k in kinds], k=frames))
        order = list(picked.items())
        self.rng.shuffle(order)
        sent = 0
        for kind, count in order:
            answer = await self.emu.post("/stream/garbage", {"kind": kind, "count": count})
            sent += answer["frames"]
            self.frame_kinds[kind] += answer["frames"]
        fault.frames = sent
        fault.detail = f"{sent} frames"
        t_back = now_ns()
        # A ring queued behind the frames: once it fires, every frame has been read.
        await self.emu.post("/devices/doorbell-1/ring")
        await self.settle(fault, t_back)
        if any(fault.t_start <= t <= fault.t_done for t in self.link_off):
            fault.problems.append("the link dropped during malformed frames")
            log(f"    {fault.problems[-1]}  <-- VIOLATION")
        return sent

    async def revoke(self) -> None:
        """Revoke the token: a re-authentication repair, nothing else breaks; then re-pair."""
        await self.pause()
        await self.quiesce()
        fault = self.new_fault("revoke", "token revoked, re-paired through reauth")
        old_token = next(iter(self.tokens), None)
        self.deaf_since = now_ns()
        await self.emu.post("/tokens/revoke")
        issue_id = f"config_entry_reauth_{DOMAIN}_{self.entry_id}"
        t0 = time.monotonic()
        flow = await self._wait(self._reauth_flow, 15, "the re-authentication flow")
        issue = await self._wait(lambda: self._issue(issue_id), 15, "the re-authentication repair")
        self.notes["revoke_repair_s"] = round(time.monotonic() - t0, 3)
        self.notes["revoke_repair"] = {"issue": issue, "flow_step": flow.get("step_id")}
        fault.problems += await self._nothing_else_broke()
        await self.diagnostics_check("revoked", position=False)
        await self.emu.open_pairing()  # the user presses the hub's pairing button
        result = await self.ha.rest(
            "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {"code": self.code}
        )
        if result.get("type") != "abort" or result.get("reason") != "reauth_successful":
            raise BenchError(f"re-pairing through the reauth flow failed: {result}")
        await self.settle(fault, now_ns())
        self._end_deaf("token revoked")
        if await self._wait_absent(lambda: self._issue(issue_id), 10):
            fault.problems.append("the re-authentication repair stayed after re-pairing")
        await self._read_tokens(limit=10, changed_from=old_token)
        self._check_fingerprint("re-paired")
        self.resume()

    def _check_fingerprint(self, when: str) -> None:
        """The entry must pin the hub's certificate (its fingerprint, kept at pairing)."""
        if self.stored_fingerprint != self.hub.fingerprint:
            self.problems.append(
                f"{when}: the entry's fingerprint {self.stored_fingerprint} is not the hub's "
                f"{self.hub.fingerprint}"
            )

    async def _reauth_flow(self) -> dict[str, Any] | None:
        flows = await self.ha.ws_call({"type": "config_entries/flow/progress"})
        return next(
            (
                f
                for f in flows
                if f.get("handler") == DOMAIN and f.get("context", {}).get("source") == "reauth"
            ),
            None,
        )

    async def _issue(self, issue_id: str) -> dict[str, Any] | None:
        issues = (await self.ha.ws_call({"type": "repairs/list_issues"}))["issues"]
        return next((i for i in issues if i.get("issue_id") == issue_id), None)

    async def _wait(self, probe: Any, limit: float, what: str) -> Any:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if found := await probe():
                return found
            await asyncio.sleep(0.1)
        raise BenchError(f"{what} did not appear within {limit:g} s")

    async def _wait_absent(self, probe: Any, limit: float) -> bool:
        """Wait until `probe()` finds nothing; return True if it still finds something."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if not await probe():
                return False
            await asyncio.sleep(0.1)
        return True

    async def _nothing_else_broke(self) -> list[str]:
        """While the token is revoked: Home Assistant works, the entry stays loaded."""
        problems = []
        entries = await self.ha.rest("GET", "/api/config/config_entries/entry")
        entry = next(e for e in entries if e["entry_id"] == self.entry_id)
        if entry["state"] != "loaded":
            problems.append(f"the entry is {entry['state']} while the token is revoked")
        before = self.ha.state("input_boolean.bench_a")
        await self.ha.call("input_boolean", "toggle", {"entity_id": "input_boolean.bench_a"})
        await self.ha.wait_for(
            lambda: self.ha.state("input_boolean.bench_a") not in (before, None),
            5,
            "Home Assistant toggling an input_boolean",
        )
        if self.connectivity and self.ha.state(self.connectivity) != "off":
            problems.append("the connectivity sensor is not off while the token is revoked")
        return problems

    def _end_deaf(self, reason: str) -> None:
        if self.deaf_since is not None:
            self.deaf.append(Window(self.deaf_since, now_ns(), reason))
            self.deaf_since = None

    async def restart_home_assistant(self) -> None:
        """Restart Home Assistant while an emergency is open; it must neither lose nor refire it."""
        await self.pause()
        await self.quiesce()
        bell = next(d for d in (await self.emu.state())["devices"] if d["id"] == "bell-1")
        if bell["state"]["emergency"]:
            fault = self.new_fault("press", "cancel the open emergency first")
            t0 = now_ns()
            await self.emu.post("/devices/bell-1/press")
            await self.settle(fault, t0)
        fault = self.new_fault("press", "emergency before the Home Assistant restart")
        t0 = now_ns()
        await self.emu.post("/devices/bell-1/press")
        await self.settle(fault, t0)
        fault = self.new_fault("ha_restart", "during an open emergency")
        self.deaf_since = now_ns()
        await self.ha.close()
        old = self.processes[-1]
        started = time.monotonic()
        await asyncio.to_thread(old.stop, 60)
        self.notes["ha_stop_s"] = round(time.monotonic() - started, 2)
        self.notes["ha_stop_returncode"] = old.proc.returncode
        if old.proc.returncode not in (0, -signal.SIGTERM):
            fault.problems.append(f"Home Assistant exited with {old.proc.returncode} at stop")
        log_file = self.workdir / "ha" / "home-assistant.log"
        with contextlib.suppress(OSError):
            shutil.copy(log_file, self.workdir / "home-assistant.run1.log")
        process = restart_home_assistant(self.workdir, 2)
        self.processes.append(process)
        ha = HomeAssistant(self.session, self.ha.base, token=self.ha.token)
        await wait_api(ha, process)
        t_back = now_ns()
        self.notes["ha_start_s"] = round(time.monotonic() - started, 2)
        await self.connect_home_assistant(ha)
        await self.settle(fault, t_back)
        self._end_deaf("Home Assistant restarting")
        for entity_id in self.entities_of("binary_sensor", "emergency"):
            if ha.state(entity_id) != "on":
                fault.problems.append(f"{entity_id} is not on after the restart")
        fault2 = self.new_fault("press", "cancel the emergency after the restart")
        t0 = now_ns()
        await self.emu.post("/devices/bell-1/press")
        await self.settle(fault2, t0)
        self.resume()

    def entities_of(self, domain: str, key: str) -> list[str]:
        return [t.entity_id for t in self.tracked if t.domain == domain and t.key == key]

    async def diagnostics_check(self, label: str, *, position: bool = True) -> None:
        """Download the entry's diagnostics: no secret in them, the stream where the hub is."""
        path = f"{self.ha.base}/api/diagnostics/config_entry/{self.entry_id}"
        for _attempt in range(5):
            async with (
                asyncio.timeout(30),
                self.session.get(path, headers=self.ha.headers) as resp,
            ):
                text = await resp.text()
                status = resp.status
            if status != 200:
                self.problems.append(f"diagnostics ({label}) -> HTTP {status}: {text[:200]}")
                return
            n = len(self.diagnostics) + 1
            out = self.workdir / "diagnostics" / f"{n:03d}-{label}.json"
            out.parent.mkdir(exist_ok=True)
            out.write_text(text)
            self.diagnostics.append(label)
            self.scan_for_secrets(text, f"diagnostics ({label})")
            if not position:
                return
            link = json.loads(text).get("data", {}).get("link", {})
            hub = (await self.emu.state())["hub"]
            if (link.get("boot_id"), link.get("last_seq")) == (hub["boot_id"], hub["last_seq"]):
                return
            await asyncio.sleep(0.2)  # an event may have been on its way: look again
        self.problems.append(
            f"diagnostics ({label}): the stream's position {link.get('boot_id')} "
            f"#{link.get('last_seq')} is not the hub's {hub['boot_id']} #{hub['last_seq']}"
        )

    # --- secrets and the log -----------------------------------------------------------

    def scan_for_secrets(self, text: str, where: str) -> None:
        found = [f"token {token[:4]}…" for token in self.tokens if token in text]
        if self.code_re.search(text):
            found.append("the pairing code")
        found += [f"stream credential auth={m.group(1)[:4]}…" for m in AUTH_RE.finditer(text)]
        found += [f"bearer token {m.group(0)[7:11]}…" for m in BEARER_RE.finditer(text)]
        self.leaks += [f"{where}: {item}" for item in dict.fromkeys(found)]

    def scan_logs(self) -> dict[str, Any]:
        """Tracebacks, lifecycle problems and secrets in everything Home Assistant logged."""
        files = [
            self.workdir / "home-assistant.run1.log",
            self.workdir / "ha" / "home-assistant.log",
            *sorted(self.workdir.glob("hass*.out")),
        ]
        records: dict[str, str] = {}
        for path in files:
            with contextlib.suppress(OSError):
                text = ANSI_RE.sub("", path.read_text(errors="replace"))
                self.scan_for_secrets(text, path.name)
                starts = [m.start() for m in RECORD_RE.finditer(text)] + [len(text)]
                for a, b in itertools.pairwise(starts):
                    record = text[a:b].rstrip()
                    records.setdefault(record.split("\n", 1)[0], record)
        tracebacks, lifecycle, errors, warnings = [], [], [], Counter[str]()
        for header, record in records.items():
            ours = "custom_components.seoul_safehome" in header or (
                "custom_components/seoul_safehome/" in record
            )
            mentions = ours or DOMAIN in record
            level = header.split(" ")[2] if header.count(" ") >= 2 else ""
            if ours and "Traceback (most recent call last)" in record:
                tracebacks.append(record)
            elif (
                mentions
                and level in ("WARNING", "ERROR", "CRITICAL")
                and (LIFECYCLE_RE.search(record))
            ):
                lifecycle.append(record)
            if ours and level in ("ERROR", "CRITICAL"):
                errors.append(header)
            elif mentions and level == "WARNING":
                message = header.split("] ", 1)[-1]
                warnings[re.sub(r"\d+", "N", message)[:110]] += 1
        return {
            "tracebacks": tracebacks,
            "lifecycle": lifecycle,
            "errors": errors,
            "warnings": dict(warnings.most_common(15)),
        }


# --- setup ----------------------------------------------------------------------------


async def wait_api(ha: HomeAssistant, process: Process, limit: float = 120) -> None:
    """Wait until Home Assistant's REST API answers an authenticated request."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not process.alive():
            raise BenchError(f"Home Assistant exited:\n{process.tail()}")
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with (
                asyncio.timeout(2),
                ha.session.get(f"{ha.base}/api/", headers=ha.headers) as resp,
            ):
                if resp.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise BenchError(f"Home Assistant did not answer within {limit:g} s:\n{process.tail()}")


def schedule(plan: Plan, rng: random.Random) -> list[tuple[str, Any]]:
    """The faults in a random order; the revocation and the HA restart in the middle."""
    n = plan.restarts
    downtimes = [
        min(MAX_DOWNTIME_S, max(0.0, MAX_DOWNTIME_S * i / max(1, n - 1) + rng.uniform(-0.25, 0.25)))
        for i in range(n)
    ]
    downtimes[0] = 0.0
    # Two in three restarts are reboots (a new boot id: resync); every twelfth restart (a
    # reboot) also fails its first reload: unavailable, never stale, until a reload works.
    faults: list[tuple[str, Any]] = [
        ("restart", (round(d, 2), i % 3 != 2, i % 12 == 1)) for i, d in enumerate(downtimes)
    ]
    faults += [("drop", (i + 1) % CLEAR_BUFFER_EVERY == 0) for i in range(plan.drops)]
    bursts = max(1, math.ceil(plan.frames / FRAMES_PER_BURST))
    faults += [("garbage", FRAMES_PER_BURST) for _ in range(bursts)]
    rng.shuffle(faults)
    faults.insert(int(len(faults) * 0.4), ("revoke", None))
    faults.insert(int(len(faults) * 0.7), ("ha_restart", None))
    return faults


# --- report ----------------------------------------------------------------------------


def tally(soak: Soak, logs: dict[str, Any], plan: Plan, frames: int) -> dict[str, Any]:
    soak._match()
    checked, excluded = [], Counter[str]()
    for event in soak.hub_events:
        reason = event.excluded
        if reason is None and not event.fires:
            if soak._forgotten(event):
                reason = "forgotten by an injected buffer clear"
            else:
                reason = soak._deaf(event)
        if reason is not None and not event.fires:
            excluded[reason] += 1
        else:
            checked.append(event)
    lost = [e for e in checked if not e.fires]
    duplicated = [e for e in checked if len(e.fires) > 1]
    hub_keys = {e.key for e in soak.hub_events}
    phantom = [f for f in soak.fires if f.key is not None and f.key not in hub_keys]
    unidentified = [f for f in soak.fires if f.key is None]
    wrong_type = [e for e in checked if e.fires and e.fires[0].event_type != e.event_type]
    late = [e for e in checked if e.fires and e.overdue]
    delayed_wrong = []
    for fire in soak.fires:
        fired = parse_time(fire.fired_at)
        if fire.key is None or fired is None or fire.occurred_at is None:
            continue
        lateness = (fired - fire.occurred_at) / timedelta(seconds=1)
        if (
            not isinstance(fire.delayed, bool)
            or (lateness > DELAYED_AFTER_S + DELAYED_TOLERANCE_S and not fire.delayed)
            or (lateness < DELAYED_AFTER_S - DELAYED_TOLERANCE_S and fire.delayed)
        ):
            delayed_wrong.append(fire)
    delayed = sum(1 for f in soak.fires if f.delayed is True)
    timed = [f for f in soak.faults if f.kind != "press"]
    never = [f for f in timed if f.seconds is None]
    slow = [f for f in timed if f.seconds is not None and f.seconds > BAR_S]
    worst = max((f.seconds for f in timed if f.seconds is not None), default=0.0)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for f in timed:
        kind = f.kind
        if kind == "restart":
            kind += " (new boot)" if f.new_boot else " (same boot)"
            if "reload fails" in f.detail:
                kind += " + reload fails"
        elif kind == "drop" and f.detail:
            kind += " + buffer cleared"
        by_kind[kind].append(f.seconds if f.seconds is not None else math.inf)
    other = [p for f in soak.faults if f.seconds is not None for p in f.problems]
    restarts = [f for f in soak.faults if f.kind == "restart"]
    drops = [f for f in soak.faults if f.kind == "drop"]
    counts = Counter(e.event for e in checked)
    faults_text = (
        f"{len(restarts)} hub restarts ({sum(f.new_boot for f in restarts)} new boot), "
        f"{len(drops)} dropped links ({sum(bool(f.detail) for f in drops)} buffer cleared), "
        f"{frames} malformed frames, "
        f"{sum(f.kind == 'revoke' for f in soak.faults)} token revocation, "
        f"{sum(f.kind == 'ha_restart' for f in soak.faults)} HA restart"
    )
    rows: list[tuple[str, str, bool | None]] = [
        ("faults injected", faults_text, None),
        (
            "events checked",
            f"{len(checked)} ({counts['doorbell_ring']} rings, {counts['lock_activity']} lock "
            f"activity, {counts['emergency_triggered']} emergencies, "
            f"{counts['emergency_cancelled']} cancelled); {delayed} fired as delayed",
            None,
        ),
        ("lost", _count_with_examples(lost, soak), not lost),
        ("duplicated", str(sum(len(e.fires) - 1 for e in duplicated)), not duplicated),
        ("phantom fires (no hub event)", str(len(phantom)), not phantom),
        ("fires without seq/occurred_at", str(len(unidentified)), not unidentified),
        ("wrong event_type", str(len(wrong_type)), not wrong_type),
        ("wrong or missing `delayed`", str(len(delayed_wrong)), not delayed_wrong),
        (
            "worst time-to-consistent",
            f"{worst:.3f} s (bar {BAR_S:g} s); over the bar: {len(slow)}, never: {len(never)}",
            not slow and not never,
        ),
        ("events fired after their check", str(len(late)), not late),
        ("tracebacks (seoul_safehome)", str(len(logs["tracebacks"])), not logs["tracebacks"]),
        ("lifecycle problems in the log", str(len(logs["lifecycle"])), not logs["lifecycle"]),
        ("leaks (log + diagnostics)", str(len(soak.leaks)), not soak.leaks),
        ("other problems", str(len(soak.problems) + len(other)), not soak.problems and not other),
    ]
    planned = plan.restarts <= len(restarts) and plan.drops <= len(drops) and frames >= plan.frames
    rows.append(("plan met", f"{planned}", planned))
    return {
        "rows": rows,
        "by_kind": {kind: summarize(v) for kind, v in sorted(by_kind.items())},
        "excluded": dict(excluded),
        "lost": [_lost_detail(e, soak) for e in lost],
        "duplicated": [e.describe() for e in duplicated],
        "phantom": [f"{f.entity_id} {f.event_type} #{f.seq} {f.occurred_at}" for f in phantom],
        "wrong_type": [f"{e.describe()} fired as {e.fires[0].event_type}" for e in wrong_type],
        "delayed_wrong": [
            f"{f.entity_id} #{f.seq} at {f.occurred_at} fired {f.fired_at} delayed={f.delayed}"
            for f in delayed_wrong[:20]
        ],
        "unidentified": len(unidentified),
        "slow_or_never": [
            {"fault": f.label, "seconds": f.seconds, "problems": f.problems} for f in slow + never
        ],
        "fault_problems": [
            {"fault": f.label, "problems": f.problems}
            for f in soak.faults
            if f.problems and f not in slow and f not in never
        ],
        "problems": soak.problems,
        "leaks": soak.leaks,
        "log": logs,
        "violation": any(ok is False for _, _, ok in rows),
    }


def _lost_detail(event: HubEvent, soak: Soak) -> str:
    fault = soak.faults[event.fault - 1] if event.fault else None
    where = "before the first fault"
    if fault is not None:
        where = f"during {fault.label}"
        if fault.t_back and event.t >= fault.t_back:
            where += f", {(event.t - fault.t_back) / 1e6:.0f} ms after the hub was back"
        elif fault.t_back:
            where += f", {(fault.t_back - event.t) / 1e6:.0f} ms before the hub was back"
    return f"{event.describe()} {where}"


def _count_with_examples(events: list[HubEvent], soak: Soak) -> str:
    if not events:
        return "0"
    after_boot = sum(
        1
        for e in events
        if e.fault and soak.faults[e.fault - 1].new_boot and e.t >= soak.faults[e.fault - 1].t_back
    )
    return f"{len(events)} ({after_boot} in a new boot before Home Assistant had resynced)"


def print_table(result: dict[str, Any], header: str) -> None:
    print(header)
    width = max(len(name) for name, _, _ in result["rows"])
    print("-" * (width + 60))
    for name, value, ok in result["rows"]:
        mark = "" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{name:<{width}}  {mark:<4}  {value}")
    print("time-to-consistent by fault (s):")
    for kind, stats in result["by_kind"].items():
        if stats.get("n"):
            print(
                f"  {kind:<34} n={stats['n']:<4} p50 {stats['p50']:.3f}  p90 {stats['p90']:.3f}"
                f"  max {stats['max']:.3f}"
            )
    if result["excluded"]:
        print(f"not counted (Home Assistant could not have fired them): {result['excluded']}")
    for key in ("lost", "duplicated", "phantom", "wrong_type", "delayed_wrong", "leaks"):
        for item in result[key][:8]:
            print(f"  {key}: {item}")
    for item in result["slow_or_never"][:8]:
        print(f"  slow: {item['fault']}: {item['seconds']}: {item['problems'][:3]}")
    for item in result["fault_problems"][:8]:
        print(f"  problem: {item['fault']}: {item['problems'][:3]}")
    for item in result["problems"][:8]:
        print(f"  problem: {item}")
    for record in result["log"]["tracebacks"][:3]:
        print("  traceback:\n    " + record[:1500].replace("\n", "\n    "))
    for record in result["log"]["lifecycle"][:3]:
        print(f"  lifecycle: {record[:300]}")


# --- main ------------------------------------------------------------------------------


async def run(args: argparse.Namespace, workdir: Path, processes: list[Process]) -> dict[str, Any]:
    plan = QUICK if args.quick else FULL
    plan = Plan(
        restarts=args.restarts if args.restarts is not None else plan.restarts,
        drops=args.drops if args.drops is not None else plan.drops,
        frames=args.frames if args.frames is not None else plan.frames,
    )
    rng = random.Random(args.seed)
    code = f"{rng.randrange(100_000, 1_000_000)}"
    started = time.monotonic()
    load_before = load_average()
    emu_process, hub = start_emulator(workdir, EMULATOR_SETTINGS, pairing_code=code)
    processes.append(emu_process)
    ha_port = free_port()
    ha_process, _ = start_home_assistant(
        workdir, ha_port, log_levels={"custom_components.seoul_safehome": "debug"}
    )
    processes.append(ha_process)
    log(
        f"emulator on :{hub.port} (control :{hub.control_port}), Home Assistant on "
        f":{ha_port} ({workdir}); seed {args.seed}"
    )
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        ha = HomeAssistant(session, f"http://127.0.0.1:{ha_port}")
        await ha.wait_started(ha_process)
        await ha.onboard()
        emu = Emulator(session, hub.control_url)
        entry_id = await add_integration(ha, emu, hub, code)
        await ha.connect_ws()
        soak = Soak(args, rng, workdir, processes, session, ha, emu, hub, entry_id, code)
        await soak.setup()
        await soak.diagnostics_check("start")
        setup_s = time.monotonic() - started
        log(f"set up in {setup_s:.1f} s; plan {plan}")
        generator = asyncio.create_task(soak.physical_events())
        soak.resume()
        frames = 0
        try:
            faults = schedule(plan, rng)
            for i, (kind, arg) in enumerate(faults):
                if time.monotonic() - started > args.max_minutes * 60:
                    soak.problems.append(f"stopped after {args.max_minutes} min: {i} faults done")
                    break
                if generator.done():
                    raise BenchError(f"the physical events stopped: {generator.exception()}")
                if kind == "restart":
                    await soak.restart(*arg)
                elif kind == "drop":
                    await soak.drop(arg)
                elif kind == "garbage":
                    frames += await soak.garbage(min(arg, max(1, plan.frames - frames)))
                elif kind == "revoke":
                    await soak.revoke()
                elif kind == "ha_restart":
                    await soak.restart_home_assistant()
                if (i + 1) % DIAGNOSTICS_EVERY == 0:
                    await soak.diagnostics_check(f"after-{i + 1}")
                await asyncio.sleep(rng.uniform(0.2, 1.0))
            while frames < plan.frames:  # bursts that found no event to repeat fell short
                frames += await soak.garbage(min(FRAMES_PER_BURST, plan.frames - frames))
            await soak.pause()
            await asyncio.sleep(1.0)
            final = soak.new_fault("final", "quiet")
            await soak.settle(final, now_ns())
            await soak.diagnostics_check("end")
        finally:
            generator.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await generator
            await soak.ha.close()
        soak_s = time.monotonic() - started
        # Stop Home Assistant: the log is complete and the storage written.
        stop_started = time.monotonic()
        final_ha = processes[-1]
        await asyncio.to_thread(final_ha.stop, 60)
        soak.notes["final_ha_stop_s"] = round(time.monotonic() - stop_started, 2)
        if final_ha.proc.returncode not in (0, -signal.SIGTERM):
            soak.problems.append(f"Home Assistant exited with {final_ha.proc.returncode} at stop")
        await soak._read_tokens(limit=0.1)
    logs = soak.scan_logs()
    result = tally(soak, logs, plan, frames)
    result.update(
        {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(time.time() - soak_s)),
            "quick": args.quick,
            "seed": args.seed,
            "plan": plan.__dict__,
            "duration_s": round(time.monotonic() - started, 1),
            "soak_s": round(soak_s, 1),
            "setup_s": round(setup_s, 1),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "physical_actions": dict(soak.actions),
            "frames_by_kind": dict(soak.frame_kinds),
            "app_commands": soak.app.sent,
            "app_pairings": soak.app.pairings,
            "app_errors": dict(soak.app.errors),
            "unmapped_entities": soak.unmapped,
            "diagnostics_downloads": len(soak.diagnostics),
            "notes": soak.notes,
            "environment": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "kernel": platform.release(),
            },
            "faults": [
                {
                    "n": f.n,
                    "kind": f.kind,
                    "detail": f.detail,
                    "seconds": f.seconds,
                    "went_unavailable": f.went_unavailable,
                    "problems": f.problems,
                }
                for f in soak.faults
            ],
        }
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="6 restarts, 12 drops, 1,000 frames (~2-3 min)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--restarts", type=int, help="hub restarts (50; quick 6)")
    parser.add_argument("--drops", type=int, help="dropped links (100; quick 12)")
    parser.add_argument("--frames", type=int, help="malformed frames (10,000; quick 1,000)")
    parser.add_argument(
        "--max-minutes", type=float, default=20, help="stop injecting faults after this long"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "soak.json")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1_000_000)

    def terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    workdir = Path(tempfile.mkdtemp(prefix="safehome-soak-"))
    processes: list[Process] = []
    try:
        result = asyncio.run(run(args, workdir, processes))
    except BenchError as err:
        log(f"FAILED: {err}")
        for process in processes:
            log(f"--- {process.name} output (tail) ---\n{process.tail(30)}")
        return 2
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        for process in reversed(processes):
            process.stop()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    rows = result.pop("rows")
    result["table"] = [{"check": name, "value": value, "pass": ok} for name, value, ok in rows]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1, default=str))
    la = result["load_average_before"], result["load_average_after"]
    header = (
        f"soak{' --quick' if args.quick else ''} --seed {args.seed}: {result['soak_s']:.0f} s "
        f"(+{result['duration_s'] - result['soak_s']:.0f} s to stop), load average "
        f"{la[0][0]:.2f} -> {la[1][0]:.2f} on {os.cpu_count()} CPUs"
    )
    print_table({**result, "rows": rows}, header)
    verdict = "VIOLATIONS" if result["violation"] else "no violation"
    output = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"{verdict}; details in {output}")
    return 1 if result["violation"] else 0


if __name__ == "__main__":
    sys.exit(main())
