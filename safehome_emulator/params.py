"""Validation of command parameters and control bodies (raises `ApiError`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
import math
from typing import Any

from .errors import ApiError

_MISSING = object()


def _get(params: Mapping[str, Any], key: str, default: Any, code: str) -> Any:
    value = params.get(key, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise ApiError(code, f"parameter {key!r} is required")
        return default
    return value


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
    value = _get(params, key, default, code)
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
    value = _get(params, key, default, code)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(code, f"parameter {key!r} must be an integer from {low} to {high}")
    return value


def boolean(
    params: Mapping[str, Any], key: str, *, default: Any = _MISSING, code: str = "invalid_params"
) -> bool:
    """Return a boolean."""
    value = _get(params, key, default, code)
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
    value = _get(params, key, default, code)
    if value not in allowed or not isinstance(value, str):
        raise ApiError(code, f"parameter {key!r} must be one of {', '.join(sorted(allowed))}")
    return value


def text(
    params: Mapping[str, Any],
    key: str,
    *,
    max_length: int,
    default: Any = _MISSING,
    nullable: bool = False,
    code: str = "invalid_params",
) -> str | None:
    """Return a string of at most `max_length` characters (or None if `nullable`)."""
    value = _get(params, key, default, code)
    if value is None and nullable:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise ApiError(code, f"parameter {key!r} must be a string of at most {max_length} chars")
    return value
