"""Debian's Chromium for the browser tests: where it is, and how it is started."""

from __future__ import annotations

import os
import shutil
import warnings

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def chromium_or_skip() -> str:
    """The Chromium executable (Debian's `chromium` package), or skip the test loudly.

    Called before Playwright starts: without a browser its driver is never launched.
    """
    path = os.environ.get("SAFEHOME_CHROMIUM") or shutil.which("chromium")
    path = path or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not path:
        reason = (
            "Chromium is not installed, so this browser test cannot run: "
            "`apt-get install chromium` (scripts/setup does this) or set SAFEHOME_CHROMIUM"
        )
        warnings.warn(reason, pytest.PytestWarning, stacklevel=2)
        pytest.skip(reason)
    return path
