"""The files HACS and Home Assistant read: manifest.json, hacs.json, the schema itself."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from tests.schema import SCHEMA_PATH

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "seoul_safehome"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_manifest_keys_follow_home_assistant_order() -> None:
    """Domain and name first, then the other keys alphabetically (hassfest's rule)."""
    keys = list(_load(INTEGRATION / "manifest.json"))
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_describes_a_local_push_hub() -> None:
    """HACS needs a version; discovery needs the zeroconf type the hubs announce."""
    manifest = _load(INTEGRATION / "manifest.json")
    assert manifest["domain"] == INTEGRATION.name
    assert manifest["config_flow"] is True
    assert manifest["integration_type"] == "hub"
    assert manifest["iot_class"] == "local_push"
    assert manifest["zeroconf"] == ["_safehome._tcp.local."]
    assert all(part.isdigit() for part in manifest["version"].split("."))
    for key in ("documentation", "issue_tracker"):
        assert manifest[key].startswith("https://")


def test_hacs_json_names_the_minimum_home_assistant() -> None:
    """HACS refuses to install on a Home Assistant older than hacs.json says."""
    hacs = _load(ROOT / "hacs.json")
    assert set(hacs) <= {
        "name",
        "content_in_root",
        "zip_release",
        "filename",
        "hide_default_branch",
        "country",
        "homeassistant",
        "hacs",
        "persistent_directory",
        "render_readme",
    }
    assert hacs["name"] == _load(INTEGRATION / "manifest.json")["name"]
    assert hacs["homeassistant"] == "2026.2.0"
    assert hacs["render_readme"] is True


def test_protocol_schema_is_a_valid_json_schema() -> None:
    """Both sides validate against this schema, so it must itself be valid."""
    Draft202012Validator.check_schema(_load(SCHEMA_PATH))
