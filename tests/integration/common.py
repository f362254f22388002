"""Helpers for integration tests that wait on real network I/O."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import time

from homeassistant.core import HomeAssistant, State


async def until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until `predicate()` is truthy (events travel over real sockets)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


async def wait_for_state(
    hass: HomeAssistant, entity_id: str, state: str, timeout: float = 5.0
) -> State:
    """Wait until `entity_id` has `state`, and return it."""

    def matches() -> bool:
        current = hass.states.get(entity_id)
        return current is not None and current.state == state

    try:
        await until(matches, timeout)
    except AssertionError:
        current = hass.states.get(entity_id)
        raise AssertionError(
            f"{entity_id} is {current.state if current else None!r}, not {state!r}"
        ) from None
    result = hass.states.get(entity_id)
    assert result is not None
    return result
