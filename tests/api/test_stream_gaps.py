"""Gaps in the event sequence: every missed event, even a single one, forces a resync."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Recorder, StreamFactory, wait_until
from .fakehub import FakeHub, FakeWs, event, welcome


def order(rec: Recorder) -> list[tuple[str, Any]]:
    """The events and resyncs the stream's owner saw, in order (link changes left out)."""
    return [entry for entry in rec.log if entry[0] in ("event", "resync_start", "resync_end")]


def sends(*frames: dict[str, Any]) -> Any:
    """A connection that sends `frames` and then holds the link open."""

    async def run(conn: FakeWs) -> None:
        for frame in frames:
            await conn.send(frame)
        await conn.hold()

    return run


@pytest.mark.parametrize(
    ("since", "seqs", "resync_before"),
    [
        (0, [1, 2, 3, 4], []),
        (0, [1, 2, 4], [4]),  # exactly one event (3) missed
        (0, [2, 3], [2]),  # the very first event missed
        (0, [1, 3, 5, 6], [3, 5]),  # two single-event gaps in a row
        (0, [1, 2, 5], [5]),
        (7, [8, 10], [10]),
    ],
)
async def test_every_gap_is_resynced(
    fake_hub: FakeHub,
    fake_stream: StreamFactory,
    since: int,
    seqs: list[int],
    resync_before: list[int],
) -> None:
    """Each missed run of live events reloads the state once, before the next is applied."""
    fake_hub.scripts = [sends(welcome(last_seq=since), *(event(seq) for seq in seqs))]
    stream, rec = fake_stream()
    await stream.start(boot_id="b-1", since=since)
    await wait_until(lambda: len(rec.events) == len(seqs))

    expected: list[tuple[str, Any]] = []
    for seq in seqs:
        if seq in resync_before:
            expected += [("resync_start", None), ("resync_end", None)]
        expected.append(("event", seq))
    assert order(rec) == expected
    assert rec.resyncs == len(resync_before)
    assert stream.last_seq == seqs[-1]
    assert stream.connected
    assert rec.connected == [True]
    assert rec.disconnected == []


async def test_replay_missing_one_event_is_resynced(
    fake_hub: FakeHub, fake_stream: StreamFactory
) -> None:
    """A resumed link whose replay lacks the one event after ours reloads before applying."""
    fake_hub.scripts = [sends(welcome(last_seq=4), event(4))]
    stream, rec = fake_stream()
    await stream.start(boot_id="b-1", since=2)
    await wait_until(lambda: rec.events)
    assert order(rec) == [("resync_start", None), ("resync_end", None), ("event", 4)]
    assert stream.last_seq == 4
    await wait_until(lambda: stream.connected)
    assert rec.connected == [True]
