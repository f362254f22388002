"""Configuration, the Python API's life cycle and the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
import re
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
from safehome_emulator.guard import loopback_warning

ROOT = Path(__file__).parent.parent.parent


def test_defaults() -> None:
    config = EmulatorConfig()
    assert (config.host, config.port, config.pairing_code) == ("127.0.0.1", 8765, None)
    assert (config.hub_id, config.api_version, config.heartbeat) == ("shub-demo01", "2.0", 10.0)
    assert (config.replay_buffer, config.motor_time, config.control) == (8192, 0.15, False)
    assert (config.control_host, config.control_port) == ("127.0.0.1", 8766)
    assert (config.pairing_window, config.pairing_attempts) == (120.0, 3)
    assert config.state_dir is None
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
        ("pairing_attempts", 0),
        ("pairing_attempts", 11),
        ("pairing_attempts", 2.5),
        ("pairing_window", 0),
        ("pairing_window", 3601),
        ("state_dir", ""),
        ("state_dir", 5),
        ("control_host", ""),
        ("control_port", -1),
        ("control_port", 70000),
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
    argv = ["--config", str(path), "--port", "0", "--no-zeroconf"]
    args = build_parser().parse_args([*argv, "--dev-fixed-pairing-code", "654321"])
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
            "--control-host",
            "::1",
            "--control-port",
            "9001",
            "--state-dir",
            str(tmp_path),
            "--pairing-window",
            "30",
        ]
    )
    config = config_from_args(args)
    assert (config.host, config.hub_id, config.api_version) == ("127.0.0.2", "shub-cli", "1.3")
    assert (config.heartbeat, config.replay_buffer, config.log_level) == (2.5, 100, "debug")
    assert (config.control, config.control_host, config.control_port) == (True, "::1", 9001)
    assert (config.state_dir, config.pairing_window) == (str(tmp_path), 30.0)


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
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--dev-fixed-pairing-code", "--state-dir", "--control-host", "--control-port"):
        assert option in text
    # It says why the control surface is off by default and on loopback only.
    assert "Off by default, and on loopback only" in text
    assert "WITHOUT a token" in text
    assert "anyone who can reach it can open the door" in text


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
    for option in (
        "--host",
        "--port",
        "--config",
        "--control",
        "--control-host",
        "--control-port",
        "--state-dir",
        "--dev-fixed-pairing-code",
        "--no-zeroconf",
        "--log-level",
    ):
        assert option in result.stdout


async def _line(stream: asyncio.StreamReader) -> str:
    return (await asyncio.wait_for(stream.readline(), 30)).decode().strip()


async def test_module_runs_in_a_subprocess(socket_enabled: None) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "safehome_emulator",
        "--port",
        "0",
        "--control-port",
        "0",
        "--no-zeroconf",
        "--control",
        "--log-level",
        "warning",
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await _line(proc.stdout)
        assert line.startswith("SafeHome emulator listening on https://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        line = await _line(proc.stdout)
        assert re.fullmatch(r"Certificate fingerprint \(SHA-256\): [0-9a-f]{64}", line), line
        fingerprint = line.rsplit(" ", 1)[1]
        line = await _line(proc.stdout)
        assert re.fullmatch(r"Control surface: http://127\.0\.0\.1:\d+/control", line), line
        control = line.split(" ", 2)[2].removesuffix("/control")
        assert await _line(proc.stdout) == "Pairing button: SIGUSR1, the control page's button"
        async with aiohttp.ClientSession() as session:
            pinned = aiohttp.Fingerprint(bytes.fromhex(fingerprint))
            async with session.get(f"{url}/api/v2/info", ssl=pinned) as resp:
                assert (await resp.json())["id"] == "shub-demo01"
            # The pairing button: the code is printed (the hub's display), fresh each time.
            async with session.post(f"{control}/control/pairing") as resp:
                code = (await resp.json())["code"]
            assert re.fullmatch(r"[0-9]{6}", code)
            shown = f"Pairing window open for 120 s: code {code[:3]} {code[3:]}"
            assert await _line(proc.stdout) == shown
        proc.send_signal(signal.SIGUSR1)
        line = await _line(proc.stdout)
        assert re.fullmatch(r"Pairing window open for 120 s: code \d{3} \d{3}", line), line
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        assert proc.stderr is not None
        assert code not in (await proc.stderr.read()).decode()  # never in a log
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_run_until_stopped(socket_enabled: None, capsys: pytest.CaptureFixture[str]) -> None:
    stop = asyncio.Event()
    stop.set()
    await run(EmulatorConfig(port=0, zeroconf=False, control=True, control_port=0), stop)
    out = capsys.readouterr().out
    assert "SafeHome emulator listening on https://127.0.0.1:" in out
    assert "Certificate fingerprint (SHA-256): " in out
    assert "Control surface: http://127.0.0.1:" in out
    assert "Pairing code" not in out  # no window is open at start-up


def test_control_beyond_loopback_is_a_loud_warning() -> None:
    assert loopback_warning("127.0.0.1") is None
    assert loopback_warning("127.0.0.2") is None
    assert loopback_warning("::1") is None
    assert loopback_warning("localhost") is None
    for host in ("0.0.0.0", "192.168.1.20", "::", "hub.example"):
        warning = loopback_warning(host)
        assert warning is not None
        assert warning.startswith("WARNING")
        assert "open the door" in warning
        assert "without a token" in warning


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
        assert emulator.url == f"https://127.0.0.1:{emulator.port}"
        assert emulator.api_url == f"{emulator.url}/api/v2"
        assert re.fullmatch(r"[0-9a-f]{64}", emulator.fingerprint)
        with pytest.raises(RuntimeError):
            _ = emulator.control_url  # off by default
        assert (emulator.pairing_open, emulator.pairing_code) == (False, None)
        code = emulator.open_pairing_window()
        assert re.fullmatch(r"[0-9]{6}", code)
        assert (emulator.pairing_open, emulator.pairing_code) == (True, code)
        emulator.close_pairing_window()
        assert (emulator.pairing_open, emulator.pairing_code) == (False, None)
        with pytest.raises(RuntimeError):
            await emulator.start()
    with pytest.raises(RuntimeError):
        _ = emulator.url
    await emulator.stop()


@pytest.mark.parametrize(
    ("host", "url", "control"),
    [
        ("0.0.0.0", "https://127.0.0.1:1234", "http://127.0.0.1:4321"),
        ("::1", "https://[::1]:1234", "http://[::1]:4321"),
    ],
)
def test_url_of_other_hosts(host: str, url: str, control: str) -> None:
    emulator = Emulator(host=host, control_host=host, zeroconf=False)
    emulator._port, emulator._control_port = 1234, 4321  # as if started
    assert (emulator.url, emulator.control_url) == (url, control)


async def test_start_failure_frees_everything(socket_enabled: None) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        emulator = Emulator(port=busy.getsockname()[1], zeroconf=False)
        with pytest.raises(OSError):  # noqa: PT011
            await emulator.start()
    await emulator.stop()  # nothing to stop


@pytest.mark.parametrize("broken", ["only a certificate", "not a certificate"])
async def test_main_reports_a_broken_state_dir(
    socket_enabled: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str
) -> None:
    (tmp_path / "hub-cert.pem").write_text("not a certificate")
    if broken == "not a certificate":
        (tmp_path / "hub-key.pem").write_text("not a key")
    argv = ["--port", "0", "--no-zeroconf", "--state-dir", str(tmp_path), "--log-level", "critical"]
    assert await asyncio.to_thread(main, argv) == 1
    assert "safehome_emulator:" in capsys.readouterr().err
