"""Installing the bundled blueprints: fresh installs, silent updates, and edits left alone."""

from __future__ import annotations

import hashlib
from http import HTTPStatus
import json
import logging
from pathlib import Path
import re
from typing import Any

from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.seoul_safehome.blueprints import (
    STORAGE_KEY,
    BlueprintInstaller,
    async_setup_blueprints,
)
from custom_components.seoul_safehome.const import DOMAIN
from tests.blueprints.common import BUNDLED_FOLDER, LOCK, async_create_automations

ROOT = Path(__file__).parents[2]
NAMES = sorted(path.name for path in BUNDLED_FOLDER.glob("*.yaml"))
ISSUE = "blueprint_modified_instant_lock"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _installed(config_dir: Path) -> Path:
    return config_dir / "blueprints" / "automation" / "seoul_safehome"


def _old_version() -> bytes:
    """A previous release of instant_lock.yaml: valid, but in `single` mode."""
    current = (BUNDLED_FOLDER / "instant_lock.yaml").read_bytes()
    old = current.replace(b"\nmode: restart\n", b"\nmode: single\n")
    assert old != current
    return old


def _remember(hass_storage: dict[str, Any], files: dict[str, bytes]) -> None:
    """What an earlier version of the integration recorded having installed."""
    hass_storage[STORAGE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORAGE_KEY,
        "data": {"files": {name: _sha(data) for name, data in files.items()}},
    }


def _stored(hass_storage: dict[str, Any]) -> dict[str, str]:
    return hass_storage[STORAGE_KEY]["data"]["files"]


async def test_setup_installs_the_blueprints(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    config_dir: Path,
    hass_storage: dict[str, Any],
) -> None:
    """A first setup copies the four blueprints where the blueprint editor finds them."""
    folder = _installed(config_dir)
    for name in NAMES:
        assert (folder / name).read_bytes() == (BUNDLED_FOLDER / name).read_bytes()
    assert _stored(hass_storage) == {
        name: _sha((BUNDLED_FOLDER / name).read_bytes()) for name in NAMES
    }
    # Home Assistant's own example blueprints were not crowded out by our folder.
    assert (
        config_dir / "blueprints" / "automation" / "homeassistant" / "motion_light.yaml"
    ).exists()

    # The blueprint editor lists them, all valid.
    await async_setup_component(hass, "automation", {})
    blueprints = await async_get_blueprints(hass).async_get_blueprints()
    for name in NAMES:
        blueprint = blueprints[f"seoul_safehome/{name}"]
        assert not isinstance(blueprint, Exception), blueprint
        assert blueprint.metadata["source_url"].endswith(f"/seoul_safehome/{name}")
    assert not ir.async_get(hass).issues


async def test_a_deleted_blueprint_comes_back(
    hass: HomeAssistant, config_dir: Path, hass_storage: dict[str, Any]
) -> None:
    """The bundled blueprints are part of the integration: a missing one is installed again."""
    await async_setup_blueprints(hass)
    (_installed(config_dir) / "instant_lock.yaml").unlink()
    await async_setup_blueprints(hass)
    assert (_installed(config_dir) / "instant_lock.yaml").read_bytes() == (
        BUNDLED_FOLDER / "instant_lock.yaml"
    ).read_bytes()


async def test_untouched_copy_is_updated_and_its_automations_reloaded(
    hass: HomeAssistant,
    config_dir: Path,
    hass_storage: dict[str, Any],
    mock_config_entry: MockConfigEntry,
) -> None:
    """A copy nobody edited is replaced by the new version, and automations run the new one."""
    folder = _installed(config_dir)
    folder.mkdir(parents=True)
    (folder / "instant_lock.yaml").write_bytes(_old_version())
    _remember(hass_storage, {"instant_lock.yaml": _old_version()})
    (entity_id,) = await async_create_automations(
        hass,
        {
            "blueprint": "instant_lock.yaml",
            "input": {"door_sensor": "binary_sensor.front_door", "lock_entity": LOCK},
        },
    )
    assert hass.states.get(entity_id).attributes["mode"] == "single"

    # The new integration version starts.
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    new = (BUNDLED_FOLDER / "instant_lock.yaml").read_bytes()
    assert (folder / "instant_lock.yaml").read_bytes() == new
    assert _stored(hass_storage)["instant_lock.yaml"] == _sha(new)
    assert hass.states.get(entity_id).attributes["mode"] == "restart"
    assert not ir.async_get(hass).issues


async def test_edited_copy_is_kept_and_a_repair_offers_the_update(
    hass: HomeAssistant,
    config_dir: Path,
    hass_storage: dict[str, Any],
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The user's edit survives the update; confirming the repair installs the new version."""
    folder = _installed(config_dir)
    folder.mkdir(parents=True)
    edited = _old_version().replace(b"default: 5\n", b"default: 8\n")  # a longer check
    assert edited != _old_version()
    (folder / "instant_lock.yaml").write_bytes(edited)
    _remember(hass_storage, {"instant_lock.yaml": _old_version()})

    await async_setup_blueprints(hass)

    assert (folder / "instant_lock.yaml").read_bytes() == edited
    assert _stored(hass_storage)["instant_lock.yaml"] == _sha(_old_version())
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == "blueprint_modified"
    assert issue.translation_placeholders == {
        "file": "instant_lock.yaml",
        "path": "blueprints/automation/seoul_safehome/instant_lock.yaml",
    }
    assert issue.learn_more_url.endswith("/blueprints/automation/seoul_safehome/instant_lock.yaml")
    # The other three were installed as usual.
    for name in set(NAMES) - {"instant_lock.yaml"}:
        assert (folder / name).read_bytes() == (BUNDLED_FOLDER / name).read_bytes()

    # A restart asks again, still without touching the file.
    await async_setup_blueprints(hass)
    assert (folder / "instant_lock.yaml").read_bytes() == edited

    # The user opens the repair and confirms.
    assert await async_setup_component(hass, "repairs", {})
    client = await hass_client()
    resp = await client.post("/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": ISSUE})
    assert resp.status == HTTPStatus.OK
    flow = await resp.json()
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"]["file"] == "instant_lock.yaml"
    resp = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert resp.status == HTTPStatus.OK
    assert (await resp.json())["type"] == "create_entry"
    await hass.async_block_till_done()

    new = (BUNDLED_FOLDER / "instant_lock.yaml").read_bytes()
    assert (folder / "instant_lock.yaml").read_bytes() == new
    assert _stored(hass_storage)["instant_lock.yaml"] == _sha(new)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None
    # From now on it is an untouched copy again.
    await async_setup_blueprints(hass)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None


async def test_edited_copy_without_an_update_raises_nothing(
    hass: HomeAssistant, config_dir: Path, hass_storage: dict[str, Any]
) -> None:
    """Editing the current version is the user's business: no issue, no overwrite."""
    await async_setup_blueprints(hass)
    path = _installed(config_dir) / "doorbell_notification.yaml"
    edited = path.read_bytes().replace(b"default: 30\n", b"default: 10\n")
    path.write_bytes(edited)

    await async_setup_blueprints(hass)

    assert path.read_bytes() == edited
    assert not ir.async_get(hass).issues


async def test_hand_imported_copy_is_not_overwritten(
    hass: HomeAssistant, config_dir: Path, hass_storage: dict[str, Any]
) -> None:
    """A copy imported by hand (README badge) before the integration: kept, update offered."""
    folder = _installed(config_dir)
    folder.mkdir(parents=True)
    (folder / "instant_lock.yaml").write_bytes(_old_version())
    (folder / "away_mode_recording.yaml").write_bytes(
        (BUNDLED_FOLDER / "away_mode_recording.yaml").read_bytes()
    )

    await async_setup_blueprints(hass)

    assert (folder / "instant_lock.yaml").read_bytes() == _old_version()
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is not None
    # An identical copy is simply adopted.
    assert "away_mode_recording.yaml" in _stored(hass_storage)
    assert "instant_lock.yaml" not in _stored(hass_storage)


async def test_a_read_only_config_folder_does_not_break_setup(
    hass: HomeAssistant,
    config_dir: Path,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """If the blueprints cannot be written, the integration still works and says why."""
    (config_dir / "blueprints").mkdir()
    (config_dir / "blueprints" / "automation").write_text("not a folder")

    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    assert hass.states.get(LOCK) is not None
    assert "Could not install the Seoul SafeHome blueprints" in caplog.text
    assert any(r.levelno == logging.WARNING for r in caplog.records if "blueprints" in r.msg)


def test_installer_works_from_any_source(tmp_path: Path) -> None:
    """The installer itself only needs a source and a target folder (pure function)."""
    from custom_components.seoul_safehome.blueprints import install_blueprints

    source = tmp_path / "source"
    target = tmp_path / "target"
    source.mkdir()
    (source / "a.yaml").write_text("one")
    first = install_blueprints(source, target, {})
    assert first.installed == ["a.yaml"]
    (source / "a.yaml").write_text("two")
    second = install_blueprints(source, target, first.fingerprints)
    assert second.updated == ["a.yaml"]
    assert (target / "a.yaml").read_text() == "two"
    (target / "a.yaml").write_text("mine")
    (source / "a.yaml").write_text("three")
    third = install_blueprints(source, target, second.fingerprints)
    assert third.kept == third.outdated == ["a.yaml"]
    assert (target / "a.yaml").read_text() == "mine"
    forced = install_blueprints(source, target, third.fingerprints, frozenset({"a.yaml"}))
    assert forced.updated == ["a.yaml"]
    assert (target / "a.yaml").read_text() == "three"
    assert not list(target.glob(".*.tmp"))  # no temporary files left behind


@pytest.mark.parametrize("language", ["en", "ko"])
def test_repair_is_translated(language: str) -> None:
    """The repair's title, text and confirm step exist in English and Korean, same placeholders."""
    path = ROOT / "custom_components" / "seoul_safehome" / "translations" / f"{language}.json"
    issue = json.loads(path.read_text(encoding="utf-8"))["issues"]["blueprint_modified"]
    confirm = issue["fix_flow"]["step"]["confirm"]
    # A fixable issue has no description of its own (hassfest); its confirm step says it all.
    assert "description" not in issue
    texts = [issue["title"], confirm["title"], confirm["description"]]
    assert all(texts)
    placeholders = set().union(*(re.findall(r"{(\w+)}", text) for text in texts))
    assert placeholders == {"file", "path"}


def test_installer_class_targets_the_config_folder(hass: HomeAssistant, config_dir: Path) -> None:
    """Blueprints go to <config>/blueprints/automation/seoul_safehome/."""
    assert BlueprintInstaller(hass).target == _installed(config_dir)
