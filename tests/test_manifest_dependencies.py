"""The manifest declares every Home Assistant integration the code imports (hassfest)."""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.const import Platform

from custom_components.seoul_safehome.const import DOMAIN
from tests.hassfest import (
    ALLOWED_USED_COMPONENTS,
    declared_integrations,
    referenced_integrations,
)

PACKAGE = Path(__file__).parents[1] / "custom_components" / DOMAIN
MANIFEST = json.loads((PACKAGE / "manifest.json").read_text(encoding="utf-8"))
PLATFORMS = {platform.value for platform in Platform}


def _own_platform(domain: str) -> bool:
    """Whether the integration provides a platform of `domain` (lock.py, diagnostics.py)."""
    return (PACKAGE / f"{domain}.py").is_file() or (PACKAGE / domain).is_dir()


def test_imports_are_found() -> None:
    """The scan sees the imports (entity platforms, diagnostics, the blueprint installer)."""
    referenced = {domain for _, domain in referenced_integrations(PACKAGE)}
    assert {"lock", "camera", "diagnostics", "automation"} <= referenced


def test_hassfest_dependency_rule() -> None:
    """hassfest's rule: an imported integration is allowed, declared, or one of ours."""
    allowed = ALLOWED_USED_COMPONENTS | declared_integrations(MANIFEST)
    undeclared = [
        f"{file}: {domain}"
        for file, domain in referenced_integrations(PACKAGE)
        if domain != DOMAIN and domain not in allowed and not _own_platform(domain)
    ]
    assert undeclared == []


def test_integrations_used_at_run_time_are_declared() -> None:
    """Beyond the entity platforms, whatever the code calls into is in the manifest.

    hassfest lets any integration import `automation` undeclared (core always loads it),
    but the blueprint installer calls into it at run time: declaring it makes Home
    Assistant set it up first whenever the user has it.
    """
    declared = declared_integrations(MANIFEST)
    undeclared = [
        f"{file}: {domain}"
        for file, domain in referenced_integrations(PACKAGE)
        if domain != DOMAIN
        and domain not in PLATFORMS
        and not _own_platform(domain)
        and domain not in declared
    ]
    assert undeclared == []


def test_dependencies_are_not_declared_twice() -> None:
    """hassfest refuses an integration both in dependencies and after_dependencies."""
    assert not set(MANIFEST.get("dependencies", [])) & set(MANIFEST.get("after_dependencies", []))
