"""Validation of command parameters and control bodies (raises `ApiError`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
import math
from typing import Any, cast

from .errors import ApiError

_MISSING = object()


def _lookup(params: Mapping[str, Any], key: str, default: Any, code: str) -> tuple[bool, Any]:
    """Return (True, value) for a given value, (False, default) for an absent optional one.

    A null counts as absent for an optional parameter and as invalid for a required one.
    """
    value = params.get(key)
    if value is not None:
        return True, value
    if default is _MISSING:
        if key in params:
            return True, value
        raise ApiError(code, f"parameter {key!r} is required")
    return False, default


def number(
    params: Mapping[str, Any],
    key: str,
    low: float,
    high: float,
    *,
    default: Any = _MISSING,
    code: str = "invalid_params",
) -> float:
    """Return a finite number within [low, high]."""
    given, value = _lookup(params, key, default, code)
    if not given:
        return cast("float", value)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise ApiError(code, f"parameter {key!r} must be a number from {low:g} to {high:g}")
    return float(value)


def integer(
    params: Mapping[str, Any],
    key: str,
    low: int,
    high: int,
    *,
    default: Any = _MISSING,
    code: str = "invalid_params",
) -> int:
    """Return an integer within [low, high] (a float with no fraction is accepted)."""
    given, value = _lookup(params, key, default, code)
    if not given:
        return cast("int", value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(code, f"parameter {key!r} must be an integer from {low} to {high}")
    return value


def boolean(
    params: Mapping[str, Any], key: str, *, default: Any = _MISSING, code: str = "invalid_params"
) -> bool:
    """Return a boolean."""
    given, value = _lookup(params, key, default, code)
    if not given:
        return cast("bool", value)
    if not isinstance(value, bool):
        raise ApiError(code, f"parameter {key!r} must be true or false")
    return value


def choice(
    params: Mapping[str, Any],
    key: str,
    allowed: Collection[str],
    *,
    default: Any = _MISSING,
    code: str = "invalid_params",
) -> str:
    """Return one of the allowed strings."""
    given, value = _lookup(params, key, default, code)
    if not given:
        return cast("str", value)
    if value not in allowed or not isinstance(value, str):
        raise ApiError(code, f"parameter {key!r} must be one of {', '.join(sorted(allowed))}")
    return value


def text(
    params: Mapping[str, Any],
    key: str,
    *,
    max_length: int,
    default: Any = _MISSING,
    code: str = "invalid_params",
) -> str | None:
    """Return a string of at most `max_length` characters."""
    given, value = _lookup(params, key, default, code)
    if not given:
        return cast("str | None", value)
    if not isinstance(value, str) or len(value) > max_length:
        raise ApiError(code, f"parameter {key!r} must be a string of at most {max_length} chars")
    return value
