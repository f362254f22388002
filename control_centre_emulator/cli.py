"""Command line: `python -m control_centre_emulator [options]`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
import ipaddress
import logging
import signal
import sys

from .centre import KEY_SIZES, ControlCentre
from .reports import Report

DESCRIPTION = (
    "Run a monitoring centre's SIA DC-09 receiver (pysiaalarm) for one account, and a web "
    "page that lists every report it receives and the answer it sent."
)
EPILOG = (
    "Development tool: the page and its switches need no password, so they listen on "
    "loopback unless --page-host says otherwise."
)


def parse_key(text: str) -> bytes:
    """Read --key: 32, 48 or 64 hexadecimal digits (an AES-128, -192 or -256 key)."""
    try:
        key = bytes.fromhex(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError("the key must be hexadecimal digits") from err
    if len(key) not in KEY_SIZES or len(text) != 2 * len(key):
        raise argparse.ArgumentTypeError("the key must be 32, 48 or 64 hexadecimal digits")
    return key


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m control_centre_emulator", description=DESCRIPTION, epilog=EPILOG
    )
    parser.add_argument("--host", default="127.0.0.1", help="receiver address (127.0.0.1)")
    parser.add_argument("--port", type=int, default=9800, help="receiver port, 0 = any (9800)")
    parser.add_argument(
        "--protocol", choices=("tcp", "udp", "both"), default="both", help="transports (both)"
    )
    parser.add_argument("--account", default="1234", help="account, 3-16 hex digits (1234)")
    parser.add_argument(
        "--key",
        type=parse_key,
        metavar="HEX",
        help="AES key as 32, 48 or 64 hex digits: expect encrypted messages (default: none)",
    )
    parser.add_argument("--page-host", default="127.0.0.1", help="page address (127.0.0.1)")
    parser.add_argument("--page-port", type=int, default=8767, help="page port, 0 = any (8767)")
    parser.add_argument("--no-page", action="store_true", help="run the receiver only")
    parser.add_argument(
        "--log-level", default="warning", choices=("debug", "info", "warning", "error")
    )
    return parser


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def show(report: Report) -> None:
    """Print a report as it arrives (the terminal's view of the page)."""
    print(f"{report.received:%H:%M:%S} report {report.summary()}", flush=True)


async def run(centre: ControlCentre, stop: asyncio.Event | None = None) -> None:
    """Run `centre` until `stop` is set or SIGINT/SIGTERM arrives."""
    stop = stop or asyncio.Event()
    centre.on_report = show
    await centre.start()
    state = centre.state()
    encryption = state["encryption"] or "unencrypted"
    transports = " and ".join(t.upper() for t in state["transports"])
    print(
        f"Control-centre emulator: SIA DC-09 receiver on {centre.host}:{centre.port} "
        f"({transports}), account {centre.account}, {encryption}",
        flush=True,
    )
    if centre.page_url:
        print(f"Control-centre page: {centre.page_url}", flush=True)
        if not _is_loopback(centre.page_host):
            print(
                f"\n*** WARNING: the page listens on {centre.page_host}: anyone who can "
                "reach it can read the reports and switch the receiver off. ***\n",
                file=sys.stderr,
                flush=True,
            )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        await centre.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.log_level != "debug":  # the page and the terminal show every report already
        logging.getLogger("pysiaalarm").setLevel(logging.ERROR)
    try:
        centre = ControlCentre(
            args.account,
            args.key,
            host=args.host,
            port=args.port,
            protocol=args.protocol,
            page_host=args.page_host,
            page_port=None if args.no_page else args.page_port,
        )
    except ValueError as err:
        parser.error(str(err))
    try:
        asyncio.run(run(centre))
    except OSError as err:
        print(f"control_centre_emulator: {err}", file=sys.stderr)
        return 1
    return 0
