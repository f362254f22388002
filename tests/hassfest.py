"""The rules of Home Assistant's validator, hassfest, that apply to this integration.

hassfest (what the hassfest GitHub Action runs on custom integrations) lives in
home-assistant/core under script/hassfest/ and is not installable, so the parts that
matter here are ported: the translation file schema (translations.py) and the rule that
every integration imported is declared in the manifest (dependencies.py). Sections of the
schema this integration does not use are left out, so an unknown section fails here
rather than passing unchecked.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
import re
import string
from typing import Any

from homeassistant.const import Platform
from homeassistant.helpers import config_validation as cv
from homeassistant.requirements import DISCOVERY_INTEGRATIONS
import voluptuous as vol

RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
RE_COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
RE_PLACEHOLDER_IN_SINGLE_QUOTES = re.compile(r"'{\w+}'")
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)


def translation_key_validator(value: str) -> str:
    """Validate a translation key: [a-z0-9-_]+, not starting or ending with - or _."""
    if RE_TRANSLATION_KEY.match(value) is None:
        raise vol.Invalid(f"Invalid translation key '{value}'")
    return value


def _text(allow_placeholders: bool = True) -> Any:
    """Return a validator of one translated string."""

    def validate(value: Any) -> str:
        text: str = cv.string_with_no_html(value)
        if RE_PLACEHOLDER_IN_SINGLE_QUOTES.search(text):
            raise vol.Invalid("the string should not contain placeholders inside single quotes")
        for _, field, _, _ in string.Formatter().parse(text):
            if field:
                if not allow_placeholders:
                    raise vol.Invalid("placeholders are not supported in this value")
                if not field.isidentifier():
                    raise vol.Invalid("placeholders must be valid identifiers")
        if RE_COMBINED_REFERENCE.search(text):
            raise vol.Invalid("the string should not contain combined translations")
        if text != text.strip():
            raise vol.Invalid("the string should not contain leading or trailing spaces")
        if RE_URL.search(text):
            raise vol.Invalid("the string should not contain URLs, use placeholders instead")
        return text

    return validate


TEXT = _text()
STATE_TEXT = _text(allow_placeholders=False)


def _slug_keys(value_schema: Any, slug: Any = translation_key_validator) -> Any:
    return cv.schema_with_slug_keys(value_schema, slug_validator=slug)


def _data_entry_schema() -> Any:
    """A config, options or fix flow (steps, errors, aborts)."""
    schema = vol.Schema(
        {
            vol.Optional("flow_title"): TEXT,
            vol.Required("step"): {
                str: {
                    vol.Optional("title"): TEXT,
                    vol.Optional("description"): TEXT,
                    vol.Optional("data"): {str: TEXT},
                    vol.Optional("data_description"): {str: TEXT},
                    vol.Optional("menu_options"): {str: TEXT},
                    vol.Optional("menu_option_descriptions"): {str: TEXT},
                    vol.Optional("submit"): TEXT,
                    vol.Optional("sections"): {
                        str: {
                            vol.Optional("data"): {str: TEXT},
                            vol.Optional("data_description"): {str: TEXT},
                            vol.Optional("description"): TEXT,
                            vol.Optional("name"): TEXT,
                        }
                    },
                }
            },
            vol.Optional("error"): {str: TEXT},
            vol.Optional("abort"): {str: TEXT},
            vol.Optional("progress"): {str: TEXT},
            vol.Optional("create_entry"): {str: TEXT},
            vol.Optional("initiate_flow"): {vol.Required("user"): TEXT},
        }
    )

    def data_description_in_data(value: dict[str, Any]) -> dict[str, Any]:
        for step in value["step"].values():
            for key in step.get("data_description", {}):
                if key not in step.get("data", {}):
                    raise vol.Invalid(f"data_description key {key} is not in data")
        return value

    return vol.All(schema, data_description_in_data)


ISSUES_SCHEMA = {
    # A repair issue shows its description, or (when fixable) its fix flow: not both.
    str: vol.All(
        cv.has_at_least_one_key("description", "fix_flow"),
        vol.Schema(
            {
                vol.Required("title"): TEXT,
                vol.Exclusive("description", "fixable"): TEXT,
                vol.Exclusive("fix_flow", "fixable"): _data_entry_schema(),
            }
        ),
    )
}

STRINGS_SCHEMA = vol.Schema(
    {
        vol.Optional("title"): TEXT,
        vol.Optional("config"): _data_entry_schema(),
        vol.Optional("options"): _data_entry_schema(),
        vol.Optional("selector"): _slug_keys(
            {vol.Optional("options"): _slug_keys(TEXT)}, vol.Any("_", cv.slug)
        ),
        vol.Optional("issues"): ISSUES_SCHEMA,
        vol.Optional("device"): _slug_keys({vol.Optional("name"): TEXT}),
        vol.Optional("entity"): _slug_keys(
            _slug_keys(
                {
                    vol.Optional("name"): TEXT,
                    vol.Optional("state"): _slug_keys(STATE_TEXT),
                    vol.Optional("state_attributes"): _slug_keys(
                        {
                            vol.Optional("name"): STATE_TEXT,
                            vol.Optional("state"): _slug_keys(STATE_TEXT),
                        }
                    ),
                    vol.Optional("unit_of_measurement"): STATE_TEXT,
                }
            ),
            cv.slug,
        ),
        vol.Optional("exceptions"): _slug_keys({vol.Optional("message"): TEXT}, cv.slug),
        vol.Optional("services"): _slug_keys(
            {
                vol.Required("name"): TEXT,
                vol.Required("description"): TEXT,
                vol.Optional("fields"): _slug_keys(
                    {
                        vol.Required("name"): str,
                        vol.Required("description"): TEXT,
                        vol.Optional("example"): TEXT,
                    }
                ),
                vol.Optional("sections"): _slug_keys(
                    {vol.Required("name"): str, vol.Optional("description"): TEXT}
                ),
            }
        ),
        vol.Optional("common"): vol.Schema({cv.slug: TEXT}),
    }
)


# Integrations hassfest lets any integration import without declaring them: the entity
# platforms (an integration providing `lock.py` imports `homeassistant.components.lock`)
# and internal ones that are always set up, such as `automation`.
ALLOWED_USED_COMPONENTS = {
    *(platform.value for platform in Platform),
    "alert",
    "automation",
    "conversation",
    "default_config",
    "device_automation",
    "frontend",
    "group",
    "homeassistant",
    "input_boolean",
    "input_button",
    "input_datetime",
    "input_number",
    "input_select",
    "input_text",
    "media_source",
    "onboarding",
    "panel_custom",
    "persistent_notification",
    "person",
    "script",
    "shopping_list",
    "sun",
    "system_health",
    "system_log",
    "timer",
    "webhook",
    "websocket_api",
    "zone",
    "mjpeg",
    "stream",
}


def referenced_integrations(package: Path) -> Iterator[tuple[str, str]]:
    """Yield (file, integration) for every `homeassistant.components.X` imported.

    Imports under `if TYPE_CHECKING:` do not count, as in hassfest.
    """
    for file in sorted(package.glob("**/*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        skipped = {
            id(child)
            for node in ast.walk(tree)
            if isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
            for child in ast.walk(node)
        }
        name = str(file.relative_to(package))
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("homeassistant.components."):
                    yield name, node.module.split(".")[2]
                elif node.module == "homeassistant.components":
                    yield from ((name, alias.name) for alias in node.names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("homeassistant.components."):
                        yield name, alias.name.split(".")[2]


def declared_integrations(manifest: dict[str, Any]) -> set[str]:
    """Return what the manifest declares: dependencies, after_dependencies, discovery."""
    declared = set(manifest.get("dependencies", [])) | set(manifest.get("after_dependencies", []))
    for domain, keys in DISCOVERY_INTEGRATIONS.items():
        if any(key in manifest for key in keys):
            declared.add(domain)
    return declared
