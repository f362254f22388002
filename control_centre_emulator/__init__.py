"""A monitoring ("control") centre emulator: a SIA DC-09 receiver built on pysiaalarm.

It receives the alarm reports Seoul SafeHome sends, acknowledges them as a real alarm
receiving centre would, and lists them on a web page (English and Korean) and as JSON.
"""

from __future__ import annotations

from .centre import ControlCentre
from .reports import Report

__all__ = ["ControlCentre", "Report"]
