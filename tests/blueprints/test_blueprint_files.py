"""The blueprint files: valid for Home Assistant, current syntax, and the same in both places."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.components.automation.config import (
    AUTOMATION_BLUEPRINT_SCHEMA,
    async_validate_config_item,
)
from homeassistant.components.blueprint import Blueprint, BlueprintInputs
from homeassistant.components.blueprint.errors import MissingInput
from homeassistant.core import HomeAssistant
from homeassistant.util import yaml as yaml_util
import pytest

from custom_components.seoul_safehome.blueprints import async_setup_blueprints
from tests.blueprints.common import BLUEPRINT_FOLDER, BUNDLED_FOLDER

NAMES = sorted(path.name for path in BLUEPRINT_FOLDER.glob("*.yaml"))
SOURCE_URL = "https://github.com/seoul-safehome/seoul-safehome/blob/main/blueprints/automation/seoul_safehome/{}"

# Inputs that must be given (the rest have defaults): plausible values for each.
REQUIRED: dict[str, dict[str, Any]] = {
    "instant_lock.yaml": {
        "door_sensor": "binary_sensor.front_door",
        "lock_entity": "lock.front_door",
    },
    "doorbell_notification.yaml": {
        "doorbell_event": "event.doorbell_ring",
        "camera": "camera.doorbell",
    },
    "emergency_escalation.yaml": {},
    "away_mode_recording.yaml": {"cameras": ["camera.living_room"]},
    "call_for_help.yaml": {"bells": ["0123456789abcdef0123456789abcdef"]},
}


def _load(name: str) -> Blueprint:
    return Blueprint(
        yaml_util.load_yaml_dict(BLUEPRINT_FOLDER / name),
        expected_domain="automation",
        path=f"seoul_safehome/{name}",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )


def _walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (path, mapping) in a YAML tree."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found.extend(_walk(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_walk(value, f"{path}[{index}]"))
    return found


def test_the_five_blueprints_exist() -> None:
    """The blueprints the README and the design promise."""
    assert NAMES == [
        "away_mode_recording.yaml",
        "call_for_help.yaml",
        "doorbell_notification.yaml",
        "emergency_escalation.yaml",
        "instant_lock.yaml",
    ]


def test_bundled_copies_match_the_canonical_ones() -> None:
    """HACS installs only custom_components/, so the integration carries an identical copy."""
    bundled = sorted(path.name for path in BUNDLED_FOLDER.glob("*.yaml"))
    assert bundled == NAMES
    for name in NAMES:
        assert (BUNDLED_FOLDER / name).read_bytes() == (BLUEPRINT_FOLDER / name).read_bytes(), (
            f"custom_components/seoul_safehome/blueprints/{name} differs from "
            f"blueprints/automation/seoul_safehome/{name}: copy the canonical file over it"
        )


# The lowest release whose syntax each blueprint needs (checked against the release notes;
# the harness loads each on the minimum lane and the newest one).
MIN_VERSIONS = {
    "away_mode_recording.yaml": "2025.4.0",  # variables scoped across the recording loop
    "doorbell_notification.yaml": "2025.4.0",  # variables shared between parallel steps
    "emergency_escalation.yaml": "2024.10.0",  # triggers:/conditions:/actions: keys
    "call_for_help.yaml": "2024.10.0",  # triggers:/actions: keys, input sections
    "instant_lock.yaml": "2024.10.0",  # triggers:/conditions:/actions:, `trigger:` keys
}


@pytest.mark.parametrize("name", NAMES)
def test_blueprint_schema_and_metadata(name: str) -> None:
    """Valid for Home Assistant's blueprint schema, with the metadata HACS users rely on."""
    blueprint = _load(name)  # raises if the schema rejects it
    assert blueprint.validate() is None  # the running Home Assistant is new enough
    meta = blueprint.metadata
    assert meta["domain"] == "automation"
    assert meta["homeassistant"]["min_version"] == MIN_VERSIONS[name]
    assert meta["source_url"] == SOURCE_URL.format(name)
    assert meta["name"].startswith("Seoul SafeHome: ")
    # English first, then a Korean summary.
    description = meta["description"]
    assert "**요약 (한국어):**" in description
    assert description.index("**요약") > 200
    # Inputs are grouped in sections (some collapsed), each with a name.
    sections = meta["input"]
    assert all("input" in section and section.get("name") for section in sections.values())
    assert any(section.get("collapsed") for section in sections.values())


@pytest.mark.parametrize("name", NAMES)
def test_current_syntax(name: str) -> None:
    """triggers/conditions/actions, `trigger:` in triggers, `action:` in actions."""
    data = yaml_util.load_yaml_dict(BLUEPRINT_FOLDER / name)
    assert {"triggers", "actions"} <= set(data)
    assert not {"trigger", "condition", "action"} & set(data)
    for trigger in data["triggers"]:
        assert "trigger" in trigger
        assert "platform" not in trigger
    for path, mapping in _walk(data["actions"], "actions"):
        assert "service" not in mapping, f"{path} uses `service:`; use `action:`"
        assert "data_template" not in mapping, path


@pytest.mark.parametrize("name", NAMES)
def test_selectors_filter_by_domain_not_integration(name: str) -> None:
    """Locks, cameras, sensors and doorbells of any integration can be chosen."""
    blueprint = _load(name)
    for key, spec in blueprint.inputs.items():
        selector = (spec or {}).get("selector", {})
        if "entity" in selector:
            for entity_filter in selector["entity"].get("filter", []):
                assert "integration" not in entity_filter, f"{name}: {key}"
                assert "domain" in entity_filter, f"{name}: {key}"
        if "device" in selector:
            # Only the phones (mobile_app) and the SafeHome bell's own action are devices.
            integrations = {f.get("integration") for f in selector["device"]["filter"]}
            assert integrations <= {"mobile_app", "seoul_safehome"}, f"{name}: {key}"
    if "phones" in blueprint.inputs:
        phones = blueprint.inputs["phones"]["selector"]["device"]
        assert phones["multiple"] is True
        assert phones["filter"] == [{"integration": "mobile_app"}]


@pytest.mark.parametrize("name", NAMES)
async def test_an_automation_from_the_blueprint_validates(
    hass: HomeAssistant, config_dir: Path, name: str
) -> None:
    """An automation made from the installed blueprint with only the required inputs is valid.

    This is the check Home Assistant's automation editor runs when the user saves.
    """
    await async_setup_blueprints(hass)
    config = {
        "id": "from_blueprint",
        "alias": "From blueprint",
        "use_blueprint": {"path": f"seoul_safehome/{name}", "input": REQUIRED[name]},
    }
    validated = await async_validate_config_item(hass, "from_blueprint", config)
    assert validated is not None
    assert validated.validation_status == "ok", validated.validation_error
    assert validated["triggers"]
    assert validated["actions"]
    # Every input a user may leave out has a default.
    blueprint = _load(name)
    missing = set(blueprint.inputs) - set(REQUIRED[name])
    assert all("default" in (blueprint.inputs[key] or {}) for key in missing)
    if REQUIRED[name]:
        with pytest.raises(MissingInput):
            BlueprintInputs(blueprint, {"use_blueprint": {"path": name, "input": {}}}).validate()


def test_no_placeholders_left() -> None:
    """The Korean messages avoid "이(가)"-style placeholders that read awkwardly."""
    for name in NAMES:
        text = (BLUEPRINT_FOLDER / name).read_text(encoding="utf-8")
        for awkward in ("이(가)", "을(를)", "은(는)", "TODO"):
            assert awkward not in text, f"{name}: {awkward}"
