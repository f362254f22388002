"""safehome_emulator: the reference SafeHome hub, with simulated devices.

It implements all of the SafeHome Local API (docs/protocol.md) on an aiohttp server;
see docs/emulator.md. It never imports the client in custom_components.
"""

from .config import EmulatorConfig
from .server import Emulator

__all__ = ["Emulator", "EmulatorConfig"]
