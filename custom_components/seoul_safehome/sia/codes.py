"""SIA event codes (SIA DC-03 / ANSI/SIA DC-04 code list) this integration may report."""

from __future__ import annotations

from typing import Final

# Two upper-case letters -> the standard's English name of the event.
KNOWN_CODES: Final[dict[str, str]] = {
    "AR": "AC Restoral",
    "AT": "AC Trouble",
    "BA": "Burglary Alarm",
    "BR": "Burglary Restoral",
    "CL": "Closing Report",
    "FA": "Fire Alarm",
    "FR": "Fire Restoral",
    "GA": "Gas Alarm",
    "GR": "Gas Restoral",
    "HA": "Holdup Alarm",
    "HR": "Holdup Restoral",
    "KA": "Heat Alarm",
    "KR": "Heat Restoral",
    "MA": "Medical Alarm",
    "MR": "Medical Restoral",
    "OP": "Opening Report",
    "PA": "Panic Alarm",
    "PR": "Panic Restoral",
    "QA": "Emergency Alarm",
    "QR": "Emergency Restoral",
    "RP": "Automatic Test",
    "RX": "Manual Test",
    "TA": "Tamper Alarm",
    "TR": "Tamper Restoral",
    "WA": "Water Alarm",
    "WR": "Water Restoral",
    "YR": "System Battery Restoral",
    "YT": "System Battery Trouble",
}

# The periodic supervision report ("automatic communication test").
SUPERVISION_CODE: Final = "RP"
