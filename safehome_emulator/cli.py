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
from .server import Emulator


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (options left out keep the config file's value)."""
    parser = argparse.ArgumentParser(
        prog="python -m safehome_emulator",
        description="Run a SafeHome hub with simulated devices (the SafeHome Local API).",
        argument_default=argparse.SUPPRESS,
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port, 0 = any free one (default 8765)")
    parser.add_argument("--pairing-code", help="6-digit pairing code (default 123456)")
    parser.add_argument("--hub-id", help="hub id (default shub-demo01)")
    parser.add_argument("--config", metavar="FILE.json", help="JSON file with settings and devices")
    parser.add_argument(
        "--control", action="store_true", help="enable the /control surface (off by default)"
    )
    parser.add_argument(
        "--no-zeroconf", dest="zeroconf", action="store_false", help="do not advertise by mDNS"
    )
    parser.add_argument("--api-version", help="API version reported, MAJOR.MINOR (default 1.0)")
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


async def run(config: EmulatorConfig, stop: asyncio.Event | None = None) -> None:
    """Run an emulator until `stop` is set or SIGINT/SIGTERM arrives."""
    stop = stop or asyncio.Event()
    emulator = Emulator(config)
    await emulator.start()
    print(f"SafeHome emulator listening on {emulator.url}", flush=True)
    print(f"Pairing code: {config.pairing_code}", flush=True)
    if config.control:
        print(f"Control surface: {emulator.url}/control", flush=True)
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
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
    except OSError as err:
        print(f"safehome_emulator: {err}", file=sys.stderr)
        return 1
    return 0
