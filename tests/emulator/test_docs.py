"""The reference pairing client in docs/protocol.md's quick start pairs with the emulator."""

from __future__ import annotations

import asyncio
from pathlib import Path
import sys

import aiohttp

from safehome_emulator import Emulator

from .helpers import HubClient

PROTOCOL = Path(__file__).parent.parent.parent / "docs" / "protocol.md"
MARKER = "<!-- pair.py: the tests run this block against the emulator -->\n```python\n"


async def _run(script: Path, emulator: Emulator, code: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        "127.0.0.1",
        str(emulator.port),
        code,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def test_quick_start_pairing_client(
    emulator: Emulator, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    script = tmp_path / "pair.py"
    script.write_text(PROTOCOL.read_text(encoding="utf-8").split(MARKER, 1)[1].split("```")[0])
    code, out = await _run(script, emulator, "123456")
    assert code == 1
    assert "pairing_closed" in out
    code, out = await _run(script, emulator, emulator.open_pairing_window())
    assert code == 0, out
    values = dict(line.split("=", 1) for line in out.splitlines())
    assert values["FINGERPRINT"] == emulator.fingerprint
    client = HubClient(session, emulator.url, values["TOKEN"], values["FINGERPRINT"])
    assert (await client.ok("GET", "/hub", "Hub"))["id"] == "shub-demo01"
