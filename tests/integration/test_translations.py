"""Every string a user can see exists in English and Korean, and says the same things."""

from __future__ import annotations

import ast
from collections.abc import Iterator
import json
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util.yaml import load_yaml
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol
from voluptuous.humanize import humanize_error

from custom_components.seoul_safehome.commands import STATE_ERRORS, VALIDATION_ERRORS
from custom_components.seoul_safehome.const import DOMAIN
from tests.hassfest import STRINGS_SCHEMA

PACKAGE = Path(__file__).parents[2] / "custom_components" / DOMAIN
LANGUAGES = ("en", "ko")
TRANSLATIONS: dict[str, dict[str, Any]] = {
    lang: json.loads((PACKAGE / "translations" / f"{lang}.json").read_text(encoding="utf-8"))
    for lang in LANGUAGES
}
PLACEHOLDER = re.compile(r"{(\w+)}")
PLATFORMS = {
    "binary_sensor",
    "button",
    "camera",
    "event",
    "lock",
    "number",
    "select",
    "sensor",
    "siren",
    "switch",
}


def leaves(
    tree: dict[str, Any], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Yield (path, value) of every leaf of a nested dict."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def has(path: str) -> bool:
    """Return whether a dotted path exists in the English translations."""
    node: Any = TRANSLATIONS["en"]
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_same_keys_in_every_language() -> None:
    """Korean has exactly the strings English has."""
    en = dict(leaves(TRANSLATIONS["en"]))
    ko = dict(leaves(TRANSLATIONS["ko"]))
    assert sorted(set(en) - set(ko)) == [], "missing in ko.json"
    assert sorted(set(ko) - set(en)) == [], "missing in en.json"


def test_same_placeholders_in_every_language() -> None:
    """A placeholder the code fills appears in both languages, and no other."""
    ko = dict(leaves(TRANSLATIONS["ko"]))
    for path, text in leaves(TRANSLATIONS["en"]):
        assert isinstance(text, str), ".".join(path)
        assert isinstance(ko[path], str), ".".join(path)
        assert text.strip(), f"{'.'.join(path)} is empty"
        assert ko[path].strip(), f"ko {'.'.join(path)} is empty"
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(ko[path])), (
            f"{'.'.join(path)}: placeholders differ"
        )


def test_korean_is_korean() -> None:
    """Korean strings are written in Korean (not copied English)."""
    hangul = re.compile("[\uac00-\ud7a3]")
    for path, text in leaves(TRANSLATIONS["ko"]):
        without = PLACEHOLDER.sub("", text)
        if len(without) > 12:
            assert hangul.search(without), f"ko {'.'.join(path)} has no Korean: {text!r}"


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def used_keys() -> Iterator[tuple[str, str, list[str]]]:
    """Yield (file, key, candidate translation paths) for every literal key in the code."""
    for file in sorted(PACKAGE.glob("*.py")):
        platform = file.stem if file.stem in PLATFORMS else None
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _call_name(node)
                for kw in node.keywords:
                    if not isinstance(kw.value, ast.Constant) or not isinstance(
                        kw.value.value, str
                    ):
                        continue
                    key = kw.value.value
                    if kw.arg == "translation_key":
                        if name.endswith("EntityDescription") and platform:
                            yield file.name, key, [f"entity.{platform}.{key}"]
                        elif name == "async_create_issue":
                            yield file.name, key, [f"issues.{key}"]
                        else:
                            yield file.name, key, [f"exceptions.{key}"]
                    elif kw.arg == "reason":
                        yield file.name, key, [f"config.abort.{key}"]
                    elif kw.arg == "step_id":
                        yield file.name, key, [f"config.step.{key}", f"options.step.{key}"]
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                value = node.value.value
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == "_attr_translation_key":
                        yield file.name, value, [f"entity.{platform}.{value}"]
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == "errors"
                    ):
                        yield file.name, value, [f"config.error.{value}", f"options.error.{value}"]


def test_every_key_used_in_code_exists() -> None:
    """Entity names, errors, issues and flow steps the code refers to are all translated."""
    found = list(used_keys())
    assert len(found) > 20  # the scan sees the code
    missing = [
        f"{file}: {key}" for file, key, paths in found if not any(has(path) for path in paths)
    ]
    assert missing == []


def test_hub_error_codes_are_translated() -> None:
    """Every hub error code with a message of its own has one in both languages."""
    for code in STATE_ERRORS | VALIDATION_ERRORS:
        assert has(f"exceptions.{code}"), code


@pytest.mark.parametrize("lang", LANGUAGES)
def test_hassfest_accepts_the_translations(lang: str) -> None:
    """hassfest's translation schema holds: no Home Assistant CI error on either file.

    Among its rules: a repair issue has a description or a fix flow, never both (the
    frontend shows one or the other), no HTML, URLs or malformed placeholders.
    """
    try:
        STRINGS_SCHEMA(TRANSLATIONS[lang])
    except vol.Invalid as err:
        pytest.fail(f"{lang}.json: {humanize_error(TRANSLATIONS[lang], err)}")


def test_hassfest_refuses_a_repair_with_description_and_fix_flow() -> None:
    """The schema catches the mistake hassfest reported on the blueprint repair."""
    issue = {
        "title": "Title",
        "description": "Shown in the list",
        "fix_flow": {"step": {"confirm": {"title": "Confirm", "description": "Shown"}}},
    }
    with pytest.raises(vol.Invalid, match="exclusion 'fixable'"):
        STRINGS_SCHEMA({"issues": {"blueprint_modified": issue}})
    with pytest.raises(vol.Invalid, match="at least one of"):
        STRINGS_SCHEMA({"issues": {"blueprint_modified": {"title": "Title"}}})


async def test_fixable_repair_explains_itself_in_its_flow(hass: HomeAssistant) -> None:
    """The blueprint repair (fixable) carries its whole text in its confirm step.

    That step is what the repair dialog shows; the issue has no description of its own.
    """
    prefix = f"component.{DOMAIN}.issues.blueprint_modified"
    for lang in LANGUAGES:
        strings = await async_get_translations(hass, lang, "issues", [DOMAIN])
        assert f"{prefix}.description" not in strings, lang
        text = strings[f"{prefix}.fix_flow.step.confirm.description"]
        assert set(PLACEHOLDER.findall(text)) == {"file", "path"}, lang
        if lang == "en":
            # What the user decides on: the edit was kept, and is lost on submitting.
            assert "was not replaced" in text
            assert "**Submit**" in text
            assert "changes to the file are lost" in text


@pytest.mark.parametrize("key", ["api_version_too_old", "api_version_unsupported"])
def test_repair_issues_are_translated(key: str) -> None:
    """The API version issues have a title, a description and a setup error message."""
    assert has(f"issues.{key}.title")
    assert has(f"issues.{key}.description")
    assert has(f"exceptions.{key}.message")


def test_actions_are_translated() -> None:
    """Every action and each of its fields has a name and a description."""
    services = load_yaml(str(PACKAGE / "services.yaml")) or {}
    for service, spec in services.items():
        assert has(f"services.{service}.name"), service
        assert has(f"services.{service}.description"), service
        for field in (spec or {}).get("fields", {}):
            assert has(f"services.{service}.fields.{field}.name"), f"{service}.{field}"
            assert has(f"services.{service}.fields.{field}.description"), f"{service}.{field}"


async def test_every_entity_is_translated(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Each entity of a real hub has its name, and each event type its text."""
    entries = er.async_entries_for_config_entry(er.async_get(hass), init_integration.entry_id)
    assert entries
    for entry in entries:
        if entry.translation_key is not None:
            assert has(f"entity.{entry.domain}.{entry.translation_key}"), entry.entity_id
        state = hass.states.get(entry.entity_id)
        if entry.domain == "event" and state is not None:
            base = f"entity.event.{entry.translation_key}.state_attributes.event_type.state"
            for event_type in state.attributes["event_types"]:
                assert has(f"{base}.{event_type}"), f"{entry.entity_id}: {event_type}"
        # No entity is left without a name a person can read.
        assert state is not None
        assert state.name, entry.entity_id
        assert "None" not in state.name, entry.entity_id
