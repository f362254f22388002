"""Validate SafeHome Local API messages against the protocol's JSON Schema."""

from __future__ import annotations

from functools import cache
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMA_PATH = Path(__file__).parent.parent / "docs" / "safehome-api.schema.json"


@cache
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator(name: str) -> Draft202012Validator:
    schema = _schema()
    if name not in schema["$defs"]:
        raise KeyError(f"no message {name!r} in the schema")
    resource = Resource.from_contents(schema)
    registry = Registry().with_resource(schema["$id"], resource)
    return Draft202012Validator({"$ref": f"{schema['$id']}#/$defs/{name}"}, registry=registry)


def assert_valid(name: str, message: Any) -> None:
    """Fail with every schema violation if `message` is not a valid `name`."""
    errors = sorted(_validator(name).iter_errors(message), key=lambda e: list(e.path))
    if errors:
        details = "\n".join(f"  {list(e.path)}: {e.message}" for e in errors)
        raise AssertionError(f"not a valid {name}:\n{details}\nmessage: {message!r}")


def is_valid(name: str, message: Any) -> bool:
    """Return whether `message` is a valid `name`."""
    return _validator(name).is_valid(message)
