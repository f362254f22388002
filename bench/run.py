"""Benchmark Seoul SafeHome: a real Home Assistant process + the emulator over loopback.

    .venv/bin/python bench/run.py [--quick] [--keep]

Starts the SafeHome emulator and `hass -c <tmpdir>` (the integration symlinked in),
onboards Home Assistant, adds the integration through its config flow over the REST API,
registers two fake phones (mobile_app with a push URL served here), creates the
automations twice — from the bundled blueprints, as a user would, and as minimal
hand-written automations — and measures what docs/design.md ("Bars it must clear") and
issue 9 ask for, blueprint and minimal side by side in the same run. Prints a table and
writes bench/results/latest.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import hashlib
import itertools
import json
import os
from pathlib import Path
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    HUB_ID,
    ROOT,
    BenchError,
    Clock,
    Emulator,
    HomeAssistant,
    Notification,
    Phone,
    Process,
    add_integration,
    cpu_seconds,
    free_port,
    load_average,
    run_queue_wait_ms,
    start_emulator,
    start_home_assistant,
    summarize,
)

MS = 1e6  # ns per ms
ESCALATION_DELAY = 2  # s the emergency automations wait for a cancellation
RESTART_DOWNTIME = 0.5  # s
LONG_RESTART_DOWNTIME = 5.0  # s: a longer reboot meets the client's reconnect backoff
RESTART_BAR_MS = 300  # hub back -> every entity available and in sync, p99
FLOOD_COUNT = 10_000
FLOOD_RATE = 1000
# The emulator's lock motor runs 30 ms instead of 150 ms so that 200 iterations fit in
# the time budget; the measured latency ends when the lock command arrives, before the
# motor starts. No battery drain, so that nothing else happens meanwhile.
EMULATOR_SETTINGS = {"motor_time": 0.03, "battery_drain_interval": 0}
DEVICES = ("doorbell-1", "cam-1", "lock-1", "bell-1")
SCENARIOS = ("baseline", "lock", "doorbell", "emergency", "restart", "restart_long", "flood")
# Blueprint and minimal automation take turns in blocks of this many iterations, so that
# the machine's changing load falls on both alike.
BLOCK = 25
ESCALATION_BLOCK = 5
RECORD_SECONDS = 1  # the emergency blueprint's recording length here (s)
HOME_ADDRESS = "서울특별시 마포구 월드컵북로 400, 301호"
# Bars of issue 9 for the bundled blueprints.
BP_LOCK_BAR_MS = 6.0
BP_LOCK_BASELINE_FACTOR = 2.5
BP_PHOTO_BAR_MS = 20.0
BP_ALERT_BAR_MS = 10.0
BP_EMERGENCY_BAR_MS = 10.0
# Bars of docs/design.md (the engine path, i.e. the minimal automations).
LOCK_BAR_MS = 10.0
DOORBELL_BAR_MS = 50.0
EMERGENCY_BAR_MS = 50.0
ESCALATION_BAR_MS = 250.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Entities:
    """The entity ids the benchmark drives, found through the entity registry."""

    door: str
    lock: str
    auto_lock_delay: str
    ring: str
    lock_activity: str
    doorbell_camera: str
    home_camera: str
    doorbell_battery: str
    emergency_event: str
    emergency: str
    siren: str
    cam_motion: str
    bell_device: str
    all_ids: list[str]
    device_of: dict[str, str] = field(default_factory=dict)


@dataclass
class BenchPhone:
    """A phone registered with mobile_app whose pushes arrive at `Phone` (its push URL)."""

    phone: Phone
    name: str
    notify: str  # notify.mobile_app_<name>
    device_id: str  # device registry id


@dataclass
class Context:
    ha: HomeAssistant
    emu: Emulator
    phone: Phone  # the resident's phone
    clock: Clock
    ents: Entities
    snapshots: Path
    ha_process: Process
    emu_process: Process
    ha_config: Path
    entry_id: str
    mine: BenchPhone | None = None
    contact: BenchPhone | None = None


# (scenario, variant) -> automation id; the alias makes the entity id.
VARIANTS = ("blueprint", "minimal")
AUTOMATIONS = {
    "bench_baseline": "bench baseline",
    "bench_door_lock": "bench door lock",
    "bench_doorbell": "bench doorbell",
    "bench_emergency": "bench emergency",
    "bench_bp_door_lock": "bench blueprint door lock",
    "bench_bp_doorbell": "bench blueprint doorbell",
    "bench_bp_emergency": "bench blueprint emergency",
}
AUTOMATION_OF = {
    ("lock", "minimal"): "bench_door_lock",
    ("doorbell", "minimal"): "bench_doorbell",
    ("emergency", "minimal"): "bench_emergency",
    ("lock", "blueprint"): "bench_bp_door_lock",
    ("doorbell", "blueprint"): "bench_bp_doorbell",
    ("emergency", "blueprint"): "bench_bp_emergency",
}
BLUEPRINTS = {
    "bench_bp_door_lock": "instant_lock.yaml",
    "bench_bp_doorbell": "doorbell_notification.yaml",
    "bench_bp_emergency": "emergency_escalation.yaml",
}
BUNDLED = ROOT / "custom_components" / "seoul_safehome" / "blueprints"


def automation_entity(key: str) -> str:
    return "automation." + AUTOMATIONS[key].replace(" ", "_")


# --- setup -----------------------------------------------------------------------------


async def find_entities(ha: HomeAssistant) -> Entities:
    """Map (device, key, domain) to entity ids through the entity registry."""
    entries = await ha.ws_call({"type": "config/entity_registry/list"})
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    all_ids = []
    device_of: dict[str, str] = {}
    for entry in entries:
        if entry.get("platform") != "seoul_safehome" or entry.get("disabled_by"):
            continue
        all_ids.append(entry["entity_id"])
        if entry.get("device_id"):
            device_of[entry["entity_id"]] = entry["device_id"]
        rest = entry["unique_id"].removeprefix(f"{HUB_ID}_")
        domain = entry["entity_id"].split(".", 1)[0]
        for device in DEVICES:
            if rest.startswith(f"{device}_"):
                found[(device, rest[len(device) + 1 :], domain)] = entry
    try:

        def eid(device: str, key: str, domain: str) -> str:
            return found[(device, key, domain)]["entity_id"]

        return Entities(
            door=eid("lock-1", "door", "binary_sensor"),
            lock=eid("lock-1", "lock", "lock"),
            auto_lock_delay=eid("lock-1", "auto_lock_delay", "number"),
            ring=eid("doorbell-1", "ring", "event"),
            lock_activity=eid("lock-1", "lock_activity", "event"),
            doorbell_camera=eid("doorbell-1", "camera", "camera"),
            home_camera=eid("cam-1", "camera", "camera"),
            doorbell_battery=eid("doorbell-1", "battery", "sensor"),
            emergency_event=eid("bell-1", "emergency", "event"),
            emergency=eid("bell-1", "emergency", "binary_sensor"),
            siren=eid("bell-1", "siren", "siren"),
            cam_motion=eid("cam-1", "motion", "binary_sensor"),
            bell_device=found[("bell-1", "siren", "siren")]["device_id"],
            all_ids=sorted(all_ids),
            device_of=device_of,
        )
    except KeyError as err:
        raise BenchError(f"entity not found: {err}") from None


async def register_phone(
    ha: HomeAssistant,
    phone: Phone,
    name: str = "Bench phone",
    *,
    manufacturer: str = "Bench",
    model: str = "Fake",
    os_name: str = "Android",
    os_version: str = "14",
) -> str:
    """Register a phone with mobile_app whose pushes go to the bench's push URL.

    Returns its notify action (`notify.mobile_app_<name>`).
    """
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    registration = {
        "app_id": "io.robbie.HomeAssistant"
        if os_name == "iOS"
        else "io.homeassistant.companion.android",
        "app_name": "Home Assistant",
        "app_version": "2026.11",
        "device_name": name,
        "manufacturer": manufacturer,
        "model": model,
        "os_name": os_name,
        "os_version": os_version,
        "supports_encryption": False,
        "device_id": f"bench-{slug}",
        "app_data": {"push_token": f"bench-push-token-{slug}", "push_url": phone.url},
    }
    await ha.rest("POST", "/api/mobile_app/registrations", registration)
    service = f"mobile_app_{slug}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        services = await ha.rest("GET", "/api/services")
        notify = next((s for s in services if s["domain"] == "notify"), {"services": {}})
        if service in notify["services"]:
            return f"notify.{service}"
        await asyncio.sleep(0.2)
    raise BenchError(f"the notify action of {name} did not appear")


async def phone_device(ha: HomeAssistant, name: str) -> str:
    """The device registry id of a mobile_app phone, by its name."""
    for device in await ha.ws_call({"type": "config/device_registry/list"}):
        if device.get("name") == name and any(i[0] == "mobile_app" for i in device["identifiers"]):
            return device["id"]
    raise BenchError(f"no mobile_app device named {name}")


async def add_phones(ctx: Context, contact_phone: Phone) -> None:
    """The resident's iPhone (the bench's `phone`) and an emergency contact's Android."""
    mine = await register_phone(
        ctx.ha,
        ctx.phone,
        "Bench phone",
        manufacturer="Apple",
        model="iPhone16,2",
        os_name="iOS",
        os_version="18.1",
    )
    theirs = await register_phone(
        ctx.ha,
        contact_phone,
        "Bench contact phone",
        manufacturer="samsung",
        model="SM-S921N",
        os_name="Android",
        os_version="14",
    )
    ctx.mine = BenchPhone(ctx.phone, "Bench phone", mine, await phone_device(ctx.ha, "Bench phone"))
    ctx.contact = BenchPhone(
        contact_phone,
        "Bench contact phone",
        theirs,
        await phone_device(ctx.ha, "Bench contact phone"),
    )


# --- the bundled blueprints, with their inputs filled as a user would -------------------


async def wait_blueprints(ha: HomeAssistant) -> dict[str, dict[str, Any]]:
    """Wait until the integration has installed its blueprints; return their metadata.

    The integration copies its bundled blueprints into
    <config>/blueprints/automation/seoul_safehome/ once set up; Home Assistant's UI lists
    them through `blueprint/list`, as here.
    """
    wanted = {f"seoul_safehome/{name}" for name in BLUEPRINTS.values()}
    deadline = time.monotonic() + 30
    while True:
        listed = await ha.ws_call({"type": "blueprint/list", "domain": "automation"})
        if wanted <= set(listed):
            broken = {p: listed[p]["error"] for p in wanted if "error" in listed[p]}
            if broken:
                raise BenchError(f"blueprints that do not load: {broken}")
            return {path: listed[path]["metadata"] for path in wanted}
        if time.monotonic() > deadline:
            raise BenchError(f"blueprints not installed: {sorted(wanted - set(listed))}")
        await asyncio.sleep(0.2)


def flatten_inputs(inputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A blueprint's inputs without their sections (`input:` inside an input)."""
    flat: dict[str, dict[str, Any]] = {}
    for name, spec in (inputs or {}).items():
        spec = spec or {}
        if isinstance(spec.get("input"), dict):
            flat.update(flatten_inputs(spec["input"]))
        else:
            flat[name] = spec
    return flat


CONTACT_WORDS = {"contact", "contacts", "family", "guardian", "guardians"}


def _words(name: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", name.lower()))


def _filters(selector_body: dict[str, Any]) -> list[dict[str, Any]]:
    filters = selector_body.get("filter") or [{}]
    return filters if isinstance(filters, list) else [filters]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class InputFiller:
    """Fills a blueprint's inputs from what the bench has, as a user of this kit would.

    Entities are picked by the selector's filter (domain, device class) and, when several
    fit, by words in the input's name (an input named `emergency_events` gets the
    bell's emergency event, not the doorbell's ring). Phones: inputs naming contacts get
    the contact's phone, other mobile_app inputs the resident's. A few settings are set
    for the benchmark (no cooldown, a 2 s escalation, the snapshot folder); everything
    else keeps its default. A required input the bench cannot fill stops the run.
    """

    def __init__(self, ctx: Context) -> None:
        ents = ctx.ents
        self.ctx = ctx
        # (entity id, words that name its role), in order of preference.
        self.entities: list[tuple[str, set[str]]] = [
            (ents.door, {"door", "contact", "opening"}),
            (ents.lock, {"lock"}),
            (ents.ring, {"doorbell", "ring"}),
            (ents.lock_activity, {"lock", "activity", "intrusion", "forced", "tamper"}),
            (ents.emergency_event, {"emergency", "sos"}),
            (ents.emergency, {"emergency", "sos", "sensor", "sensors"}),
            (ents.doorbell_camera, {"camera", "cameras", "doorbell", "door"}),
            (ents.home_camera, {"camera", "cameras"}),
            (ents.siren, {"siren", "sirens"}),
        ]

    def device_class(self, entity_id: str) -> str | None:
        entry = self.ctx.ha.states.get(entity_id)
        return entry.state["attributes"].get("device_class") if entry else None

    def _matches(self, entity_id: str, flt: dict[str, Any]) -> bool:
        domains = _as_list(flt.get("domain"))
        classes = _as_list(flt.get("device_class"))
        integrations = _as_list(flt.get("integration"))
        if domains and entity_id.split(".", 1)[0] not in domains:
            return False
        if classes and self.device_class(entity_id) not in classes:
            return False
        return not integrations or "seoul_safehome" in integrations

    def _entities(self, name: str, selector_body: dict[str, Any], multiple: bool) -> list[str]:
        fitting = [
            (eid, words)
            for eid, words in self.entities
            if any(self._matches(eid, flt) for flt in _filters(selector_body))
        ]
        named = [eid for eid, words in fitting if words & _words(name)]
        chosen = named or [eid for eid, _ in fitting]
        if not multiple:
            return chosen[:1]
        if len(named) > 1 and not all(eid.startswith("camera.") for eid in named):
            # Several kinds fit by name (an `emergency_events` input and the bell's
            # emergency sensor both say "emergency"): keep the best fit's domain.
            chosen = [eid for eid in named if eid.split(".")[0] == named[0].split(".")[0]]
        return chosen

    def _device(self, name: str, selector_body: dict[str, Any]) -> str | None:
        filters = _filters(selector_body)
        if any("mobile_app" in _as_list(f.get("integration")) for f in filters):
            assert self.ctx.mine
            assert self.ctx.contact
            words = _words(name)
            if words & CONTACT_WORDS:
                return self.ctx.contact.device_id
            return self.ctx.mine.device_id
        for flt in filters:
            entity_filters = _as_list(flt.get("entity"))
            for eid, _ in self.entities:
                if eid in self.ctx.ents.device_of and (
                    not entity_filters or any(self._matches(eid, ef) for ef in entity_filters)
                ):
                    return self.ctx.ents.device_of[eid]
        return None

    def value(self, name: str, spec: dict[str, Any]) -> tuple[bool, Any]:
        """(True, value) to set the input; (False, None) to keep its default."""
        selector = spec.get("selector") or {}
        kind, body = next(iter(selector.items()), (None, None))
        body = body or {}
        words = _words(name)
        multiple = bool(body.get("multiple"))
        if kind == "number" and "cooldown" in words:
            return True, 0
        if kind == "number" and (
            (
                words & {"escalation", "escalate", "answer", "response"}
                and words & {"delay", "seconds", "time", "timeout", "wait"}
            )
            or name in ("escalation_delay", "answer_seconds")
        ):
            return True, ESCALATION_DELAY
        if kind == "number" and words & {"record", "recording"}:
            # Recordings of 1 s: one escalation's recording ends before the next one
            # starts (the bench escalates every ~2.5 s; a stream records one file at once).
            return True, RECORD_SECONDS
        if kind == "text" and "media" in words:
            return True, str(self.ctx.snapshots)
        if kind == "text" and "address" in words:
            return True, HOME_ADDRESS
        if kind == "entity":
            chosen = self._entities(name, body, multiple)
            if chosen:
                return True, chosen if multiple else chosen[0]
        if kind == "device":
            device = self._device(name, body)
            if device:
                return True, [device] if multiple else device
        return False, None

    def fill(self, blueprint: str, inputs: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        missing = []
        flat = flatten_inputs(inputs)
        # Contacts given as notify actions (text) only when there is no input for the
        # contacts' phones (devices): the contact's phone is told once.
        contact_devices = any(
            "device" in (spec.get("selector") or {}) and _words(name) & CONTACT_WORDS
            for name, spec in flat.items()
        )
        for name, spec in flat.items():
            use, value = self.value(name, spec)
            if (
                not use
                and not contact_devices
                and "text" in (spec.get("selector") or {})
                and _words(name) & CONTACT_WORDS
            ):
                assert self.ctx.contact is not None
                multiple = bool((spec["selector"]["text"] or {}).get("multiple"))
                notify = self.ctx.contact.notify
                use, value = True, [notify] if multiple else notify
            if use:
                values[name] = value
            elif "default" not in spec:
                missing.append(name)
        if missing:
            raise BenchError(f"{blueprint}: required inputs the bench cannot fill: {missing}")
        return values


def minimal_configs(ents: Entities, snapshots: Path, notify: str) -> dict[str, Any]:
    """Minimal automations: the essential path of each blueprint, nothing more."""
    not_unavailable = {"not_from": ["unavailable"], "not_to": ["unavailable"]}
    return {
        "bench_baseline": {
            "alias": AUTOMATIONS["bench_baseline"],
            "mode": "queued",
            "triggers": [{"trigger": "state", "entity_id": "input_boolean.bench_a", "to": "on"}],
            "actions": [
                {
                    "action": "input_boolean.turn_on",
                    "target": {"entity_id": "input_boolean.bench_b"},
                }
            ],
        },
        "bench_door_lock": {
            "alias": AUTOMATIONS["bench_door_lock"],
            "mode": "queued",
            "triggers": [{"trigger": "state", "entity_id": ents.door, "from": "on", "to": "off"}],
            "actions": [{"action": "lock.lock", "target": {"entity_id": ents.lock}}],
        },
        # Alert first (the camera's live picture), then the same notification (by tag)
        # with the snapshot once it is written.
        "bench_doorbell": {
            "alias": AUTOMATIONS["bench_doorbell"],
            "mode": "parallel",
            "max": 10,
            "triggers": [{"trigger": "state", "entity_id": ents.ring, **not_unavailable}],
            "conditions": [
                {
                    "condition": "template",
                    "value_template": "{{ trigger.to_state.attributes.event_type == 'ring' }}",
                }
            ],
            "actions": [
                {
                    "action": notify,
                    "data": {
                        "title": "Doorbell",
                        "message": "Someone is at the door",
                        "data": {
                            "tag": "doorbell",
                            "entity_id": ents.doorbell_camera,
                            "image": f"/api/camera_proxy/{ents.doorbell_camera}",
                        },
                    },
                },
                {"variables": {"name": "ring_{{ trigger.to_state.context.id }}.jpg"}},
                {
                    "action": "camera.snapshot",
                    "target": {"entity_id": ents.doorbell_camera},
                    "data": {"filename": f"{snapshots}/{{{{ name }}}}"},
                },
                {
                    "action": notify,
                    "data": {
                        "title": "Doorbell",
                        "message": "Someone is at the door",
                        "data": {"tag": "doorbell", "image": "/media/local/{{ name }}"},
                    },
                },
            ],
        },
        "bench_emergency": {
            "alias": AUTOMATIONS["bench_emergency"],
            "mode": "single",
            "max_exceeded": "silent",
            "triggers": [
                {"trigger": "state", "entity_id": ents.emergency_event, **not_unavailable}
            ],
            "conditions": [
                {
                    "condition": "template",
                    "value_template": (
                        "{{ trigger.to_state.attributes.event_type "
                        "in ['button', 'voice', 'phone'] }}"
                    ),
                }
            ],
            "actions": [
                {
                    "action": notify,
                    "data": {
                        "title": "Emergency",
                        "message": "Emergency at home",
                        "data": {
                            "ttl": 0,
                            "priority": "high",
                            "channel": "alarm_stream",
                            "push": {
                                "interruption-level": "critical",
                                "sound": {"name": "default", "critical": 1, "volume": 1.0},
                            },
                            "actions": [
                                {"action": "SAFE", "title": "I'm safe"},
                                {"action": "URI", "title": "Call 112", "uri": "tel:112"},
                            ],
                        },
                    },
                },
                {
                    # Cancelled = the event entity fired `cancelled` after the trigger.
                    # (Checking the emergency binary_sensor for "off" would race with
                    # the device_updated that turns it on, which follows the event.)
                    "wait_template": (
                        f"{{{{ states('{ents.emergency_event}') != trigger.to_state.state "
                        f"and state_attr('{ents.emergency_event}', 'event_type') "
                        "== 'cancelled' }}"
                    ),
                    "timeout": {"seconds": ESCALATION_DELAY},
                    "continue_on_timeout": True,
                },
                {
                    "if": [{"condition": "template", "value_template": "{{ not wait.completed }}"}],
                    "then": [
                        {
                            "action": "siren.turn_on",
                            "target": {"entity_id": ents.siren},
                            "data": {"duration": 60},
                        }
                    ],
                },
            ],
        },
    }


def blueprint_configs(ctx: Context, metadata: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Automations from the bundled blueprints (`use_blueprint`), inputs filled."""
    filler = InputFiller(ctx)
    configs = {}
    for key, file_name in BLUEPRINTS.items():
        path = f"seoul_safehome/{file_name}"
        configs[key] = {
            "alias": AUTOMATIONS[key],
            "use_blueprint": {
                "path": path,
                "input": filler.fill(file_name, metadata[path].get("input", {})),
            },
        }
    return configs


async def create_automations(ctx: Context, configs: dict[str, Any], traces: int) -> None:
    """Create automations through the config API (the UI's editor), keeping `traces` traces.

    Keeping traces only changes how many finished runs Home Assistant remembers; they
    split each latency at the automation's steps.
    """
    for key, config in configs.items():
        body = {**config, "trace": {"stored_traces": traces}}
        await ctx.ha.rest("POST", f"/api/config/automation/config/{key}", body)
    await ctx.ha.wait_for(
        lambda: all(ctx.ha.state(automation_entity(key)) == "on" for key in configs),
        20,
        "the automations",
    )


async def set_automations(ctx: Context, on: bool) -> None:
    ids = [automation_entity(key) for key in AUTOMATIONS]
    await ctx.ha.call("automation", "turn_on" if on else "turn_off", {"entity_id": ids})
    want = "on" if on else "off"
    await ctx.ha.wait_for(
        lambda: all(ctx.ha.state(eid) == want for eid in ids), 10, f"automations {want}"
    )


async def only_automation(ctx: Context, key: str) -> None:
    """Turn this automation on and every other one of the bench off."""
    ha = ctx.ha
    target = automation_entity(key)
    others = [
        automation_entity(k)
        for k in AUTOMATIONS
        if k != key and ha.state(automation_entity(k)) != "off"
    ]
    if others:
        await ha.call("automation", "turn_off", {"entity_id": others})
    if ha.state(target) != "on":
        await ha.call("automation", "turn_on", {"entity_id": target})
    await ha.wait_for(
        lambda: ha.state(target) == "on"
        and all(ha.state(automation_entity(k)) == "off" for k in AUTOMATIONS if k != key),
        10,
        f"only {key} on",
    )


async def interleave(
    ctx: Context,
    scenario: str,
    n: int,
    block: int,
    collect: Callable[[str, int], Awaitable[list[dict[str, Any]]]],
) -> dict[str, list[dict[str, Any]]]:
    """Run `collect(variant, k)` for blueprint and minimal in turns, blocks of `block`."""
    samples: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
    order = list(VARIANTS)
    done = 0
    while done < n:
        k = min(block, n - done)
        for variant in order:
            await only_automation(ctx, AUTOMATION_OF[(scenario, variant)])
            samples[variant] += await collect(variant, k)
        order.reverse()
        done += k
    return samples


# --- automation traces: when each run and each of its steps started ---------------------


@dataclass
class RunTrace:
    """One automation run: when it started and when each step started (monotonic ns).

    Runs that this run set off (an automation that triggers itself with its own event,
    to send the alerts from a separate run) are merged in: their steps are prefixed
    "[run N: <trigger>]".
    """

    start: int
    steps: list[tuple[str, int, dict[str, Any] | None]]  # (path, start, call params)
    context_id: str = ""
    parent_id: str | None = None
    trigger: str = ""

    def calls(self, domain: str, service: str | None = None) -> list[tuple[str, int, dict]]:
        """The action calls of this run to `domain`(.`service`), in time order."""
        return [
            (path, ts, params)
            for path, ts, params in self.steps
            if params
            and params.get("domain") == domain
            and (service is None or params.get("service") == service)
        ]

    @property
    def acted(self) -> bool:
        """Whether the run got past its conditions."""
        return any(path.split("/", 1)[0] == "action" for path, _ts, _p in self.steps)


async def _traces(ctx: Context, item_id: str) -> dict[str, RunTrace]:
    """Map each triggering context id to its run (from the stored traces).

    A run triggered by another run of the same automation (its context's parent is that
    run's context) is merged into the run that set it off, and so on down.
    """
    runs: list[RunTrace] = []
    listed = await ctx.ha.ws_call(
        {"type": "trace/list", "domain": "automation", "item_id": item_id}
    )
    for summary in listed:
        trace = await ctx.ha.ws_call(
            {
                "type": "trace/get",
                "domain": "automation",
                "item_id": item_id,
                "run_id": summary["run_id"],
            }
        )
        context = trace.get("context") or {}
        steps = []
        for path, elements in trace.get("trace", {}).items():
            for element in elements:
                result = element.get("result") or {}
                params = result.get("params") if isinstance(result, dict) else None
                label = path if params else _with_kind(path, trace.get("config") or {})
                steps.append((label, ctx.clock.wall_to_mono(element["timestamp"]), params))
        steps.sort(key=lambda step: step[1])
        runs.append(
            RunTrace(
                ctx.clock.wall_to_mono(trace["timestamp"]["start"]),
                steps,
                context.get("id", ""),
                context.get("parent_id"),
                str(summary.get("trigger") or ""),
            )
        )
    ids = {run.context_id for run in runs}
    children: dict[str, list[RunTrace]] = defaultdict(list)
    for run in runs:
        if run.parent_id in ids:
            children[run.parent_id].append(run)
    merged: dict[str, RunTrace] = {}
    for run in runs:
        if not run.parent_id or run.parent_id in ids:
            continue
        steps = list(run.steps)
        queue = sorted(children[run.context_id], key=lambda r: r.start)
        number = 1
        while queue:
            child = queue.pop(0)
            number += 1
            prefix = f"[run {number}: {child.trigger}] "
            steps.append((prefix + "(run start)", child.start, None))
            steps += [(prefix + path, ts, params) for path, ts, params in child.steps]
            queue += sorted(children[child.context_id], key=lambda r: r.start)
        steps.sort(key=lambda step: step[1])
        whole = RunTrace(run.start, steps, run.context_id, run.parent_id, run.trigger)
        # Of two runs set off by the same state change, the one that acted counts.
        if (earlier := merged.get(run.parent_id)) is None or (whole.acted and not earlier.acted):
            merged[run.parent_id] = whole
    return merged


STEP_KINDS = (
    "variables",
    "if",
    "choose",
    "parallel",
    "repeat",
    "sequence",
    "wait_template",
    "wait_for_trigger",
    "delay",
    "event",
    "stop",
    "condition",
)


def _with_kind(path: str, config: dict[str, Any]) -> str:
    """A trace path with the kind of step it is, from the automation's config.

    "action/0" -> "action/0 (variables)"; the path's parts are the config's keys and
    list indexes ("action/2/then/0", "action/3/parallel/1/sequence/0/repeat/sequence/0").
    """
    parts = path.split("/")
    roots = {"action": ("actions", "action"), "condition": ("conditions", "condition")}
    if parts[0] not in roots:
        return path
    node: Any = next((config[k] for k in roots[parts[0]] if k in config), None)
    try:
        for part in parts[1:]:
            if part == "condition" and isinstance(node, list):
                continue  # "if/condition/0": the if's first condition
            if part.isdigit():
                node = node[int(part)] if isinstance(node, list) else node
            elif part == "sequence" and isinstance(node, dict) and part not in node:
                node = [node]  # a parallel branch that is a single action
            elif isinstance(node, dict):
                node = node[part]
            else:
                return path
        if isinstance(node, list) and len(node) == 1:
            node = node[0]
    except (KeyError, IndexError, TypeError):
        return path
    if not isinstance(node, dict):
        return path
    kind = next((k for k in STEP_KINDS if k in node), "")
    if kind == "condition":
        kind = f"condition: {node['condition']}"
    alias = node.get("alias")
    text = ", ".join(x for x in (kind, f'"{alias}"' if alias else "") if x)
    return f"{path} ({text})" if text else path


def _label(path: str, params: dict[str, Any] | None) -> str:
    if params:
        return f"{path} ({params.get('domain')}.{params.get('service')})"
    return path


def step_breakdown(runs: list[tuple[RunTrace, int]]) -> list[dict[str, Any]]:
    """Where a run's time goes before its key step (a (run, key step start) per run).

    For each step that started before the key step: the time from its start to the next
    step's start (summed over repeats of the same step in a run), in ms. The first row,
    "(trigger)", is the run's start to its trigger step: the automation's top-level
    `variables`.
    """
    gaps: dict[str, list[float]] = defaultdict(list)
    position: dict[str, list[int]] = defaultdict(list)
    for trace, key in runs:
        chain = [("(run start -> trigger step: variables)", trace.start)]
        chain += [(_label(p, params), ts) for p, ts, params in trace.steps if ts < key]
        chain.append(("(key step)", key))
        per_run: dict[str, float] = defaultdict(float)
        for index, ((label, ts), (_next_label, next_ts)) in enumerate(itertools.pairwise(chain)):
            per_run[label] += (next_ts - ts) / MS
            position[label].append(index)
        for label, gap in per_run.items():
            gaps[label].append(gap)
    rows = []
    for label, values in gaps.items():
        ordered = sorted(position[label])
        rows.append({"step": label, "order": ordered[len(ordered) // 2], **summarize(values)})
    rows.sort(key=lambda r: r["order"])
    return rows


# --- 1. door closed -> lock command at the device -------------------------------------


async def bench_lock(ctx: Context, n: int) -> dict[str, Any]:
    ha, emu, ents = ctx.ha, ctx.emu, ctx.ents
    # The lock's own relock must not interfere: 30 s, set through Home Assistant.
    await ha.call("number", "set_value", {"entity_id": ents.auto_lock_delay, "value": 30})
    await ha.wait_for(
        lambda: ha.state(ents.auto_lock_delay) in ("30", "30.0"), 5, "auto-lock delay 30 s"
    )
    await emu.clear_log()

    async def collect(variant: str, k: int) -> list[dict[str, Any]]:
        samples: list[dict[str, Any]] = []
        for i in range(k):
            await emu.post("/devices/lock-1/activity", {"activity": "keypad", "user": "bench"})
            await ha.wait_for(lambda: ha.state(ents.lock) == "unlocked", 5, "unlocked")
            await emu.post("/devices/lock-1/door", {"state": "open"})
            await ha.wait_for(lambda: ha.state(ents.door) == "on", 5, "door open")
            await asyncio.sleep(random.uniform(0.005, 0.02))
            pids = (ctx.ha_process.pid, ctx.emu_process.pid)
            waited = sum(run_queue_wait_ms(pid) for pid in pids)
            t_close = (await emu.post("/devices/lock-1/door", {"state": "closed"}))["t"]
            await ha.wait_for(
                lambda: ha.state(ents.lock) in ("locking", "locked"),
                5,
                f"locking ({variant}, iteration {i})",
            )
            # CPU contention in this iteration's window: how long the main threads of
            # Home Assistant and the emulator were runnable but not running.
            waited = sum(run_queue_wait_ms(pid) for pid in pids) - waited
            await ha.wait_for(
                lambda: ha.state(ents.lock) == "locked", 5, f"locked ({variant}, iteration {i})"
            )
            await ha.wait_for(lambda: ha.state(ents.door) == "off", 5, "door closed")
            door = ha.states[ents.door].state
            samples.append(
                {
                    "t_close": t_close,
                    "t_ha_off": ctx.clock.wall_to_mono(door["last_changed"]),
                    "context": door["context"]["id"],
                    "waited_ms": waited,
                }
            )
        # The blueprint checks that the lock locked: let that run end.
        await _wait_idle(ctx, AUTOMATION_OF[("lock", variant)])
        return samples

    samples = await interleave(ctx, "lock", n, BLOCK, collect)
    commands = [c for c in await emu.log() if c["device_id"] == "lock-1" and c["command"] == "lock"]
    results: dict[str, Any] = {}
    for variant, variant_samples in samples.items():
        traces = await _traces(ctx, AUTOMATION_OF[("lock", variant)])
        results[variant] = _lock_analysis(variant_samples, commands, traces)
    results["lock_commands"] = len(commands)
    results["refused"] = len([c for c in commands if c["result"] != "accepted"])
    return results


def _lock_analysis(
    samples: list[dict[str, Any]], commands: list[dict[str, Any]], traces: dict[str, RunTrace]
) -> dict[str, Any]:
    total, push, ha_part, trigger, engine, command = [], [], [], [], [], []
    keyed: list[tuple[RunTrace, int]] = []
    for sample in samples:
        cmd = next((c for c in commands if c["t"] >= sample["t_close"]), None)
        if cmd is None:
            raise BenchError("a lock command is missing from the emulator's log")
        total.append((cmd["t"] - sample["t_close"]) / MS)
        push.append((sample["t_ha_off"] - sample["t_close"]) / MS)
        ha_part.append((cmd["t"] - sample["t_ha_off"]) / MS)
        if (trace := traces.get(sample["context"])) and (calls := trace.calls("lock", "lock")):
            start = calls[0][1]
            trigger.append((trace.start - sample["t_ha_off"]) / MS)
            engine.append((start - sample["t_ha_off"]) / MS)
            command.append((cmd["t"] - start) / MS)
            keyed.append((trace, start))
    return {
        "total_ms": total,
        "push_ms": push,
        "ha_to_command_ms": ha_part,
        "ha_state_to_run_start_ms": trigger,
        "ha_state_to_action_ms": engine,
        "action_to_command_ms": command,
        "run_queue_wait_in_window_ms": [sample["waited_ms"] for sample in samples],
        "steps_before_lock": step_breakdown(keyed),
    }


async def _wait_idle(ctx: Context, key: str, seconds: float = 15) -> None:
    """Wait until no run of this automation is going on."""
    entity = automation_entity(key)
    await ctx.ha.wait_for(
        lambda: ctx.ha.attr(entity, "current") in (0, None), seconds, f"{key} finished"
    )


async def bench_baseline(ctx: Context, n: int) -> dict[str, Any]:
    """input_boolean -> automation -> input_boolean: Home Assistant's engine alone."""
    ha = ctx.ha
    await only_automation(ctx, "bench_baseline")
    a, b = "input_boolean.bench_a", "input_boolean.bench_b"
    values: list[float] = []
    samples: list[tuple[str, int]] = []
    for _ in range(n):
        await ha.call("input_boolean", "turn_off", {"entity_id": [a, b]})
        await ha.wait_for(lambda: ha.state(a) == ha.state(b) == "off", 5, "booleans off")
        await ha.call("input_boolean", "turn_on", {"entity_id": a})
        await ha.wait_for(lambda: ha.state(b) == "on", 5, "bench_b on")
        ta = ctx.clock.wall_to_mono(ha.states[a].state["last_changed"])
        tb = ctx.clock.wall_to_mono(ha.states[b].state["last_changed"])
        values.append((tb - ta) / MS)
        samples.append((ha.states[a].state["context"]["id"], ta))
    traces = await _traces(ctx, "bench_baseline")
    timed = [(traces[context], ta) for context, ta in samples if context in traces]
    run_start = [(trace.start - ta) / MS for trace, ta in timed]
    action = [
        (calls[0][1] - ta) / MS for trace, ta in timed if (calls := trace.calls("input_boolean"))
    ]
    return {"total_ms": values, "state_to_run_start_ms": run_start, "state_to_action_ms": action}


# --- the phones ------------------------------------------------------------------------


async def next_notification(
    phone: Phone, predicate: Callable[[Notification], bool], seconds: float, what: str
) -> Notification:
    """The phone's next notification for which `predicate` holds (others are dropped)."""
    deadline = time.monotonic() + seconds
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BenchError(f"no {what} within {seconds} s")
        try:
            note = await phone.next(remaining)
        except BenchError:
            raise BenchError(f"no {what} within {seconds} s") from None
        if predicate(note):
            return note


def payload(note: Notification) -> dict[str, Any]:
    data = note.body.get("data")
    return data if isinstance(data, dict) else {}


def is_critical(note: Notification) -> bool:
    """A critical alert for iOS (critical interruption level) or Android (alarm stream)."""
    data = payload(note)
    push = data.get("push") if isinstance(data.get("push"), dict) else {}
    return push.get("interruption-level") == "critical" or data.get("channel") == "alarm_stream"


def snapshot_file(ctx: Context, note: Notification) -> Path | None:
    """The snapshot file a notification's picture names, if it names one of the bench's."""
    data = payload(note)
    image = data.get("image")
    if not isinstance(image, str) and isinstance(data.get("attachment"), dict):
        image = data["attachment"].get("url")
    if not isinstance(image, str):
        return None
    if image.startswith("/media/local/"):
        return ctx.snapshots / image.removeprefix("/media/local/")
    path = Path(image)
    if path.is_absolute() and path.is_relative_to(ctx.snapshots):
        return path
    return None


# --- 2. doorbell ring -> first alert, then the phone with a fresh snapshot ----------------


async def bench_doorbell(ctx: Context, n: int) -> dict[str, Any]:
    ha, emu, phone, ents = ctx.ha, ctx.emu, ctx.phone, ctx.ents
    hashes: set[str] = set()
    problems: dict[str, list[str]] = {variant: [] for variant in VARIANTS}

    async def collect(variant: str, k: int) -> list[dict[str, Any]]:
        samples = []
        for i in range(k):
            phone.drain()
            previous = ha.states[ents.ring].state["last_changed"]
            t_ring = (await emu.post("/devices/doorbell-1/ring"))["t"]
            first = await next_notification(
                phone, lambda note, t=t_ring: note.arrived >= t, 5, "doorbell alert"
            )
            photo = first
            if snapshot_file(ctx, first) is None:
                photo = await next_notification(
                    phone,
                    lambda note: snapshot_file(ctx, note) is not None,
                    5,
                    "doorbell notification with a snapshot",
                )
            await ha.wait_for(
                lambda previous=previous: ha.states[ents.ring].state["last_changed"] != previous,
                5,
                "ring event state",
            )
            event = ha.states[ents.ring].state
            samples.append(
                {
                    "t_ring": t_ring,
                    "t_event": ctx.clock.wall_to_mono(event["last_changed"]),
                    "context": event["context"]["id"],
                    "first": first.arrived,
                    "photo": photo.arrived,
                }
            )
            if (first_tag := payload(first).get("tag")) != payload(photo).get("tag"):
                problems[variant].append(
                    f"ring {i}: the snapshot came as a new notification, not an update "
                    f"of the alert (tags {first_tag!r}, {payload(photo).get('tag')!r})"
                )
            if problem := _check_snapshot(ctx, photo, t_ring, hashes):
                problems[variant].append(f"ring {i}: {problem}")
            await _wait_idle(ctx, AUTOMATION_OF[("doorbell", variant)], 5)
            await asyncio.sleep(0.01)
        return samples

    samples = await interleave(ctx, "doorbell", n, BLOCK, collect)
    results: dict[str, Any] = {}
    for variant, variant_samples in samples.items():
        traces = await _traces(ctx, AUTOMATION_OF[("doorbell", variant)])
        results[variant] = {
            **_doorbell_analysis(ctx, variant_samples, traces),
            "problems": problems[variant],
        }
    results["fresh_snapshots"] = len(hashes)
    return results


def _check_snapshot(ctx: Context, note: Notification, t_ring: int, hashes: set[str]) -> str:
    """What is wrong with the snapshot a notification shows ("" if nothing)."""
    path = snapshot_file(ctx, note)
    assert path is not None
    try:
        image = path.read_bytes()
        mtime = path.stat().st_mtime_ns
    except OSError as err:
        return f"snapshot missing: {err}"
    digest = hashlib.sha256(image).hexdigest()
    # File times come from the kernel's coarse clock (a few ms behind): allow 20 ms.
    ring_wall = ctx.clock.mono_to_wall_ns(t_ring)
    problem = ""
    if not (image[:3] == b"\xff\xd8\xff" and image[-2:] == b"\xff\xd9" and len(image) > 1000):
        problem = f"{path.name} is not a JPEG"
    elif mtime < ring_wall - 20 * MS:
        problem = f"{path.name} is older than the ring"
    elif digest in hashes:
        problem = f"{path.name} repeats an earlier picture"
    hashes.add(digest)
    return problem


def _names_snapshot(ctx: Context, params: dict[str, Any]) -> bool:
    """Whether a notify call (its params in a trace) shows one of the bench's snapshots."""
    data = (params.get("service_data") or {}).get("data")
    if not isinstance(data, dict):
        return False
    note = Notification(0, {"data": data})
    return snapshot_file(ctx, note) is not None


def _doorbell_analysis(
    ctx: Context, samples: list[dict[str, Any]], traces: dict[str, RunTrace]
) -> dict[str, Any]:
    assert ctx.mine is not None
    service = ctx.mine.notify.split(".", 1)[1]
    out: dict[str, list[float]] = defaultdict(list)
    keyed: list[tuple[RunTrace, int]] = []
    for s in samples:
        out["first_alert_ms"].append((s["first"] - s["t_ring"]) / MS)
        out["total_ms"].append((s["photo"] - s["t_ring"]) / MS)
        out["push_ms"].append((s["t_event"] - s["t_ring"]) / MS)
        out["ha_to_first_alert_ms"].append((s["first"] - s["t_event"]) / MS)
        out["ha_to_phone_ms"].append((s["photo"] - s["t_event"]) / MS)
        if not (trace := traces.get(s["context"])):
            continue
        notifies = trace.calls("notify", service)
        snapshots = trace.calls("camera", "snapshot")
        if not notifies or not snapshots:
            continue
        alert, snap = notifies[0][1], snapshots[0][1]
        # The photo: the notify call whose picture is a snapshot file.
        photo = next(
            (ts for _p, ts, params in notifies if _names_snapshot(ctx, params)),
            alert,
        )
        out["event_to_run_start_ms"].append((trace.start - s["t_event"]) / MS)
        out["run_start_to_alert_step_ms"].append((alert - trace.start) / MS)
        out["alert_step_to_phone_ms"].append((s["first"] - alert) / MS)
        out["event_to_snapshot_step_ms"].append((snap - s["t_event"]) / MS)
        out["snapshot_step_ms"].append((photo - snap) / MS)
        out["notify_step_to_phone_ms"].append((s["photo"] - photo) / MS)
        keyed.append((trace, alert))
    return {**out, "steps_before_alert": step_breakdown(keyed)}


# --- 3. emergency -> first critical notification; escalation at its deadline -----------


async def _wait_emergency_idle(ctx: Context, key: str) -> None:
    ha, ents = ctx.ha, ctx.ents
    await ha.wait_for(
        lambda: ha.state(ents.emergency) == "off" and ha.state(ents.siren) == "off",
        5,
        "emergency cancelled",
    )
    await _wait_idle(ctx, key, 10)


async def bench_emergency(ctx: Context, n_quick: int, n_escalate: int) -> dict[str, Any]:
    ha, emu, phone, ents = ctx.ha, ctx.emu, ctx.phone, ctx.ents
    assert ctx.contact is not None
    contact = ctx.contact.phone
    problems: dict[str, list[str]] = {variant: [] for variant in VARIANTS}
    # What the blueprint does wrong that does not change the measurements.
    findings: dict[str, list[str]] = {variant: [] for variant in VARIANTS}
    await emu.clear_log()
    # Every write of the event's and the sensor's state: (context id, time written). An
    # automation run names the write that triggered it (its context's parent); the
    # sensor is written more than once per press (attributes), so the newest state's
    # context is not always the one that triggered a run.
    writes: list[tuple[str, int]] = []

    def listener(data: dict[str, Any], _arrived: int) -> None:
        if data["entity_id"] in (ents.emergency_event, ents.emergency) and (
            new := data.get("new_state")
        ):
            writes.append((new["context"]["id"], ctx.clock.wall_to_mono(new["last_updated"])))

    async def press(variant: str, escalate: bool) -> dict[str, Any]:
        key = AUTOMATION_OF[("emergency", variant)]
        phone.drain()
        contact.drain()
        previous = ha.states[ents.emergency_event].state["last_changed"]
        first_write = len(writes)
        t_press = (await emu.post("/devices/bell-1/press"))["t"]
        note = await next_notification(
            phone,
            lambda n: n.arrived >= t_press and is_critical(n),
            5,
            "critical emergency notification",
        )
        await ha.wait_for(
            lambda: ha.states[ents.emergency_event].state["last_changed"] != previous
            and ha.state(ents.emergency) == "on",
            5,
            "emergency event and sensor",
        )
        event = ha.states[ents.emergency_event].state
        sample = {
            "t_press": t_press,
            "first": note.arrived,
            "payload": payload(note),
            # A run is triggered by the event (minimal) or the sensor (blueprint).
            "states": dict(writes[first_write:]),
            "t_event": ctx.clock.wall_to_mono(event["last_changed"]),
            "escalate": escalate,
        }
        if escalate:
            deadline = t_press + ESCALATION_DELAY * 1_000_000_000
            await asyncio.sleep(max(0.0, (deadline - time.monotonic_ns()) / 1e9 - 0.1))
            siren = None
            give_up = time.monotonic() + 3
            while siren is None and time.monotonic() < give_up:
                siren = next(
                    (c for c in await emu.log() if c["command"] == "siren_on" and c["t"] > t_press),
                    None,
                )
                if siren is None:
                    await asyncio.sleep(0.05)
            if siren is None:
                problems[variant].append("no escalation within 3 s of the deadline")
            else:
                sample["siren_after_deadline"] = (siren["t"] - deadline) / MS
            if variant == "blueprint":
                with contextlib.suppress(BenchError):
                    told = await next_notification(
                        contact, lambda n: n.arrived >= t_press, 3, "contact alert"
                    )
                    sample["contact_after_deadline"] = (told.arrived - deadline) / MS
                    sample["contact_critical"] = is_critical(told)
                if "contact_after_deadline" not in sample:
                    findings[variant].append("the contact's phone was not told")
                elif not sample["contact_critical"]:
                    findings[variant].append("the contact's alert is not critical")
        await ha.call("seoul_safehome", "cancel_emergency", {"device_id": ents.bell_device})
        await _wait_emergency_idle(ctx, key)
        if not escalate:
            if any(c["command"] == "siren_on" and c["t"] > t_press for c in await emu.log()):
                problems[variant].append("escalated although cancelled")
            if any(n.arrived >= t_press for n in _queued(contact)):
                findings[variant].append("the contact was told of a cancelled emergency")
        return sample

    async def quick(variant: str, k: int) -> list[dict[str, Any]]:
        return [await press(variant, False) for _ in range(k)]

    async def escalating(variant: str, k: int) -> list[dict[str, Any]]:
        return [await press(variant, True) for _ in range(k)]

    ha.listeners.append(listener)
    try:
        samples = await interleave(ctx, "emergency", n_quick, BLOCK, quick)
        escalations = await interleave(ctx, "emergency", n_escalate, ESCALATION_BLOCK, escalating)
    finally:
        ha.listeners.remove(listener)
    for variant, more in escalations.items():
        samples[variant] += more
    results: dict[str, Any] = {"escalation_delay_s": ESCALATION_DELAY}
    for variant, variant_samples in samples.items():
        traces = await _traces(ctx, AUTOMATION_OF[("emergency", variant)])
        results[variant] = {
            **_emergency_analysis(ctx, variant_samples, traces),
            "problems": problems[variant],
            "findings": findings[variant],
            "first_alert_payload": variant_samples[0]["payload"] if variant_samples else {},
        }
    return results


def _queued(phone: Phone) -> list[Notification]:
    """The notifications waiting in a phone's queue (left there)."""
    items = []
    while not phone.queue.empty():
        items.append(phone.queue.get_nowait())
    for item in items:
        phone.queue.put_nowait(item)
    return items


def _emergency_analysis(
    ctx: Context, samples: list[dict[str, Any]], traces: dict[str, RunTrace]
) -> dict[str, Any]:
    assert ctx.mine is not None
    service = ctx.mine.notify.split(".", 1)[1]
    out: dict[str, list[float]] = defaultdict(list)
    keyed: list[tuple[RunTrace, int]] = []
    for s in samples:
        out["first_notification_ms"].append((s["first"] - s["t_press"]) / MS)
        out["push_ms"].append((s["t_event"] - s["t_press"]) / MS)
        if "siren_after_deadline" in s:
            out["escalation_after_deadline_ms"].append(s["siren_after_deadline"])
        if "contact_after_deadline" in s:
            out["contact_after_deadline_ms"].append(s["contact_after_deadline"])
        # The run of this press that sent the alert (the event's run may have stopped
        # at its conditions, the sensor's carried on: the blueprint).
        runs = [(traces[c], t) for c, t in s["states"].items() if c in traces]
        trace, t_trigger = next(
            ((run, t) for run, t in runs if run.calls("notify", service)),
            runs[0] if runs else (None, s["t_event"]),
        )
        out["press_to_trigger_state_ms"].append((t_trigger - s["t_press"]) / MS)
        out["ha_to_phone_ms"].append((s["first"] - t_trigger) / MS)
        if trace is None or not (notifies := trace.calls("notify", service)):
            continue
        notify = notifies[0][1]
        out["trigger_state_to_run_start_ms"].append((trace.start - t_trigger) / MS)
        out["run_start_to_notify_step_ms"].append((notify - trace.start) / MS)
        out["event_to_notify_step_ms"].append((notify - t_trigger) / MS)
        out["notify_step_to_phone_ms"].append((s["first"] - notify) / MS)
        keyed.append((trace, notify))
    return {**out, "steps_before_alert": step_breakdown(keyed)}


# --- 4. hub restart -> all entities available and in sync ------------------------------


async def bench_restart(ctx: Context, n: int, downtime: float) -> dict[str, Any]:
    ha, emu, ents = ctx.ha, ctx.emu, ctx.ents
    entities = [eid for eid in ents.all_ids if eid in ha.states]
    went_unavailable: set[str] = set()

    def listener(data: dict[str, Any], _arrived: int) -> None:
        new = data.get("new_state")
        if new and new["state"] == "unavailable" and data["entity_id"] in entities:
            went_unavailable.add(data["entity_id"])

    from_call, from_back, available_from_back = [], [], []
    problems: list[str] = []
    ha.listeners.append(listener)
    try:
        for i in range(n):
            went_unavailable.clear()
            battery = (await emu.device("doorbell-1"))["battery"]
            level = 61 if battery == 60 else 60

            def all_available() -> bool:
                return all(ha.state(eid) not in (None, "unavailable") for eid in entities)

            def in_sync(level: int = level) -> bool:
                return (
                    all_available()
                    and ha.state(ents.door) == "on"
                    and ha.state(ents.doorbell_battery) == str(level)
                )

            t_call = time.monotonic_ns()
            await emu.post("/restart", {"downtime": downtime})
            # State changes while the hub is down: their events are lost, so only a
            # resync after the restart can bring them to Home Assistant.
            await emu.post("/devices/lock-1/door", {"state": "open"})
            await emu.post("/devices/doorbell-1/battery", {"level": level})
            await ha.wait_for(lambda: ha.state(ents.door) == "unavailable", 5, "unavailable")
            limit = downtime + 40  # beyond the client's longest reconnect backoff (30 s)
            t_available = await ha.wait_for(all_available, limit, "entities available")
            t_sync = await ha.wait_for(in_sync, limit, f"in sync after restart {i}")
            t_back = t_call + int(downtime * 1e9)
            from_call.append((t_sync - t_call) / MS)
            from_back.append((t_sync - t_back) / MS)
            available_from_back.append((t_available - t_back) / MS)
            # (The hub's connectivity sensor stays available: it reports the link.)
            expected = {e for e in entities if not e.endswith("_connectivity")}
            if missing := sorted(expected - went_unavailable):
                problems.append(f"restart {i}: entities that stayed available: {missing}")
            await emu.post("/devices/lock-1/door", {"state": "closed"})
            await ha.wait_for(lambda: ha.state(ents.door) == "off", 5, "door closed")
            await asyncio.sleep(0.3)
    finally:
        ha.listeners.remove(listener)
    return {
        "from_restart_call_ms": from_call,
        "from_hub_back_ms": from_back,
        "available_from_hub_back_ms": available_from_back,
        "downtime_s": downtime,
        "entities": len(entities),
        "problems": problems,
    }


# --- 5. 1,000 events/s for 10 s ------------------------------------------------------


async def bench_flood(ctx: Context) -> dict[str, Any]:
    ha, emu, ents = ctx.ha, ctx.emu, ctx.ents
    motion = ents.cam_motion
    seen = {"n": 0, "first": 0, "last": 0}

    def listener(data: dict[str, Any], arrived: int) -> None:
        if data["entity_id"] != motion:
            return
        old, new = data.get("old_state"), data.get("new_state")
        if old and new and old["state"] != new["state"] and new["state"] in ("on", "off"):
            seen["n"] += 1
            seen["first"] = seen["first"] or arrived
            seen["last"] = arrived

    start_state = (await emu.device("cam-1"))["state"]["motion"]
    seq_before = (await emu.hub())["last_seq"]
    ha.listeners.append(listener)
    try:
        cpu_ha0, cpu_emu0 = cpu_seconds(ctx.ha_process.pid), cpu_seconds(ctx.emu_process.pid)
        cpu_bench0 = time.process_time()
        t0 = time.monotonic_ns()
        await emu.post("/flood", {"count": FLOOD_COUNT, "rate": FLOOD_RATE, "kind": "motion"})
        last_progress, last_n = time.monotonic(), 0
        give_up = time.monotonic() + FLOOD_COUNT / FLOOD_RATE + 30
        expected_events = FLOOD_COUNT * 3 // 2
        emitted_at = 0
        backlog = 0.0
        while seen["n"] < FLOOD_COUNT and time.monotonic() < give_up:
            await asyncio.sleep(0.1)
            emitted = (await emu.hub())["last_seq"] - seq_before
            if not emitted_at and emitted >= expected_events:
                emitted_at = time.monotonic_ns()
            # State changes the hub has produced that Home Assistant has not shown yet.
            backlog = max(backlog, emitted * 2 / 3 - seen["n"])
            if seen["n"] != last_n:
                last_n, last_progress = seen["n"], time.monotonic()
            elif time.monotonic() - last_progress > 5 and time.monotonic() > (
                t0 / 1e9 + FLOOD_COUNT / FLOOD_RATE + 2
            ):
                break
        t1 = time.monotonic_ns()
        cpu_ha = cpu_seconds(ctx.ha_process.pid) - cpu_ha0
        cpu_emu = cpu_seconds(ctx.emu_process.pid) - cpu_emu0
        cpu_bench = time.process_time() - cpu_bench0
    finally:
        ha.listeners.remove(listener)
    await asyncio.sleep(0.5)
    hub = await emu.hub()
    emitted = hub["last_seq"] - seq_before
    diagnostics = await ha.rest("GET", f"/api/diagnostics/config_entry/{ctx.entry_id}")
    link = diagnostics["data"]["link"]
    end_state = (await emu.device("cam-1"))["state"]["motion"]
    ha_state = ha.state(motion)
    wall = (t1 - t0) / 1e9
    receive_span = (seen["last"] - seen["first"]) / 1e9 if seen["n"] > 1 else 0
    missed_log = []
    ha_log = ctx.ha_config / "home-assistant.log"
    if ha_log.exists():
        missed_log = [
            line
            for line in ha_log.read_text(errors="replace").splitlines()
            if "were missed" in line or "too slow" in line
        ]
    return {
        "toggles_sent": FLOOD_COUNT,
        "rate_requested": FLOOD_RATE,
        "protocol_events_emitted": emitted,
        "state_changes_received": seen["n"],
        "lost": FLOOD_COUNT - seen["n"],
        "receive_span_s": receive_span,
        "emit_span_s": (emitted_at - t0) / 1e9 if emitted_at else None,
        "max_backlog_state_changes": round(backlog),
        "received_per_s": seen["n"] / receive_span if receive_span else 0,
        "protocol_events_per_s": emitted / receive_span if receive_span else 0,
        "ha_link_last_seq": link["last_seq"],
        "hub_last_seq": hub["last_seq"],
        "ha_link_in_step": (link["last_seq"], link["boot_id"]) == (hub["last_seq"], hub["boot_id"]),
        "final_state_matches": (ha_state == "on") == end_state and start_state == end_state,
        "ha_cpu_s": cpu_ha,
        "ha_cpu_pct_of_one_core": 100 * cpu_ha / wall,
        "emulator_cpu_pct_of_one_core": 100 * cpu_emu / wall,
        "bench_cpu_pct_of_one_core": 100 * cpu_bench / wall,
        "window_s": wall,
        "gap_or_slow_client_log_lines": missed_log[:5],
    }


# --- report ----------------------------------------------------------------------------


def p99(values: list[float]) -> float:
    """The 99th percentile (nearest rank) of some values (inf if none)."""
    return float(summarize(values).get("p99", float("inf")))


def compare_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Blueprint and minimal automation side by side: one row per metric."""
    rows: list[dict[str, Any]] = []

    def add(name: str, key: str, source: dict[str, Any], bars: dict[str, tuple]) -> None:
        row: dict[str, Any] = {"metric": name}
        for variant in VARIANTS:
            values = source.get(variant, {}).get(key, [])
            bar, passed = bars.get(variant, ("", None))
            row[variant] = {"bar": bar, "pass": passed, **summarize(values)}
        rows.append(row)

    def bar(variant_results: dict[str, Any], key: str, limit: float, extra: bool = True) -> tuple:
        values = variant_results.get(key, [])
        return f"p99<={limit:g}", bool(values) and p99(values) <= limit and extra

    if lock := results.get("lock"):
        bp, mini = lock["blueprint"], lock["minimal"]
        add(
            "door closed -> lock cmd at device",
            "total_ms",
            lock,
            {
                "blueprint": bar(bp, "total_ms", BP_LOCK_BAR_MS),
                "minimal": bar(mini, "total_ms", LOCK_BAR_MS),
            },
        )
        add("  door closed -> HA door state", "push_ms", lock, {})
        add("  HA door state -> lock cmd", "ha_to_command_ms", lock, {})
        add("    HA door state -> run starts", "ha_state_to_run_start_ms", lock, {})
        add("    HA door state -> lock.lock starts", "ha_state_to_action_ms", lock, {})
        add("    lock.lock starts -> cmd at device", "action_to_command_ms", lock, {})
    if bell := results.get("doorbell"):
        bp, mini = bell["blueprint"], bell["minimal"]
        add(
            "ring -> first alert on the phone",
            "first_alert_ms",
            bell,
            {"blueprint": bar(bp, "first_alert_ms", BP_ALERT_BAR_MS)},
        )
        add(
            "ring -> phone with a fresh snapshot",
            "total_ms",
            bell,
            {
                "blueprint": bar(bp, "total_ms", BP_PHOTO_BAR_MS, not bp["problems"]),
                "minimal": bar(mini, "total_ms", DOORBELL_BAR_MS, not mini["problems"]),
            },
        )
        add("  ring -> HA event state", "push_ms", bell, {})
        add("  HA event -> run starts", "event_to_run_start_ms", bell, {})
        add("  run starts -> alert notify starts", "run_start_to_alert_step_ms", bell, {})
        add("  alert notify -> phone", "alert_step_to_phone_ms", bell, {})
        add("  HA event -> camera.snapshot starts", "event_to_snapshot_step_ms", bell, {})
        add("  camera.snapshot -> photo notify", "snapshot_step_ms", bell, {})
        add("  photo notify -> phone", "notify_step_to_phone_ms", bell, {})
    if em := results.get("emergency"):
        bp, mini = em["blueprint"], em["minimal"]
        add(
            "emergency -> first critical notif.",
            "first_notification_ms",
            em,
            {
                "blueprint": bar(bp, "first_notification_ms", BP_EMERGENCY_BAR_MS),
                "minimal": bar(mini, "first_notification_ms", EMERGENCY_BAR_MS),
            },
        )
        add("  press -> HA event state", "push_ms", em, {})
        add("  press -> HA trigger state", "press_to_trigger_state_ms", em, {})
        add("  trigger state -> run starts", "trigger_state_to_run_start_ms", em, {})
        add("  run starts -> notify starts", "run_start_to_notify_step_ms", em, {})
        add("  notify starts -> phone", "notify_step_to_phone_ms", em, {})

        def escalation_bar(variant_results: dict[str, Any]) -> tuple:
            esc = variant_results.get("escalation_after_deadline_ms", [])
            ok = bool(esc) and max(abs(v) for v in esc) <= ESCALATION_BAR_MS
            return f"|x|<={ESCALATION_BAR_MS:g}", ok and not variant_results["problems"]

        add(
            f"escalation: siren cmd - {em['escalation_delay_s']} s deadline",
            "escalation_after_deadline_ms",
            em,
            {"blueprint": escalation_bar(bp), "minimal": escalation_bar(mini)},
        )
        add("escalation: contact's alert - deadline", "contact_after_deadline_ms", em, {})
    return rows


def single_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows that do not depend on the automations."""
    rows = []

    def add(name: str, values: list[float], bar: str = "", passed: bool | None = None) -> None:
        rows.append({"metric": name, "bar": bar, "pass": passed, **summarize(values)})

    if base := results.get("baseline"):
        add("HA engine: bool -> automation -> bool", base["total_ms"], "(ref 0.9)")
        add("  bool state -> automation run starts", base["state_to_run_start_ms"])
        add("  bool state -> action starts", base["state_to_action_ms"])
        if (lock := results.get("lock")) and base["total_ms"]:
            ratio = p99(lock["blueprint"]["total_ms"]) / p99(base["total_ms"])
            rows.append(
                {
                    "metric": "door->lock blueprint p99 / engine p99 (x)",
                    "bar": f"<={BP_LOCK_BASELINE_FACTOR:g}",
                    "pass": ratio <= BP_LOCK_BASELINE_FACTOR,
                    "n": 1,
                    "p99": ratio,
                }
            )
    if rs := results.get("restart"):
        back, call = rs["from_hub_back_ms"], rs["from_restart_call_ms"]
        ok = bool(back) and p99(back) <= RESTART_BAR_MS and max(back) <= 2000 and not rs["problems"]
        add("restart: hub back -> all avail.+in sync", back, f"p99<={RESTART_BAR_MS}", ok)
        add("restart: restart call -> in sync", call, "(<=2000)", bool(call) and max(call) <= 2000)
        add("  hub back -> all available", rs["available_from_hub_back_ms"])
    if rl := results.get("restart_long"):
        back = rl["from_hub_back_ms"]
        ok = bool(back) and p99(back) <= RESTART_BAR_MS and max(back) <= 2000 and not rl["problems"]
        add(
            f"restart ({rl['downtime_s']:g} s down): back -> in sync",
            back,
            f"p99<={RESTART_BAR_MS}",
            ok,
        )
    return rows


def build_rows(results: dict[str, Any]) -> dict[str, Any]:
    steps = {
        f"{scenario}: blueprint steps before {what}": results[scenario]["blueprint"][key]
        for scenario, key, what in (
            ("lock", "steps_before_lock", "lock.lock"),
            ("doorbell", "steps_before_alert", "the first alert's notify"),
            ("emergency", "steps_before_alert", "the first alert's notify"),
        )
        if scenario in results
    }
    return {"compare": compare_rows(results), "single": single_rows(results), "steps": steps}


def fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _ok(passed: bool | None) -> str:
    return "" if passed is None else ("PASS" if passed else "FAIL")


def print_table(table: dict[str, Any], results: dict[str, Any]) -> None:
    if compare := table["compare"]:
        cells = " ".join(f"{name:>7}" for name in ("n", "p50", "p90", "p99", "max"))
        header = f"{'metric (ms)':38} | {'blueprint':>9} {cells}   ok | {'minimal':>9} {cells}   ok"
        print(header)
        print("-" * len(header))
        for r in compare:
            parts = [f"{r['metric']:38}"]
            for variant in VARIANTS:
                s = r[variant]
                numbers = " ".join(
                    f"{fmt(s.get(k)) if s.get('n') else '':>7}"
                    for k in ("n", "p50", "p90", "p99", "max")
                )
                parts.append(f"{s['bar']:>9} {numbers} {_ok(s['pass']):>4}")
            print(" | ".join(parts))
        print()
    if single := table["single"]:
        header = f"{'metric (ms)':44} {'bar':>9} {'n':>4} " + " ".join(
            f"{name:>8}" for name in ("p50", "p90", "p99", "max")
        )
        header += "  ok"
        print(header)
        print("-" * len(header))
        for r in single:
            print(
                f"{r['metric']:44} {r['bar']:>9} {r.get('n', 0):>4} {fmt(r.get('p50')):>8} "
                f"{fmt(r.get('p90')):>8} {fmt(r.get('p99')):>8} {fmt(r.get('max')):>8}  "
                f"{_ok(r['pass'])}"
            )
    if fl := results.get("flood"):
        ok = fl["lost"] == 0 and fl["ha_link_in_step"] and fl["final_state_matches"]
        print(
            f"flood: {fl['state_changes_received']}/{fl['toggles_sent']} motion state changes "
            f"received in HA ({fl['protocol_events_emitted']} protocol events) over "
            f"{fl['receive_span_s']:.2f} s = {fl['received_per_s']:.0f} changes/s, "
            f"{fl['protocol_events_per_s']:.0f} events/s (the emulator emitted them in "
            f"{fl['emit_span_s'] or float('nan'):.2f} s; HA's backlog <= "
            f"{fl['max_backlog_state_changes']} changes); HA CPU "
            f"{fl['ha_cpu_pct_of_one_core']:.0f} % of a core, emulator "
            f"{fl['emulator_cpu_pct_of_one_core']:.0f} %  {'PASS' if ok else 'FAIL'}"
        )
    for title, rows in table["steps"].items():
        print(f"{title} (from each step's start to the next step's start; ms):")
        for r in rows:
            if r.get("p50", 0) >= 0.1 or r.get("p99", 0) >= 1.0:
                print(
                    f"  {r['step'][:80]:80} n={r['n']:<4} p50 {fmt(r['p50']):>6}  "
                    f"p90 {fmt(r['p90']):>6}  p99 {fmt(r['p99']):>6}"
                )
    for key in ("doorbell", "emergency"):
        for variant in VARIANTS:
            for kind in ("problems", "findings"):
                found = results.get(key, {}).get(variant, {}).get(kind, [])
                for text, count in Counter(found).most_common(5):
                    print(f"  {kind[:-1]} ({key}, {variant}): {text} (x{count})")
    for key in ("restart", "restart_long"):
        for problem in results.get(key, {}).get("problems", [])[:5]:
            print(f"  problem ({key}): {problem}")
    if lock := results.get("lock"):
        for variant in VARIANTS:
            data = lock[variant]
            limit = BP_LOCK_BAR_MS if variant == "blueprint" else LOCK_BAR_MS
            pairs = list(zip(data["total_ms"], data["run_queue_wait_in_window_ms"], strict=True))
            slow = [waited for total, waited in pairs if total > limit]
            fast = [waited for total, waited in pairs if total <= limit]
            if slow and fast:
                print(
                    f"door->lock ({variant}) iterations over {limit:g} ms: {len(slow)}; HA+"
                    f"emulator main threads waited for a CPU {summarize(slow)['p50']:.1f} ms "
                    f"(median) in their window, vs {summarize(fast)['p50']:.1f} ms in the others"
                )
    waits = [
        f"{name} {r['run_queue_wait_ms']['home_assistant']:.0f}/"
        f"{r['run_queue_wait_ms']['emulator']:.0f} ms in {r['scenario_s']:.0f} s"
        for name in SCENARIOS
        if isinstance(r := results.get(name), dict) and "run_queue_wait_ms" in r
    ]
    if waits:
        print("CPU contention, main threads runnable but not running (HA/emulator):")
        print("  " + "; ".join(waits))


def log_errors(path: Path) -> list[str]:
    """The ERROR lines of Home Assistant's log (none expected, blueprints included)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if " ERROR " in line]


def environment() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
    }
    try:
        from homeassistant.const import __version__ as ha_version

        info["home_assistant"] = ha_version
    except ImportError:
        pass
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    return info


# --- main ------------------------------------------------------------------------------


async def run(args: argparse.Namespace, workdir: Path, processes: list[Process]) -> dict[str, Any]:
    quick = args.quick
    n = args.iterations or (50 if quick else 200)
    n_escalate = 6 if quick else 30
    n_restart = 5 if quick else 40
    n_long_restart = 2 if quick else 8
    only = set(args.only.split(",")) if args.only else set(SCENARIOS)
    results: dict[str, Any] = {
        "quick": quick,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "environment": environment(),
        "load_average_before": load_average(),
        "recorder": not args.no_recorder,
        "nice": args.nice,
    }
    t_start = time.monotonic()
    emu_process, hub = start_emulator(workdir, EMULATOR_SETTINGS, args.nice)
    processes.append(emu_process)
    ha_port = free_port()
    ha_process, snapshots = start_home_assistant(
        workdir, ha_port, recorder=not args.no_recorder, nice=args.nice, snapshots_as_media=True
    )
    processes.append(ha_process)
    log(
        f"emulator on :{hub.port} (control :{hub.control_port}), "
        f"Home Assistant starting on :{ha_port} ({workdir})"
    )
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        phone, contact_phone = Phone(), Phone()
        await phone.start()
        await contact_phone.start()
        ha = HomeAssistant(session, f"http://127.0.0.1:{ha_port}")
        try:
            results["ha_start_s"] = await ha.wait_started(ha_process)
            log(f"Home Assistant answers after {results['ha_start_s']:.1f} s; onboarding")
            await ha.onboard()
            emu = Emulator(session, hub.control_url)
            entry_id = await add_integration(ha, emu, hub)
            await ha.connect_ws()
            ents = await find_entities(ha)
            await ha.wait_for(
                lambda: all(ha.state(e) not in (None, "unavailable") for e in ents.all_ids),
                30,
                "the integration's entities",
            )
            metadata = await wait_blueprints(ha)
            ctx = Context(
                ha=ha,
                emu=emu,
                phone=phone,
                clock=Clock(),
                ents=ents,
                snapshots=snapshots,
                ha_process=ha_process,
                emu_process=emu_process,
                ha_config=workdir / "ha",
                entry_id=entry_id,
            )
            await add_phones(ctx, contact_phone)
            assert ctx.mine is not None
            # Enough traces kept to split every run's latency at its steps.
            traces = max(1000, 3 * (n + n_escalate) + 100)
            await create_automations(ctx, minimal_configs(ents, snapshots, ctx.mine.notify), traces)
            blueprints = blueprint_configs(ctx, metadata)
            results["blueprint_inputs"] = {
                key: config["use_blueprint"] for key, config in blueprints.items()
            }
            installed = workdir / "ha" / "blueprints" / "automation" / "seoul_safehome"
            results["blueprints_sha256"] = {
                name: hashlib.sha256((installed / name).read_bytes()).hexdigest()[:12]
                for name in BLUEPRINTS.values()
            }
            await create_automations(ctx, blueprints, traces)
            results["setup_s"] = time.monotonic() - t_start
            log(f"set up in {results['setup_s']:.1f} s: {len(ents.all_ids)} entities")
            if args.hold:
                log(f"Home Assistant pid {ha_process.pid}; holding {args.hold:g} s")
                await asyncio.sleep(args.hold)

            scenarios = {
                "baseline": lambda: bench_baseline(ctx, n),
                "lock": lambda: bench_lock(ctx, n),
                "doorbell": lambda: bench_doorbell(ctx, n),
                "emergency": lambda: bench_emergency(ctx, n, n_escalate),
                # Without the automations (a restart or a flood must not trigger them).
                "restart": lambda: bench_restart(ctx, n_restart, RESTART_DOWNTIME),
                "restart_long": lambda: bench_restart(ctx, n_long_restart, LONG_RESTART_DOWNTIME),
                "flood": lambda: bench_flood(ctx),
            }
            automations_off = False
            for name in SCENARIOS:
                if name not in only:
                    continue
                if name in ("restart", "restart_long", "flood") and not automations_off:
                    await set_automations(ctx, on=False)
                    automations_off = True
                t = time.monotonic()
                ctx.clock.calibrate()
                waits = [run_queue_wait_ms(p.pid) for p in (ha_process, emu_process)]
                results[name] = await scenarios[name]()
                after = [run_queue_wait_ms(p.pid) for p in (ha_process, emu_process)]
                elapsed = time.monotonic() - t
                results[name]["scenario_s"] = elapsed
                # How long the main threads were runnable but got no CPU (contention).
                results[name]["run_queue_wait_ms"] = {
                    "home_assistant": after[0] - waits[0],
                    "emulator": after[1] - waits[1],
                }
                log(f"{name}: {elapsed:.1f} s")
        finally:
            await ha.close()
            await phone.stop()
            await contact_phone.stop()
    results["load_average_after"] = load_average()
    results["duration_s"] = time.monotonic() - t_start
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (~2.5 min)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--only", help=f"comma-separated scenarios to run (of {','.join(SCENARIOS)})"
    )
    parser.add_argument(
        "--iterations",
        type=int,
        help="iterations of the latency scenarios, per variant (200; quick 50)",
    )
    parser.add_argument(
        "--no-recorder",
        action="store_true",
        help="leave out history/logbook (and so the recorder), to see what it costs",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run Home Assistant, the emulator and the bench at this nice value "
        "(negative needs root): approximates a dedicated machine while other jobs "
        "share this one",
    )
    parser.add_argument(
        "--hold",
        type=float,
        default=0,
        help="seconds to wait after set-up before measuring (to attach a profiler)",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    args = parser.parse_args()

    def terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    if args.nice:
        os.nice(args.nice)
    workdir = Path(tempfile.mkdtemp(prefix="safehome-bench-"))
    processes: list[Process] = []
    try:
        results = asyncio.run(run(args, workdir, processes))
    except BenchError as err:
        log(f"FAILED: {err}")
        for process in processes:
            log(f"--- {process.name} output (tail) ---\n{process.tail(30)}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        for process in reversed(processes):
            process.stop()
        # (Read before the temp dir goes, after Home Assistant stopped.)
        errors = log_errors(workdir / "ha" / "home-assistant.log")
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["ha_log_errors"] = errors
    table = build_rows(results)
    results["table"] = table
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1))
    print_table(table, results)
    print(
        f"Home Assistant's log: {len(errors)} ERROR lines"
        + "".join(f"\n  {line[:200]}" for line in errors[:5])
    )
    la = results["load_average_before"], results["load_average_after"]
    output = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(
        f"run took {results['duration_s']:.0f} s (HA up in {results['ha_start_s']:.1f} s); "
        f"load average before {la[0][0]:.2f}, after {la[1][0]:.2f} on {os.cpu_count()} CPUs; "
        f"results in {output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
