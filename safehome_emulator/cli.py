"""Command line: `python -m safehome_emulator [options]`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
import logging
import signal
import sys

from .config import LOG_LEVELS, EmulatorConfig, load_config_file
from .guard import loopback_warning
from .server import Emulator

CONTROL_HELP = (
    "enable the control surface: a web page and JSON API on a separate plain-HTTP port "
    "that rings the doorbell, opens the door, raises alarms and presses the pairing button, "
    "all WITHOUT a token. Off by default, and on loopback only (127.0.0.1:8766) unless "
    "--control-host says otherwise: anyone who can reach it can open the door"
)
EPILOG = (
    "The API is served over HTTPS/WSS only, with a self-signed certificate whose SHA-256 "
    "fingerprint is printed at start-up (kept in --state-dir, else new each run). To pair a "
    "client, press the hub's pairing button: Enter in this terminal, `kill -USR1 <pid>`, or "
    "the control page's button. Each press opens a pairing window (120 s, 3 attempts) and "
    "prints its fresh 6-digit code."
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (options left out keep the config file's value)."""
    parser = argparse.ArgumentParser(
        prog="python -m safehome_emulator",
        description="Run a SafeHome hub with simulated devices (the SafeHome Local API 2.0).",
        epilog=EPILOG,
        argument_default=argparse.SUPPRESS,
    )
    parser.add_argument("--host", help="address the API listens on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTPS API port, 0 = any free one (default 8765)")
    parser.add_argument("--hub-id", help="hub id (default shub-demo01)")
    parser.add_argument("--config", metavar="FILE.json", help="JSON file with settings and devices")
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="folder that keeps the hub's TLS certificate and key across runs "
        "(default: a new certificate each run)",
    )
    parser.add_argument(
        "--dev-fixed-pairing-code",
        dest="pairing_code",
        metavar="CODE",
        help="development only: use this 6-digit code for every pairing window instead of "
        "a fresh random one",
    )
    parser.add_argument(
        "--pairing-window", type=float, metavar="SECONDS", help="pairing window (default 120)"
    )
    parser.add_argument("--control", action="store_true", help=CONTROL_HELP)
    parser.add_argument(
        "--control-host",
        help="address the control surface listens on (default 127.0.0.1; anything but "
        "loopback exposes it)",
    )
    parser.add_argument(
        "--control-port", type=int, help="control surface port, 0 = any free one (default 8766)"
    )
    parser.add_argument(
        "--no-zeroconf", dest="zeroconf", action="store_false", help="do not advertise by mDNS"
    )
    parser.add_argument(
        "--district-kit",
        action="store_true",
        help="add the district options to the devices: a window lock (window-1) and a "
        "personal alarm (alarm-1); the hub then reports API 2.1",
    )
    parser.add_argument("--api-version", help="API version reported, MAJOR.MINOR (default 2.0)")
    parser.add_argument("--heartbeat", type=float, help="heartbeat interval in s (default 10)")
    parser.add_argument("--replay-buffer", type=int, help="events kept for replay (default 8192)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, help="logging level (default info)")
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Merge defaults, the config file and the command line (in that order)."""
    options = vars(args).copy()
    path = options.pop("config", None)
    config = load_config_file(path) if path else EmulatorConfig()
    return config.replace(**options) if options else config


def show_pairing_code(code: str, seconds: float) -> None:
    """Show a new window's code as the hub's display does: on stdout, never in a log."""
    print(f"Pairing window open for {seconds:g} s: code {code[:3]} {code[3:]}", flush=True)


def _watch_enter(loop: asyncio.AbstractEventLoop, emulator: Emulator) -> int | None:
    """In a terminal, make Enter press the pairing button; return the watched descriptor."""
    stdin = sys.stdin
    try:
        if stdin is None or not stdin.isatty():
            return None
        fd = stdin.fileno()

        def on_line() -> None:
            if stdin.readline():
                emulator.open_pairing_window()
            else:  # end of input
                loop.remove_reader(fd)

        loop.add_reader(fd, on_line)
    except (NotImplementedError, OSError, ValueError):
        return None
    return fd


async def run(config: EmulatorConfig, stop: asyncio.Event | None = None) -> None:
    """Run an emulator until `stop` is set or SIGINT/SIGTERM arrives."""
    stop = stop or asyncio.Event()
    emulator = Emulator(config)
    emulator.on_pairing_window = show_pairing_code
    await emulator.start()
    print(f"SafeHome emulator listening on {emulator.url}", flush=True)
    print(f"Certificate fingerprint (SHA-256): {emulator.fingerprint}", flush=True)
    if emulator.control is not None:
        print(f"Control surface: {emulator.control_url}/control", flush=True)
        warning = loopback_warning(config.control_host)
        if warning:
            print(f"\n*** {warning} ***\n", file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    signals = [signal.SIGINT, signal.SIGTERM]
    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    button = getattr(signal, "SIGUSR1", None)
    if button is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(button, emulator.open_pairing_window)
            signals.append(button)
    enter = _watch_enter(loop, emulator)
    ways = ["Enter"] if enter is not None else []
    ways += ["SIGUSR1"] if button is not None else []
    ways += ["the control page's button"] if emulator.control is not None else []
    print(f"Pairing button: {', '.join(ways) or 'none'}", flush=True)
    try:
        await stop.wait()
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        if enter is not None:
            loop.remove_reader(enter)
        await emulator.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except (OSError, ValueError) as err:
        parser.error(str(err))
    logging.basicConfig(
        level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(run(config))
    except (OSError, ValueError) as err:
        print(f"safehome_emulator: {err}", file=sys.stderr)
        return 1
    return 0
