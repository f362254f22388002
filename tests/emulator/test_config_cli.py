"""Configuration, the Python API's life cycle and the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
import signal
import socket
import subprocess
import sys
from typing import Any

import aiohttp
import pytest

from safehome_emulator import Emulator, EmulatorConfig
from safehome_emulator.cli import build_parser, config_from_args, main, run
from safehome_emulator.config import load_config_file

ROOT = Path(__file__).parent.parent.parent


def test_defaults() -> None:
    config = EmulatorConfig()
    assert (config.host, config.port, config.pairing_code) == ("127.0.0.1", 8765, "123456")
    assert (config.hub_id, config.api_version, config.heartbeat) == ("shub-demo01", "1.0", 10.0)
    assert (config.replay_buffer, config.motor_time, config.control) == (8192, 0.15, False)
    assert config.zeroconf is True
    assert [d["id"] for d in config.devices] == ["doorbell-1", "cam-1", "lock-1", "bell-1"]
    # Each config has its own device list.
    config.devices.clear()
    assert len(EmulatorConfig().devices) == 4


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("host", ""),
        ("port", 70000),
        ("port", "80"),
        ("pairing_code", "12345"),
        ("pairing_code", 123456),
        ("hub_id", "bad id"),
        ("name", ""),
        ("api_version", "1"),
        ("heartbeat", 0),
        ("heartbeat", True),
        ("replay_buffer", 0),
        ("motor_time", -1),
        ("latch_time", 0),
        ("siren_duration", 0),
        ("battery_drain_interval", -1),
        ("mjpeg_fps", 0),
        ("video_fps", 0),
        ("video_preroll", 11),
        ("stream_key_ttl", 0),
        ("pair_max_failures", 0),
        ("pair_window", 0),
        ("log_level", "loud"),
        ("control", "yes"),
        ("zeroconf", 1),
        ("model", None),
        ("devices", {}),
        ("devices", ["lock"]),
        ("devices", [{"id": "a", "type": "camera"}, {"id": "a", "type": "camera"}]),
    ],
)
def test_invalid_values(field: str, value: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by field
        EmulatorConfig(**{field: value})


def test_invalid_device_is_refused_by_the_emulator() -> None:
    with pytest.raises(ValueError, match="battery"):
        Emulator(devices=[{"id": "x", "type": "camera", "battery": 200}])
    with pytest.raises(ValueError, match="needs a type"):
        Emulator(devices=[{"id": "x"}])


def test_from_mapping() -> None:
    config = EmulatorConfig.from_mapping({"hub-id": "shub-x", "motor_time": 0.5})
    assert (config.hub_id, config.motor_time) == ("shub-x", 0.5)
    with pytest.raises(ValueError, match="unknown configuration key 'colour'"):
        EmulatorConfig.from_mapping({"colour": "red"})


def test_load_config_file(tmp_path: Path) -> None:
    path = tmp_path / "hub.json"
    devices = [{"id": "lock-1", "type": "door_lock", "name": "Front door lock", "battery": 90}]
    path.write_text(
        json.dumps({"hub_id": "shub-file", "name": "파일 허브", "devices": devices}),
        encoding="utf-8",
    )
    config = load_config_file(path)
    assert (config.hub_id, config.name, config.devices) == ("shub-file", "파일 허브", devices)
    path.write_text("{nope", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_config_file(path)
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match="JSON object"):
        load_config_file(path)
    with pytest.raises(OSError):  # noqa: PT011
        load_config_file(tmp_path / "missing.json")


def test_command_line_overrides_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "hub.json"
    path.write_text(json.dumps({"port": 9000, "control": True, "heartbeat": 5}), encoding="utf-8")
    args = build_parser().parse_args(
        ["--config", str(path), "--port", "0", "--no-zeroconf", "--pairing-code", "654321"]
    )
    config = config_from_args(args)
    assert (config.port, config.control, config.heartbeat) == (0, True, 5)
    assert (config.zeroconf, config.pairing_code) == (False, "654321")
    assert config_from_args(argparse.Namespace()) == EmulatorConfig()
    args = build_parser().parse_args(
        [
            "--host",
            "127.0.0.2",
            "--hub-id",
            "shub-cli",
            "--api-version",
            "1.3",
            "--heartbeat",
            "2.5",
            "--replay-buffer",
            "100",
            "--log-level",
            "debug",
            "--control",
        ]
    )
    config = config_from_args(args)
    assert (config.host, config.hub_id, config.api_version) == ("127.0.0.2", "shub-cli", "1.3")
    assert (config.heartbeat, config.replay_buffer, config.log_level) == (2.5, 100, "debug")
    assert config.control is True


@pytest.mark.parametrize(
    "argv", [["--config", "/nonexistent.json"], ["--heartbeat", "0"], ["--port", "x"]]
)
def test_main_refuses_bad_settings(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as err:
        main(argv)
    assert err.value.code == 2
    assert "error" in capsys.readouterr().err


def test_main_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as err:
        main(["--help"])
    assert err.value.code == 0
    assert "--pairing-code" in capsys.readouterr().out


def test_module_help_in_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "safehome_emulator", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--host", "--port", "--config", "--control", "--no-zeroconf", "--log-level"):
        assert option in result.stdout


async def test_module_runs_in_a_subprocess(socket_enabled: None) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "safehome_emulator",
        "--port",
        "0",
        "--no-zeroconf",
        "--control",
        "--log-level",
        "warning",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line.startswith("SafeHome emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        assert (await proc.stdout.readline()).decode().strip() == "Pairing code: 123456"
        assert (await proc.stdout.readline()).decode().strip() == f"Control surface: {url}/control"
        async with aiohttp.ClientSession() as session, session.get(f"{url}/api/v1/info") as resp:
            assert (await resp.json())["id"] == "shub-demo01"
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_run_until_stopped(socket_enabled: None, capsys: pytest.CaptureFixture[str]) -> None:
    stop = asyncio.Event()
    stop.set()
    await run(EmulatorConfig(port=0, zeroconf=False, control=True), stop)
    out = capsys.readouterr().out
    assert "SafeHome emulator listening on http://127.0.0.1:" in out
    assert "Pairing code: 123456" in out
    assert "/control" in out


async def test_main_reports_a_busy_port(
    socket_enabled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = await asyncio.to_thread(
            main, ["--port", str(port), "--no-zeroconf", "--log-level", "critical"]
        )
    assert code == 1
    assert "safehome_emulator:" in capsys.readouterr().err


async def test_emulator_life_cycle(socket_enabled: None) -> None:
    emulator = Emulator(EmulatorConfig(zeroconf=False), port=0)
    with pytest.raises(RuntimeError):
        _ = emulator.port
    async with emulator:
        assert emulator.url == f"http://127.0.0.1:{emulator.port}"
        assert emulator.api_url == f"{emulator.url}/api/v1"
        assert emulator.pairing_code == "123456"
        with pytest.raises(RuntimeError):
            await emulator.start()
    with pytest.raises(RuntimeError):
        _ = emulator.url
    await emulator.stop()


@pytest.mark.parametrize(
    ("host", "url"),
    [("0.0.0.0", "http://127.0.0.1:1234"), ("::1", "http://[::1]:1234")],
)
def test_url_of_other_hosts(host: str, url: str) -> None:
    emulator = Emulator(host=host, zeroconf=False)
    emulator._port = 1234  # as if started
    assert emulator.url == url


async def test_start_failure_frees_everything(socket_enabled: None) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        emulator = Emulator(port=busy.getsockname()[1], zeroconf=False)
        with pytest.raises(OSError):  # noqa: PT011
            await emulator.start()
    await emulator.stop()  # nothing to stop
