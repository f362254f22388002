"""A badly set clock on the sending side (Home Assistant's), the receiver's left alone."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import pytest

from custom_components.seoul_safehome.sia import sender as sender_module


def set_clock_off(monkeypatch: pytest.MonkeyPatch, skew: timedelta) -> None:
    """Set the SIA sender's clock `skew` away from the real time."""

    class SkewedClock(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz) + skew

    monkeypatch.setattr(sender_module, "datetime", SkewedClock)
